"""`kaoping bench close`: the period close against the limit measured in the same run.

Three jobs on the same entries, each in a process of its own:

- **kaoping**: the real `period_close` of the household month (statements timed one by one);
- **raw SQL**: one INSERT … SELECT on the same database computing the same item caps, totals
  (base, floor, zeroing vetoes) and ranks within village into a plain table, the fastest a
  hand-written query gets on that engine;
- **DuckDB**: the same statement in an in-memory DuckDB holding the same rows, as the columnar
  limit. Loading the rows into DuckDB is timed apart and not counted.

The three must agree: per-subject (total, rank) rows are hashed in subject order and compared,
a few subjects are compared value by value, and those are scored again by the reference
evaluator `kaoping.schemes.scoring.evaluate`. The 六比六争 quarter of the province's villages is
closed too, for the record (it has no baseline).
"""

import csv
import hashlib
import resource
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from .data import Shape
from .report import Out, rss_mib, write_report
from .runner import engine_name, prepare, run_step

RAW_TABLE = "bench_raw_result"


# --- the baseline statement ----------------------------------------------------------------


def _rdiv(numerator: str, denominator: str, div: str) -> str:
    # Rounds half away from zero, as the close does. `div` is the integer division: / on SQLite
    # and PostgreSQL, // on DuckDB (whose / gives a double).
    return (
        f"(CASE WHEN ({numerator}) >= 0 THEN (({numerator}) + ({denominator}) {div} 2) {div} ({denominator}) "
        f"ELSE -((({denominator}) {div} 2 - ({numerator})) {div} ({denominator})) END)"
    )


def baseline_sql(div: str = "/") -> str:
    """One INSERT … SELECT: entries → capped items → total → rank within village.

    Params: version, root code, scheme, start, end, version, True, True, region prefix,
    prefix + ':'. Valid for trees whose groups below the root add their children unclamped
    (checked by `flat_tree`), as the household scheme's do.
    """
    from kaoping.periods.engine import clamp
    from kaoping.schemes.models import QTY_SCALE

    item = clamp(_rdiv("i.q * n.points", str(QTY_SCALE), div), "n.lo", "n.hi")
    total = clamp("(root.base + COALESCE(x.points, 0))", "root.lo", "root.hi")
    return (
        f"INSERT INTO {RAW_TABLE} (subject_id, total, rank) "
        "SELECT t.subject_id, t.total, RANK() OVER (PARTITION BY t.grp ORDER BY t.total DESC) FROM ("
        "SELECT s.id AS subject_id, SUBSTR(r.code, 1, 12) AS grp, "
        f"CASE WHEN COALESCE(x.zeroed, 0) = 1 THEN 0 ELSE {total} END AS total "
        "FROM people_subject s JOIN regions_region r ON r.id = s.region_id "
        "JOIN schemes_schemenode root ON root.version_id = %s AND root.variant = '' AND root.code = %s "
        "LEFT JOIN (SELECT i.subject_id, "
        f"CAST(SUM(CASE WHEN n.aggregate = 'sum' THEN {item} ELSE 0 END) AS BIGINT) AS points, "
        "MAX(CASE WHEN n.aggregate = 'veto' AND n.veto_effect = 'zero' AND i.cnt > 0 THEN 1 ELSE 0 END) AS zeroed "
        "FROM (SELECT e.subject_id, e.item_code, CAST(SUM(e.sign * e.quantity_scaled) AS BIGINT) AS q, "
        "CAST(SUM(e.sign) AS BIGINT) AS cnt FROM ledger_entry e "
        "WHERE e.scheme_id = %s AND e.status = 'approved' AND e.cadence = '' "
        "AND e.occurred_on >= %s AND e.occurred_on <= %s GROUP BY e.subject_id, e.item_code) i "
        "JOIN schemes_schemenode n ON n.version_id = %s AND n.variant = '' AND n.code = i.item_code "
        "AND n.is_item = %s GROUP BY i.subject_id) x ON x.subject_id = s.id "
        "WHERE s.kind = 'household' AND s.active = %s AND r.code >= %s AND r.code < %s) t"
    )


