"""Meeting sign-in (evaluations.meetings): opening, members signing in by name and phone tail,
补签, the close writing one attendance entry per attendee, the absent."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone, translation

from kaoping.accounts.scoping import Refused
from kaoping.core.audit import AuditLog
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.evaluations.codes import CODE_ALPHABET, CODE_LENGTH
from kaoping.evaluations.forms_meetings import MeetingOpenForm
from kaoping.evaluations.meetings import (
    SignInThrottled,
    attendance_items,
    branch_choices,
    meeting_absent,
    meeting_close,
    meeting_open,
    meeting_sign_in,
    meeting_sign_in_for,
    sign_in_ended,
)
from kaoping.evaluations.models import Attendance, Meeting
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.services import ledger_seal
from kaoping.people.models import PartyMember, Subject
from kaoping.schemes.models import SchemeNode

pytestmark = pytest.mark.django_db

BRANCH = "东岭村党支部"
ADDRESS = "203.0.113.7"
# The small county's heads of household have phones 1380000NNNN by their order: 王建国 0001,
# 李秀英 0002, 张伟 0003, 刘芳 0004.
TAILS = {"王建国": "0001", "李秀英": "0002", "张伟": "0003", "刘芳": "0004"}


@pytest.fixture
def world(county):
    return evaluation_world(county)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def member(county, name) -> PartyMember:
    return PartyMember.objects.get(person=county.persons[name])


def sign_in(world, name, tail=None, address=ADDRESS):
    # Outside any transaction, as the public page calls it: a wrong guess's count must survive
    # the refusal, which a rolled-back transaction would undo.
    return meeting_sign_in(
        meeting=world.meeting,
        name=name,
        phone_tail=TAILS[name] if tail is None else tail,
        address=address,
    )


def close(world, county, user="carol"):
    with transaction.atomic():
        return meeting_close(meeting=world.meeting, acting_user=county.users[user])


# ─── opening ───


def open_meeting(county, world, **changes):
    values = {
        "village": county.region("330304001001"),
        "branch": BRANCH,
        "scheme": world.scheme,
        "item_code": "HD01",
        "title": " 三月 主题党日 ",
        "held_on": timezone.localdate(),
        "acting_user": county.users["carol"],
    }
    values.update(changes)
    with transaction.atomic():
        return meeting_open(**values)


def test_carol_opens_a_meeting_with_an_unguessable_code(county, world):
    meeting = open_meeting(county, world)
    assert meeting.open and meeting.title == "三月 主题党日"
    assert len(meeting.code) == CODE_LENGTH and set(meeting.code) <= set(CODE_ALPHABET)
    assert meeting.code != open_meeting(county, world).code
    row = AuditLog.objects.get(action="evaluation.meeting.opened", object_id=str(meeting.pk))
    assert row.actor == county.users["carol"] and row.region_code == "330304001001"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"branch": "西溪村党支部"}, "branch"),  # a branch of another village
        ({"item_code": "PY01"}, "item_code"),  # a quantity item, not counted per occasion
        ({"item_code": "NOPE"}, "item_code"),
        ({"title": "  "}, "title"),
        ({"held_on": timezone.localdate() + timedelta(days=1)}, "held_on"),
    ],
)
def test_opening_refuses_what_cannot_be_counted(county, world, changes, field):
    before = Meeting.objects.count()
    with pytest.raises(KaopingError) as refused:
        open_meeting(county, world, **changes)
    assert field in refused.value.message_dict
    assert Meeting.objects.count() == before


def test_opening_refuses_a_day_in_a_finalised_period(county, world):
    day = timezone.localdate()
    with transaction.atomic():
        ledger_seal(scheme=world.scheme, start=day, end=day, reason="period:test")
    with pytest.raises(KaopingError) as refused:
        open_meeting(county, world)
    assert "finalised" in refused.value.message_dict["held_on"][0]


def test_oscar_cannot_open_a_meeting_of_another_village(county, world):
    with pytest.raises(Refused):
        open_meeting(county, world, acting_user=county.users["oscar"])
    assert Meeting.objects.count() == 1


def test_the_form_offers_the_users_branches_and_the_schemes_count_items(county, world):
    choices = branch_choices(county.users["carol"])
    assert [(c.village.name, c.branch) for c in choices] == [("东岭村", BRANCH)]
    assert branch_choices(county.users["erin"]) == []
    items = attendance_items([county.region("330304001001")])
    assert [(i.scheme, i.code) for i in items] == [(world.scheme, "HD01")]
    # bob's township has two villages; 南山社区 has no party member, so no branch.
    assert {c.branch for c in branch_choices(county.users["bob"])} == {BRANCH}


def penalty_item(world, code="HD09", name="无故不参加支部党员大会（每次）", points=-2):
    """A `count` item that takes points off, added to the scheme's latest version."""
    node = SchemeNode.objects.get(version=world.scheme.latest_version(), code="HD01")
    node.pk, node.code, node.name = None, code, name
    node.points = points * 10 ** world.scheme.latest_version().decimals
    node.save()
    return node


