"""An evaluation that feeds a banded item (rule: metric): the round's close stores each valid
result as the metric's value of its period, the period's close scores it by the bands, and the
metric is the plan's alone — checked when the plan is read, refused to a department's report."""

from decimal import Decimal

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations import plans
from kaoping.evaluations.models import Ballot, BallotChannel, RoundResult, RoundStatus
from kaoping.evaluations.rounds import round_close
from kaoping.evaluations.testing import PLAN_YAML, banded_masses, evaluation_world
from kaoping.ledger.models import Entry, MetricValue
from kaoping.ledger.services import ledger_seal
from kaoping.people.models import Subject
from kaoping.periods.models import Result
from kaoping.periods.selectors import explain
from kaoping.periods.services import metrics_report, period_close, period_open
from kaoping.periods.testing import result_node
from kaoping.schemes.calendar import labels_within, period_dates

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(county):
    world = evaluation_world(county)
    banded_masses(county)
    return world


def member(county, name):
    return Subject.objects.get(kind="party_member", person=county.persons[name])


def cast(round_, subject, n, mark):
    return Ballot.objects.create(
        round=round_,
        subject=subject,
        rater_key=f"household:test-{subject.pk}-{n}",
        channel=BallotChannel.CODE,
        marks={},
        mark=D(mark),
    )


def close_quarter(scheme, label):
    start, end = period_dates("quarter", label)
    for month in labels_within("month", start, end):
        period_close(
            period=period_open(scheme=scheme, label=month, acting_user=system_actor()),
            acting_user=system_actor(),
        )
    quarter = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=quarter, acting_user=system_actor())
    return quarter


def points(period, subject, code="PY02") -> Decimal:
    return period.version.to_points(result_node(period, subject, code).value)


def test_the_result_becomes_the_quarters_metric_and_the_bands_score_it(county, world):
    wang, li, zhang = (member(county, n) for n in ("王建国", "李秀英", "张伟"))
    masses = world.masses
    masses.subjects.add(li, zhang)
    for n, mark in enumerate(("5", "3")):  # 4.00: the 90-point band (4 ≤ x < 4.5)
        cast(masses, wang, n, mark)
    cast(masses, li, 0, "4.5")  # 4.50: the top band's lower end, included
    cast(masses, zhang, 0, "0")  # a valid 0 is a result too: the lowest band, 60

    results = {
        r.subject_id: r for r in round_close(round=masses, acting_user=county.users["alice"])
    }

    masses.refresh_from_db()
    assert masses.status == RoundStatus.CLOSED
    assert not Entry.objects.filter(source="evaluation").exists()  # a metric, not entries
    stored = {
        m.subject_id: m.value
        for m in MetricValue.objects.filter(
            scheme=world.scheme, period_label=masses.period_label, metric="masses_rating"
        )
    }
    assert stored == {wang.pk: D("4"), li.pk: D("4.5"), zhang.pk: D("0")}
    assert {pk: r.metric for pk, r in results.items() if r.metric} == {
        pk: "masses_rating" for pk in stored
    }
    assert all(r.entry_id is None for r in results.values())
    closed = AuditLog.objects.get(action="evaluation.round.closed", object_id=str(masses.pk))
    assert (closed.after["entries"], closed.after["metric_values"]) == (0, 3)

    quarter = close_quarter(world.scheme, masses.period_label)
    assert (points(quarter, wang), points(quarter, li), points(quarter, zhang)) == (
        D("90"),
        D("100"),
        D("60"),
    )
    # The explanation names the round behind the banded item.
    node = next(
        n
        for n in explain(quarter, Result.objects.get(period=quarter, subject=wang))["nodes"]
        if n.node.code == "PY02"
    )
    assert (node.metric_value, node.evaluation.round_id, node.evaluation.ballots) == (
        D("4"),
        masses.pk,
        2,
    )


