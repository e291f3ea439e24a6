"""The benchmark province: a deterministic data set at the scale the design promises.

One province (code 33) of cities, counties, townships and `villages` 村社 (20,000 by default).
`households` households (1,000,000 by default) live in villages of about `village_size` (500),
spread evenly over the province, in grids of about 50; every household gets
`entries_per_household` approved entries (20) on the shipped household scheme in one month, and
every village a handful of entries on the 40-indicator 六比六争 scheme in the quarter around it.

Everything is drawn from `random.Random` streams seeded by (seed, topic, village code), so the
same shape gives the same rows on every machine and engine. Rows go in as plain rows in batches
(`kaoping.core.bulk.rows_insert`: executemany on SQLite, COPY on PostgreSQL); households are
written a village at a time and entries spooled to a file per day, then inserted day by day, as
a ledger fills up: memory stays flat however many households there are. Keys are assigned here,
not by the database, so that a reversal can name its original without reading it back.

Bench entries leave the hash-chain fields empty (chain_seq 0, no LedgerChain head): the close
never reads them, and linking 20 million rows through sha256 would time the generator, not the
product. The build is recorded in the table bench_manifest; a later run with the same shape
reuses it.
"""

import json
import math
import pickle
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from kaoping.core.bulk import rows_insert
from kaoping.schemes.scoring import entry_points

GENERATOR_VERSION = 2
HOUSEHOLD_SCHEME = "household-points"
VILLAGE_SCHEME = "liubi-liuzheng"
PROVINCE_CODE = "33"
VILLAGES_PER_TOWNSHIP = 20
TOWNSHIPS_PER_COUNTY = 15
COUNTIES_PER_CITY = 6
GRID_SIZE = 50
VETO_SHARE = 1 / 1000  # households with a veto entry in the month
REVERSAL_SHARE = 1 / 100  # households whose last entry reverses their first
BATCH = 10_000
MANIFEST = "bench_manifest"

Out = Callable[[str], None]


@dataclass(frozen=True)
class Shape:
    """What to generate; two builds with equal shapes hold equal rows."""

    households: int = 1_000_000
    entries_per_household: int = 20
    villages: int = 20_000
    village_size: int = 500
    village_entries: int = 10  # per village in the quarter, on 六比六争
    seed: int = 1
    month: str = "2026-09"  # the household period the close benchmark closes
    quarter: str = "2026-Q3"  # the village period

    @property
    def household_villages(self) -> int:
        return max(1, math.ceil(self.households / self.village_size))

    @property
    def total_villages(self) -> int:
        return max(self.villages, self.household_villages)

    @property
    def entries(self) -> int:
        return self.households * self.entries_per_household

    def key(self) -> dict:
        return {"generator": GENERATOR_VERSION, **asdict(self)}


# --- pure planning (no database) ------------------------------------------------------------


def village_codes(count: int) -> Iterator[tuple[str, str, str, str]]:
    """(city, county, township, village) codes of `count` villages, in code order."""
    per_county = VILLAGES_PER_TOWNSHIP * TOWNSHIPS_PER_COUNTY
    per_city = per_county * COUNTIES_PER_CITY
    if count > per_city * 99:
        raise ValueError(f"at most {per_city * 99} villages in one province")
    for index in range(count):
        city = f"{PROVINCE_CODE}{index // per_city + 1:02d}"
        county = f"{city}{index % per_city // per_county + 1:02d}"
        township = f"{county}{index % per_county // VILLAGES_PER_TOWNSHIP + 1:03d}"
        village = f"{township}{200 + index % VILLAGES_PER_TOWNSHIP + 1:03d}"
        yield city, county, township, village


