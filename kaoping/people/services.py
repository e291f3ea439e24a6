from django.db import transaction

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record, snapshot
from kaoping.core.errors import KaopingError
from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_number_problem

from .models import Person

PERSON_EDITABLE = ("name", "phone", "relation", "id_number")


def person_update(*, person: Person, acting_user, **changes) -> Person:
    """Change a person's editable fields; the audit row keeps ID numbers masked."""
    ensure(acting_user, "people.change", person)
    unknown = set(changes) - set(PERSON_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if changes.get("id_number"):
        problem = id_number_problem(changes["id_number"])
        if problem:
            raise KaopingError({"id_number": problem})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(locked, list(changes))
        for field, value in changes.items():
            setattr(locked, field, value or (None if field == "id_number" else ""))
        if "name" in changes:
            locked.initials = initials(locked.name)
        locked.full_clean(exclude=["household", "region"])
        locked.save()
        after = snapshot(locked, list(changes))
        for values in (before, after):
            if values.get("id_number"):
                values["id_number"] = locked.masked_id_number if values is after else "(masked)"
        audit_record(
            actor=acting_user,
            action="people.person.updated",
            obj=locked,
            region_code=locked.region.code,
            before=before,
            after=after,
            object_repr=locked.masked_name,
        )
    return locked


# One INSERT … SELECT per kind: every village, team, cadre, party member and household that has
# no subject yet gets one. Set-based, so a county of a million households syncs in one pass.
_SUBJECT_SOURCES = {
    "village": (
        "SELECT 'village', r.id, r.name, '', NULL, NULL FROM regions_region r WHERE r.level = 'village' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'village' AND s.region_id = r.id)"
    ),
    "team": (
        "SELECT 'team', r.id, r.name || '“两委”班子', '', NULL, NULL FROM regions_region r WHERE r.level = 'village' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'team' AND s.region_id = r.id)"
    ),
    "cadre": (
        "SELECT 'cadre', c.region_id, p.name, '', NULL, p.id FROM people_cadre c JOIN people_person p ON p.id = c.person_id "
        "WHERE c.id = (SELECT MIN(c2.id) FROM people_cadre c2 WHERE c2.person_id = c.person_id) "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'cadre' AND s.person_id = p.id)"
    ),
    "party_member": (
        "SELECT 'party_member', m.region_id, p.name, m.member_class, NULL, p.id FROM people_partymember m "
        "JOIN people_person p ON p.id = m.person_id "
        "WHERE NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'party_member' AND s.person_id = p.id)"
    ),
    "household": (
        "SELECT 'household', h.region_id, COALESCE(p.name, h.number), '', h.id, NULL FROM people_household h "
        "LEFT JOIN people_person p ON p.id = h.head_id "
        "WHERE NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'household' AND s.household_id = h.id)"
    ),
    "grid": (
        "SELECT 'grid', r.id, r.name, '', NULL, NULL FROM regions_region r WHERE r.level = 'grid' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'grid' AND s.region_id = r.id)"
    ),
}


def subjects_sync(*, kind: str) -> int:
    """Create the missing subjects of `kind`; returns how many were added."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_subject (kind, region_id, name, track, household_id, person_id) "
            + _SUBJECT_SOURCES[kind]
        )
        return cursor.rowcount
