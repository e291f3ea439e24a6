"""Visit coverage: the numbers, the overdue list, scope, the metric the close takes, reminders."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import ImportFailed
from kaoping.grid import coverage
from kaoping.grid.models import CoverageRule, Visit
from kaoping.inbox.models import Message
from kaoping.ledger.models import MetricValue
from kaoping.people.models import Subject
from kaoping.periods.models import Period, PeriodStatus, Result
from kaoping.periods.selectors import period_close_preview
from kaoping.periods.services import metrics_report, period_close, period_open
from kaoping.periods.testing import result_node
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

SCHEMES = Path(settings.BASE_DIR) / "schemes"
NOVEMBER = coverage.cycle_of(date(2026, 11, 10))
_keys = count(1)


def households_of(county, grid_code):
    return sorted(
        (h for h in county.households.values() if h.region.code == grid_code),
        key=lambda h: h.number,
    )


def visit(county, household, on, *, by="dave", kind="in_person", post="member"):
    return Visit.objects.create(
        household=household,
        grid=household.region,
        visitor=county.users[by],
        visitor_post=post,
        kind=kind,
        visited_on=on,
        idempotency_key=f"t{next(_keys)}",
    )


def load_grid_work(county):
    version, _created = scheme_load(
        text=(SCHEMES / "grid-work.yaml").read_text(encoding="utf-8"),
        filename="grid-work.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version


G1, G2, G3, G4 = "330304001001001", "330304001001002", "330304001002001", "330304002001001"


@pytest.fixture
def three_of_four(county):
    """东岭村 (two grids, four households): three visited in November 2026 — one by phone, one
    by a leader — and the fourth visited in October only."""
    a, b = households_of(county, G1)
    c, d = households_of(county, G2)
    visit(county, a, date(2026, 11, 3))
    visit(county, b, date(2026, 11, 4), kind="phone")
    visit(county, c, date(2026, 11, 5), by="carol", post="leader")
    visit(county, d, date(2026, 10, 20))
    return county


def test_three_of_four_households_visited_is_75_percent(three_of_four):
    county = three_of_four
    village = county.region("330304001001")
    total, grids = coverage.coverage_children(
        user=county.users["alice"], region=village, cycle=NOVEMBER
    )
    assert (total.visited, total.households, total.percent) == (3, 4, Decimal(75))
    # A phone call counts (G1: both), a leader's visit counts (G2: one of two).
    assert [(g.code, g.visited, g.households, g.percent) for g in grids] == [
        (G1, 2, 2, Decimal(100)),
        (G2, 1, 2, Decimal(50)),
    ]
    october = coverage.cycle_of(date(2026, 10, 1))
    total, _grids = coverage.coverage_children(
        user=county.users["alice"], region=village, cycle=october
    )
    assert (total.visited, total.households) == (1, 4)


def test_every_roll_up_equals_the_sum_of_what_it_rolls_up(three_of_four):
    county, alice = three_of_four, three_of_four.users["alice"]
    top, townships = coverage.coverage_children(
        user=alice, region=county.region("330304"), cycle=NOVEMBER
    )
    assert (top.households, top.visited) == (8, 3)
    for township in townships:
        region = county.region(township.code)
        total, villages = coverage.coverage_children(user=alice, region=region, cycle=NOVEMBER)
        assert (total.households, total.visited) == (township.households, township.visited)
        assert total.households == sum(v.households for v in villages)
        assert total.visited == sum(v.visited for v in villages)
        for village in villages:
            vtotal, grids = coverage.coverage_children(
                user=alice, region=county.region(village.code), cycle=NOVEMBER
            )
            assert vtotal.households == sum(g.households for g in grids) == village.households
            assert vtotal.visited == sum(g.visited for g in grids) == village.visited


def test_coverage_rises_as_visits_come_in(three_of_four):
    county = three_of_four
    village = county.region("330304001001")
    before, _ = coverage.coverage_children(user=county.users["bob"], region=village, cycle=NOVEMBER)
    visit(county, households_of(county, G2)[1], date(2026, 11, 12))
    after, _ = coverage.coverage_children(user=county.users["bob"], region=village, cycle=NOVEMBER)
    assert (before.percent, after.percent) == (Decimal(75), Decimal(100))


@pytest.mark.parametrize(
    ("days_ago", "overdue"), [(None, True), (32, True), (31, True), (30, False), (0, False)]
)
def test_a_household_not_visited_for_31_days_is_overdue(county, days_ago, overdue):
    today = date(2026, 11, 20)
    household = households_of(county, G1)[0]
    for other in households_of(county, G1)[1:]:
        visit(county, other, today)
    if days_ago is not None:
        visit(county, household, today - timedelta(days=days_ago))
    listed = coverage.overdue_households(user=county.users["dave"], prefix=G1, today=today, days=31)
    assert (household in listed) is overdue
    assert list(listed) == ([household] if overdue else [])


def test_a_visit_recorded_for_later_does_not_hide_an_overdue_household(county):
    today = date(2026, 11, 20)
    household = households_of(county, G1)[0]
    visit(county, household, today + timedelta(days=3))
    listed = coverage.overdue_households(user=county.users["dave"], prefix=G1, today=today, days=31)
    assert household in listed


def test_a_grid_member_sees_only_own_grids_and_a_township_only_its_villages(three_of_four):
    county = three_of_four
    dave, bob = county.users["dave"], county.users["bob"]
    assert coverage.home_region(dave).code == G1
    assert coverage.home_region(bob).code == "330304001"
    assert coverage.home_region(county.users["alice"]).code == "330304"
    # Asked for the whole county, a grid member still counts only the households of his grid.
    total, townships = coverage.coverage_children(
        user=dave, region=county.region("330304"), cycle=NOVEMBER
    )
    assert (total.households, [t.code for t in townships]) == (2, ["330304001"])
    total, villages = coverage.coverage_children(
        user=bob, region=county.region("330304"), cycle=NOVEMBER
    )
    assert [v.code for v in villages] == ["330304001"] and total.households == 6
    listed = coverage.overdue_households(
        user=dave, prefix="330304", today=date(2026, 12, 31), days=31
    )
    assert {h.region.code for h in listed} == {G1}
    assert coverage.home_region(county.users["grace"]) is None  # no visit scope


def test_cycles_follow_the_county_rule(county):
    CoverageRule.objects.create(county=county.region("330304"), cycle="two_months")
    rule = coverage.rule_for("330304001001")
    cycle = coverage.cycle_of(date(2026, 12, 5), rule.cycle)
    assert (cycle.start, cycle.end) == (date(2026, 11, 1), date(2026, 12, 31))
    assert cycle.previous().start == date(2026, 9, 1)
    quarter = coverage.cycle_of(date(2026, 2, 28), "quarter")
    assert (quarter.start, quarter.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert coverage.rule_for("110101").overdue_days == 31  # the default, for a county without
    assert coverage.cycle_from_key("bad", "month") is None


def test_the_rule_is_set_by_the_county_admin_only(county):
    region = county.region("330304")
    with pytest.raises(Refused):
        coverage.coverage_rule_set(
            county=region, cycle="quarter", overdue_days=92, acting_user=county.users["bob"]
        )
    assert not CoverageRule.objects.exists()
    coverage.coverage_rule_set(
        county=region, cycle="quarter", overdue_days=92, acting_user=county.users["alice"]
    )
    rule = coverage.rule_for("330304")
    assert (rule.cycle, rule.overdue_days) == ("quarter", 92)


# --- the metric the close takes -----------------------------------------------------------------


def points(period, subject, code) -> Decimal:
    row = result_node(period, subject, code)
    return period.version.to_points(row.value) if row else Decimal(0)


def test_the_grid_work_close_takes_coverage_from_the_visits(three_of_four):
    county = three_of_four
    version = load_grid_work(county)
    period = period_open(scheme=version.scheme, label="2026-11", acting_user=system_actor())
    # Nothing to type in: the preview does not ask for the pushed coverage.
    preview = period_close_preview(period=period)
    assert "grid_visit_coverage" not in {m.metric for m in preview.missing_metrics}
    period_close(period=period, acting_user=county.users["alice"])
    values = {
        (mv.subject.region.code, mv.metric): mv.value
        for mv in MetricValue.objects.filter(period_label="2026-11").select_related(
            "subject__region"
        )
    }
    assert values[(G1, "grid_visit_coverage")] == Decimal(100)
    assert values[(G2, "grid_visit_coverage")] == Decimal(50)
    assert values[(G3, "grid_visit_coverage")] == Decimal(0)
    grid = Subject.objects.get(kind="grid", region__code=G1)
    assert points(period, grid, "ZF01") == Decimal(40)
    lagging = Subject.objects.get(kind="grid", region__code=G2)
    assert points(period, lagging, "ZF01") == Decimal(5)  # 50 %: the lowest band
    assert Result.objects.filter(period=period).count() == 4


def test_a_village_scheme_takes_visit_coverage_and_a_department_cannot_type_it(three_of_four):
    county = three_of_four
    text = (SCHEMES / "hong-huang-qi.yaml").read_text(encoding="utf-8")
    text = text.replace("metric: member_household_coverage", "metric: visit_coverage")
    version, _ = scheme_load(
        text=text, filename="hhq.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    period = period_open(scheme=version.scheme, label="2026-11", acting_user=system_actor())
    village = Subject.objects.get(kind="village", region__code="330304001001")
    with pytest.raises(ImportFailed), transaction.atomic():
        metrics_report(
            period=period,
            values=[(village, "visit_coverage", Decimal(99))],
            acting_user=county.users["alice"],
        )
    assert not {m.metric for m in period_close_preview(period=period).missing_metrics} & {
        "visit_coverage"
    }
    period_close(period=period, acting_user=county.users["alice"])
    assert MetricValue.objects.get(
        subject=village, metric="visit_coverage", period_label="2026-11"
    ).value == Decimal(75)


def test_nothing_is_pushed_without_visits_or_over_a_posted_period(three_of_four):
    county = three_of_four
    version = load_grid_work(county)
    grid = Subject.objects.get(kind="grid", region__code=G1)
    # September has no visit: a figure typed in before the county used visits stays.
    september = period_open(scheme=version.scheme, label="2026-09", acting_user=system_actor())
    MetricValue.objects.create(
        scheme=version.scheme,
        period_label="2026-09",
        subject=grid,
        metric="grid_visit_coverage",
        value_scaled=880000,
    )
    assert coverage.coverage_push(september, None, county.users["alice"]) == 0
    assert MetricValue.objects.get(period_label="2026-09").value == Decimal(88)
    november = period_open(scheme=version.scheme, label="2026-11", acting_user=system_actor())
    Period.objects.filter(pk=november.pk).update(status=PeriodStatus.POSTED)
    november.refresh_from_db()
    assert coverage.coverage_push(november, None, county.users["alice"]) == 0
    assert not MetricValue.objects.filter(period_label="2026-11").exists()
    Period.objects.filter(pk=november.pk).update(status=PeriodStatus.OPEN)
    november.refresh_from_db()
    with pytest.raises(Refused):
        coverage.coverage_push(november, None, county.users["bob"])
    assert coverage.coverage_push(november, None, county.users["alice"]) == 4


def test_a_household_scheme_gets_100_for_a_visited_household(three_of_four):
    from kaoping.people.services import subjects_sync

    subjects_sync(kind="household")
    values = coverage.subject_coverage(
        kind="household", prefix="330304001001", start=NOVEMBER.start, end=NOVEMBER.end
    )
    assert sorted(values.values()) == [0, 100, 100, 100]


# --- reminders ----------------------------------------------------------------------------------


def at(day: date):
    return timezone.make_aware(datetime(day.year, day.month, day.day, 8, 0))


def test_reminders_go_once_a_cycle_in_its_last_week_to_members_and_leaders(three_of_four):
    from django.contrib.auth import get_user_model

    from kaoping.accounts.models import Role, RoleAssignment

    county = three_of_four
    leader = get_user_model().objects.create_user(username="lena", password="pw")
    RoleAssignment.objects.create(
        user=leader, role=Role.GRID_MEMBER, region=county.region("330304001001")
    )
    assert coverage.overdue_remind(now=at(date(2026, 11, 20))) is None  # too early
    # dave's grid G1 is all visited: only the village's grid leader hears, of G2.
    assert coverage.overdue_remind(now=at(date(2026, 11, 25))) == "1 reminders"
    message = Message.objects.get()
    assert message.recipient == leader
    assert "东岭村第2网格" in message.body and "东岭村第1网格" not in message.body
    assert coverage.overdue_remind(now=at(date(2026, 11, 26))) is None  # once a cycle
    assert Message.objects.count() == 1


def test_a_reminder_tells_the_grid_member_how_many_are_left(county):
    a, _b = households_of(county, G1)
    visit(county, a, date(2026, 11, 3))
    assert coverage.overdue_remind(now=at(date(2026, 11, 28))) == "1 reminders"
    message = Message.objects.get(recipient=county.users["dave"])
    assert "1" in message.title and "东岭村第1网格" in message.body
    assert message.url == "/grid/overdue/"
    assert coverage.overdue_remind(now=at(date(2026, 11, 29))) is None
    assert coverage.overdue_remind(now=at(date(2026, 12, 28))) == "1 reminders"  # next cycle
    assert Message.objects.filter(recipient=county.users["dave"]).count() == 2