def baseline_params(period) -> list:
    from kaoping.schemes.spec import ROOT_CODE

    prefix = period.scheme.region.code
    return [
        period.version_id,
        ROOT_CODE,
        period.scheme_id,
        period.start,
        period.end,
        period.version_id,
        True,
        True,
        prefix,
        prefix + ":",
    ]


def flat_tree(version) -> None:
    """The baseline adds items straight into the root: true only when no group in between has a
    base, a cap or a floor, no item is rated or metric, and no veto does more than zero/bar/grade."""
    from kaoping.schemes.models import SchemeNode

    for node in SchemeNode.objects.filter(version=version):
        if node.parent_code is None:
            continue
        if not node.is_item and (node.base or node.lo is not None or node.hi is not None):
            raise RuntimeError(f"{node.code}: the baseline assumes groups without base or bounds")
        if node.is_item and node.aggregate not in ("sum", "veto"):
            raise RuntimeError(f"{node.code}: the baseline scores count, quantity and veto items")


# --- measuring -----------------------------------------------------------------------------


def peak_rss_mib() -> float:
    return rss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def checksum(cursor, sql: str, params: list) -> dict:
    """sha256 over `subject,total,rank` lines in subject order, with the row count and sum."""
    digest, rows, total = hashlib.sha256(), 0, 0
    cursor.execute(sql, params)
    while chunk := cursor.fetchmany(20_000):
        for subject_id, value, rank in chunk:
            digest.update(f"{subject_id},{int(value)},{int(rank)}\n".encode())
            rows += 1
            total += int(value)
    return {"sha256": digest.hexdigest(), "rows": rows, "sum_total": total}


def spots(cursor, table_sql: str, subjects: list[int], params: list) -> dict:
    found = {}
    for subject_id in subjects:
        cursor.execute(table_sql, [*params, subject_id])
        row = cursor.fetchone()
        found[str(subject_id)] = None if row is None else [int(row[0]), int(row[1])]
    return found


class StatementTimer:
    """Seconds per statement of the close, by what the statement does."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = self.label(sql, params)
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

    @staticmethod
    def label(sql: str, params) -> str:
        if "INSERT INTO periods_result " in sql:
            return "results with breakdowns, grades, ranks"
        if "INSERT INTO kaoping_close_" in sql:
            return "roll-up staging"
        if "INSERT INTO people_subject" in sql:
            return "subjects_sync"
        if "INSERT INTO ledger_metricvalue" in sql:
            return "computed metrics"
        if "INSERT INTO periods_listmembership" in sql:
            return "lists"
        if sql.startswith("DELETE"):
            return "delete previous " + sql.split()[2].strip('"')
        if "COUNT(*)" in sql:
            return "counts"
        if sql.startswith("ANALYZE"):
            return "statistics (ANALYZE)"
        return "other"

    def top(self) -> list[list]:
        ordered = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        return [[label, round(seconds, 2)] for label, seconds in ordered]


def _warm(cursor) -> None:
    # Every job starts with the entries in the OS page cache, none pays for a cold disk.
    cursor.execute("SELECT COUNT(*), SUM(quantity_scaled) FROM ledger_entry")
    cursor.execute("SELECT COUNT(*) FROM people_subject")


def close_reset(*, echo: Out, period_id: int) -> dict:
    """Forget the period's results, so that every close measured is a first close.

    A step of its own: deleting twenty million rows takes memory (SQLite keeps the keys it
    deletes) that would otherwise count as the close's peak.
    """
    from kaoping.periods.models import Period

    _reset(Period.objects.get(pk=period_id))
    return {"peak_rss_mib": peak_rss_mib()}


def _reset(period) -> None:
    from django.db import connection, transaction

    from kaoping.periods.models import Period

    with transaction.atomic(), connection.cursor() as cursor:
        # Entries left by `kaoping bench import` (dated in this month) go: the close measures
        # the generated ledger.
        cursor.execute("DELETE FROM ledger_entry WHERE import_job_id IS NOT NULL")
        for table in ("periods_listmembership", "periods_result"):
            cursor.execute(f"DELETE FROM {table} WHERE period_id = %s", [period.pk])
        cursor.execute(
            "DELETE FROM ledger_metricvalue WHERE scheme_id = %s AND period_label = %s",
            [period.scheme_id, period.label],
        )
        Period.objects.filter(pk=period.pk).update(
            status="open",
            closed_at=None,
            posted_at=None,
            objection_deadline=None,
            finalised_at=None,
        )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # The deleted rows stay in the table until vacuumed, and the close's own delete of
            # the period's rows would read all twenty million of them again.
            cursor.execute("VACUUM ANALYZE periods_result, periods_listmembership, ledger_entry")


def _server_peak_mib(cursor) -> float | None:
    """PostgreSQL: the peak RSS of the backend that served this process (same machine only)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# --- the steps (each in its own process) ----------------------------------------------------


