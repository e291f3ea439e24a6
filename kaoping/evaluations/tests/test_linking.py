"""一联: recording a member's service to a linked household, the coverage figures, and the
`member_household_coverage` metric pushed before a close (a village scheme, a party-member one)."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations import linking
from kaoping.evaluations.models import LinkService
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import MetricValue
from kaoping.people.models import PartyMember, Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.models import Period, PeriodStatus
from kaoping.periods.selectors import period_close_preview
from kaoping.periods.services import metrics_report, period_close, period_open
from kaoping.periods.testing import result_node
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN = "330304001001", "330304001002"
NOV = (date(2026, 11, 1), date(2026, 11, 30))
SCHEMES = Path(settings.BASE_DIR) / "schemes"

MEMBER_SCHEME = """\
code: member-links
version: 1
name: 党员联户积分
subject_kind: party_member
cadence: month
decimals: 2
tree:
  - code: LH
    name: 联户
    children:
      - code: LH01
        name: 联系户走访覆盖率
        rule: metric
        metric: member_household_coverage
        bands:
          - {min: 100, min_inclusive: true, points: 10}
          - {min: 50, min_inclusive: true, max: 100, max_inclusive: false, points: 5}
"""


@pytest.fixture
def world(county):
    found = evaluation_world(county)
    subjects_sync(kind="village")
    return found


def household_of(county, name):
    return county.persons[name].household


def member_of(county, name):
    return PartyMember.objects.get(person=county.persons[name])


def serve(member, household, on, note="走访"):
    """A service written straight to its table (the coverage is what is under test)."""
    return LinkService.objects.create(
        member=member, household=household, served_on=on, note=note, recorded_by=system_actor()
    )


def load(county, text, filename="s.yaml"):
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


# --- the figures --------------------------------------------------------------------------------


def test_percent_is_served_over_linked_rounded_half_away_to_two_places():
    assert linking.percent(1, 2) == Decimal("50.00")
    assert linking.percent(2, 3) == Decimal("66.67")
    assert linking.percent(1, 800) == Decimal("0.13")  # 0.125 → 0.13
    assert linking.percent(0, 4) == Decimal("0.00")
    assert linking.percent(0, 0) is None  # nothing linked: no figure, not 0


def test_coverage_counts_distinct_linked_households_served_inside_the_span(county, world):
    wang, li = world.member, member_of(county, "李秀英")
    zhang, liu, erin = (household_of(county, n) for n in ("张伟", "刘芳", "王建国"))
    serve(wang, zhang, date(2026, 11, 3))
    serve(wang, zhang, date(2026, 11, 20))  # twice: one household served
    serve(wang, liu, date(2026, 10, 31))  # October: outside November
    serve(wang, erin, date(2026, 11, 5))  # not a household he links: not counted
    li.linked_households.set([zhang, liu, household_of(county, "陈明")])
    serve(li, zhang, date(2026, 11, 1))
    serve(li, liu, date(2026, 11, 30))  # both ends of the month count

    members = PartyMember.objects.all()
    figures = linking.member_coverage(members, start=NOV[0], end=NOV[1])
    assert (figures[wang.pk].linked, figures[wang.pk].served) == (2, 1)
    assert figures[wang.pk].percent == Decimal("50.00")
    assert figures[li.pk].percent == Decimal("66.67")
    assert set(figures) == {wang.pk, li.pk}  # members who link nothing have no row
    october_to_november = linking.member_coverage(members, start=date(2026, 10, 1), end=NOV[1])
    assert october_to_november[wang.pk].percent == Decimal("100.00")
    # A village adds its members' households up: (1 + 2) / (2 + 3).
    villages = linking.village_coverage(members, start=NOV[0], end=NOV[1])
    assert villages == {DONGLING: linking.Coverage(linked=5, served=3)}


def test_subject_values_by_village_and_by_member(county, world):
    wang, li = world.member, member_of(county, "李秀英")
    zhang = household_of(county, "张伟")
    li.linked_households.set([zhang])
    serve(wang, zhang, date(2026, 11, 3))
    serve(li, zhang, date(2026, 11, 4))
    villages = linking.subject_link_coverage(
        kind="village", prefix="330304", start=NOV[0], end=NOV[1]
    )
    dongling = Subject.objects.get(kind="village", region__code=DONGLING)
    assert villages == {dongling.pk: Decimal("66.67")}  # 南山社区 and 西溪村 link nothing
    members = linking.subject_link_coverage(
        kind="party_member", prefix="330304", start=NOV[0], end=NOV[1]
    )
    assert members == {world.subject.pk: Decimal("50.00"), li_subject(li): Decimal("100.00")}
    assert (
        linking.subject_link_coverage(kind="household", prefix="330304", start=NOV[0], end=NOV[1])
        == {}
    )


def li_subject(member):
    return Subject.objects.get(kind="party_member", person=member.person).pk


def test_the_figures_take_the_same_queries_for_one_member_or_many(
    county, world, django_assert_max_num_queries
):
    def measure():
        with django_assert_max_num_queries(3) as captured:
            linking.subject_link_coverage(
                kind="party_member", prefix="330304", start=NOV[0], end=NOV[1]
            )
        return len(captured.captured_queries)

    few = measure()
    households = list(county.households.values())
    for member in PartyMember.objects.all():
        member.linked_households.set(households)
        for household in households[:3]:
            serve(member, household, date(2026, 11, 9))
    assert measure() == few
    with django_assert_max_num_queries(2):
        linking.subject_link_coverage(kind="village", prefix="330304", start=NOV[0], end=NOV[1])


# --- recording a service ------------------------------------------------------------------------


def test_carol_records_a_service_to_a_linked_household(county, world):
    today = timezone.localdate()
    service = linking.link_service_record(
        member=world.member,
        household=household_of(county, "张伟"),
        served_on=today,
        note="  帮助申请临时救助  ",
        acting_user=county.users["carol"],
    )
    assert (service.note, service.recorded_by) == ("帮助申请临时救助", county.users["carol"])
    row = AuditLog.objects.get(action="evaluation.service.recorded")
    assert row.region_code == DONGLING and row.object_id == str(service.pk)
    assert "王建国" not in row.object_repr  # the log shows the member masked


def refused(county, world, **changes):
    arguments = {
        "member": world.member,
        "household": household_of(county, "张伟"),
        "served_on": timezone.localdate(),
        "note": "走访",
        "acting_user": county.users["carol"],
    }
    arguments.update(changes)
    with override("en"), pytest.raises(KaopingError) as caught:
        linking.link_service_record(**arguments)
    assert not LinkService.objects.exists()
    return caught.value.message_dict if hasattr(caught.value, "error_dict") else caught.value


def test_a_household_the_member_does_not_link_is_refused(county, world):
    erin = household_of(county, "王建国")
    problems = refused(county, world, household=erin)
    assert problems["household"] == [
        f"王*国's household · {erin.address} is not one of the households 王建国 links."
    ]


def test_dates_and_notes_are_checked(county, world):
    today = timezone.localdate()
    assert (
        "after today" in refused(county, world, served_on=today + timedelta(days=1))["served_on"][0]
    )
    too_old = date(today.year - 1, 1, 1) - timedelta(days=1)
    assert "can no longer be recorded" in refused(county, world, served_on=too_old)["served_on"][0]
    assert refused(county, world, note="   ")["note"] == ["Say what was done for the household."]
    assert refused(county, world, note="多" * 201)["note"] == ["At most 200 characters."]
    assert "U+0007" in refused(county, world, note="走访\x07")["note"][0]
    # The first day of last year is still accepted.
    linking.link_service_record(
        member=world.member,
        household=household_of(county, "张伟"),
        served_on=date(today.year - 1, 1, 1),
        note="补录",
        acting_user=county.users["carol"],
    )


def test_the_same_service_twice_is_recorded_once(county, world):
    arguments = {
        "member": world.member,
        "household": household_of(county, "刘芳"),
        "served_on": timezone.localdate(),
        "note": "走访",
    }
    linking.link_service_record(**arguments, acting_user=county.users["carol"])
    with pytest.raises(KaopingError):
        linking.link_service_record(**arguments, acting_user=county.users["carol"])
    assert LinkService.objects.count() == 1


def test_another_village_and_a_villager_are_refused(county, world):
    for persona in ("oscar", "erin", "grace"):
        with pytest.raises(Refused):
            linking.link_service_record(
                member=world.member,
                household=household_of(county, "张伟"),
                served_on=timezone.localdate(),
                note="走访",
                acting_user=county.users[persona],
            )
    assert not LinkService.objects.exists()


# --- the metric at the close --------------------------------------------------------------------


def test_a_village_scheme_takes_the_coverage_at_its_close(county, world):
    scheme = load(county, (SCHEMES / "hong-huang-qi.yaml").read_text(encoding="utf-8"))
    period = period_open(scheme=scheme, label="2026-11", acting_user=system_actor())
    dongling = Subject.objects.get(kind="village", region__code=DONGLING)
    # Nothing to type in: the preview does not ask for it and a department cannot report it.
    missing = {m.metric for m in period_close_preview(period=period).missing_metrics}
    assert "member_household_coverage" not in missing
    with pytest.raises(ImportFailed), transaction.atomic():
        metrics_report(
            period=period,
            values=[(dongling, "member_household_coverage", Decimal(99))],
            acting_user=county.users["alice"],
        )
    # A figure written before the module computed it is replaced.
    nanshan = Subject.objects.get(kind="village", region__code=NANSHAN)
    MetricValue.objects.create(
        scheme=scheme,
        period_label="2026-11",
        subject=nanshan,
        metric="member_household_coverage",
        value_scaled=990000,
    )
    serve(world.member, household_of(county, "张伟"), date(2026, 11, 12))
    serve(world.member, household_of(county, "刘芳"), date(2026, 12, 1))  # next month
    period_close(period=period, acting_user=county.users["alice"])

    values = {
        mv.subject_id: mv.value
        for mv in MetricValue.objects.filter(
            period_label="2026-11", metric="member_household_coverage"
        )
    }
    assert values == {dongling.pk: Decimal(50)}  # 南山社区 links nothing: no figure left
    node = result_node(period, dongling, "DJ01.1")
    assert period.version.to_points(node.value) == 0  # 50 % is below every band
    assert AuditLog.objects.filter(action="evaluation.link_coverage.pushed").count() == 1


def test_a_party_member_scheme_takes_each_members_coverage(county, world):
    scheme = load(county, MEMBER_SCHEME)
    subjects_sync(kind="party_member")
    serve(world.member, household_of(county, "张伟"), date(2026, 11, 12))
    serve(world.member, household_of(county, "刘芳"), date(2026, 11, 13))
    li = member_of(county, "李秀英")
    li.linked_households.set([household_of(county, "张伟"), household_of(county, "陈明")])
    serve(li, household_of(county, "陈明"), date(2026, 11, 14))
    period = period_open(scheme=scheme, label="2026-11", acting_user=system_actor())
    period_close(period=period, acting_user=county.users["alice"])

    def points(subject_pk):
        node = result_node(period, subject_pk, "LH01")
        return period.version.to_points(node.value)

    assert points(world.subject.pk) == 10  # 2 of 2: 100 %
    assert points(li_subject(li)) == 5  # 1 of 2: 50 %
    assert not MetricValue.objects.filter(subject=world.other_subject).exists()


def test_a_quarter_counts_the_services_of_the_quarter(county, world):
    scheme = load(county, (SCHEMES / "liubi-liuzheng.yaml").read_text(encoding="utf-8"))
    serve(world.member, household_of(county, "张伟"), date(2026, 7, 2))
    serve(world.member, household_of(county, "刘芳"), date(2026, 9, 30))
    serve(world.member, household_of(county, "刘芳"), date(2026, 10, 1))
    period = period_open(scheme=scheme, label="2026-Q3", acting_user=system_actor())
    period_close(period=period, acting_user=county.users["alice"])
    dongling = Subject.objects.get(kind="village", region__code=DONGLING)
    value = MetricValue.objects.get(subject=dongling, metric="member_household_coverage").value
    assert value == Decimal(100)
    node = result_node(period, dongling, "BL05.1")
    assert period.version.to_points(node.value) == 15  # [95, ∞)


def test_nothing_is_pushed_over_a_posted_period_or_for_a_scheme_without_the_metric(county, world):
    serve(world.member, household_of(county, "张伟"), date(2026, 11, 12))
    scheme = load(county, (SCHEMES / "hong-huang-qi.yaml").read_text(encoding="utf-8"))
    period = period_open(scheme=scheme, label="2026-11", acting_user=system_actor())
    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.POSTED)
    period.refresh_from_db()
    assert linking.link_coverage_push(period, None, county.users["alice"]) == 0
    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.OPEN)
    period.refresh_from_db()
    with pytest.raises(Refused):
        linking.link_coverage_push(period, None, county.users["oscar"])
    assert not MetricValue.objects.exists()
    with transaction.atomic():
        assert linking.link_coverage_push(period, None, county.users["alice"]) == 1
    # sanping scores evaluations, not coverage: nothing to push.
    sanping = period_open(scheme=world.scheme, label="2026-11", acting_user=system_actor())
    with transaction.atomic():
        assert linking.link_coverage_push(sanping, None, county.users["alice"]) == 0
