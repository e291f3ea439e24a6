"""`kaoping bench import`: an Excel file of entry rows imported into the province's ledger.

The file is made once per size (kaoping.ledger.testing: `generated_rows` into `import_workbook`)
and kept under BENCH_DIR; its rows name the first households of the province, ten rows each,
with the household scheme's items that need no evidence, dated in the close benchmark's month:
an import lands in a month that already holds the province's twenty million entries, as it does
in production (the close benchmark deletes these rows again before it measures). The import is the product's own: upload
(preview, every row checked) and commit (checked again, written all-or-nothing), timed by
`timed_import` in a process of its own, so that its peak RSS is the import's. The entries of the
previous bench import are deleted first (not timed), so every run imports into the same ledger.
"""

import math
import time
from pathlib import Path

from .data import HOUSEHOLD_SCHEME, Shape
from .report import Out, write_report
from .runner import engine_name, prepare, run_step

ROWS_PER_HOUSEHOLD = 10
TARGET_SECONDS = 10


def _file_path(rows: int, month: str, households: int, seed: int) -> Path:
    # The file names the province's households: one made for another province would name
    # households it lacks.
    from django.conf import settings

    return Path(settings.BENCH_DIR) / f"import-{rows}-{month}-{households}h-seed{seed}.xlsx"


def import_file(*, echo: Out, rows: int, month: str, households: int, seed: int) -> dict:
    """The import file of `rows` rows (made once, then reused)."""
    from kaoping.ledger.testing import generated_rows, import_workbook
    from kaoping.people.models import Household
    from kaoping.schemes.calendar import period_dates
    from kaoping.schemes.models import Scheme, SchemeNode

    path = _file_path(rows, month, households, seed)
    if path.exists():
        return {"path": str(path), "seconds": 0, "bytes": path.stat().st_size}
    started = time.perf_counter()
    scheme = Scheme.objects.get(code=HOUSEHOLD_SCHEME)
    names = list(
        SchemeNode.objects.filter(
            version=scheme.latest_version(),
            variant="",
            is_item=True,
            aggregate="sum",
            evidence_required=False,
        )
        .order_by("position")
        .values_list("name", "rule")
    )
    items = [(name, "2" if rule == "quantity" else "1", "") for name, rule in names]
    households = math.ceil(rows / ROWS_PER_HOUSEHOLD)
    numbers = list(
        Household.objects.order_by("number").values_list("number", flat=True)[:households]
    )
    first, last = period_dates("month", month)
    data = import_workbook(
        generated_rows(numbers, count=rows, start=first, days=(last - first).days + 1, items=items)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    echo(
        f"  import file: {rows:,} rows, {len(data) / 1e6:.1f} MB, made in {time.perf_counter() - started:.1f} s"
    )
    return {
        "path": str(path),
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": len(data),
    }


def import_entries(*, echo: Out, path: str) -> dict:
    """Upload and commit the file as the bench superuser; seconds per step and peak RSS."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from kaoping.ledger.testing import timed_import
    from kaoping.schemes.models import Scheme

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_entry WHERE import_job_id IS NOT NULL")
        cursor.execute("DELETE FROM ledger_importjob")
    scheme = Scheme.objects.get(code=HOUSEHOLD_SCHEME)
    user = get_user_model().objects.get(username="bench")
    data = Path(path).read_bytes()
    echo(f"  importing {Path(path).name} …")
    started = time.perf_counter()
    timed = timed_import(scheme=scheme, data=data, filename=Path(path).name, user=user)
    seconds = time.perf_counter() - started
    return {**timed, "seconds": round(seconds, 4), "peak_rss_mib": timed.pop("peak_rss_mb")}


STEPS = {"import_file": import_file, "import_entries": import_entries}


def run(shape: Shape, out_dir: Path, echo: Out, rows: int = 100_000) -> dict:
    built = prepare(shape, echo)
    engine = engine_name()
    made = run_step(
        "import_file",
        echo,
        rows=rows,
        month=shape.month,
        households=shape.households,
        seed=shape.seed,
    )
    timed = run_step("import_entries", echo, path=made["path"])
    ok = timed["status"] == "committed" and not timed["problems"]
    result = {
        "benchmark": "import",
        "engine": engine,
        "shape": shape.key(),
        "ledger_entries_before": built["entries"] + built["village_entries"],
        "file": made,
        "import": timed,
        "ok": ok,
        "targets": {
            f"{rows:,} rows <= {TARGET_SECONDS} s": ok and timed["seconds"] <= TARGET_SECONDS
        },
    }
    header = [
        "rows",
        "check (preview) s",
        "import s",
        "total s",
        "rows/s",
        "peak RSS MiB",
        "status",
    ]
    table = [
        [
            timed["rows"],
            timed["preview_s"],
            timed["commit_s"],
            timed["seconds"],
            round(timed["rows"] / timed["seconds"]) if timed["seconds"] else None,
            timed["peak_rss_mib"],
            f"{timed['status']}, {timed['problems']} problems",
        ]
    ]
    notes = [
        f"{engine}; into a ledger of {result['ledger_entries_before']:,} entries "
        f"({shape.households:,} households); file {made['bytes'] / 1e6:.1f} MB, "
        f"{math.ceil(rows / ROWS_PER_HOUSEHOLD):,} households × {ROWS_PER_HOUSEHOLD} rows",
        "total = upload with the full check (preview) + commit (the checked rows read back and "
        "their subjects checked again, then the all-or-nothing write with each row checked, "
        "flags and the hash chain)",
    ]
    write_report(out_dir, f"import-{engine}", result, header, table, notes, echo)
    echo(
        f"IMPORT rows={timed['rows']} seconds={timed['seconds']} peak_rss_mib={timed['peak_rss_mib']}"
    )
    return result
