"""Attendance at branch meetings (主题党日, 组织生活会): a meeting shows a QR code, members sign in
on their own phones, and closing the meeting gives every attendee one entry of the scheme's
attendance item through the ledger's one write.

Signing in takes no login: a member is found among the party members of the meeting's branch by
full name and the last four digits of their phone. A wrong guess is counted per (hashed) client
address and per meeting, so nobody can try the 10,000 tails of a name; a right one is given back,
because the phones of a meeting room often share one address (the village's Wi-Fi). Signing in
twice returns the first attendance and changes nothing.

Closing moves the meeting open → closed with a conditional update, then writes the entries in the
same transaction: a sign-in waits on the meeting's row (`select_for_update`), so none can slip in
between the close reading the attendances and the meeting being closed. Each entry's idempotency
key names the meeting and the member, so no attendance is ever counted twice.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core import throttle
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.fields import ancestor_codes
from kaoping.core.http import address_hash
from kaoping.ledger.models import Entry, EntrySource, SealedSpan
from kaoping.ledger.services import (
    AUDIT_SUMMARY,
    EntryDraft,
    Recorder,
    drafts_not_recorded,
    entries_write,
)
from kaoping.people.models import PartyMember, Subject, SubjectKind
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import Scheme, SchemeNode

from .codes import random_code
from .models import Attendance, Meeting

# Codes are read from a QR code, or typed from the projector when a phone cannot scan: no 0/O,
# 1/I/L to mistake for each other. 31^10 codes: nobody finds an open meeting by guessing.

# Wrong sign-ins allowed per client address and per meeting within the window: settings
# MEETING_SIGN_IN_MAX_PER_ADDRESS, MEETING_SIGN_IN_MAX_PER_MEETING, MEETING_SIGN_IN_WINDOW_SECONDS.

TITLE_MAX = Meeting._meta.get_field("title").max_length
NAME_MAX = 50  # Person.name


class SignInThrottled(KaopingError):
    """Too many wrong sign-ins from one address, or to one meeting, within the window."""


def _address_key(address: str) -> str:
    return f"kaoping:meeting-sign-in:address:{address_hash(address)[:32]}"


def _meeting_key(meeting: Meeting) -> str:
    return f"kaoping:meeting-sign-in:meeting:{meeting.pk}"


# ─── reads ───


# A member signs in on the meeting's day or the next (a meeting held late in the evening):
# afterwards only the secretary's close remains.
SIGN_IN_DAYS = 2


def sign_in_last_day(meeting: Meeting) -> date:
    return meeting.held_on + timedelta(days=SIGN_IN_DAYS - 1)


def sign_in_ended(meeting: Meeting) -> bool:
    """Whether the days a member may sign in on their phone are over (local dates)."""
    return timezone.localdate() > sign_in_last_day(meeting)


def branch_members(meeting: Meeting) -> QuerySet[PartyMember]:
    """The party members of the meeting's branch (those expected to come)."""
    return PartyMember.objects.filter(region_id=meeting.village_id, branch=meeting.branch)


def meeting_absent(meeting: Meeting) -> list[PartyMember]:
    """The branch's members who have not signed in (pages show `member.person.masked_name`)."""
    return list(
        branch_members(meeting)
        .exclude(pk__in=Attendance.objects.filter(meeting=meeting).values("member_id"))
        .select_related("person")
        .order_by("person__name", "pk")
    )


def meeting_attendances(meeting: Meeting) -> list[Attendance]:
    """Who signed in, in the order they came, with their entries once the meeting is closed."""
    return list(
        Attendance.objects.filter(meeting=meeting)
        .select_related("member__person", "entry")
        .order_by("signed_at", "pk")
    )


def meetings_for(user) -> QuerySet[Meeting]:
    """The meetings `user` may run, newest first, with how many signed in and the branch's
    size (two subqueries, however many meetings)."""
    return (
        Meeting.objects.for_user(user, "evaluation.meeting")
        .select_related("village")
        .annotate(signed_in=Count("attendances", distinct=True))
        .order_by("-held_on", "-id")
    )