def test_a_subject_short_of_ballots_gets_no_value_and_no_points(county, world):
    wang = member(county, "王建国")
    masses = world.masses
    masses_plan = world.plan.spec
    for campaign in masses_plan["campaigns"]:
        if campaign["code"] == "masses":
            campaign["min_ballots"] = 3
    world.plan.save(update_fields=["spec"])
    cast(masses, wang, 0, "5")
    (result,) = [
        r for r in round_close(round=masses, acting_user=county.users["alice"]) if r.subject == wang
    ]
    assert (result.valid, result.metric) == (False, "")
    assert not MetricValue.objects.filter(metric="masses_rating").exists()
    quarter = close_quarter(world.scheme, masses.period_label)
    # No value in no band: the item keeps its empty value, 0.
    assert result_node(quarter, wang, "PY02") is None
    assert Result.objects.get(period=quarter, subject=wang).total == 0


def test_a_finalised_quarter_refuses_the_close_and_nothing_is_written(county, world):
    masses = world.masses
    cast(masses, member(county, "王建国"), 0, "5")
    start, end = period_dates("quarter", masses.period_label)
    ledger_seal(scheme=world.scheme, start=start, end=end, reason=f"period:{masses.period_label}")
    with pytest.raises(KaopingError) as refused:
        round_close(round=masses, acting_user=county.users["alice"])
    assert "finalised" in str(refused.value) or "归档" in str(refused.value)
    masses.refresh_from_db()
    assert masses.status == RoundStatus.OPEN
    assert not RoundResult.objects.filter(round=masses).exists()
    assert not MetricValue.objects.filter(metric="masses_rating").exists()


def test_a_department_cannot_report_the_metric_an_evaluation_feeds(county, world):
    quarter = period_open(
        scheme=world.scheme, label=world.masses.period_label, acting_user=system_actor()
    )
    with pytest.raises(ImportFailed) as refused:
        metrics_report(
            period=quarter,
            values=[(member(county, "王建国"), "masses_rating", D("5"))],
            acting_user=county.users["alice"],
        )
    assert refused.value.errors[0].field == "metric"
    assert not MetricValue.objects.exists()


def test_the_plan_may_feed_a_banded_item(county, world):
    spec, scheme = plans.plan_read(
        region=county.region("330304"), text=PLAN_YAML, filename="p.yaml"
    )
    assert scheme == world.scheme and spec.campaign("masses").item == "PY02"
    assert plans.fed_metrics(world.scheme.pk) == {"masses_rating"}


def test_two_campaigns_may_not_feed_one_banded_item_at_one_cadence(county, world):
    twice = (
        PLAN_YAML.replace("code: test-sanping", "code: another-plan")
        .replace("    item: PY03\n", "    item: PY02\n")
        .replace("    cadence: half_year\n", "    cadence: quarter\n")
    )
    with pytest.raises(KaopingError) as refused:
        plans.plan_read(region=county.region("330304"), text=twice, filename="p.yaml")
    found = refused.value.message_dict["file"]
    assert len(found) == 1
    assert "masses_rating" in found[0] and "masses" in found[0]


def test_a_banded_item_on_a_metric_the_system_writes_is_refused(county, world):
    text = (
        (plans.settings.BASE_DIR / "schemes" / "sanping.yaml")
        .read_text(encoding="utf-8")
        .replace("version: 1", "version: 3")
    )
    from kaoping.evaluations.testing import BANDED_MASSES_ITEM
    from kaoping.schemes.services import scheme_load

    start, end = text.index("      - code: PY02"), text.index("      - code: PY03")
    scheme_load(
        text=text[:start]
        + BANDED_MASSES_ITEM.replace("masses_rating", "member_household_coverage")
        + text[end:],
        filename="sanping.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    with pytest.raises(KaopingError) as refused:
        plans.plan_read(region=county.region("330304"), text=PLAN_YAML, filename="p.yaml")
    (problem,) = refused.value.message_dict["file"]
    assert "PY02" in problem and "member_household_coverage" in problem
