"""Roll-ups (quarter, half-year, year) equal the reference `scoring.rollup_total`.

Every roll-up of every shipped scheme, and a test scheme with a roll-up of roll-ups and a
three-part composite, is closed on random ledgers after its child periods, and each subject's
total is compared with the reference fed the child totals actually stored (sum counts the root
base once, mean is over the periods a subject has a result in, composite weighs its parts, the
±adjustments are added, the root's floor and max applied). Vetoes: `bar` and `grade` carry up
from the child periods (and from a composite's own assessment), `zero` does not. Hand-worked
cases and the refusal to close before the children are closed follow.
"""

import os
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.people.models import Subject
from kaoping.periods.engine import ADJUST_CODE
from kaoping.periods.models import Period, Result
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.calendar import labels_within
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.scoring import rollup_total, ytd_total
from kaoping.schemes.spec import Cadence, PartSource, RollupMethod, SchemeSpec

from .close_harness import (
    SHIPPED,
    Draft,
    World,
    build_world,
    check_close,
    dates_around,
    dates_of,
    drafts_by_subject,
    expected_ranks,
    ledgers,
    metric_reports,
    rank_group,
    record,
    rolled_back,
    scored_subjects,
    set_tracks,
    shipped_text,
    tracks_for,
    variant_of,
    write_ledger,
    write_metrics,
)

pytestmark = pytest.mark.django_db

D = Decimal
SCALE = int(os.environ.get("KAOPING_EXAMPLES", "1"))
ORDER = ["month", "quarter", "half_year", "year"]
LABEL = {"quarter": "2026-Q1", "half_year": "2026-H2", "year": "2026"}

# A monthly scheme with every veto effect, an honour grade, a roll-up of roll-ups (half-year =
# sum of quarters, with adjustments) and a three-part composite year.
NESTED = """
code: nested-rollups
version: 1
name: 汇总测试
subject_kind: village
cadence: month
decimals: 2
max: 100
floor: 0
tree:
  - {code: A, name: 工作, rule: count, points: 10, cap: 60}
  - {code: B, name: 扣分, rule: quantity, unit: 次, points: -2.5}
  - {code: R, name: 评议, rule: rating, weight: 40, levels: {好: 1, 中: 0.7, 差: 0.3}}
  - {code: VB, name: 不得评优, rule: veto, effect: bar}
  - {code: VG, name: 定为不合格, rule: veto, effect: grade, grade: poor}
  - {code: VM, name: 定为合格, rule: veto, effect: grade, grade: ok}
  - {code: VZ, name: 清零, rule: veto, effect: zero}
grades:
  - {code: best, name: 优秀, honour: true, min: 90, min_inclusive: true}
  - {code: ok, name: 合格, min: 60, min_inclusive: true, max: 90, max_inclusive: false}
  - {code: poor, name: 不合格, max: 60, max_inclusive: false}
rollups:
  - {cadence: quarter, method: mean}
  - {cadence: half_year, method: sum, source: quarter, adjust: true}
  - cadence: year
    method: composite
    adjust: true
    parts:
      - {source: self, aggregate: value, weight: 0.3}
      - {source: month, aggregate: mean, weight: 0.5}
      - {source: quarter, aggregate: sum, weight: 0.2}
"""


def shipped_rollups() -> list[tuple[str, str]]:
    cases = []
    for filename in SHIPPED:
        spec = load_scheme_text(shipped_text(filename), filename=filename)
        cases += [(filename, str(r.cadence)) for r in spec.rollups]
    return cases


def rollup_of(spec: SchemeSpec, cadence: str):
    return next(r for r in spec.rollups if str(r.cadence) == cadence)


def sources(spec: SchemeSpec, cadence: str) -> list[str]:
    """The cadences whose results a roll-up reads (not its own assessment)."""
    rollup = rollup_of(spec, cadence)
    if rollup.method is RollupMethod.COMPOSITE:
        return [str(p.source) for p in rollup.parts if p.source is not PartSource.SELF]
    return [str(rollup.source or spec.cadence)]


def has_own(spec: SchemeSpec, cadence: str) -> bool:
    rollup = rollup_of(spec, cadence)
    return any(p.source is PartSource.SELF for p in rollup.parts)


