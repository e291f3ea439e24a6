"""Casting ballots (kaoping.evaluations.ballots): by a login, by a code, on paper."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kaoping.accounts.models import Profile
from kaoping.accounts.scoping import Refused
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations.ballots import ballot_cast, paper_ballots_enter
from kaoping.evaluations.models import Ballot, BallotChannel, RaterCode, RoundStatus
from kaoping.evaluations.testing import evaluation_world

pytestmark = pytest.mark.django_db

GOOD = {"role": "好", "duty": "较好"}  # the branch round's form: 5 and 4


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(county):
    return evaluation_world(county)


def code_of(round_, *, person=None, household=None) -> RaterCode:
    if person is not None:
        return RaterCode.objects.get(round=round_, person=person)
    return RaterCode.objects.get(round=round_, household=household)


def messages_of(exc) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}


# ── by a login ─────────────────────────────────────────────────────────────────────────────────


def test_carol_rates_a_member_of_her_branch(county, world):
    carol = county.users["carol"]
    ballot = ballot_cast(
        round=world.branch, subject=world.subject, marks=GOOD, comment="很好", acting_user=carol
    )
    assert ballot.rater_key == f"user:{carol.pk}"
    assert ballot.channel == BallotChannel.ACCOUNT
    assert ballot.rater_user == carol
    # Each answer is kept as the mark it is worth; the ballot's mark is their mean.
    assert ballot.marks == {"role": "5", "duty": "4"}
    assert ballot.mark == Decimal("4.50")
    assert ballot.comment == "很好"
    assert ballot.relative is False
    row = AuditLog.objects.get(action="evaluation.ballot.cast")
    assert row.actor == carol
    assert row.after == {
        "round": world.branch.pk,
        "subject": world.subject.pk,
        "channel": "account",
    }
    assert "marks" not in row.after and "mark" not in row.after  # never the marks


def test_a_second_ballot_for_the_same_subject_is_refused(county, world):
    carol = county.users["carol"]
    ballot_cast(round=world.branch, subject=world.subject, marks=GOOD, acting_user=carol)
    with pytest.raises(KaopingError) as refused:
        ballot_cast(
            round=world.branch,
            subject=world.subject,
            marks={"role": "差", "duty": "差"},
            acting_user=carol,
        )
    assert "already rated 王建国" in refused.value.messages[0]
    assert Ballot.objects.get().mark == Decimal("4.50")  # the first stands, unchanged
    # Clara, of the same committee, still rates him: one ballot per rater.
    ballot_cast(
        round=world.branch, subject=world.subject, marks=GOOD, acting_user=county.users["clara"]
    )
    assert Ballot.objects.count() == 2


def test_nobody_rates_themselves(county, world):
    carol = county.users["carol"]
    Profile.objects.create(user=carol, person=world.member.person)
    with pytest.raises(KaopingError) as refused:
        ballot_cast(round=world.branch, subject=world.subject, marks=GOOD, acting_user=carol)
    assert refused.value.messages == ["Nobody rates themselves."]
    own_code = code_of(world.mutual, person=world.member.person)
    with pytest.raises(KaopingError) as refused:
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "5"},
            acting_user=None,
            code=own_code,
        )
    assert refused.value.messages == ["Nobody rates themselves."]
    assert not Ballot.objects.exists()


def test_raters_outside_the_pool_are_refused(county, world):
    # oscar is 西溪村's secretary: 东岭村's members are not his to rate.
    with pytest.raises(Refused):
        ballot_cast(
            round=world.branch, subject=world.subject, marks=GOOD, acting_user=county.users["oscar"]
        )
    # clara is no judge of the panel round; erin holds no evaluation.rate at all.
    for name, round_ in (("clara", world.panel), ("erin", world.branch)):
        with pytest.raises(Refused):
            ballot_cast(
                round=round_,
                subject=world.subject,
                marks={"show": "80"},
                acting_user=county.users[name],
            )
    # 张伟's household links 王建国 only, and a code rates in its own round only.
    zhang = code_of(world.masses, household=county.persons["张伟"].household)
    li = world.subject.__class__.objects.get(person=county.persons["李秀英"])
    with pytest.raises(Refused):
        ballot_cast(
            round=world.masses, subject=li, marks={"service": "满意"}, acting_user=None, code=zhang
        )
    with pytest.raises(Refused):
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "5"},
            acting_user=None,
            code=zhang,
        )
    # Nobody at all is refused too.
    with pytest.raises(Refused):
        ballot_cast(round=world.branch, subject=world.subject, marks=GOOD, acting_user=None)
    assert not Ballot.objects.exists()


def test_a_panel_judge_scores_wherever_they_work(county, world):
    ballot = ballot_cast(
        round=world.panel,
        subject=world.other_subject,
        marks={"show": "88.5"},
        acting_user=county.users["bob"],  # 赵强 is in 西溪镇, outside bob's township
    )
    assert ballot.mark == Decimal("88.50")
    assert ballot.marks == {"show": "88.5"}


def test_a_closed_round_or_a_day_outside_its_dates_takes_no_ballot(county, world):
    carol = county.users["carol"]
    world.branch.status = RoundStatus.CLOSED
    world.branch.save()
    with pytest.raises(KaopingError) as refused:
        ballot_cast(round=world.branch, subject=world.subject, marks=GOOD, acting_user=carol)
    assert refused.value.messages == ["支部考评 is closed; it takes no more ballots."]

    today = timezone.localdate()
    world.branch.status = RoundStatus.OPEN
    world.branch.opens_on, world.branch.closes_on = today - timedelta(10), today - timedelta(1)
    world.branch.save()
    with pytest.raises(KaopingError) as refused:
        ballot_cast(round=world.branch, subject=world.subject, marks=GOOD, acting_user=carol)
    opens, closes = world.branch.opens_on.isoformat(), world.branch.closes_on.isoformat()
    assert refused.value.messages == [f"支部考评 takes ballots from {opens} to {closes}."]
    assert not Ballot.objects.exists()


def test_bad_marks_are_named_by_question(county, world):
    carol = county.users["carol"]
    with pytest.raises(KaopingError) as refused:
        ballot_cast(
            round=world.branch, subject=world.subject, marks={"role": "极好"}, acting_user=carol
        )
    found = messages_of(refused.value)
    assert set(found) == {"role", "duty"}
    assert "好、较好、一般、差" in found["role"][0]
    assert "履行义务" in found["duty"][0]

    li = code_of(world.mutual, person=county.persons["李秀英"])
    for given, expected in (
        ("6", "between 0 and 5"),
        ("abc", "must be a number"),
        ("4.555", "two decimal"),
    ):
        with pytest.raises(KaopingError) as refused:
            ballot_cast(
                round=world.mutual,
                subject=world.subject,
                marks={"overall": given},
                acting_user=None,
                code=li,
            )
        assert expected in messages_of(refused.value)["overall"][0]
    with pytest.raises(KaopingError) as refused:
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "4"},
            comment="x" * 301,
            acting_user=None,
            code=li,
        )
    assert "at most 300 characters" in messages_of(refused.value)["comment"][0]
    with pytest.raises(KaopingError) as refused:
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "4"},
            comment="好\x07",
            acting_user=None,
            code=li,
        )
    assert "control character" in messages_of(refused.value)["comment"][0]
    assert not Ballot.objects.exists()


def test_a_close_relative_is_flagged_and_still_counted(county, world):
    li = code_of(world.mutual, person=county.persons["李秀英"])  # 王建国's registered relative
    zhang = code_of(world.mutual, person=county.persons["张伟"])
    flagged = ballot_cast(
        round=world.mutual, subject=world.subject, marks={"overall": "5"}, acting_user=None, code=li
    )
    plain = ballot_cast(
        round=world.mutual,
        subject=world.subject,
        marks={"overall": "3"},
        acting_user=None,
        code=zhang,
    )
    assert (flagged.relative, plain.relative) == (True, False)
    assert (flagged.rater_key, flagged.channel) == (f"person:{li.person_id}", BallotChannel.CODE)


def test_a_household_rates_once_through_its_code(county, world):
    zhang = code_of(world.masses, household=county.persons["张伟"].household)
    assert zhang.first_used_at is None
    ballot = ballot_cast(
        round=world.masses,
        subject=world.subject,
        marks={"service": "满意"},
        acting_user=None,
        code=zhang,
    )
    assert ballot.rater_key == f"household:{zhang.household_id}"
    assert ballot.rater_household_id == zhang.household_id and ballot.rater_user is None
    zhang.refresh_from_db()
    first = zhang.first_used_at
    assert first is not None
    with pytest.raises(KaopingError):
        ballot_cast(
            round=world.masses,
            subject=world.subject,
            marks={"service": "不满意"},
            acting_user=None,
            code=zhang,
        )
    zhang.refresh_from_db()
    assert zhang.first_used_at == first
    # A code's ballot writes no audit row: the code page is rate-limited instead.
    assert not AuditLog.objects.filter(action="evaluation.ballot.cast").exists()


# ── paper ──────────────────────────────────────────────────────────────────────────────────────


def member_code(county, world, name) -> str:
    return code_of(world.mutual, person=county.persons[name]).code


def test_paper_ballots_are_all_or_nothing_with_the_row_named(county, world):
    carol = county.users["carol"]
    li, zhang = member_code(county, world, "李秀英"), member_code(county, world, "张伟")
    rows = [
        {"code": li, "marks": {"overall": "5"}},
        {"code": zhang, "marks": {"overall": "9"}, "comment": ""},
        {"code": "", "marks": {}, "comment": "x" * 301},
    ]
    with pytest.raises(ImportFailed) as failed:
        paper_ballots_enter(
            round=world.mutual, subject=world.subject, ballots=rows, acting_user=carol
        )
    assert [(e.row, e.field) for e in failed.value.errors] == [
        (2, "overall"),
        (3, "code"),
        (3, "overall"),
        (3, "comment"),
    ]
    assert not Ballot.objects.exists()
    assert not AuditLog.objects.filter(action="evaluation.paper.entered").exists()

    # Codes are read in any case, as typed off the sheet.
    rows = [
        {"code": li.lower(), "marks": {"overall": "5"}},
        {"code": f" {zhang} ", "marks": {"overall": "4"}, "comment": "纸质"},
    ]
    created = paper_ballots_enter(
        round=world.mutual, subject=world.subject, ballots=rows, acting_user=carol
    )
    li_person, zhang_person = county.persons["李秀英"], county.persons["张伟"]
    # Each is the ballot of the code's member: one ballot per rater whatever the channel.
    assert [b.rater_key for b in created] == [
        f"person:{li_person.pk}",
        f"person:{zhang_person.pk}",
    ]
    assert [b.rater_person_id for b in created] == [li_person.pk, zhang_person.pk]
    assert {b.channel for b in created} == {BallotChannel.PAPER}
    assert {b.entered_by_id for b in created} == {carol.pk}
    assert [b.relative for b in created] == [True, False]  # 李秀英 is 王建国's relative
    row = AuditLog.objects.get(action="evaluation.paper.entered")
    assert row.after == {"subject": world.subject.pk, "count": 2}  # never the codes
    assert RaterCode.objects.get(code=li).first_used_at is not None

    # The code has voted for 王建国: neither its phone nor another sheet votes again.
    with pytest.raises(KaopingError) as again:
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "1"},
            acting_user=None,
            code=RaterCode.objects.get(code=li),
        )
    assert "already rated" in again.value.messages[0]
    with pytest.raises(ImportFailed) as twice:
        paper_ballots_enter(
            round=world.mutual,
            subject=world.subject,
            ballots=[{"code": li, "marks": {"overall": "3"}}],
            acting_user=carol,
        )
    assert "has already rated 王建国" in twice.value.errors[0].message
    # …but it still rates the others of its branch.
    other = world.subject.__class__.objects.get(person=county.persons["刘芳"])
    paper_ballots_enter(
        round=world.mutual,
        subject=other,
        ballots=[{"code": li, "marks": {"overall": "3"}}],
        acting_user=carol,
    )
    assert Ballot.objects.count() == 3


def test_a_paper_ballots_code_must_be_a_rater_of_the_subject(county, world):
    carol = county.users["carol"]
    wang = member_code(county, world, "王建国")  # his own code
    li = member_code(county, world, "李秀英")
    household = code_of(world.masses, household=county.persons["张伟"].household).code
    rows = [
        {"code": wang, "marks": {"overall": "5"}},
        {"code": household, "marks": {"overall": "5"}},  # a code of the masses' round
        {"code": "ZZZZZZZZZZ", "marks": {"overall": "5"}},
        {"code": li, "marks": {"overall": "5"}},
        {"code": li, "marks": {"overall": "4"}},  # the same code twice in a batch
    ]
    with pytest.raises(ImportFailed) as failed:
        paper_ballots_enter(
            round=world.mutual, subject=world.subject, ballots=rows, acting_user=carol
        )
    messages = {e.row: e.message for e in failed.value.errors}
    assert [e.field for e in failed.value.errors] == ["code"] * 4
    assert "does not rate 王建国" in messages[1]
    assert "another round" in messages[2]
    assert "no code ZZZZZZZZZZ" in messages[3]
    assert "already typed in on ballot 4" in messages[5]
    assert not Ballot.objects.exists()


def test_rounds_rated_by_login_take_no_paper_ballots(county, world):
    with pytest.raises(KaopingError) as refused:
        paper_ballots_enter(
            round=world.branch,
            subject=world.subject,
            ballots=[{"code": "X", "marks": {"role": "好", "duty": "好"}}],
            acting_user=county.users["carol"],
        )
    assert "takes no paper ballots" in refused.value.messages[0]
    assert not Ballot.objects.exists()


def test_paper_needs_the_right_and_an_open_round(county, world):
    rows = [{"code": member_code(county, world, "李秀英"), "marks": {"overall": "5"}}]
    for name in ("clara", "oscar"):  # no evaluation.paper; another village
        with pytest.raises(Refused):
            paper_ballots_enter(
                round=world.mutual,
                subject=world.subject,
                ballots=rows,
                acting_user=county.users[name],
            )
    # Typed in after the last day is fine while the round is open; not once it is closed.
    today = timezone.localdate()
    world.mutual.opens_on, world.mutual.closes_on = today - timedelta(10), today - timedelta(1)
    world.mutual.save()
    paper_ballots_enter(
        round=world.mutual, subject=world.subject, ballots=rows, acting_user=county.users["bob"]
    )
    world.mutual.status = RoundStatus.CLOSED
    world.mutual.save()
    rows = [{"code": member_code(county, world, "张伟"), "marks": {"overall": "5"}}]
    with pytest.raises(KaopingError):
        paper_ballots_enter(
            round=world.mutual,
            subject=world.subject,
            ballots=rows,
            acting_user=county.users["bob"],
        )
    assert Ballot.objects.count() == 1