RESULT_ROWS = (
    "SELECT subject_id, total, rank FROM periods_result WHERE period_id = %s ORDER BY subject_id"
)
RAW_ROWS = f"SELECT subject_id, total, rank FROM {RAW_TABLE} ORDER BY subject_id"


def _timed_close(period_id: int, echo: Out, what: str):
    """The real period_close of an open period, each statement timed: (period, s, counts, timer)."""
    from django.db import connection

    from kaoping.accounts.scoping import system_actor
    from kaoping.periods.models import Period
    from kaoping.periods.services import period_close

    period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
    assert period.status == "open", "run close_reset first"
    with connection.cursor() as cursor:
        _warm(cursor)
    actor = system_actor()  # looked up before the clock starts
    timer = StatementTimer()
    echo(f"  kaoping: closing {what}…")
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        counts = period_close(period=period, acting_user=actor)
    return period, time.perf_counter() - started, counts, timer


def close_kaoping(*, echo: Out, period_id: int) -> dict:
    from django.db import connection

    from .data import sample_subjects

    rss_before = peak_rss_mib()
    period, seconds, counts, timer = _timed_close(period_id, echo, "")
    peak = peak_rss_mib()
    subjects = sample_subjects()
    with connection.cursor() as cursor:
        server_peak = _server_peak_mib(cursor)
        summary = checksum(cursor, RESULT_ROWS, [period.pk])
        spot = spots(
            cursor,
            "SELECT total, rank FROM periods_result WHERE period_id = %s AND subject_id = %s",
            subjects,
            [period.pk],
        )
    return {
        "job": "kaoping close",
        "seconds": round(seconds, 4),
        "peak_rss_mib": peak,
        "rss_before_mib": rss_before,
        "server_peak_mib": server_peak,
        "rows_written": counts["results"],
        "results": counts["results"],
        **_provenance(period),
        "statements": timer.top(),
        "entries": _entries_in(period),
        "checksum": summary,
        "spots": spot,
        "reference": reference_check(period, subjects),
    }


def _provenance(period) -> dict:
    """How much provenance the close kept: node values packed in its results' breakdowns, and
    their size."""
    from django.db import connection

    from kaoping.periods.breakdown import node_values

    members, size = 0, 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT breakdown FROM periods_result WHERE period_id = %s", [period.pk])
        for (breakdown,) in cursor:
            members += len(node_values(breakdown))
            size += len(breakdown)
    return {"node_values": members, "breakdown_mib": round(size / 2**20, 1)}


def _entries_in(period) -> int:
    from kaoping.ledger.models import Entry

    return Entry.objects.filter(
        scheme_id=period.scheme_id,
        status="approved",
        cadence="",
        occurred_on__gte=period.start,
        occurred_on__lte=period.end,
    ).count()