def branch_sizes(meetings: list[Meeting]) -> dict[tuple[int, str], int]:
    """(village id, branch) → how many party members the branch has, in one grouped query."""
    villages = {m.village_id for m in meetings}
    if not villages:
        return {}
    rows = (
        PartyMember.objects.filter(region_id__in=villages)
        .values("region_id", "branch")
        .annotate(n=Count("id"))
        .values_list("region_id", "branch", "n")
    )
    return {(village, branch): n for village, branch, n in rows}


@dataclass(frozen=True)
class BranchChoice:
    village: Region
    branch: str


def branch_choices(user) -> list[BranchChoice]:
    """The branches of the villages where `user` may open a meeting: the distinct branch names of
    their party members."""
    villages = {
        v.pk: v
        for v in Region.objects.for_user(user, "evaluation.meeting").filter(level=Level.VILLAGE)
    }
    if not villages:
        return []
    rows = (
        PartyMember.objects.filter(region_id__in=villages)
        .exclude(branch="")
        .values_list("region_id", "branch")
        .distinct()
        .order_by("region__code", "branch")
    )
    return [BranchChoice(villages[village], branch) for village, branch in rows]


@dataclass(frozen=True)
class ItemChoice:
    scheme: Scheme
    code: str
    name: str


def attendance_items(villages: list[Region]) -> list[ItemChoice]:
    """The `count` items earning positive points of the party-member schemes that score these
    villages' members (their latest versions), which a meeting's attendance may be recorded as:
    attending earns points, so a penalty item (无故不参加…) is no sign-in's. Sorted by scheme
    name, then by the item's place in the scheme."""
    codes = {c for v in villages for c in [*ancestor_codes(v.code), v.code]}
    schemes = list(
        Scheme.objects.filter(
            subject_kind=SubjectKind.PARTY_MEMBER, region__code__in=codes
        ).order_by("name", "code")
    )
    found: list[ItemChoice] = []
    for scheme in schemes:
        version = scheme.latest_version()
        if version is None:
            continue
        seen: set[str] = set()
        for code, name in (
            SchemeNode.objects.filter(version=version, is_item=True, rule="count", points__gt=0)
            .values_list("code", "name")
            .order_by("position")
        ):
            if code not in seen:  # the same item in each variant (a member class) once
                seen.add(code)
                found.append(ItemChoice(scheme, code, name))
    return found


# ─── writes ───


def _new_code() -> str:
    while True:
        code = random_code()
        if not Meeting.objects.filter(code=code).exists():
            return code


def meeting_open(
    *,
    village: Region,
    branch: str,
    scheme: Scheme,
    item_code: str,
    title: str,
    held_on: date,
    acting_user,
) -> Meeting:
    """Open a branch meeting for sign-in: its QR code leads members to `m/<code>/`."""
    ensure(acting_user, "evaluation.meeting", village)
    title = " ".join(title.split())
    problems: dict[str, str] = {}
    if village.level != Level.VILLAGE:
        problems["village"] = _("A meeting belongs to a village's party branch.")
    elif not PartyMember.objects.filter(region=village, branch=branch).exists():
        problems["branch"] = _("%(village)s has no party branch called “%(branch)s”.") % {
            "village": village.name,
            "branch": branch,
        }
    if not title:
        problems["title"] = _("Give the meeting a title, e.g. 三月主题党日.")
    elif len(title) > TITLE_MAX:
        problems["title"] = _("The title is at most %(max)d characters long.") % {"max": TITLE_MAX}
    item = _attendance_item(scheme, item_code, village)
    if isinstance(item, str):
        problems["item_code"] = item
    if held_on > timezone.localdate():
        problems["held_on"] = _(
            "%(day)s is in the future: open the meeting on the day it is held."
        ) % {"day": held_on}
    elif SealedSpan.objects.filter(scheme=scheme, start__lte=held_on, end__gte=held_on).exists():
        problems["held_on"] = _(
            "%(day)s lies in a finalised period; attendance cannot be counted there."
        ) % {"day": held_on}
    if problems:
        raise KaopingError(problems)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            village=village,
            branch=branch,
            scheme=scheme,
            item_code=item_code,
            title=title,
            held_on=held_on,
            code=_new_code(),
            opened_by=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="evaluation.meeting.opened",
            obj=meeting,
            region_code=village.code,
            after={
                "branch": branch,
                "scheme": scheme.code,
                "item": item_code,
                "held_on": held_on.isoformat(),
            },
        )
    return meeting