def test_a_penalty_item_is_offered_for_no_meeting_and_refused(county, world):
    penalty_item(world)
    items = attendance_items([county.region("330304001001")])
    assert [i.code for i in items] == ["HD01"]
    with pytest.raises(KaopingError) as refused:
        open_meeting(county, world, item_code="HD09")
    assert "does not earn points" in refused.value.message_dict["item_code"][0]


def test_the_open_form_preselects_only_a_lone_choice(county, world):
    branches = branch_choices(county.users["carol"])
    items = attendance_items([county.region("330304001001")])
    form = MeetingOpenForm(branches=branches, items=items)
    assert [v for v, _l in form.fields["item"].choices] == [f"{world.scheme.pk}|HD01"]
    penalty_item(world, code="HD08", name="参加志愿服务", points=1)
    items = attendance_items([county.region("330304001001")])
    form = MeetingOpenForm(branches=branches, items=items)
    choices = form.fields["item"].choices
    assert choices[0] == ("", "Choose…") and len(choices) == 3
    assert not form["item"].value()


# ─── signing in ───


def test_a_member_signs_in_by_name_and_phone_tail(county, world):
    attendance = sign_in(world, "张伟")
    assert attendance.member == member(county, "张伟")
    assert attendance.entry is None  # counted when the meeting closes
    row = AuditLog.objects.get(action="evaluation.meeting.signed_in")
    assert row.actor is None and row.after == {"member": attendance.member.pk}


def test_spaces_in_the_name_do_not_matter(county, world):
    assert sign_in(world, " 张 伟 ", "0003").member == member(county, "张伟")


@pytest.mark.parametrize(
    ("name", "tail"),
    [
        ("张伟", "0004"),  # 刘芳's tail
        ("张三", "0003"),  # nobody of that name
        ("赵强", "0007"),  # a member of 西溪村's branch, not this one
        ("陈明", "0005"),  # in the register but not a party member
    ],
)
def test_a_wrong_name_or_tail_is_refused_with_what_to_do(county, world, name, tail):
    with pytest.raises(KaopingError) as refused:
        sign_in(world, name, tail)
    (message,) = refused.value.messages
    assert "No party member of 东岭村党支部" in message
    assert "ask the secretary to sign you in" in message
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("tail", ["3", "00a3", "000003", ""])
def test_a_tail_that_is_not_four_digits_is_a_field_error(world, tail):
    with pytest.raises(KaopingError) as refused:
        sign_in(world, "张伟", tail)
    assert "phone_tail" in refused.value.message_dict


def test_signing_in_twice_changes_nothing(county, world):
    first = sign_in(world, "张伟")
    audit = AuditLog.objects.count()
    again = sign_in(world, "张伟", address="198.51.100.9")
    assert again.pk == first.pk and again.signed_at == first.signed_at
    assert Attendance.objects.count() == 1
    assert AuditLog.objects.count() == audit