def reference_check(period, subjects: list[int]) -> dict:
    """The sample subjects scored by `scoring.evaluate` from their entries, against the close."""
    from kaoping.ledger.models import Entry
    from kaoping.periods.models import Result
    from kaoping.schemes.scoring import evaluate

    spec = period.version.spec()
    scale = period.version.scale
    checked = {}
    for subject_id in subjects:
        inputs: dict[str, Decimal] = {}
        fired: dict[str, int] = {}
        for code, sign, quantity in Entry.objects.filter(
            subject_id=subject_id,
            scheme_id=period.scheme_id,
            status="approved",
            cadence="",
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
        ).values_list("item_code", "sign", "quantity_scaled"):
            inputs[code] = inputs.get(code, Decimal(0)) + Decimal(sign * quantity) / 1000
            fired[code] = fired.get(code, 0) + sign
        for code, net in fired.items():
            if net > 0 and code in _veto_codes(spec):
                inputs[code] = True
        expected = int(evaluate(spec, inputs).total * scale)
        actual = Result.objects.filter(period=period, subject_id=subject_id).values_list(
            "total", flat=True
        )
        checked[str(subject_id)] = {"reference": expected, "close": actual.first()}
    return {"ok": all(v["reference"] == v["close"] for v in checked.values()), "subjects": checked}


def _veto_codes(spec) -> set[str]:
    return {row.code for row in spec.flatten() if row.is_item and str(row.rule) == "veto"}


def close_raw_sql(*, echo: Out, period_id: int) -> dict:
    from django.db import connection, transaction

    from kaoping.periods.models import Period

    from .data import sample_subjects

    period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
    flat_tree(period.version)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        cursor.execute(f"CREATE TABLE {RAW_TABLE} (subject_id BIGINT, total BIGINT, rank BIGINT)")
        _warm(cursor)
    rss_before = peak_rss_mib()
    echo(f"  raw SQL ({connection.vendor}): one INSERT … SELECT …")
    started = time.perf_counter()
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(baseline_sql(), baseline_params(period))
        written = cursor.rowcount
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    with connection.cursor() as cursor:
        server_peak = _server_peak_mib(cursor)
        summary = checksum(cursor, RAW_ROWS, [])
        spot = spots(
            cursor,
            f"SELECT total, rank FROM {RAW_TABLE} WHERE subject_id = %s",
            sample_subjects(),
            [],
        )
    return {
        "job": f"raw SQL ({connection.vendor})",
        "seconds": round(seconds, 4),
        "peak_rss_mib": peak,
        "rss_before_mib": rss_before,
        "server_peak_mib": server_peak,
        "rows_written": written,
        "checksum": summary,
        "spots": spot,
    }


# DuckDB gets the columns the statement reads, typed as in the bench database.
DUCK_TABLES = {
    "ledger_entry": (
        "SELECT subject_id, item_code, sign, quantity_scaled, status, cadence, occurred_on, scheme_id "
        "FROM ledger_entry WHERE scheme_id = %s",
        {
            "subject_id": "BIGINT",
            "item_code": "VARCHAR",
            "sign": "SMALLINT",
            "quantity_scaled": "BIGINT",
            "status": "VARCHAR",
            "cadence": "VARCHAR",
            "occurred_on": "DATE",
            "scheme_id": "BIGINT",
        },
    ),
    "people_subject": (
        "SELECT id, kind, active, region_id FROM people_subject",
        {"id": "BIGINT", "kind": "VARCHAR", "active": "BOOLEAN", "region_id": "BIGINT"},
    ),
    "regions_region": ("SELECT id, code FROM regions_region", {"id": "BIGINT", "code": "VARCHAR"}),
    "schemes_schemenode": (
        "SELECT version_id, variant, code, parent_code, is_item, aggregate, points, lo, hi, base, "
        "veto_effect FROM schemes_schemenode WHERE version_id = %s",
        {
            "version_id": "BIGINT",
            "variant": "VARCHAR",
            "code": "VARCHAR",
            "parent_code": "VARCHAR",
            "is_item": "BOOLEAN",
            "aggregate": "VARCHAR",
            "points": "BIGINT",
            "lo": "BIGINT",
            "hi": "BIGINT",
            "base": "BIGINT",
            "veto_effect": "VARCHAR",
        },
    ),
}


