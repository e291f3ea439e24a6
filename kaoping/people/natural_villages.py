"""Natural villages and villagers' groups (自然村 / 村民小组) inside a village: their upkeep, the
households in them, their subjects, and the ranking groups of `within: natural_village`.

A natural village is a `regions.NaturalVillage` (beside the tree, like a 片区, so grid codes keep
extending the village code). Whoever keeps the village's people keeps them: `people.change` on
the village (the secretary, the township, the county) for the groups themselves, on the
household for putting a household in one (a grid member for the households of their grid).
"""

import re

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.limits import text_problem
from kaoping.regions.models import NaturalVillage, NaturalVillageKind, Region, natural_village_group

from .models import Household, Subject, SubjectKind

CODE_RE = re.compile(r"^[0-9A-Za-z]{1,16}$")
NAME_MAX = 50

# The subjects of natural villages, one per natural village that has none, named
# “<village><natural village>” (东岭村上岙自然村) so a county-wide list tells them apart.
SUBJECTS_SQL = (
    "INSERT INTO people_subject (kind, region_id, name, track, natural_village_id) "
    "SELECT %s, n.village_id, v.name || n.name, '', n.id FROM regions_naturalvillage n "
    "JOIN regions_region v ON v.id = n.village_id "
    "WHERE NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = %s "
    "AND s.natural_village_id = n.id)"
)


def natural_village_subjects_sync() -> int:
    """Create the missing subjects of natural villages (`subjects_sync(kind="natural_village")`)."""
    kind = SubjectKind.NATURAL_VILLAGE.value
    with connection.cursor() as cursor:
        cursor.execute(SUBJECTS_SQL, [kind, kind])
        return cursor.rowcount


# ─── reads ───


def natural_village_list(*, user, village: Region) -> QuerySet[NaturalVillage]:
    """The village's natural villages the user may see, each with its household count."""
    return (
        NaturalVillage.objects.for_user(user, "people.view")
        .filter(village=village)
        .annotate(household_count=Count("households"))
        .order_by("code")
    )


def natural_villages_of_household(household: Household) -> QuerySet[NaturalVillage]:
    """The natural villages a household may be put in: those of its village."""
    return NaturalVillage.objects.filter(village__code=household.region.code[:12]).order_by("code")


def natural_village_groups(subject_ids) -> dict[int, str]:
    """subject → its ranking group under `within: natural_village` (`engine.natural_village_group`
    in Python): `<village code>/<natural village code>` for a household in one, else its
    village's code (for a subject that is no household too)."""
    rows = Subject.objects.filter(pk__in=list(subject_ids)).values_list(
        "pk",
        "region__code",
        "household__natural_village__code",
        "household__natural_village__village__code",
    )
    return {
        pk: natural_village_group(village, code) if code else region[:12]
        for pk, region, code, village in rows
    }


# ─── writes ───


def _fields_check(village: Region, *, code: str, name: str, kind: str, own=None) -> dict:
    errors: dict[str, list[str]] = {}
    if village.level != "village":
        errors["village"] = [_("Natural villages belong to a village or community.")]
    if own is None and not CODE_RE.match(code):
        errors["code"] = [_("1 to 16 letters or digits, e.g. 01.")]
    if not name or len(name) > NAME_MAX or text_problem(name, multiline=False):
        errors["name"] = [_("A name of 1 to %(n)d characters.") % {"n": NAME_MAX}]
    if kind not in NaturalVillageKind.values:
        errors["kind"] = [_("Choose 自然村 or 村民小组.")]
    others = NaturalVillage.objects.filter(village=village)
    if own is not None:
        others = others.exclude(pk=own.pk)
    if own is None and others.filter(code=code).exists():
        errors.setdefault("code", []).append(_("The village has this code already."))
    if others.filter(name=name).exists():
        errors.setdefault("name", []).append(_("The village has this name already."))
    return errors


def natural_village_save(
    *,
    village: Region,
    acting_user,
    name: str,
    kind: str,
    code: str = "",
    natural_village: NaturalVillage | None = None,
) -> NaturalVillage:
    """Add a natural village or villagers' group to `village`, or rename one (`natural_village`;
    its code stays: the ranking groups of closed periods are written with it). Its subject, if
    it has one, is renamed with it."""
    ensure(acting_user, "people.change", village)
    if natural_village is not None and natural_village.village_id != village.pk:
        raise KaopingError(_("This natural village is not of this village."))
    name, code = name.strip(), code.strip()
    errors = _fields_check(village, code=code, name=name, kind=kind, own=natural_village)
    if errors:
        raise KaopingError(errors)
    with transaction.atomic():
        before = None
        if natural_village is None:
            natural_village = NaturalVillage(village=village, code=code)
        else:
            natural_village = NaturalVillage.objects.select_for_update().get(pk=natural_village.pk)
            before = {"name": natural_village.name, "kind": natural_village.kind}
        natural_village.name, natural_village.kind = name, kind
        natural_village.save()
        Subject.objects.filter(
            kind=SubjectKind.NATURAL_VILLAGE, natural_village=natural_village
        ).update(name=village.name + name)
        audit_record(
            actor=acting_user,
            action="people.natural_village.saved",
            obj=natural_village,
            region_code=village.code,
            before=before,
            after={"code": natural_village.code, "name": name, "kind": kind},
        )
    return natural_village


def household_natural_village_set(
    *, household: Household, natural_village: NaturalVillage | None, acting_user
) -> Household:
    """Put `household` in a natural village of its village, or in none (None)."""
    ensure(acting_user, "people.change", household)
    village_code = household.region.code[:12]
    if natural_village is not None and natural_village.village.code != village_code:
        raise KaopingError(
            {"natural_village": [_("Choose a natural village of the household's own village.")]}
        )
    with transaction.atomic():
        locked = Household.objects.select_for_update().get(pk=household.pk)
        before = locked.natural_village.name if locked.natural_village_id else ""
        locked.natural_village = natural_village
        locked.save(update_fields=["natural_village"])
        audit_record(
            actor=acting_user,
            action="people.household.natural_village_set",
            obj=locked,
            region_code=locked.region.code,
            before={"natural_village": before},
            after={"natural_village": natural_village.name if natural_village else ""},
        )
    return locked
