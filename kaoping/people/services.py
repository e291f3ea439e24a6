from django.db import transaction

from kaoping.core.audit import audit_record, snapshot
from kaoping.core.errors import KaopingError
from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_number_problem

from .models import Household, Person

PERSON_EDITABLE = ("name", "phone", "relation", "id_number")


def person_update(*, person: Person, acting_user, **changes) -> Person:
    """Change a person's editable fields; the audit row keeps ID numbers masked."""
    unknown = set(changes) - set(PERSON_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if changes.get("id_number"):
        problem = id_number_problem(changes["id_number"])
        if problem:
            raise KaopingError({"id_number": problem})
    with transaction.atomic(durable=True):
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


def household_update(*, household: Household, acting_user, address: str) -> Household:
    with transaction.atomic(durable=True):
        locked = Household.objects.select_for_update().get(pk=household.pk)
        before = snapshot(locked, ["address"])
        locked.address = address
        locked.save(update_fields=["address"])
        audit_record(
            actor=acting_user,
            action="people.household.updated",
            obj=locked,
            region_code=locked.region.code,
            before=before,
            after={"address": address},
        )
    return locked