def _export_csv(cursor, sql: str, path: Path) -> None:
    """Stream a query of the bench database into a CSV file, NULL as \\N (COPY on PostgreSQL)."""
    from django.db import connection

    with path.open("w", newline="", encoding="utf-8") as handle:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')") as copy:
                for block in copy:
                    handle.write(bytes(block).decode())
            return
        writer = csv.writer(handle)
        cursor.execute(sql)
        while chunk := cursor.fetchmany(50_000):
            writer.writerows(["\\N" if v is None else v for v in row] for row in chunk)


def close_duckdb(*, echo: Out, period_id: int) -> dict:
    import duckdb
    from django.db import connection

    from kaoping.periods.models import Period
    from kaoping.schemes.spec import ROOT_CODE

    from .data import sample_subjects

    period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
    flat_tree(period.version)
    echo("  DuckDB: loading the entries into memory …")
    started = time.perf_counter()
    duck = duckdb.connect(":memory:")
    params = {"ledger_entry": [period.scheme_id], "schemes_schemenode": [period.version_id]}
    with (
        tempfile.TemporaryDirectory(prefix="kaoping-bench-") as folder,
        connection.cursor() as cursor,
    ):
        raw = cursor.cursor if connection.vendor == "postgresql" else cursor
        for table, (sql, columns) in DUCK_TABLES.items():
            path = Path(folder) / f"{table}.csv"
            # Only integer keys are inlined.
            _export_csv(raw, sql % tuple(int(p) for p in params.get(table, [])), path)
            types = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
            duck.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header = false, "
                f"columns = {{{types}}}, nullstr = '\\N')"
            )
            path.unlink()
    duck.execute(f"CREATE TABLE {RAW_TABLE} (subject_id BIGINT, total BIGINT, rank BIGINT)")
    loaded = time.perf_counter() - started
    rss_before = peak_rss_mib()
    echo(f"  DuckDB: loaded in {loaded:.1f} s; running the statement …")
    prefix = period.scheme.region.code
    duck_params = [
        period.version_id,
        ROOT_CODE,
        period.scheme_id,
        date.fromisoformat(str(period.start)),
        date.fromisoformat(str(period.end)),
        period.version_id,
        True,
        True,
        prefix,
        prefix + ":",
    ]
    statement = baseline_sql(div="//").replace("%s", "?")
    started = time.perf_counter()
    duck.execute(statement, duck_params)
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    written = duck.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}").fetchone()[0]
    cursor = duck.cursor()
    summary = checksum(cursor, RAW_ROWS, [])
    spot = spots(
        cursor,
        f"SELECT total, rank FROM {RAW_TABLE} WHERE subject_id = ?",
        sample_subjects(),
        [],
    )
    return {
        "job": f"DuckDB {duckdb.__version__} (in memory)",
        "seconds": round(seconds, 4),
        "load_seconds": round(loaded, 1),
        "peak_rss_mib": peak,
        "rss_before_mib": rss_before,
        "server_peak_mib": None,
        "rows_written": written,
        "checksum": summary,
        "spots": spot,
    }


def close_village(*, echo: Out, period_id: int) -> dict:
    period, seconds, counts, timer = _timed_close(period_id, echo, "the 六比六争 quarter ")
    return {
        "job": "kaoping close, 六比六争 quarter",
        "seconds": round(seconds, 4),
        "peak_rss_mib": peak_rss_mib(),
        "rows_written": counts["results"],
        "results": counts["results"],
        **_provenance(period),
        "entries": _entries_in(period),
        "statements": timer.top(),
    }