def _attendance_item(scheme: Scheme, item_code: str, village: Region) -> SchemeNode | str:
    """The scheme's `count` item a meeting's attendance is recorded as, or what is wrong."""
    if scheme.subject_kind != SubjectKind.PARTY_MEMBER:
        return _("%(scheme)s does not score party members.") % {"scheme": scheme.name}
    if not village.code.startswith(scheme.region.code):
        return _("%(scheme)s does not score the members of %(village)s.") % {
            "scheme": scheme.name,
            "village": village.name,
        }
    version = scheme.latest_version()
    node = (
        SchemeNode.objects.filter(version=version, is_item=True, code=item_code).first()
        if version is not None
        else None
    )
    if node is None:
        return _("“%(code)s” is not an item of %(scheme)s.") % {
            "code": item_code,
            "scheme": scheme.name,
        }
    if node.rule != "count":
        return _(
            "“%(name)s” is not counted per occasion, so attendance cannot be recorded as it."
        ) % {"name": node.name}
    if not node.points or node.points <= 0:
        return _("“%(name)s” does not earn points, so attendance cannot be recorded as it.") % {
            "name": node.name
        }
    return node


def _open_meeting_locked(meeting: Meeting) -> Meeting:
    """The meeting's row, locked until the transaction ends; refused once sign-in has closed."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not locked.open:
        raise KaopingError(_("Sign-in to this meeting has closed."))
    return locked


def _attend(meeting: Meeting, member: PartyMember) -> tuple[Attendance, bool]:
    existing = Attendance.objects.filter(meeting=meeting, member=member).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Attendance.objects.create(meeting=meeting, member=member), True
    except IntegrityError:  # the same member signing in from two phones at once
        return Attendance.objects.get(meeting=meeting, member=member), False


def _normal_name(name: str) -> str:
    return "".join(name.split())


def _tail_of(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


def meeting_sign_in(*, meeting: Meeting, name: str, phone_tail: str, address: str) -> Attendance:
    """A member signs in on their own phone (no login): found in the meeting's branch by full
    name and the last four digits of their phone. Twice returns the first attendance.

    Called outside any transaction (the public page opens none): a wrong guess is counted in
    the throttle's table, and a caller's transaction rolled back by the refusal would undo the
    count. The attendance itself is written in a transaction of its own."""
    name, phone_tail = _normal_name(name), phone_tail.strip()
    problems = {}
    if not name:
        problems["name"] = _("Give your full name.")
    elif len(name) > NAME_MAX:
        problems["name"] = _("A name is at most %(max)d characters long.") % {"max": NAME_MAX}
    if len(phone_tail) != 4 or not phone_tail.isdigit():
        problems["phone_tail"] = _("Give the last four digits of your mobile phone number.")
    if problems:
        raise KaopingError(problems)
    if not Meeting.objects.filter(pk=meeting.pk, open=True).exists():
        raise KaopingError(_("Sign-in to this meeting has closed."))
    if sign_in_ended(meeting):
        raise KaopingError(_("Sign-in to this meeting has ended."))
    window = settings.MEETING_SIGN_IN_WINDOW_SECONDS
    keys = (_address_key(address), _meeting_key(meeting))
    # Counted before checking, so two racing guesses cannot both slip under the limit.
    if (
        throttle.bump(keys[0], window) > settings.MEETING_SIGN_IN_MAX_PER_ADDRESS
        or throttle.bump(keys[1], window) > settings.MEETING_SIGN_IN_MAX_PER_MEETING
    ):
        raise SignInThrottled(
            _("Too many wrong sign-ins have been tried; please ask the secretary to sign you in.")
        )
    candidates = [
        member
        for member in branch_members(meeting).filter(person__name=name).select_related("person")
        if _tail_of(member.person.phone) == phone_tail
    ]
    if len(candidates) != 1:
        raise KaopingError(
            _(
                "No party member of %(branch)s goes by this name with these last four digits. "
                "Please check your name and the last four digits of your mobile phone, or ask "
                "the secretary to sign you in."
            )
            % {"branch": meeting.branch}
        )
    for key in keys:
        throttle.give_back(key)  # a member found: not a guess
    member = candidates[0]
    with transaction.atomic():
        locked = _open_meeting_locked(meeting)
        attendance, created = _attend(locked, member)
        if created:
            audit_record(
                actor=None,
                action="evaluation.meeting.signed_in",
                obj=locked,
                region_code=locked.village.code,
                # The member's id only: the audit log is read more widely than the branch's list.
                after={"member": member.pk},
            )
    attendance.member = member
    return attendance


def meeting_sign_in_for(*, meeting: Meeting, member: PartyMember, acting_user) -> Attendance:
    """The secretary signs in a member who came without a phone (补签). Twice changes nothing."""
    ensure(acting_user, "evaluation.meeting", meeting)
    if member.region_id != meeting.village_id or member.branch != meeting.branch:
        raise KaopingError(
            {
                "member": _("%(name)s is not a member of %(branch)s.")
                % {"name": member.person.name, "branch": meeting.branch}
            }
        )
    with transaction.atomic():
        locked = _open_meeting_locked(meeting)
        attendance, created = _attend(locked, member)
        if created:
            audit_record(
                actor=acting_user,
                action="evaluation.meeting.signed_in_for",
                obj=locked,
                region_code=locked.village.code,
                after={"member": member.pk},
            )
    return attendance


def attendance_key(meeting: Meeting, member_id: int) -> str:
    return f"attendance:{meeting.pk}:{member_id}"


def meeting_close(*, meeting: Meeting, acting_user) -> list[Entry]:
    """Close sign-in and give every attendee one entry of the meeting's item, dated the day it
    was held, through the one write; all or nothing. Closing a closed meeting writes nothing."""
    ensure(acting_user, "evaluation.meeting", meeting)
    now = timezone.now()
    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, open=True).update(open=False, closed_at=now):
            meeting.refresh_from_db(fields=["open", "closed_at"])
            return []
        attendances = list(
            Attendance.objects.filter(meeting=meeting)
            .select_related("member__person")
            .order_by("signed_at", "pk")
        )
        subjects = {
            s.person_id: s
            for s in Subject.objects.filter(
                kind=SubjectKind.PARTY_MEMBER,
                person_id__in=[a.member.person_id for a in attendances],
            ).select_related("region")
        }
        lacking = [a.member.person.name for a in attendances if a.member.person_id not in subjects]
        if lacking:
            raise KaopingError(
                _(
                    "%(names)s cannot be scored yet: they have no party-member record in the register."
                )
                % {"names": "、".join(lacking)}
            )
        recorder = Recorder(
            scheme=meeting.scheme, acting_user=acting_user, source=EntrySource.COLLECTED
        )
        drafts = [
            EntryDraft(
                subject=subjects[a.member.person_id],
                item_code=meeting.item_code,
                occurred_on=meeting.held_on,
                idempotency_key=attendance_key(meeting, a.member_id),
            )
            for a in attendances
        ]
        fresh = drafts_not_recorded(drafts)
        errors = [
            RowError(row, field, message)
            for row, draft in enumerate(fresh, start=1)
            for field, message in recorder.problems(draft).items()
        ]
        if errors:
            raise ImportFailed(errors)
        written = entries_write(
            entries=[recorder.build(d) for d in fresh],
            acting_user=acting_user,
            recorder=recorder,
            audit=AUDIT_SUMMARY,
            summary_of=meeting,
            context={"meeting": meeting.pk},
        )
        entry_of = dict(
            Entry.objects.filter(
                idempotency_key__in=[d.idempotency_key for d in drafts]
            ).values_list("idempotency_key", "pk")
        )
        for attendance in attendances:
            attendance.entry_id = entry_of.get(attendance_key(meeting, attendance.member_id))
        Attendance.objects.bulk_update(attendances, ["entry"])
        audit_record(
            actor=acting_user,
            action="evaluation.meeting.closed",
            obj=meeting,
            region_code=meeting.village.code,
            after={"attended": len(attendances), "entries": len(written)},
        )
    meeting.open, meeting.closed_at = False, now
    return written


__all__ = [
    "SignInThrottled",
    "attendance_items",
    "branch_choices",
    "branch_members",
    "branch_sizes",
    "meeting_absent",
    "meeting_attendances",
    "meeting_close",
    "meeting_open",
    "sign_in_ended",
    "sign_in_last_day",
    "meeting_sign_in",
    "meeting_sign_in_for",
    "meetings_for",
]