def needed(spec: SchemeSpec, cadence: str) -> list[str]:
    """Every cadence to close for `cadence`, finest first."""
    if cadence == str(spec.cadence):
        return [cadence]
    found = {cadence}
    for source in sources(spec, cadence):
        found |= set(needed(spec, source))
    return sorted(found, key=ORDER.index)


# -- the reference of a roll-up -----------------------------------------------------------------


def check_rollup(world: World, period: Period, drafts) -> None:
    """Every subject's roll-up result equals `rollup_total` over the child results stored
    (checked against the reference themselves before), with the vetoes carried up."""
    spec = world.spec
    cadence = period.cadence
    rollup = rollup_of(spec, cadence)
    version = period.version
    own = None
    if has_own(spec, cadence):
        # The roll-up's own assessment: its tree nodes against the reference.
        own = check_close(world, period, drafts, cadence=cadence, nodes_only=True).evaluations
    children: dict[int, list[tuple[str, Result]]] = defaultdict(list)
    for source in sources(spec, cadence):
        labels = labels_within(source, period.start, period.end)
        for result in Result.objects.filter(
            period__scheme=world.scheme, period__cadence=source, period__label__in=labels
        ):
            children[result.subject_id].append((source, result))
    ledger = drafts_by_subject(world, drafts)
    position = {g.code: i for i, g in enumerate(spec.grades)}
    results = {r.subject_id: r for r in Result.objects.filter(period=period)}
    subjects = scored_subjects(spec)
    assert set(results) == {s.pk for s in subjects}
    totals, groups = {}, {}
    for subject in subjects:
        where = f"{subject.name} ({subject.track or '-'}) in {period.label}"
        mine = children[subject.pk]
        by_source: dict[str, list[Decimal]] = defaultdict(list)
        for source, result in mine:
            by_source[source].append(version.to_points(result.total))
        adjustment = Decimal(0)
        if rollup.adjust:
            adjustment = sum(
                (
                    d.sign * d.quantity
                    for d in ledger[subject.pk]
                    if d.item == ADJUST_CODE
                    and d.status == "approved"
                    and d.cadence == cadence
                    and period.start <= d.on <= period.end
                ),
                Decimal(0),
            )
        evaluation = own[subject.pk] if own is not None else None
        expected = rollup_total(
            spec,
            cadence,
            results=by_source,
            own=evaluation.total if evaluation else None,
            adjustment=adjustment,
        )
        # Vetoes: bar and grade carry up from the children and the own assessment; zero does
        # not (a zeroed child is already 0 among the child totals).
        barred = any(r.barred for _, r in mine) or bool(evaluation and evaluation.barred)
        forced = [r.grade_code for _, r in mine if r.grade_forced]
        if evaluation:
            forced += [
                spec.item(code).grade
                for code in evaluation.vetoes
                if spec.item(code).effect == "grade"
            ]
        if forced:
            grade = max(forced, key=position.__getitem__)
        else:
            variant = variant_of(spec, subject.track, subject.region.code)
            found = spec.grade_for(expected, cadence=Cadence(cadence), variant=variant)
            grade = "" if found is None or (barred and found.honour) else found.code
        result = results[subject.pk]
        assert result.variant == (variant_of(spec, subject.track, subject.region.code) or ""), where
        assert version.to_points(result.total) == expected, (where, dict(by_source), adjustment)
        assert result.barred == barred, where
        assert (result.grade_code, result.grade_forced) == (grade, bool(forced)), where
        assert result.zeroed is False, where
        totals[subject.pk] = result.total
        groups[subject.pk] = rank_group(spec, subject)
    ranks = expected_ranks(spec, totals, groups)
    assert {s: r.rank for s, r in results.items()} == ranks