@override_settings(MEETING_SIGN_IN_MAX_PER_ADDRESS=3)
def test_wrong_guesses_from_one_address_are_limited(county, world):
    for tail in ("1111", "2222", "3333"):
        with pytest.raises(KaopingError) as refused:
            sign_in(world, "张伟", tail)
        assert not isinstance(refused.value, SignInThrottled)
    with pytest.raises(SignInThrottled):
        sign_in(world, "张伟")  # right, but this address has guessed enough
    assert not Attendance.objects.exists()
    # Another phone in the room is not held up.
    assert sign_in(world, "刘芳", address="198.51.100.9").member == member(county, "刘芳")


@override_settings(MEETING_SIGN_IN_MAX_PER_ADDRESS=3)
def test_right_sign_ins_from_one_address_are_not_counted(county, world):
    # The phones of a meeting room often share the village's Wi-Fi, one address.
    for name in TAILS:
        sign_in(world, name)
    assert Attendance.objects.count() == 4


@override_settings(MEETING_SIGN_IN_MAX_PER_MEETING=2)
def test_wrong_guesses_at_one_meeting_are_limited_across_addresses(county, world):
    for n in range(2):
        with pytest.raises(KaopingError):
            sign_in(world, "张伟", "9999", address=f"198.51.100.{n}")
    with pytest.raises(SignInThrottled):
        sign_in(world, "张伟", address="198.51.100.50")


def test_nobody_signs_in_once_the_meeting_is_closed(county, world):
    close(world, county)
    with pytest.raises(KaopingError) as refused:
        sign_in(world, "张伟")
    assert refused.value.messages == ["Sign-in to this meeting has closed."]
    with pytest.raises(KaopingError), transaction.atomic():
        meeting_sign_in_for(
            meeting=world.meeting,
            member=member(county, "刘芳"),
            acting_user=county.users["carol"],
        )
    assert not Attendance.objects.exists()


# ─── 补签 ───


def test_members_sign_in_on_the_day_and_the_next_only(county, world):
    today = timezone.localdate()
    Meeting.objects.filter(pk=world.meeting.pk).update(held_on=today - timedelta(days=1))
    world.meeting.refresh_from_db()
    assert not sign_in_ended(world.meeting)
    assert sign_in(world, "张伟").member == member(county, "张伟")
    Meeting.objects.filter(pk=world.meeting.pk).update(held_on=today - timedelta(days=2))
    world.meeting.refresh_from_db()
    assert sign_in_ended(world.meeting)
    with pytest.raises(KaopingError) as refused:
        sign_in(world, "刘芳")
    assert refused.value.messages == ["Sign-in to this meeting has ended."]
    assert Attendance.objects.count() == 1
    # The secretary still closes it, counting who signed in.
    assert len(close(world, county)) == 1


def test_the_secretary_signs_in_a_member_without_a_phone(county, world):
    with transaction.atomic():
        attendance = meeting_sign_in_for(
            meeting=world.meeting, member=member(county, "刘芳"), acting_user=county.users["carol"]
        )
    assert attendance.member == member(county, "刘芳")
    row = AuditLog.objects.get(action="evaluation.meeting.signed_in_for")
    assert row.actor == county.users["carol"]
    with transaction.atomic():
        again = meeting_sign_in_for(
            meeting=world.meeting, member=member(county, "刘芳"), acting_user=county.users["clara"]
        )
    assert again.pk == attendance.pk
    assert AuditLog.objects.filter(action="evaluation.meeting.signed_in_for").count() == 1


def test_no_sign_in_for_a_member_of_another_branch(county, world):
    with pytest.raises(KaopingError) as refused, transaction.atomic():
        meeting_sign_in_for(
            meeting=world.meeting,
            member=member(county, "赵强"),
            acting_user=county.users["carol"],
        )
    assert "member" in refused.value.message_dict
    assert not Attendance.objects.exists()