class _RolledBack(Exception):
    pass


def close_design_b(*, echo: Out, period_id: int) -> dict:
    """Design (b) of the provenance decision (docs/performance.md), its close measured on the
    same data and thrown away: the results alone (the same tree, nothing packed), then the
    index-level rows it would keep instead of breakdowns, written into a table indexed as
    the node rows were. The second statement computes the tree again to read its index
    values, so it is timed apart and reported as it is."""
    from django.db import connection, transaction

    from kaoping.periods import engine, services
    from kaoping.periods.models import Period

    period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
    assert period.status == "open", "run close_reset first"
    spec = period.version.spec()
    scope = services._scope(period, spec)
    shape = services._tree_shape(scope)
    timings: dict[str, float] = {}
    rows = {}
    with connection.cursor() as cursor:
        _warm(cursor)
    echo("  design (b): results alone, then index rows …")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_index_node (period_id BIGINT NOT NULL, subject_id BIGINT NOT NULL, "
                "code VARCHAR(64) NOT NULL, raw BIGINT NOT NULL, value BIGINT NOT NULL, "
                "empty_value BIGINT NOT NULL)"
            )
            cursor.execute(
                "CREATE UNIQUE INDEX bench_index_node_unique ON bench_index_node "
                "(period_id, subject_id, code)"
            )
            sql, params = engine.result_statement(scope, "", shape, pack=False)
            started = time.perf_counter()
            cursor.execute(sql, params)
            timings["results_alone"] = time.perf_counter() - started
            rows["results"] = cursor.rowcount
            # The tree's last layer (engine._tree_layers) holds each group's x, r, v, e.
            cte, cte_params, _select, _params = engine.tree_select(scope, "", shape, pack=False)
            last = f"t{len({g.depth for g in shape.groups})}"
            unpivot = " UNION ALL ".join(
                f"SELECT %s, p.subject_id, '{g.code}', p.r{k}, p.v{k}, p.e{k} FROM {last} p "
                f"WHERE p.x{k} > 0"
                for k, g in enumerate(shape.groups)
                if g.depth == 1
            )
            depth1 = sum(1 for g in shape.groups if g.depth == 1)
            started = time.perf_counter()
            cursor.execute(
                "INSERT INTO bench_index_node (period_id, subject_id, code, raw, value, empty_value) "
                + cte
                + unpivot,
                [*cte_params, *[period.pk] * depth1],
            )
            timings["index_rows_with_tree_again"] = time.perf_counter() - started
            rows["index_rows"] = cursor.rowcount
            raise _RolledBack
    except _RolledBack:
        pass
    return {
        "job": "design (b): results alone + index rows",
        "results_alone_seconds": round(timings["results_alone"], 4),
        "index_rows_seconds": round(timings["index_rows_with_tree_again"], 4),
        "rows": rows,
        "peak_rss_mib": peak_rss_mib(),
    }


STEPS = {
    "close_reset": close_reset,
    "close_kaoping": close_kaoping,
    "close_raw_sql": close_raw_sql,
    "close_duckdb": close_duckdb,
    "close_village": close_village,
    "close_design_b": close_design_b,
}


# --- the command's side --------------------------------------------------------------------