def check_ytd(world: World, period: Period) -> None:
    """Every result's year-to-date total equals `ytd_total` over the subject's stored results of
    the scheme's cadence in the year, up to this period (docs/schemes.md “按累计排名”)."""
    spec, version = world.spec, period.version
    so_far = Result.objects.filter(
        period__scheme=world.scheme,
        period__cadence=str(spec.cadence),
        period__start__year=period.start.year,
        period__end__lte=period.end,
    )
    totals: dict[int, list[Decimal]] = defaultdict(list)
    for subject_id, total in so_far.values_list("subject_id", "total"):
        totals[subject_id].append(version.to_points(total))
    for result in Result.objects.filter(period=period):
        expected = ytd_total(spec, totals[result.subject_id], variant=result.variant or None)
        assert version.to_points(result.ytd) == expected, (period.label, result.subject_id)


@st.composite
def adjustments(
    draw, spec: SchemeSpec, writers: int, start: date, end: date, offset: int = 0
) -> list[Draft]:
    """± adjustment entries (points with the ledger's three decimals, whatever the scheme
    keeps; a minus is a −1 sign with no `reverses`, as `ledger.adjustments` stores it) on every
    roll-up cadence, and a few of the scheme's own cadence that nothing may read; some
    reversed (the opposite sign, `reverses` set: a −3's reversal is +3). `offset`: where these
    drafts start in the ledger's list, which `reverses` indexes."""
    cadences = [str(r.cadence) for r in spec.rollups] + [""]
    unit = 10 ** draw(st.sampled_from([spec.decimals, 3]))
    out = []
    for _ in range(draw(st.integers(0, 6))):
        out.append(
            Draft(
                subject=draw(st.integers(0, writers - 1)),
                item=ADJUST_CODE,
                quantity=Decimal(draw(st.integers(0, 20 * unit))) / unit,
                on=draw(dates_around(start, end)),
                status=draw(st.sampled_from(["approved", "approved", "submitted"])),
                cadence=draw(st.sampled_from(cadences)),
                sign=draw(st.sampled_from([1, -1])),
            )
        )
        if draw(st.integers(0, 3)) == 0:
            original = out[-1]
            out.append(
                Draft(
                    **{
                        **original.__dict__,
                        "sign": -original.sign,
                        "reverses": offset + len(out) - 1,
                    }
                )
            )
    return out


def close_rollup_and_compare(world: World, data, cadence: str, label: str) -> None:
    """One example: a ledger over the roll-up's span; every period it needs closed (finest
    first, one subject left out of one child period) and compared with the reference."""
    spec = world.spec
    start, end = dates_of(cadence, label)
    writers = len(world.writers)
    chain = needed(spec, cadence)
    rollup_cadences = [c for c in chain if c != str(spec.cadence)]
    tracks = data.draw(
        st.lists(st.sampled_from(tracks_for(spec)), min_size=writers, max_size=writers)
    )
    drafts = data.draw(
        ledgers(spec, writers, start, end, cadences=["", "", "", *rollup_cadences], max_entries=40)
    )
    drafts += data.draw(adjustments(spec, writers, start, end, offset=len(drafts)))
    periods = [(c, lbl) for c in chain for lbl in labels_within(c, start, end)]
    leaves = [p for p in periods if p[0] == str(spec.cadence)]
    # A composite of `self` only (sanping's quarter) closes no child period to leave one out of.
    away = (
        data.draw(
            st.none() | st.tuples(st.integers(0, len(world.scored) - 1), st.sampled_from(leaves))
        )
        if leaves
        else None
    )
    reports = {
        p: data.draw(metric_reports(spec, writers))
        for p in periods
        if p[0] == str(spec.cadence) or (p[0] != str(spec.cadence) and has_own(spec, p[0]))
    }

    set_tracks(world.writers, tracks)
    write_ledger(world, drafts)
    for key in periods:
        period = period_open(scheme=world.scheme, label=key[1], acting_user=system_actor())
        write_metrics(world, period, reports.get(key, {}))
        subject = world.scored[away[0]] if away and away[1] == key else None
        if subject is not None:
            # Left out of this period: the roll-up averages over the periods it has.
            Subject.objects.filter(pk=subject.pk).update(active=False)
        period_close(period=period, acting_user=system_actor())
        if key[0] == str(spec.cadence):
            check_close(world, period, drafts)
        else:
            check_rollup(world, period, drafts)
        if spec.uses_ytd():
            check_ytd(world, period)
        if subject is not None:
            Subject.objects.filter(pk=subject.pk).update(active=True)


