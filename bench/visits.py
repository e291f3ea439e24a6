"""`kaoping bench visits`: visit coverage of every grid of the province in one pass.

The province of the close benchmark (1,000,000 households in grids of about 50 at full scale)
gets a month of grid visits (`visits_build`, once per month; bulk rows like the rest of the
bench data): every grid a diligence of its own — about a third reach every household, most
nearly all, some lag — and 2 % of households working away, half of them phoned. Then, each in a
process of its own:

- **kaoping**: `kaoping.grid.coverage.coverage_grouped` over every household, grouped by grid
  code: the selector behind the coverage pages and the metric push;
- **raw SQL**: one hand-written GROUP BY over households joined to the month's distinct visited
  households, the fastest plain statement on that engine.

Both must give the same (grid, households, visited) rows (hashed in grid order); the ratio of
their times is the result.
"""

import hashlib
import random
import resource
import time
from datetime import timedelta
from pathlib import Path

from .data import BATCH, Shape, Writer
from .report import Out, rss_mib, write_report
from .runner import engine_name, prepare, run_step

UNREACHABLE_SHARE = 0.02
PHONED_SHARE = 0.5


def _diligence(rng: random.Random) -> float:
    draw = rng.random()
    if draw < 0.35:
        return 1.0
    if draw < 0.83:
        return rng.uniform(0.85, 0.99)
    return rng.uniform(0.45, 0.75)


def visits_build(*, echo: Out, month: str, seed: int) -> dict:
    """A month of visits to the province's households, unless the month has them already."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from kaoping.grid.models import Visit
    from kaoping.people.models import Household
    from kaoping.schemes.calendar import period_dates

    first, last = period_dates("month", month)
    if Visit.objects.filter(visited_on__gte=first, visited_on__lte=last).exists():
        count = Visit.objects.filter(visited_on__gte=first, visited_on__lte=last).count()
        echo(f"  reusing {count:,} visits of {month}")
        return {"visits": count, "seconds": 0}
    started = time.perf_counter()
    user = get_user_model().objects.get(username="bench").pk
    writer = Writer(
        Visit,
        ["household_id", "grid_id", "visitor_id", "visitor_post", "kind", "visited_on", "note"]
        + ["idempotency_key"],
    )
    days = (last - first).days + 1
    grid, rng, share = None, None, 0.0
    rows = Household.objects.order_by("region_id", "id").values_list("id", "region_id")
    with transaction.atomic():
        for household, region in rows.iterator(chunk_size=BATCH):
            if region != grid:
                grid, rng = region, random.Random(f"{seed}:visits:{region}")
                share = _diligence(rng)
            away = rng.random() < UNREACHABLE_SHARE
            phoned = away and rng.random() < PHONED_SHARE
            if (away and not phoned) or rng.random() >= share:
                continue
            writer.add(
                (
                    household,
                    region,
                    user,
                    "member",
                    "phone" if phoned else "in_person",
                    (first + timedelta(days=rng.randrange(days))).isoformat(),
                    "",
                    f"bench:{household}:{month}",
                )
            )
            if len(writer.rows) >= BATCH:
                writer.flush()
        writer.flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE grid_visit")
    seconds = time.perf_counter() - started
    echo(f"  visits: {writer.written:,} written in {seconds:.0f} s")
    return {"visits": writer.written, "seconds": round(seconds, 1)}


def _digest(rows: list[tuple]) -> dict:
    text = "\n".join(f"{code},{n},{seen}" for code, n, seen in sorted(rows))
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "grids": len(rows),
        "households": sum(n for _c, n, _s in rows),
        "visited": sum(seen for _c, _n, seen in rows),
    }


def visits_kaoping(*, echo: Out, month: str) -> dict:
    """Coverage of every grid through the product's selector, in one grouped query."""
    from kaoping.grid.coverage import coverage_grouped
    from kaoping.people.models import Household
    from kaoping.regions.codes import LEVEL_DIGITS
    from kaoping.schemes.calendar import period_dates

    first, last = period_dates("month", month)
    started = time.perf_counter()
    grouped = coverage_grouped(
        Household.objects.all(), digits=LEVEL_DIGITS["grid"], start=first, end=last
    )
    seconds = time.perf_counter() - started
    peak = rss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    echo(f"  kaoping: {len(grouped):,} grids in {seconds:.3f} s")
    rows = [(code, n, seen) for code, (n, seen) in grouped.items()]
    return {"seconds": round(seconds, 4), "peak_rss_mib": peak, **_digest(rows)}


RAW_SQL = (
    "SELECT r.code, COUNT(*), COUNT(v.household_id) FROM people_household h "
    "JOIN regions_region r ON r.id = h.region_id "
    "LEFT JOIN (SELECT DISTINCT household_id FROM grid_visit "
    "WHERE visited_on >= %s AND visited_on <= %s) v ON v.household_id = h.id "
    "GROUP BY r.code"
)


def visits_raw_sql(*, echo: Out, month: str) -> dict:
    """The same figures from one hand-written statement."""
    from django.db import connection

    from kaoping.schemes.calendar import period_dates

    first, last = period_dates("month", month)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, [first, last])
        rows = cursor.fetchall()
    seconds = time.perf_counter() - started
    peak = rss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    echo(f"  raw SQL: {len(rows):,} grids in {seconds:.3f} s")
    return {"seconds": round(seconds, 4), "peak_rss_mib": peak, **_digest(rows)}


STEPS = {
    "visits_build": visits_build,
    "visits_kaoping": visits_kaoping,
    "visits_raw_sql": visits_raw_sql,
}


def run(shape: Shape, out_dir: Path, echo: Out) -> dict:
    prepare(shape, echo)
    engine = engine_name()
    built = run_step("visits_build", echo, month=shape.month, seed=shape.seed)
    # Each measured twice, alternately; the faster run counts (the first warms the cache).
    kaoping = [run_step("visits_kaoping", echo, month=shape.month) for _ in range(2)]
    raw = [run_step("visits_raw_sql", echo, month=shape.month) for _ in range(2)]
    best = min(kaoping, key=lambda r: r["seconds"])
    base = min(raw, key=lambda r: r["seconds"])
    agree = best["sha256"] == base["sha256"]
    ratio = round(best["seconds"] / base["seconds"], 2) if base["seconds"] else None
    result = {
        "benchmark": "visits",
        "engine": engine,
        "shape": shape.key(),
        "visits": built["visits"],
        "kaoping": best,
        "raw_sql": base,
        "agree": agree,
        "ratio": ratio,
    }
    header = ["job", "grids", "households", "visited", "seconds", "peak RSS MiB"]
    table = [
        [name, r["grids"], r["households"], r["visited"], r["seconds"], r["peak_rss_mib"]]
        for name, r in (("kaoping coverage_grouped", best), ("raw SQL", base))
    ]
    share = best["visited"] / best["households"] if best["households"] else 0
    notes = [
        f"{engine}; {shape.households:,} households, {built['visits']:,} visits in {shape.month}; "
        f"coverage {share:.1%}",
        f"ratio kaoping/raw SQL = {ratio}; results {'agree' if agree else 'DISAGREE'}",
        "each job in a process of its own, run twice; the faster run is shown",
    ]
    write_report(out_dir, f"visits-{engine}", result, header, table, notes, echo)
    echo(f"RATIO visits kaoping/raw_sql={ratio} agree={agree}")
    return result
