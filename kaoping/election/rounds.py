"""Writes of a round of village elections: open it from its configuration file, load a new
version of the file, close it.

Opening a round makes the file of every village of the county (一村一档) and the sheet of every
incumbent cadre (一人一表) at once, in bulk: 瓯海 has 190 村社 and about 1,500 cadres.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import subtree_q
from kaoping.people.models import Cadre, PartyMember
from kaoping.regions.models import Department, Level, Region
from kaoping.schemes.loader import DataPath, SchemeError, load_yaml_model

from .models import (
    ElectionRound,
    Finding,
    PersonSheet,
    RoundStatus,
    RoundVersion,
    StageReached,
    VillageFile,
    VillageIssue,
)
from .spec import RoundSpec, spec_of

FILENAME_MAX = 200  # RoundVersion.filename


def round_open(*, county: Region, text: str, filename: str, acting_user) -> ElectionRound:
    """Open a round in `county` from its configuration file (YAML `text`): the round, its first
    version, a file for every village and a sheet for every incumbent cadre."""
    ensure(acting_user, "election.manage", county)
    if county.level != Level.COUNTY:
        raise KaopingError({"county": _("A round of village elections belongs to a county.")})
    spec = _read(county=county, text=text, filename=filename)
    if ElectionRound.objects.filter(county=county, code=spec.code).exists():
        message = _("%(county)s already has a round with the code %(code)s.")
        raise KaopingError({"file": message % {"county": county.name, "code": spec.code}})
    data = spec.model_dump(mode="json")
    with transaction.atomic():
        round_ = ElectionRound.objects.create(
            county=county, code=spec.code, name=spec.name, spec=data, opened_by=acting_user
        )
        RoundVersion.objects.create(
            round=round_,
            number=1,
            filename=filename[:FILENAME_MAX],
            source=text,
            spec=data,
            loaded_by=acting_user,
        )
        villages = list(
            Region.objects.filter(subtree_q("code", county.code), level=Level.VILLAGE)
            .order_by("code")
            .values_list("pk", flat=True)
        )
        members = dict(
            PartyMember.objects.filter(region_id__in=villages)
            .values("region_id")
            .annotate(n=Count("id"))
            .values_list("region_id", "n")
        )
        VillageFile.objects.bulk_create(
            VillageFile(round=round_, village_id=pk, party_members_total=members.get(pk, 0))
            for pk in villages
        )
        sheets = _incumbent_sheets(round_=round_, villages=villages, acting_user=acting_user)
        PersonSheet.objects.bulk_create(sheets, batch_size=500)
        audit_record(
            actor=acting_user,
            action="election.round.opened",
            obj=round_,
            region_code=county.code,
            after={
                "name": spec.name,
                "code": spec.code,
                "version": 1,
                "files": len(villages),
                "sheets": len(sheets),
            },
        )
    return round_


def _incumbent_sheets(*, round_: ElectionRound, villages: list[int], acting_user):
    """One sheet per person holding a cadre post in the villages (a person with posts in two
    villages, rare, is sheeted in the first by code); 一肩挑 intended when any post is one."""
    by_person: dict[int, PersonSheet] = {}
    posts = (
        Cadre.objects.filter(region_id__in=villages)
        .order_by("region__code", "person_id")
        .values_list("person_id", "region_id", "is_one_shoulder")
    )
    for person_id, region_id, one_shoulder in posts:
        sheet = by_person.get(person_id)
        if sheet is None:
            by_person[person_id] = PersonSheet(
                round=round_,
                person_id=person_id,
                village_id=region_id,
                is_incumbent=True,
                one_shoulder_intended=one_shoulder,
                added_by=acting_user,
            )
        elif sheet.village_id == region_id and one_shoulder:
            sheet.one_shoulder_intended = True
    return list(by_person.values())


def round_config_load(
    *, round: ElectionRound, text: str, filename: str, acting_user
) -> RoundVersion:
    """Load a new version of a round's configuration. The code stays; a stage some village has
    reached, a campaign some issue is listed under and a condition some finding answers cannot
    be removed (the rows would lose their meaning)."""
    ensure(acting_user, "election.manage", round)
    _ensure_open(round)
    spec = _read(
        county=round.county,
        text=text,
        filename=filename,
        more_checks=lambda new: _kept(round, new),
    )
    data = spec.model_dump(mode="json")
    with transaction.atomic():
        locked = ElectionRound.objects.select_for_update().get(pk=round.pk)
        _ensure_open(locked)
        number = locked.version + 1
        before = {"version": locked.version, "name": locked.name}
        version = RoundVersion.objects.create(
            round=locked,
            number=number,
            filename=filename[:FILENAME_MAX],
            source=text,
            spec=data,
            loaded_by=acting_user,
        )
        ElectionRound.objects.filter(pk=locked.pk).update(spec=data, version=number, name=spec.name)
        round.spec, round.version, round.name = data, number, spec.name
        audit_record(
            actor=acting_user,
            action="election.round.config_loaded",
            obj=round,
            region_code=round.county.code,
            before=before,
            after={"version": number, "name": spec.name},
        )
    return version


def round_close(*, round: ElectionRound, acting_user) -> ElectionRound:
    """Close a round: it is kept, read-only, with its files and sheets."""
    ensure(acting_user, "election.manage", round)
    with transaction.atomic():
        closed = ElectionRound.objects.filter(pk=round.pk, status=RoundStatus.OPEN).update(
            status=RoundStatus.CLOSED
        )
        if not closed:
            raise KaopingError(_("This round is already closed."))
        round.status = RoundStatus.CLOSED
        audit_record(
            actor=acting_user,
            action="election.round.closed",
            obj=round,
            region_code=round.county.code,
            before={"status": RoundStatus.OPEN},
            after={"status": RoundStatus.CLOSED},
        )
    return round


def _ensure_open(round_: ElectionRound) -> None:
    if round_.status != RoundStatus.OPEN:
        raise KaopingError(_("This round is closed; it can no longer be changed."))


def _read(*, county: Region, text: str, filename: str, more_checks=None) -> RoundSpec:
    """The file's configuration, checked against the county's departments; a KaopingError on
    `file` listing every problem by its line otherwise."""
    departments = set(Department.objects.filter(county=county).values_list("code", flat=True))

    def checks(spec: RoundSpec) -> Iterable[tuple[DataPath, str]]:
        for i, condition in enumerate(spec.conditions):
            if condition.department not in departments:
                yield (
                    ("conditions", i, "department"),
                    _("department %(code)s is not a department of %(county)s (known: %(known)s)")
                    % {
                        "code": condition.department,
                        "county": county.name,
                        "known": "、".join(sorted(departments)) or _("none"),
                    },
                )
        if more_checks is not None:
            yield from more_checks(spec)

    try:
        return load_yaml_model(text, RoundSpec, filename or "<string>", checks=checks)
    except SchemeError as exc:
        raise KaopingError({"file": [str(p) for p in exc.problems]}) from exc


def _kept(round_: ElectionRound, new: RoundSpec) -> Iterable[tuple[DataPath, str]]:
    """What a new version must keep: the code, and whatever rows of the round already use."""
    old = spec_of(round_)
    if new.code != old.code:
        yield (("code",), _("the code must stay %(code)s") % {"code": old.code})
    used = {
        "stages": set(
            StageReached.objects.filter(file__round=round_).values_list("stage", flat=True)
        )
        | set(VillageFile.objects.filter(round=round_).values_list("stage", flat=True)),
        "campaigns": set(
            VillageIssue.objects.filter(file__round=round_).values_list("kind", flat=True)
        ),
        "conditions": set(Finding.objects.filter(round=round_).values_list("condition", flat=True)),
    }
    messages = {
        "stages": _("the stage %(code)s %(name)s cannot be removed: villages have reached it"),
        "campaigns": _(
            "the campaign %(code)s %(name)s cannot be removed: issues are listed under it"
        ),
        "conditions": _(
            "the condition %(code)s %(name)s cannot be removed: departments have answered it"
        ),
    }
    for section, codes in used.items():
        kept = {entry.code for entry in getattr(new, section)}
        for entry in getattr(old, section):
            if entry.code in codes and entry.code not in kept:
                yield ((section,), messages[section] % {"code": entry.code, "name": entry.name})