ROLLUP = settings(
    max_examples=3 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@pytest.mark.parametrize(("filename", "cadence"), shipped_rollups())
def test_shipped_rollup_equals_reference(filename, cadence):
    world = build_world(shipped_text(filename), filename)

    @ROLLUP
    @given(data=st.data())
    def example(data):
        with rolled_back():
            close_rollup_and_compare(world, data, cadence, LABEL[cadence])

    example()


@pytest.mark.parametrize("cadence", ["quarter", "half_year", "year"])
def test_nested_rollups_equal_reference(cadence):
    world = build_world(NESTED, "nested.yaml")

    @ROLLUP
    @given(data=st.data())
    def example(data):
        with rolled_back():
            close_rollup_and_compare(world, data, cadence, LABEL[cadence])

    example()


# -- by hand ------------------------------------------------------------------------------------


def close(world, label):
    period = period_open(scheme=world.scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return Period.objects.get(pk=period.pk)


def result(period, subject) -> Result:
    return Result.objects.get(period=period, subject=subject)


def points(period, subject) -> Decimal:
    return period.version.to_points(result(period, subject).total)


def test_household_quarter_counts_the_base_once(county):
    world = build_world(shipped_text("household-points.yaml"), "household-points.yaml", county)
    home = world.scored[0]
    record(world, home, "GY06", on=date(2026, 1, 9))  # January 100 + 3 + 2 = 105
    record(world, home, "GY03", on=date(2026, 1, 9))
    record(world, home, "HW01", on=date(2026, 2, 9))  # February 100 − 2 = 98; March 100
    for month in ("2026-01", "2026-02", "2026-03"):
        close(world, month)
    quarter = close(world, "2026-Q1")
    # docs/schemes.md §9: 100 + 5 − 2 + 0 = 103, not 303.
    assert points(quarter, home) == 103
    assert points(quarter, world.scored[1]) == 100  # nothing recorded: the base, once
    assert result(quarter, home).grade_code == ""  # grades are yearly


def test_veto_carry_over_bar_and_grade_but_not_zero(county):
    world = build_world(shipped_text("household-points.yaml"), "household-points.yaml", county)
    a, b, c = world.scored[:3]
    for home in (a, b, c):
        for month in (1, 2, 3):
            record(world, home, "GY02", on=date(2026, month, 3))  # +10 a month
    record(world, a, "FJ01", on=date(2026, 2, 3))  # zero: February is 0 for a
    record(world, b, "FJ02", on=date(2026, 1, 3))  # bar in January
    record(world, c, "FJ04", on=date(2026, 3, 3))  # grade 待提升户 in March
    for label in ("2026-01", "2026-02", "2026-03"):
        close(world, label)
    quarter = close(world, "2026-Q1")
    # a: 100 + (110 − 100) + (0 − 100) + (110 − 100) = 20: the zeroed month counts as 0 and
    # the quarter itself is not zeroed.
    assert points(quarter, a) == 20
    assert (result(quarter, a).zeroed, result(quarter, a).barred) == (False, False)
    # b: 130, barred all quarter. c: 130, graded 待提升户 although 130 would be 文明户.
    assert (points(quarter, b), result(quarter, b).barred) == (130, True)
    assert (points(quarter, c), result(quarter, c).grade_code) == (130, "daitisheng")
    assert result(quarter, c).grade_forced
    # The year carries them on: b barred; c forced; a's zeroed February is just a 0.
    for label in [f"2026-{m:02d}" for m in range(4, 13)]:
        close(world, label)
    year = close(world, "2026")
    assert points(year, a) == 20  # 100 + 10 − 100 + 10, nothing after March
    assert result(year, b).barred and points(year, b) == 130
    assert (result(year, c).grade_code, result(year, c).grade_forced) == ("daitisheng", True)
    # 星级文明户 needs 160: nobody here; a plain 文明户 [130, 160) is no honour, so b keeps it.
    assert result(year, b).grade_code == "wenming"


def test_barred_month_withholds_the_red_flag_of_the_quarter(county):
    world = build_world(shipped_text("hong-huang-qi.yaml"), "hong-huang-qi.yaml", county)
    dongling, nanshan = world.scored[:2]
    for village in (dongling, nanshan):
        for month in (1, 2, 3):
            on = date(2026, month, 5)
            for item in ("ZD01.1", "ZL02.1"):
                record(world, village, item, label="好", on=on)  # 20 + 10
            record(world, village, "MS02.1", label="满意", on=on)  # 10 → 50 + 30 + 10 = 90
    record(world, nanshan, "FJ01", on=date(2026, 2, 5))
    for label in ("2026-01", "2026-02", "2026-03"):
        close(world, label)
    quarter = close(world, "2026-Q1")
    assert points(quarter, dongling) == 90
    assert result(quarter, dongling).grade_code == "hongqi"
    # Barred in February: the quarter's 90 earns no 红旗 (and no other grade).
    assert (points(quarter, nanshan), result(quarter, nanshan).grade_code) == (90, "")
    assert result(quarter, nanshan).barred


def test_mean_is_over_the_periods_present(county):
    world = build_world(shipped_text("hong-huang-qi.yaml"), "hong-huang-qi.yaml", county)
    village = world.scored[0]
    record(world, village, "JF01", on=date(2026, 1, 5))  # January 50 + 3 = 53
    record(world, village, "ZD02.1", on=date(2026, 3, 5))  # March 50 − 4 = 46
    close(world, "2026-01")
    Subject.objects.filter(pk=village.pk).update(active=False)  # not scored in February
    close(world, "2026-02")
    Subject.objects.filter(pk=village.pk).update(active=True)
    close(world, "2026-03")
    quarter = close(world, "2026-Q1")
    assert points(quarter, village) == D("49.5")  # (53 + 46) / 2, not (53 + 0 + 46) / 3
    assert points(quarter, world.scored[1]) == 50


def test_leitai_year_is_forty_percent_own_and_sixty_percent_monthly_mean(county):
    world = build_world(shipped_text("leitai-biwu.yaml"), "leitai-biwu.yaml", county)
    village = world.scored[0]
    Subject.objects.filter(pk=village.pk).update(track="示范")
    # Year-end assessment (entries of cadence year), 示范 weights 20/30/15/15/20:
    # DJ 优秀 20 + CY 良好 25.5 + HJ 一般 10.5 + MS 较差 7.5 + ZL 优秀 20 = 83.50
    year_end = date(2026, 12, 20)
    for item, label in (
        ("DJ", "优秀"),
        ("CY", "良好"),
        ("HJ", "一般"),
        ("MS", "较差"),
        ("ZL", "优秀"),
    ):
        record(world, village, item, label=label, on=year_end, cadence="year")
    # Months: January DJ 优秀 → 20; July ZL 良好 → 17; the other ten months 0.
    record(world, village, "DJ", label="优秀", on=date(2026, 1, 20))
    record(world, village, "ZL", label="良好", on=date(2026, 7, 20))
    # ± adjustments of the year: +2.5, then −0.75 (a minus is written with sign −1).
    record(world, village, ADJUST_CODE, "2.5", on=year_end, cadence="year")
    record(world, village, ADJUST_CODE, "0.75", on=year_end, cadence="year", sign=-1)
    year = period_open(scheme=world.scheme, label="2026", acting_user=system_actor())
    with pytest.raises(KaopingError, match="2026-01"):
        period_close(period=year, acting_user=system_actor())
    for month in range(1, 13):
        close(world, f"2026-{month:02d}")
    year = close(world, "2026")
    # 0.4 × 83.5 + 0.6 × (20 + 17) / 12 = 33.4 + 1.85 = 35.25; + 2.5 − 0.75 = 37.00
    assert points(year, village) == D("37.00")
    # A village with nothing at all: 0.
    assert points(year, world.scored[1]) == 0


def test_the_grade_listed_last_wins_and_carries_up(county):
    world = build_world(NESTED, "nested.yaml", county)
    a, b, c = world.scored
    for village in (a, b, c):
        for _ in range(7):
            record(world, village, "A", on=date(2026, 1, 5))  # 7 × 10 = 70 → cap 60
        record(world, village, "R", label="好", on=date(2026, 1, 5))  # + 40 → 100 (max 100)
    record(world, a, "VM", on=date(2026, 1, 6))  # 合格
    record(world, a, "VG", on=date(2026, 1, 6))  # and 不合格 in the same month
    record(world, b, "VG", on=date(2026, 1, 6))  # 不合格 in January
    record(world, b, "VM", on=date(2026, 2, 6))  # 合格 in February
    record(world, c, "VB", on=date(2026, 3, 6))  # bar in March
    months = [close(world, f"2026-{m:02d}") for m in (1, 2, 3)]
    # a: 100 → 优秀 by total, but forced; of 合格 and 不合格 the one listed last (不合格) wins.
    assert (result(months[0], a).grade_code, result(months[0], a).grade_forced) == ("poor", True)
    assert result(months[1], b).grade_code == "ok"  # forced 合格 although 0 < 60
    quarter = close(world, "2026-Q1")
    # The quarter: a (100 + 0 + 0) / 3 = 33.33; b likewise; both forced 不合格 (b's February
    # 合格 is listed before 不合格). c: (100 + 0 + 0) / 3 = 33.33, barred, 不合格 by total.
    assert [points(quarter, s) for s in (a, b, c)] == [D("33.33")] * 3
    assert [result(quarter, s).grade_code for s in (a, b, c)] == ["poor", "poor", "poor"]
    assert [result(quarter, s).grade_forced for s in (a, b, c)] == [True, True, False]
    assert [result(quarter, s).barred for s in (a, b, c)] == [False, False, True]


def test_an_adjustment_is_added_before_the_one_rounding(county):
    world = build_world(NESTED, "nested.yaml", county)
    village = world.scored[0]
    year_end = date(2026, 12, 1)
    record(world, village, "A", "0.001", on=year_end, cadence="year")  # own: 0.001 × 10 = 0.01
    record(world, village, ADJUST_CODE, "0.003", on=year_end, cadence="year")
    for label in [f"2026-{m:02d}" for m in range(1, 13)] + [f"2026-Q{q}" for q in range(1, 5)]:
        close(world, label)
    year = close(world, "2026")
    # 0.3 × 0.01 + 0.5 × 0 + 0.2 × 0 = 0.003; + 0.003 = 0.006 → 0.01 (two decimals, half up).
    # Rounding the parts first would give 0.00 + 0.00.
    assert points(year, village) == D("0.01")


def test_a_composite_on_a_rounding_tie_rounds_up(county):
    world = build_world(shipped_text("leitai-biwu.yaml"), "leitai-biwu.yaml", county)
    village = world.scored[0]  # no track: default weights
    record(world, village, "HJ", label="较差", on=date(2026, 1, 9))  # 0.5 × 20 = 10.00
    record(world, village, "MS", label="较差", on=date(2026, 12, 9))  # 0.5 × 15 = 7.50
    for month in range(1, 13):
        close(world, f"2026-{month:02d}")
    year = close(world, "2026")
    # 0.4 × 0 + 0.6 × 17.5 / 12 = 0.875 exactly → 0.88. In 28-digit Decimals the mean is
    # 1.458333…3 and 0.6 × that 0.8749…98 → 0.87, which the reference gave before it went exact.
    assert points(year, village) == D("0.88")
    months = {"month": [D("10.00"), D("7.50")] + [D(0)] * 10}
    assert rollup_total(world.spec, "year", results=months, own=D(0)) == D("0.88")


def test_rollup_refuses_to_close_while_a_child_is_open(county):
    world = build_world(shipped_text("household-points.yaml"), "household-points.yaml", county)
    close(world, "2026-01")
    close(world, "2026-02")
    # Opened, not closed.
    march = period_open(scheme=world.scheme, label="2026-03", acting_user=system_actor())
    quarter = period_open(scheme=world.scheme, label="2026-Q1", acting_user=system_actor())
    with pytest.raises(KaopingError, match="2026-03"):
        period_close(period=quarter, acting_user=system_actor())
    quarter.refresh_from_db()
    assert quarter.status == "open"
    assert not Result.objects.filter(period=quarter).exists()
    period_close(period=march, acting_user=system_actor())
    period_close(period=quarter, acting_user=system_actor())
    assert Result.objects.filter(period=quarter).count() == len(scored_subjects(world.spec))