def run(shape: Shape, out_dir: Path, echo: Out) -> dict:
    """Build or reuse the data, run the three jobs and the village close, compare, report."""
    built = prepare(shape, echo)
    engine = engine_name()
    period_id = built["household_period"]
    raw = run_step("close_raw_sql", echo, period_id=period_id)
    echo(f"  raw SQL: {raw['seconds']} s")
    duck = run_step("close_duckdb", echo, period_id=period_id)
    echo(f"  DuckDB: {duck['seconds']} s")
    run_step("close_reset", echo, period_id=period_id)
    design_b = run_step("close_design_b", echo, period_id=period_id)
    echo(
        f"  design (b): results alone {design_b['results_alone_seconds']} s, "
        f"index rows {design_b['index_rows_seconds']} s (tree computed again)"
    )
    kaoping = run_step("close_kaoping", echo, period_id=period_id)
    echo(f"  kaoping: {kaoping['seconds']} s")
    run_step("close_reset", echo, period_id=built["village_period"])
    village = run_step("close_village", echo, period_id=built["village_period"])
    echo(f"  六比六争: {village['seconds']} s")

    jobs = [kaoping, raw, duck]
    digests = {job["checksum"]["sha256"] for job in jobs}
    spot_sets = {
        tuple(sorted((k, tuple(v or ())) for k, v in job["spots"].items())) for job in jobs
    }
    agree = len(digests) == 1 and len(spot_sets) == 1 and kaoping["reference"]["ok"]
    entries = kaoping["entries"]
    for job in [*jobs, village]:
        job["entries_per_s"] = (
            round(job.get("entries", entries) / job["seconds"]) if job["seconds"] else None
        )
    ratios = {
        "close_raw_sql": round(kaoping["seconds"] / max(raw["seconds"], 1e-4), 2),
        "close_duckdb": round(kaoping["seconds"] / max(duck["seconds"], 1e-4), 2),
        "peak_rss_mib": kaoping["peak_rss_mib"],
    }
    result = {
        "benchmark": "close",
        "engine": engine,
        "shape": shape.key(),
        "entries": entries,
        "jobs": jobs,
        "village": village,
        "design_b": design_b,
        "agree": agree,
        "ratios": ratios,
        "targets": {
            "close/raw_sql <= 1.3": ratios["close_raw_sql"] <= 1.3,
            "close/duckdb <= 5": ratios["close_duckdb"] <= 5,
            "peak_rss <= 1024 MiB": ratios["peak_rss_mib"] <= 1024,
        },
    }
    header = ["job", "seconds", "entries/s", "peak RSS MiB", "rows written", "agrees"]
    rows = [
        [
            job["job"],
            round(job["seconds"], 2),
            job["entries_per_s"],
            job["peak_rss_mib"]
            if not job.get("server_peak_mib")
            else f"{job['peak_rss_mib']} (server {job['server_peak_mib']})",
            job["rows_written"],
            ("yes" if agree else "NO") if job is not village else "—",
        ]
        for job in [*jobs, village]
    ]
    notes = [
        f"{engine}, {shape.households:,} households × {shape.entries_per_household} entries "
        f"= {entries:,} approved entries in {shape.month}; {shape.total_villages:,} villages",
        f"DuckDB load (not counted): {duck['load_seconds']} s",
        f"design (b) on the same data (thrown away): results alone "
        f"{design_b['results_alone_seconds']} s, {design_b['rows']['index_rows']:,} index rows "
        f"{design_b['index_rows_seconds']} s (the statement computes the tree again)",
        f"provenance kept by the close: {kaoping['node_values']:,} node values packed in the "
        f"{kaoping['results']:,} results' breakdowns ({kaoping['breakdown_mib']} MiB)",
        "kaoping close by statement (s): "
        + ", ".join(f"{label} {seconds}" for label, seconds in kaoping["statements"][:10]),
        f"checksum {kaoping['checksum']['sha256'][:16]}… over {kaoping['checksum']['rows']:,} results; "
        f"reference evaluator on {len(kaoping['reference']['subjects'])} subjects: "
        f"{'ok' if kaoping['reference']['ok'] else 'MISMATCH'}",
    ]
    line = (
        f"RATIO close/raw_sql={ratios['close_raw_sql']} close/duckdb={ratios['close_duckdb']} "
        f"peak_rss_mib={ratios['peak_rss_mib']}"
    )
    write_report(out_dir, f"close-{engine}", result, header, rows, notes, echo)
    echo(line)
    return result