def household_counts(shape: Shape) -> dict[int, int]:
    """Village index → households, about `village_size` each, summing to `households`."""
    total, villages = shape.total_villages, shape.household_villages
    indices = [i * total // villages for i in range(villages)]
    rng = random.Random(f"{shape.seed}:village-sizes")
    weights = [rng.triangular(0.7, 1.3, 1.0) for _ in indices]
    scale = shape.households / sum(weights)
    counts = [int(w * scale) for w in weights]
    # Largest remainders first, so the sizes add up exactly.
    order = sorted(range(villages), key=lambda i: weights[i] * scale - counts[i], reverse=True)
    for i in order[: shape.households - sum(counts)]:
        counts[i] += 1
    return dict(zip(indices, counts, strict=True))


@dataclass(frozen=True)
class Draw:
    """An item entries are drawn from, with its constant columns."""

    code: str
    rule: str
    points: Decimal
    weight: float


def household_draws(spec) -> tuple[list[Draw], list[float], list[Draw]]:
    """(scored items, their cumulative weights, veto items) of the household scheme.

    Frequent small deeds (volunteering, patrols: items with a cap) are drawn most, so caps bind;
    large bonuses and deductions are rare, as on a real village's sheet.
    """
    scored, vetoes = [], []
    for row in spec.flatten():
        if not row.is_item:
            continue
        if str(row.rule) == "veto":
            vetoes.append(Draw(row.code, "veto", Decimal(0), 0))
            continue
        points = row.points or Decimal(0)
        if points > 0:
            weight = 6.0 if row.cap is not None else (2.0 if points < 10 else 0.3)
        else:
            weight = 0.8 if points > -5 else 0.25
        scored.append(Draw(row.code, str(row.rule), points, weight))
    cumulative, running = [], 0.0
    for draw in scored:
        running += draw.weight
        cumulative.append(running)
    return scored, cumulative, vetoes


QUANTITIES = (Decimal("0.5"), Decimal("1"), Decimal("2"), Decimal("2.5"), Decimal("3"), Decimal(5))


def household_entries(
    rng: random.Random,
    draws: tuple[list[Draw], list[float], list[Draw]],
    count: int,
    days: int,
) -> list[tuple[str, int, Decimal, int, int]]:
    """`count` entries of one household: (item, quantity × 1000, points, day offset, sign)."""
    scored, cumulative, vetoes = draws
    picks = rng.choices(scored, cum_weights=cumulative, k=count)
    if vetoes and rng.random() < VETO_SHARE:
        picks[rng.randrange(count)] = rng.choice(vetoes)
    rows = []
    for draw in picks:
        quantity = rng.choice(QUANTITIES) if draw.rule == "quantity" else Decimal(1)
        rows.append(
            (
                draw.code,
                int(quantity * 1000),
                entry_points(draw.rule, quantity=quantity, points=draw.points),
                rng.randrange(days),
                1,
            )
        )
    if count > 1 and rng.random() < REVERSAL_SHARE:
        code, quantity, points, day, _sign = rows[0]
        rows[-1] = (code, quantity, -points, day, -1)  # reverses rows[0], see build_entries
    return rows


# --- writing -------------------------------------------------------------------------------


class Writer:
    """Rows of one model, inserted in batches through `kaoping.core.bulk.rows_insert`
    (executemany on SQLite, COPY on PostgreSQL).

    `columns` are the values the caller gives, in order; every other concrete column gets its
    field default, prepared once.
    """

    def __init__(self, model: type[models.Model], columns: list[str]):
        self.model = model
        fields = {f.column: f for f in model._meta.concrete_fields}
        others = [
            f
            for c, f in fields.items()
            if c not in columns and not f.primary_key and f.db_default is NOT_PROVIDED
        ]
        self.defaults = tuple(self._default(f) for f in others)
        self.names = (*(fields[c].attname for c in columns), *(f.attname for f in others))
        self.rows: list[tuple] = []
        self.written = 0

    @staticmethod
    def _default(field):
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return json.dumps(value)
        if isinstance(field, models.DateTimeField) and getattr(field, "auto_now_add", False):
            return timezone.now().isoformat()
        if value is None:
            return None
        return field.get_db_prep_save(value, connection)

    def add(self, row: tuple) -> None:
        self.rows.append(row)  # the caller flushes, parents first

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        rows_insert(self.model, self.names, [(*row, *self.defaults) for row in rows])
        self.written += len(rows)


def next_id(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def reset_sequences(*model_list) -> None:
    """After rows with explicit keys, let the database hand out the next ones (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# --- the manifest --------------------------------------------------------------------------


def manifest() -> dict | None:
    """What the bench database holds, or None when it holds no complete build."""
    tables = connection.introspection.table_names()
    if MANIFEST not in tables:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {MANIFEST} WHERE name = %s", ["build"])
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def manifest_write(value: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MANIFEST} (name VARCHAR(40) PRIMARY KEY, value TEXT)"
        )
        cursor.execute(f"DELETE FROM {MANIFEST} WHERE name = %s", ["build"])
        cursor.execute(
            f"INSERT INTO {MANIFEST} (name, value) VALUES (%s, %s)", ["build", json.dumps(value)]
        )


# --- the build -----------------------------------------------------------------------------


# Up to this size the build walks every chain afterwards (`kaoping ledger verify` does the same
# on any size; at a province it takes minutes, so the timed runs skip it).
VERIFY_UP_TO = 20_000


def build(shape: Shape, out: Out = print) -> dict:
    """Generate the province into the (freshly migrated, empty) bench database."""
    from django.contrib.auth import get_user_model

    from kaoping.periods.services import period_open
    from kaoping.schemes.services import scheme_load

    started = time.perf_counter()
    Path(settings.BENCH_DIR).mkdir(parents=True, exist_ok=True)  # the spool goes there
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # The bench database is thrown away on failure: no need to survive a power cut.
            cursor.execute("PRAGMA synchronous=OFF")
    regions = build_regions(shape, out)
    province = regions["province"]
    user = get_user_model().objects.create_superuser(username="bench", password="bench")
    schemes = {}
    for code in (HOUSEHOLD_SCHEME, VILLAGE_SCHEME):
        path = Path(settings.BASE_DIR) / "schemes" / f"{code}.yaml"
        version, _created = scheme_load(
            text=without_overlays(path.read_text(encoding="utf-8")),
            filename=path.name,
            region=province,
            acting_user=user,
        )
        schemes[code] = version
    out(f"  schemes loaded ({time.perf_counter() - started:.0f} s)")
    counts = build_households(shape, regions["villages"], schemes[HOUSEHOLD_SCHEME], out)
    counts["village_entries"] = build_village_entries(shape, schemes[VILLAGE_SCHEME])
    household_period = period_open(
        scheme=schemes[HOUSEHOLD_SCHEME].scheme, label=shape.month, acting_user=user
    )
    village_period = period_open(
        scheme=schemes[VILLAGE_SCHEME].scheme, label=shape.quarter, acting_user=user
    )
    if shape.households <= VERIFY_UP_TO:
        # The generated ledger is chained like one written through the ledger's one write.
        from kaoping.ledger.chain import chain_verify

        broken = [str(problem) for problem in chain_verify()]
        out(f"  LEDGER verify {'ok' if not broken else 'broken: ' + '; '.join(broken[:3])}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does on its own after bulk loads; done now, so that plans do not
            # depend on when it gets round to it.
            cursor.execute("ANALYZE")
        else:
            # Nothing in kaoping runs ANALYZE on SQLite, so the bench does not either: the
            # planner works without statistics, as it does in a real deployment.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    built = {
        "shape": shape.key(),
        "province": province.code,
        "household_period": household_period.pk,
        "village_period": village_period.pk,
        "seconds": round(time.perf_counter() - started, 1),
        **counts,
    }
    manifest_write(built)
    out(f"  built in {built['seconds']:.0f} s: {counts}")
    return built


def without_overlays(text: str) -> str:
    """A shipped scheme file without its top-level `overlays:` block. Its overlays name
    townships and villages of the demo county, which the generated province does not have (the
    upload would refuse them); the benchmark scores the county's own items."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("overlays:"):
            skipping = True
            continue
        if skipping and line.strip() and not line[0].isspace() and not line.startswith("#"):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def build_regions(shape: Shape, out: Out) -> dict:
    """The province, its cities, counties, townships and villages, level by level."""
    from kaoping.regions.models import Level, Region

    province = Region.objects.create(code=PROVINCE_CODE, name="基准省", level=Level.PROVINCE)
    plan = list(village_codes(shape.total_villages))
    ids = {PROVINCE_CODE: province.pk}
    for level, position, word in (
        (Level.CITY, 0, "市"),
        (Level.COUNTY, 1, "县"),
        (Level.TOWNSHIP, 2, "镇"),
        (Level.VILLAGE, 3, "村"),
    ):
        codes = list(dict.fromkeys(row[position] for row in plan))
        parent_digits = {0: 2, 1: 4, 2: 6, 3: 9}[position]
        for start in range(0, len(codes), BATCH):
            created = Region.objects.bulk_create(
                Region(
                    code=code,
                    name=f"第{code[parent_digits:]}{word}",
                    level=level,
                    kind="村" if level == Level.VILLAGE else "",
                    parent_id=ids[code[:parent_digits]],
                )
                for code in codes[start : start + BATCH]
            )
            ids.update((r.code, r.pk) for r in created)
    villages = [(row[3], ids[row[3]]) for row in plan]
    out(f"  regions: {len(villages):,} villages")
    return {"province": province, "villages": villages}


def build_households(shape: Shape, villages: list[tuple[str, int]], version, out: Out) -> dict:
    """Grids, households and their subjects a village at a time; then their entries, by day.

    A real ledger is appended in time order, so its rows lie on disk roughly by date, not by
    household. The entries are therefore drawn village by village (each village its own random
    stream), spooled to one file per day, and inserted day after day: keys and the physical order
    follow the date, on SQLite (rowid) and PostgreSQL (heap) alike.
    """
    from kaoping.people.models import Household, Subject
    from kaoping.regions.models import Level, Region
    from kaoping.schemes.calendar import period_dates

    draws = household_draws(version.spec())
    first, last = period_dates("month", shape.month)
    days = (last - first).days + 1

    households = Writer(Household, ["id", "region_id", "number", "address"])
    subjects = Writer(Subject, ["id", "kind", "region_id", "name", "track", "household_id"])
    household_id, subject_id = next_id(Household), next_id(Subject)
    counts = household_counts(shape)
    started, done = time.perf_counter(), 0
    with tempfile.TemporaryDirectory(prefix="spool-", dir=settings.BENCH_DIR) as folder:
        spool = DaySpool(Path(folder), days)
        for index, size in counts.items():
            code, village_id = villages[index]
            grids = Region.objects.bulk_create(
                Region(
                    code=f"{code}{g + 1:03d}",
                    name=f"第{g + 1}网格",
                    level=Level.GRID,
                    parent_id=village_id,
                )
                for g in range(math.ceil(size / GRID_SIZE))
            )
            rng = random.Random(f"{shape.seed}:entries:{code}")
            for serial in range(size):
                grid = grids[serial // GRID_SIZE].pk
                number = f"{code}{serial + 1:04d}"
                households.add((household_id, grid, number, ""))
                subjects.add((subject_id, "household", grid, number, "", household_id))
                original = None
                for item, quantity, points, day, sign in household_entries(
                    rng, draws, shape.entries_per_household, days
                ):
                    position = spool.add(
                        day, (subject_id, item, quantity, str(points), sign, original)
                    )
                    if original is None:
                        original = position  # a reversal names the household's first entry
                household_id += 1
                subject_id += 1
            if len(households.rows) >= BATCH:
                _flush(households, subjects)
            done += size
            if done // 100_000 != (done - size) // 100_000:
                rate = done / (time.perf_counter() - started)
                out(f"  households: {done:,} / {shape.households:,} ({rate:,.0f}/s)")
        _flush(households, subjects)
        out(f"  households written; entries spooled ({time.perf_counter() - started:.0f} s)")
        written = write_spooled_entries(spool, version.scheme_id, first, last, out)
    reset_sequences(Household, Subject, Region)
    return {"households": households.written, "entries": written}


class DaySpool:
    """Entry rows in one file per day, in the order drawn; `add` returns the row's place."""

    def __init__(self, folder: Path, days: int):
        self.paths = [folder / f"day-{d:02d}.pickle" for d in range(days)]
        self.files = [path.open("wb") for path in self.paths]
        self.buffers: list[list] = [[] for _ in range(days)]
        self.counts = [0] * days

    def add(self, day: int, row: tuple) -> tuple[int, int]:
        self.buffers[day].append(row)
        self.counts[day] += 1
        if len(self.buffers[day]) >= BATCH:
            self._dump(day)
        return day, self.counts[day] - 1

    def _dump(self, day: int) -> None:
        pickle.dump(self.buffers[day], self.files[day], protocol=pickle.HIGHEST_PROTOCOL)
        self.buffers[day] = []

    def close(self) -> None:
        for day, handle in enumerate(self.files):
            if self.buffers[day]:
                self._dump(day)
            handle.close()

    def rows(self, day: int) -> Iterator[list]:
        with self.paths[day].open("rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)  # our own spool file, written above
                except EOFError:
                    return


def write_spooled_entries(
    spool: DaySpool, scheme_id: int, first: date, last: date, out: Out
) -> int:
    """Insert the spooled entries day by day, keys in that order."""
    from kaoping.ledger.models import Entry, EntrySource, EntryStatus

    spool.close()
    entries = Writer(
        Entry,
        [
            "id",
            "scheme_id",
            "subject_id",
            "item_code",
            "quantity_scaled",
            "label",
            "cadence",
            "sign",
            "points",
            "occurred_on",
            "status",
            "source",
            "note",
            "reverses_id",
            "reviewed_at",
            *BenchChain.COLUMNS,
        ],
    )
    chain, villages = BenchChain(), subject_villages("household")
    approved, collected = EntryStatus.APPROVED.value, EntrySource.COLLECTED.value
    reviewed = timezone.make_aware(datetime.combine(last, clock(18))).isoformat()
    day_start, start = [], next_id(Entry)
    for count in spool.counts:
        day_start.append(start)
        start += count
    started = time.perf_counter()
    for day in range(len(spool.counts)):
        entry_id = day_start[day]
        on = (first + timedelta(days=day)).isoformat()
        for chunk in spool.rows(day):
            for subject_id, item, quantity, points, sign, original in chunk:
                reverses = day_start[original[0]] + original[1] if sign < 0 else None
                link = chain.link(
                    villages[subject_id],
                    scheme_id=scheme_id,
                    subject_id=subject_id,
                    item_code=item,
                    quantity_scaled=quantity,
                    label="",
                    sign=sign,
                    occurred_on=on,
                    cadence="",
                    source=collected,
                    note="",
                    reverses_id=reverses,
                    status=approved,
                    review_reason="",
                )
                entries.add(
                    (
                        entry_id,
                        scheme_id,
                        subject_id,
                        item,
                        quantity,
                        "",
                        "",
                        sign,
                        points,
                        on,
                        approved,
                        collected,
                        "",
                        reverses,
                        reviewed,
                        *link,
                    )
                )
                entry_id += 1
            _flush(entries)
        out(
            f"  entries of {on}: {entries.written:,} written ({time.perf_counter() - started:.0f} s)"
        )
    chain.save()
    reset_sequences(Entry)
    return entries.written


def _flush(*writers: Writer) -> None:
    # Parents before children (households and subjects before the entries naming them), in one
    # transaction: the foreign keys are checked at its commit.
    with transaction.atomic():
        for writer in writers:
            writer.flush()


class BenchChain:
    """Links generated entries into their villages' hash chains with the ledger's own heads and
    digest (`ChainHeads`), so that `kaoping ledger verify` passes on a bench database too."""

    COLUMNS = ["chain_region", "chain_seq", "chain_hash"]

    def __init__(self) -> None:
        from kaoping.ledger.chain import ChainHeads

        self.heads = ChainHeads.unlocked()  # the generator is the only writer

    def link(self, village: str, **fields) -> tuple[str, int, str]:
        from kaoping.ledger.chain import Chained

        return self.heads.link(village, Chained(**fields))

    def save(self) -> None:
        with transaction.atomic():
            self.heads.save()


def subject_villages(kind: str) -> dict[int, str]:
    """subject id → the village code whose chain holds its entries, in one query."""
    from kaoping.ledger.chain import chain_region

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, r.code FROM people_subject s "
            "JOIN regions_region r ON r.id = s.region_id WHERE s.kind = %s",
            [kind],
        )
        return {subject_id: chain_region(code) for subject_id, code in cursor.fetchall()}


def build_village_entries(shape: Shape, version) -> int:
    """六比六争 entries of every village in the quarter: deductions, quantities, ratings, vetoes."""
    from kaoping.ledger.models import Entry, EntrySource, EntryStatus
    from kaoping.people.models import Subject
    from kaoping.schemes.calendar import period_dates

    spec = version.spec()
    items = [row for row in spec.flatten() if row.is_item and str(row.rule) != "metric"]
    scored = [row for row in items if str(row.rule) in ("count", "quantity")]
    ratings = [row for row in items if str(row.rule) == "rating"]
    vetoes = [row for row in items if str(row.rule) == "veto"]
    first, last = period_dates("quarter", shape.quarter)
    days = (last - first).days + 1
    writer = Writer(
        Entry,
        [
            "id",
            "scheme_id",
            "subject_id",
            "item_code",
            "quantity_scaled",
            "label",
            "sign",
            "points",
            "occurred_on",
            "status",
            "source",
            *BenchChain.COLUMNS,
        ],
    )
    chain = BenchChain()
    entry_id = next_id(Entry)
    villages = Subject.objects.filter(kind="village").order_by("region__code")
    for subject_id, code in villages.values_list("pk", "region__code").iterator(chunk_size=5000):
        rng = random.Random(f"{shape.seed}:village:{code}")
        picks = rng.choices(scored, k=shape.village_entries)
        if ratings:
            picks[0] = rng.choice(ratings)
        if vetoes and rng.random() < 0.002:
            picks[-1] = rng.choice(vetoes)
        for row in picks:
            label, factor, quantity = "", None, Decimal(1)
            if str(row.rule) == "rating":
                label, factor = rng.choice(row.levels)
            elif str(row.rule) == "quantity":
                quantity = Decimal(rng.randint(1, 4))
            points = entry_points(
                row.rule, quantity=quantity, points=row.points, weight=row.weight, factor=factor
            )
            day = (first + timedelta(days=rng.randrange(days))).isoformat()
            link = chain.link(
                code,
                scheme_id=version.scheme_id,
                subject_id=subject_id,
                item_code=row.code,
                quantity_scaled=int(quantity * 1000),
                label=label,
                sign=1,
                occurred_on=day,
                cadence="",
                source=EntrySource.DEPARTMENT.value,
                note="",
                status=EntryStatus.APPROVED.value,
                review_reason="",
            )
            writer.add(
                (
                    entry_id,
                    version.scheme_id,
                    subject_id,
                    row.code,
                    int(quantity * 1000),
                    label,
                    1,
                    str(points),
                    day,
                    EntryStatus.APPROVED.value,
                    EntrySource.DEPARTMENT.value,
                    *link,
                )
            )
            entry_id += 1
        if len(writer.rows) >= BATCH:
            _flush(writer)
    _flush(writer)
    chain.save()
    reset_sequences(Entry)
    return writer.written


def sample_subjects(count: int = 5) -> list[int]:
    """Household subjects spread over the province, for spot checks (first, last, between)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM people_subject WHERE kind = 'household'")
        low, high = cursor.fetchone()
    if low is None:
        return []
    picks = {low + (high - low) * i // (count - 1) for i in range(count)}
    return sorted(picks)


def month_bounds(label: str) -> tuple[date, date]:
    from kaoping.schemes.calendar import period_dates

    return period_dates("month", label)