def test_oscar_cannot_sign_in_for_the_branch_of_another_village(county, world):
    with pytest.raises(Refused):
        meeting_sign_in_for(
            meeting=world.meeting, member=member(county, "刘芳"), acting_user=county.users["oscar"]
        )
    assert not Attendance.objects.exists()


# ─── closing ───


def test_closing_writes_one_approved_entry_per_attendee(county, world):
    sign_in(world, "张伟")
    sign_in(world, "李秀英")
    written = close(world, county)
    assert len(written) == 2
    entries = Entry.objects.filter(item_code="HD01").order_by("pk")
    assert {e.subject.person.name for e in entries} == {"张伟", "李秀英"}
    for entry in entries:
        assert entry.scheme == world.scheme
        assert entry.occurred_on == world.meeting.held_on
        assert entry.source == EntrySource.COLLECTED
        # sanping auto-approves what is collected: attendance counts without a review.
        assert entry.status == EntryStatus.APPROVED
        assert entry.points == 2
        assert entry.idempotency_key.startswith(f"attendance:{world.meeting.pk}:")
    attendances = Attendance.objects.select_related("entry__subject__person")
    assert {a.entry.subject.person.name for a in attendances} == {"张伟", "李秀英"}
    meeting = Meeting.objects.get(pk=world.meeting.pk)
    assert not meeting.open and meeting.closed_at is not None
    summary = AuditLog.objects.get(action="ledger.entries.recorded")
    assert summary.object_id == str(meeting.pk) and summary.after["count"] == 2
    assert AuditLog.objects.filter(action="evaluation.meeting.closed").count() == 1


def test_closing_twice_writes_nothing_new(county, world):
    sign_in(world, "张伟")
    close(world, county)
    audit = AuditLog.objects.count()
    assert close(world, county, user="clara") == []
    assert Entry.objects.count() == 1
    assert AuditLog.objects.count() == audit


def test_a_close_that_cannot_write_every_entry_writes_none(county, world):
    sign_in(world, "张伟")
    sign_in(world, "刘芳")
    day = world.meeting.held_on
    with transaction.atomic():
        ledger_seal(scheme=world.scheme, start=day, end=day, reason="period:test")
    with pytest.raises(ImportFailed) as refused:
        close(world, county)
    assert {e.field for e in refused.value.errors} == {"occurred_on"}
    assert not Entry.objects.exists()
    assert Meeting.objects.get(pk=world.meeting.pk).open
    assert not Attendance.objects.filter(entry__isnull=False).exists()


def test_a_member_without_a_subject_stops_the_close(county, world):
    sign_in(world, "张伟")
    Subject.objects.filter(person=county.persons["张伟"]).update(person=None)
    with pytest.raises(KaopingError) as refused:
        close(world, county)
    assert "张伟" in refused.value.messages[0]
    assert Meeting.objects.get(pk=world.meeting.pk).open


def test_oscar_cannot_close_the_meeting_of_another_village(county, world):
    sign_in(world, "张伟")
    with pytest.raises(Refused):
        meeting_close(meeting=world.meeting, acting_user=county.users["oscar"])
    assert Meeting.objects.get(pk=world.meeting.pk).open
    assert not Entry.objects.exists()


def test_the_absent_are_the_branch_members_who_did_not_sign_in(county, world):
    assert {m.person.name for m in meeting_absent(world.meeting)} == set(TAILS)
    sign_in(world, "张伟")
    with transaction.atomic():
        meeting_sign_in_for(
            meeting=world.meeting, member=member(county, "刘芳"), acting_user=county.users["carol"]
        )
    close(world, county)
    absent = meeting_absent(world.meeting)
    assert [m.person.name for m in absent] == sorted(["王建国", "李秀英"])
    assert {m.person.masked_name for m in absent} == {"王*国", "李*英"}
