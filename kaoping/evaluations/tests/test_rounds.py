"""Opening and closing evaluation rounds (kaoping.evaluations.rounds): the defaults, one round per
campaign and period, codes for the raters without an account, and the close that writes each
valid result into the score through the ledger's one write — all or nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import override

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations import aggregate
from kaoping.evaluations.codes import CODE_ALPHABET, CODE_LENGTH
from kaoping.evaluations.models import (
    Ballot,
    BallotChannel,
    RaterCode,
    Round,
    RoundResult,
    RoundStatus,
)
from kaoping.evaluations.round_selectors import round_rows, round_signals
from kaoping.evaluations.rounds import (
    round_close,
    round_open,
    rounds_close_due,
    rounds_close_due_job,
)
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.services import ledger_seal
from kaoping.people.models import Subject
from kaoping.periods.services import period_close, period_open
from kaoping.periods.testing import result_node
from kaoping.schemes.calendar import label_for, labels_within, period_dates

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(county):
    return evaluation_world(county)


def member(county, name):
    return Subject.objects.get(kind="party_member", person=county.persons[name])


def a_village(county):
    region = county.region("330304001001")
    return Subject.objects.create(kind="village", region=region, name=region.name)


def cast(round_, subject, key, mark, *, marks=None, relative=False, channel=BallotChannel.CODE):
    return Ballot.objects.create(
        round=round_,
        subject=subject,
        rater_key=key,
        channel=channel,
        marks=marks or {},
        mark=D(mark),
        relative=relative,
    )


def node_points(period, subject, code) -> Decimal:
    row = result_node(period, subject, code)
    return period.version.to_points(row.value)


def close_period(scheme, label):
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


# ─── open ───


def test_a_round_opens_for_the_current_period_with_every_subject_by_default(county, world):
    world.branch.delete()
    alice = county.users["alice"]
    round_ = round_open(plan=world.plan, campaign="branch", acting_user=alice)
    today = timezone.localdate()
    assert round_.period_label == label_for("month", today)
    assert (round_.opens_on, round_.closes_on) == (today, today + timedelta(days=7))
    assert round_.status == RoundStatus.OPEN and round_.cadence == "month"
    assert round_.name == "支部考评" and round_.opened_by == alice
    # Every party member of the plan's county: 东岭村's four and 西溪村's 赵强.
    assert set(round_.subjects.values_list("person__name", flat=True)) == {
        "王建国",
        "李秀英",
        "张伟",
        "刘芳",
        "赵强",
    }
    assert not round_.codes.exists()  # the branch committee rates with its logins
    audit = AuditLog.objects.get(action="evaluation.round.opened")
    assert audit.object_id == str(round_.pk) and audit.after["subjects"] == 5


def test_a_second_round_of_a_campaign_and_period_is_refused_by_name(county, world):
    with override("en"), pytest.raises(KaopingError) as refused:
        round_open(plan=world.plan, campaign="branch", acting_user=county.users["alice"])
    message = refused.value.message_dict["period_label"][0]
    assert world.branch.period_label in message and "支部考评" in message
    assert "one round per period" in message
    assert Round.objects.filter(campaign="branch").count() == 1


def test_another_period_and_the_dates_given_are_kept(county, world):
    last_month = label_for("month", timezone.localdate().replace(day=1) - timedelta(days=1))
    start = timezone.localdate() - timedelta(days=3)
    round_ = round_open(
        plan=world.plan,
        campaign="branch",
        period_label=last_month,
        opens_on=start,
        closes_on=start + timedelta(days=2),
        acting_user=county.users["alice"],
    )
    assert (round_.period_label, round_.opens_on, round_.closes_on) == (
        last_month,
        start,
        start + timedelta(days=2),
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"campaign": "nope"}, "campaign", "is not a campaign"),
        ({"campaign": "branch", "period_label": "2026-Q1"}, "period_label", "2026-03"),
        ({"campaign": "panel", "period_label": "2001-01"}, "judges", "at least one judge"),
        (
            {
                "campaign": "branch",
                "period_label": "2001-01",
                "closes_on": timezone.localdate() - timedelta(days=30),
            },
            "closes_on",
            "before it opens",
        ),
    ],
)
def test_mistakes_are_named_on_their_field(county, world, kwargs, field, words):
    with override("en"), pytest.raises(KaopingError) as refused:
        round_open(plan=world.plan, acting_user=county.users["alice"], **kwargs)
    assert words in refused.value.message_dict[field][0]
    assert Round.objects.count() == 4


def test_the_masses_round_gives_each_linked_household_one_unguessable_code(county, world):
    world.masses.delete()
    round_ = round_open(plan=world.plan, campaign="masses", acting_user=county.users["alice"])
    codes = list(RaterCode.objects.filter(round=round_))
    # 王建国 links the households of 张伟 and 刘芳 (the only member who links any).
    assert {c.household_id for c in codes} == {
        county.persons["张伟"].household_id,
        county.persons["刘芳"].household_id,
    }
    assert all(c.person_id is None for c in codes)
    assert all(c.village == county.region("330304001001") for c in codes)
    assert all(len(c.code) == CODE_LENGTH and set(c.code) <= set(CODE_ALPHABET) for c in codes)
    assert len({c.code for c in codes}) == len(codes)


def test_the_mutual_round_gives_each_member_a_personal_code(county, world):
    world.mutual.delete()
    round_ = round_open(plan=world.plan, campaign="mutual", acting_user=county.users["alice"])
    persons = set(RaterCode.objects.filter(round=round_).values_list("person__name", flat=True))
    assert persons == {"王建国", "李秀英", "张伟", "刘芳", "赵强"}


def test_a_panel_round_names_its_judges_contestants_and_chair(county, world):
    alice, bob, carol = (county.users[n] for n in ("alice", "bob", "carol"))
    contestants = [member(county, "王建国"), member(county, "张伟")]
    round_ = round_open(
        plan=world.plan,
        campaign="panel",
        period_label="2001-01",
        judges=[bob, carol],
        subjects=contestants,
        acting_user=alice,
    )
    assert set(round_.judges.all()) == {bob, carol}
    assert round_.chair == alice  # the opener, unless another is named
    assert set(round_.subjects.all()) == set(contestants)
    erin = county.users["erin"]  # a villager is no judge
    with override("en"), pytest.raises(KaopingError, match="cannot judge"):
        round_open(
            plan=world.plan,
            campaign="panel",
            period_label="2001-02",
            judges=[erin],
            acting_user=alice,
        )


def test_opening_takes_managing_the_plan(county, world):
    world.branch.delete()
    for name in ("bob", "carol"):  # the plan is the county's
        with pytest.raises(Refused):
            round_open(plan=world.plan, campaign="branch", acting_user=county.users[name])
    assert not Round.objects.filter(campaign="branch").exists()


def test_thousands_of_households_get_their_codes_in_a_few_queries(
    county, world, django_assert_max_num_queries
):
    from kaoping.people.models import Household

    village = county.region("330304001001")
    grid = county.region("330304001001001")
    Household.objects.bulk_create(
        Household(region=grid, number=f"BULK{n:05d}") for n in range(3000)
    )
    plan = world.plan
    spec = dict(plan.spec)
    spec["campaigns"] = [
        *spec["campaigns"],
        {**spec["campaigns"][1], "code": "village", "name": "全村测评", "raters": "masses_village"},
    ]
    plan.spec = spec
    plan.save(update_fields=["spec"])
    with django_assert_max_num_queries(40):
        round_ = round_open(plan=plan, campaign="village", acting_user=county.users["alice"])
    codes = RaterCode.objects.filter(round=round_)
    assert codes.filter(village=village).count() >= 3000
    assert codes.values("code").distinct().count() == codes.count()


# ─── close ───


def test_closing_writes_each_valid_result_as_one_approved_entry(county, world):
    wang, li = member(county, "王建国"), member(county, "李秀英")
    carol, clara = county.users["carol"], county.users["clara"]
    branch = world.branch
    cast(branch, wang, f"user:{carol.pk}", "5", channel=BallotChannel.ACCOUNT)
    cast(branch, wang, f"user:{clara.pk}", "4", channel=BallotChannel.ACCOUNT)
    cast(branch, li, f"user:{carol.pk}", "3", channel=BallotChannel.ACCOUNT)
    with override("en"):
        results = round_close(round=branch, acting_user=county.users["alice"])
    by_subject = {r.subject_id: r for r in results}
    assert len(results) == 5  # every subject of the round has its row
    assert (by_subject[wang.pk].value, by_subject[wang.pk].ballots) == (D("4.50"), 2)
    assert by_subject[wang.pk].eligible == 2  # carol and clara
    entry = by_subject[wang.pk].entry
    assert entry.item_code == "PY01" and entry.quantity == D("4.5")
    assert entry.points == D("90")  # 4.5 × 20
    assert entry.status == EntryStatus.APPROVED and entry.source == EntrySource.EVALUATION
    assert entry.cadence == ""  # the scheme's own month
    assert entry.idempotency_key == f"evaluation:{branch.pk}:{wang.pk}"
    assert entry.note == "支部考评 4.50 (2 ballots)"
    assert entry.occurred_on == min(
        period_dates("month", branch.period_label)[1], timezone.localdate()
    )
    # Nobody rated 赵强: no value, no entry, flagged.
    zhao = member(county, "赵强")
    assert by_subject[zhao.pk].value is None and by_subject[zhao.pk].entry is None
    assert not by_subject[zhao.pk].valid and aggregate.SHORT in by_subject[zhao.pk].flags
    assert Entry.objects.filter(source=EntrySource.EVALUATION).count() == 2
    branch.refresh_from_db()
    assert branch.status == RoundStatus.CLOSED and branch.closed_by == county.users["alice"]
    assert AuditLog.objects.filter(action="evaluation.round.closed", object_id=str(branch.pk))
    summary = AuditLog.objects.get(action="ledger.entries.recorded")
    assert summary.after["count"] == 2 and summary.after["source"] == "evaluation"

    # The month's close counts it: PY01 = 4.5 × 20.
    month = close_period(world.scheme, branch.period_label)
    assert node_points(month, wang, "PY01") == D("90")
    assert node_points(month, li, "PY01") == D("60")


def test_the_masses_round_is_written_into_the_quarter_and_counted_there(county, world):
    wang = member(county, "王建国")
    masses = world.masses
    for code, mark in zip(masses.codes.order_by("pk"), ("5", "3"), strict=True):
        cast(masses, wang, f"household:{code.household_id}", mark)
    (result,) = [
        r for r in round_close(round=masses, acting_user=county.users["alice"]) if r.entry_id
    ]
    entry = result.entry
    assert (entry.item_code, entry.cadence, entry.quantity, entry.points) == (
        "PY02",
        "quarter",
        D("4"),
        D("80"),
    )
    start, end = period_dates("quarter", masses.period_label)
    assert start <= entry.occurred_on <= end
    for label in labels_within("month", start, end):
        close_period(world.scheme, label)
    quarter = close_period(world.scheme, masses.period_label)
    assert node_points(quarter, wang, "PY02") == D("80")


def test_the_trimmed_mean_drops_the_highest_and_the_lowest(county, world):
    wang = member(county, "王建国")
    mutual = world.mutual
    for name, mark in (("李秀英", "5"), ("张伟", "4"), ("刘芳", "1")):
        cast(mutual, wang, f"person:{county.persons[name].pk}", mark)
    li = member(county, "李秀英")
    cast(mutual, li, f"person:{county.persons['张伟'].pk}", "5")
    results = {r.subject_id: r for r in round_close(round=mutual, acting_user=system_actor())}
    assert results[wang.pk].value == D("4.00")  # (5 + 4 + 1) / 3 would be 3.33
    assert results[wang.pk].entry.cadence == "half_year"
    assert results[wang.pk].entry.points == D("80")
    # One ballot where the campaign asks for three: flagged, not silently valid, no entry.
    assert results[li.pk].value is None and results[li.pk].entry is None
    assert results[li.pk].flags == [aggregate.SHORT]
    assert Entry.objects.filter(source=EntrySource.EVALUATION).count() == 1


def test_a_zero_result_has_its_row_but_no_entry(county, world):
    wang = member(county, "王建国")
    panel = world.panel
    for judge, mark in (("bob", "0"), ("carol", "0"), ("alice", "0")):
        cast(panel, wang, f"user:{county.users[judge].pk}", mark, channel=BallotChannel.ACCOUNT)
    results = {r.subject_id: r for r in round_close(round=panel, acting_user=system_actor())}
    assert results[wang.pk].value == D("0.00") and results[wang.pk].valid
    assert results[wang.pk].entry is None
    assert aggregate.ALL_SAME in results[wang.pk].flags
    assert not Entry.objects.filter(source=EntrySource.EVALUATION).exists()


def test_a_subject_the_ledger_refuses_leaves_the_whole_round_unwritten(county, world):
    wang = member(county, "王建国")
    village = a_village(county)
    branch = world.branch
    branch.subjects.add(village)  # a village in a party-member scheme: the ledger refuses it
    carol = county.users["carol"]
    cast(branch, wang, f"user:{carol.pk}", "5")
    cast(branch, village, f"user:{carol.pk}", "4")
    with override("en"), pytest.raises(KaopingError) as refused:
        round_close(round=branch, acting_user=county.users["alice"])
    text = " ".join(refused.value.messages)
    assert village.name in text and "another kind of subject" in text
    assert "Nothing was written" in text
    assert not Entry.objects.exists()
    assert not RoundResult.objects.exists()
    branch.refresh_from_db()
    assert branch.status == RoundStatus.OPEN


def test_a_finalised_period_is_named_and_nothing_is_written(county, world):
    wang = member(county, "王建国")
    branch = world.branch
    cast(branch, wang, f"user:{county.users['carol'].pk}", "5")
    start, end = period_dates("month", branch.period_label)
    ledger_seal(scheme=world.scheme, start=start, end=end, reason="test")
    with override("en"), pytest.raises(KaopingError) as refused:
        round_close(round=branch, acting_user=county.users["alice"])
    assert "finalised period" in " ".join(refused.value.messages)
    assert not Entry.objects.exists() and not RoundResult.objects.exists()


def test_closing_twice_is_refused_with_a_message(county, world):
    round_close(round=world.branch, acting_user=county.users["alice"])
    with override("en"), pytest.raises(KaopingError, match="closed already"):
        round_close(round=world.branch, acting_user=county.users["alice"])
    assert RoundResult.objects.filter(round=world.branch).count() == 5


def test_the_chair_closes_their_panel_and_a_judge_may_not(county, world):
    with pytest.raises(Refused):
        round_close(round=world.panel, acting_user=county.users["carol"])  # a judge
    with pytest.raises(Refused):
        round_close(round=world.branch, acting_user=county.users["bob"])  # chairs the panel only
    round_close(round=world.panel, acting_user=county.users["bob"])
    world.panel.refresh_from_db()
    assert world.panel.status == RoundStatus.CLOSED


def test_the_job_closes_the_rounds_past_their_last_day_and_leaves_a_refused_one(county, world):
    today = timezone.localdate()
    Round.objects.filter(pk__in=[world.branch.pk, world.mutual.pk]).update(
        closes_on=today - timedelta(days=1)
    )
    wang = member(county, "王建国")
    for name, mark in (("李秀英", "5"), ("张伟", "4"), ("刘芳", "4")):
        cast(world.mutual, wang, f"person:{county.persons[name].pk}", mark)
    # The branch round holds a village, which a party-member scheme refuses.
    village = a_village(county)
    world.branch.subjects.add(village)
    cast(world.branch, village, f"user:{county.users['carol'].pk}", "5")
    with pytest.raises(Refused):
        rounds_close_due(acting_user=county.users["bob"])
    assert rounds_close_due(acting_user=system_actor()) == 1
    statuses = dict(Round.objects.values_list("campaign", "status"))
    assert statuses == {
        "branch": RoundStatus.OPEN,  # refused: waits for a person
        "mutual": RoundStatus.CLOSED,
        "masses": RoundStatus.OPEN,  # not due yet
        "panel": RoundStatus.OPEN,
    }
    assert rounds_close_due_job(now=timezone.now()).startswith("0 evaluation round(s) closed")


# ─── what the round's page reads ───


def test_rows_mask_names_for_nobody_and_show_a_reader_their_own_area(county, world):
    rows = round_rows(world.branch)
    assert {r.name for r in rows} == {"王*国", "李*英", "张*", "刘*", "赵*"}
    carol = round_rows(world.branch, user=county.users["carol"])
    assert {r.name for r in carol} == {"王建国", "李秀英", "张伟", "刘芳"}  # not 西溪村's 赵强
    assert {r.village for r in carol} == {"东岭村"}


def test_signals_count_straight_liners_and_name_them_to_the_audit_role_only(county, world):
    mutual = world.mutual
    subjects = {n: member(county, n) for n in ("王建国", "李秀英", "张伟", "刘芳")}
    liu = county.persons["刘芳"].pk
    for name in ("王建国", "李秀英", "张伟"):  # 刘芳 gives everyone 5
        cast(mutual, subjects[name], f"person:{liu}", "5")
    cast(mutual, subjects["王建国"], f"person:{county.persons['张伟'].pk}", "3")
    cast(mutual, subjects["王建国"], f"person:{county.persons['李秀英'].pk}", "4", relative=True)
    round_close(round=mutual, acting_user=system_actor())
    signals = round_signals(mutual, user=county.users["carol"])
    assert signals.straight_liners == 1 and signals.straight == []
    assert signals.relatives == 1
    assert not signals.pool_all_same
    assert set(signals.short) == {"李秀英", "张伟", "刘芳"}  # 赵强 is not carol's to see
    audit = round_signals(mutual, user=county.users["alice"])
    # Named to the audit role, masked even so: who gave what in full is the ballots page's.
    assert [(s.rater, s.mark, s.ballots) for s in audit.straight] == [("刘*", D("5"), 3)]
    village = {v.name: v for v in audit.villages}
    assert village["东岭村"].ballots == 5


def test_a_pool_whose_marks_are_all_identical_is_a_signal(county, world):
    wang, li = member(county, "王建国"), member(county, "李秀英")
    for subject in (wang, li):
        for user in ("carol", "clara"):
            cast(world.branch, subject, f"user:{county.users[user].pk}", "4")
    round_close(round=world.branch, acting_user=system_actor())
    signals = round_signals(world.branch, user=county.users["alice"])
    assert signals.pool_all_same and signals.pool_mark == D("4")
