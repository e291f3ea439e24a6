"""Writes of the persons' sheets (一人一表): adding a prospective candidate, and the township's or
county's marks on a sheet (组织意图人选, the intended post, 一肩挑).

The findings behind a sheet and its qualification are `election.findings`' business; a new
sheet starts 待核 and `findings.qualification_refresh` settles it at once (待核 until every
condition's department has answered).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import Refused, ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.privacy import id_number_problem, mask_id_number
from kaoping.people.models import Person
from kaoping.regions.models import Region

from .findings import qualification_refresh
from .models import ElectionRound, PersonSheet, Qualification, RoundStatus

VILLAGE_CODE_LENGTH = 12  # a village's code; its grids' are 15 digits and start with it


def village_of(person: Person) -> Region | None:
    """The village (or community) a person lives in: their region, or its village ancestor."""
    region = person.region
    if region.level == "village":
        return region
    if len(region.code) <= VILLAGE_CODE_LENGTH:
        return None  # registered at a township or above: no village to stand in
    return Region.objects.filter(code=region.code[:VILLAGE_CODE_LENGTH], level="village").first()


POST_MAX = 50  # PersonSheet.intended_post


def _intention_check(*, intended: bool, intended_post: str, one_shoulder_intended: bool) -> None:
    if len(intended_post) > POST_MAX:
        raise KaopingError({"intended_post": _("At most %(n)d characters.") % {"n": POST_MAX}})
    if one_shoulder_intended and not intended:
        raise KaopingError(
            {"one_shoulder_intended": _("一肩挑 is intended for an intended candidate only.")}
        )
    if intended_post and not intended:
        raise KaopingError(
            {"intended_post": _("A post is intended for an intended candidate only.")}
        )


def _state(sheet: PersonSheet) -> dict:
    return {
        "is_candidate": sheet.is_candidate,
        "intended": sheet.intended,
        "intended_post": sheet.intended_post,
        "one_shoulder_intended": sheet.one_shoulder_intended,
    }


def candidate_add(
    *,
    round: ElectionRound,
    id_number: str,
    acting_user,
    intended: bool = False,
    intended_post: str = "",
    one_shoulder_intended: bool = False,
) -> PersonSheet:
    """Put a resident, found by ID number, on the round's sheets as a prospective candidate.

    The sheet's village is where the person lives; an incumbent who already has a sheet becomes
    a candidate too instead of getting a second one. Only persons of the acting user's area are
    looked for, so a number from elsewhere reads as unknown, not as refused."""
    if acting_user is None or not user_can(acting_user, "election.candidate"):
        raise Refused()
    id_number = (id_number or "").strip().upper()
    problem = id_number_problem(id_number)
    if problem:
        raise KaopingError({"id_number": problem})
    person = (
        Person.objects.for_user(acting_user, "election.candidate")
        .select_related("region")
        .filter(id_number=id_number)
        .first()
    )
    if person is None:
        raise KaopingError(
            {
                "id_number": _("No resident of your area has the ID number %(n)s.")
                % {"n": mask_id_number(id_number)}
            }
        )
    village = village_of(person)
    if village is None:
        raise KaopingError(
            {"id_number": _("%(name)s is not registered in a village.") % {"name": person.name}}
        )
    ensure(acting_user, "election.candidate", village)
    if village.code[:6] != round.county.code:
        raise KaopingError({"id_number": _("This person lives outside the round's county.")})
    if round.status != RoundStatus.OPEN:
        raise KaopingError({"id_number": _("The round is closed; no candidate can be added.")})
    intended_post = (intended_post or "").strip()
    _intention_check(
        intended=intended, intended_post=intended_post, one_shoulder_intended=one_shoulder_intended
    )
    with transaction.atomic():
        sheet = PersonSheet.objects.select_for_update().filter(round=round, person=person).first()
        if sheet is not None and sheet.is_candidate:
            raise KaopingError(
                {"id_number": _("%(name)s is a candidate already.") % {"name": person.name}}
            )
        before = _state(sheet) if sheet is not None else None
        if sheet is None:
            sheet = PersonSheet.objects.create(
                round=round,
                person=person,
                village=village,
                is_candidate=True,
                intended=intended,
                intended_post=intended_post,
                one_shoulder_intended=one_shoulder_intended,
                qualification=Qualification.PENDING,
                added_by=acting_user,
            )
        else:
            sheet.is_candidate = True
            sheet.intended = sheet.intended or intended
            sheet.intended_post = intended_post or sheet.intended_post
            sheet.one_shoulder_intended = sheet.one_shoulder_intended or one_shoulder_intended
            sheet.save(
                update_fields=["is_candidate", "intended", "intended_post", "one_shoulder_intended"]
            )
        audit_record(
            actor=acting_user,
            action="election.candidate.added",
            obj=sheet,
            region_code=sheet.village.code,
            before=before,
            after=_state(sheet),
        )
        # Findings entered about the person before they had a sheet count at once.
        qualification_refresh([sheet])
    return sheet


def sheet_update(
    *,
    sheet: PersonSheet,
    acting_user,
    intended: bool,
    intended_post: str,
    one_shoulder_intended: bool,
    is_candidate: bool,
) -> PersonSheet:
    """Mark the organisation's intention on a sheet: intended candidate, post, 一肩挑."""
    ensure(acting_user, "election.sheet", sheet)
    intended_post = (intended_post or "").strip()
    if not is_candidate and not sheet.is_incumbent:
        raise KaopingError(
            {
                "is_candidate": _(
                    "A sheet is of an incumbent or of a candidate; keep it a candidate."
                )
            }
        )
    _intention_check(
        intended=intended, intended_post=intended_post, one_shoulder_intended=one_shoulder_intended
    )
    with transaction.atomic():
        if sheet.round.status != RoundStatus.OPEN:
            raise KaopingError(_("The round is closed; its sheets no longer change."))
        before = _state(sheet)
        sheet.is_candidate = is_candidate
        sheet.intended = intended
        sheet.intended_post = intended_post
        sheet.one_shoulder_intended = one_shoulder_intended
        after = _state(sheet)
        if after == before:
            return sheet
        sheet.save(
            update_fields=["is_candidate", "intended", "intended_post", "one_shoulder_intended"]
        )
        audit_record(
            actor=acting_user,
            action="election.sheet.updated",
            obj=sheet,
            region_code=sheet.village.code,
            before=before,
            after=after,
        )
    return sheet
