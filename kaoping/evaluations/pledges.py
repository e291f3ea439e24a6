"""二亮: a party member's public pledges (亮承诺) for a year, and whether each was kept.

The village's staff record what a member pledged in front of the households (`pledge_add`) and,
later, that it was kept (`pledge_keep`). The posting pages show the member's card — masked name,
branch, the year's pledges and how many were kept (`member_selectors.member_card`). A member
makes a few pledges a year, not a list of chores: at most PLEDGES_PER_YEAR, so that the card
stays readable on a phone and "kept 3 of 4" means something.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.limits import text_problem
from kaoping.core.privacy import mask_name
from kaoping.people.models import PartyMember

from .models import MemberPledge

PLEDGES_PER_YEAR = 5
TEXT_MAX = 200  # MemberPledge.text and kept_note


def pledge_years(today: date) -> range:
    """The years a pledge may be recorded for: last year's (typed in late), this year's and the
    next one's (pledged in December)."""
    return range(today.year - 1, today.year + 2)


def _text_problem(text: str, *, required: bool) -> str | None:
    if not text:
        return _("This field is required.") if required else None
    if len(text) > TEXT_MAX:
        return _("At most %(n)d characters.") % {"n": TEXT_MAX}
    if problem := text_problem(text, multiline=False):
        return _("This text %(problem)s.") % {"problem": problem}
    return None


def pledge_add(*, member: PartyMember, year: int, text: str, acting_user) -> MemberPledge:
    """Record a pledge `member` made in public for `year` (`evaluation.service` on the member)."""
    ensure(acting_user, "evaluation.service", member)
    text = " ".join((text or "").split())
    problems: dict[str, str] = {}
    if problem := _text_problem(text, required=True):
        problems["text"] = problem
    years = pledge_years(timezone.localdate())
    if year not in years:
        problems["year"] = _("A pledge is recorded for %(first)d to %(last)d.") % {
            "first": years[0],
            "last": years[-1],
        }
    if problems:
        raise KaopingError(problems)
    with transaction.atomic():
        # The member's row is locked so that two clerks cannot both add the fifth pledge.
        PartyMember.objects.select_for_update().filter(pk=member.pk).first()
        made = MemberPledge.objects.filter(member=member, year=year)
        if made.filter(text=text).exists():
            raise KaopingError({"text": _("This pledge is already recorded.")})
        if made.count() >= PLEDGES_PER_YEAR:
            raise KaopingError(
                _("%(member)s already has %(n)d pledges for %(year)d; that is the most a year.")
                % {"member": member.person.name, "n": PLEDGES_PER_YEAR, "year": year}
            )
        pledge = MemberPledge.objects.create(
            member=member, year=year, text=text, created_by=acting_user
        )
        audit_record(
            actor=acting_user,
            action="evaluation.pledge.added",
            obj=pledge,
            region_code=member.region.code,
            object_repr=f"{mask_name(member.person.name)}: {text}",
            after={"year": year, "text": text},
        )
    return pledge


def pledge_keep(*, pledge: MemberPledge, kept_on: date, note: str, acting_user) -> MemberPledge:
    """Mark `pledge` kept on `kept_on`, saying how in `note` (optional). Once: a pledge already
    marked kept is refused."""
    ensure(acting_user, "evaluation.service", pledge)
    note = " ".join((note or "").split())
    today = timezone.localdate()
    problems: dict[str, str] = {}
    if kept_on > today:
        problems["kept_on"] = _("The day is after today.")
    elif kept_on.year < pledge.year:
        problems["kept_on"] = _("The pledge is for %(year)d; the day is before it.") % {
            "year": pledge.year
        }
    if problem := _text_problem(note, required=False):
        problems["note"] = problem
    if problems:
        raise KaopingError(problems)
    with transaction.atomic():
        updated = MemberPledge.objects.filter(pk=pledge.pk, kept_on__isnull=True).update(
            kept_on=kept_on, kept_note=note
        )
        if not updated:
            raise KaopingError(_("This pledge is already marked kept."))
        pledge.refresh_from_db()
        audit_record(
            actor=acting_user,
            action="evaluation.pledge.kept",
            obj=pledge,
            region_code=pledge.member.region.code,
            object_repr=f"{mask_name(pledge.member.person.name)}: {pledge.text}",
            before={"kept_on": None},
            after={"kept_on": kept_on.isoformat(), "kept_note": note},
        )
    return pledge
