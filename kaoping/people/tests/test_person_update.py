"""person_update: who may change a resident, what is kept, and what the audit row shows."""

import pytest

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.people.models import Person
from kaoping.people.services import person_update
from kaoping.testing import make_id_number

pytestmark = pytest.mark.django_db


def row(person: Person) -> dict:
    return Person.objects.filter(pk=person.pk).values().get()


def test_a_change_is_saved_with_new_initials_and_audited(county):
    person = county.persons["王建国"]
    updated = person_update(
        person=person, name="王建军", phone="13900001111", acting_user=county.users["carol"]
    )
    assert (updated.name, updated.initials, updated.phone) == ("王建军", "wjj", "13900001111")
    audit = AuditLog.objects.get(action="people.person.updated")
    assert audit.actor == county.users["carol"]
    assert audit.region_code == person.region.code
    assert audit.before == {"name": "王建国", "phone": "13800000001"}
    assert audit.after == {"name": "王建军", "phone": "13900001111"}


def test_the_audit_row_never_holds_an_id_number(county):
    person = county.persons["王建国"]
    new = make_id_number(77)
    person_update(person=person, id_number=new, acting_user=county.users["carol"])
    audit = AuditLog.objects.get(action="people.person.updated")
    assert audit.before == {"id_number": "(masked)"}
    assert audit.after["id_number"] == new[:3] + "*" * 11 + new[-4:]
    assert new not in str(audit.after)
    assert row(person)["id_number"] == new


def test_an_empty_id_number_is_stored_as_none(county):
    person = county.persons["王建国"]
    person_update(person=person, id_number="", acting_user=county.users["carol"])
    assert row(person)["id_number"] is None


def test_a_bad_id_number_is_named_and_nothing_changes(county):
    person = county.persons["王建国"]
    before = row(person)
    with pytest.raises(KaopingError) as caught:
        person_update(person=person, id_number="33030419800101001", acting_user=system_actor())
    assert "id_number" in caught.value.message_dict
    assert row(person) == before and not AuditLog.objects.exists()


def test_only_the_editable_fields_change(county):
    with pytest.raises(ValueError, match="region"):
        person_update(
            person=county.persons["王建国"],
            region=county.region("330304002001"),
            acting_user=system_actor(),
        )


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("alice", True),  # county admin
        ("bob", True),  # township staff of 东岭街道
        ("carol", True),  # secretary of 东岭村
        ("dave", True),  # grid member of the person's grid
        ("clara", False),  # committee member: reads only
        ("erin", False),  # a villager of the household itself
        ("grace", False),  # department scorer: records, changes nobody
        ("oscar", False),  # secretary of 西溪村: out of scope
    ],
)
def test_who_may_change_a_resident_of_the_first_grid(county, username, allowed):
    person = county.persons["王建国"]  # 东岭村, grid 1
    before = row(person)
    if allowed:
        person_update(person=person, phone="13900001111", acting_user=county.users[username])
        assert row(person)["phone"] == "13900001111"
        return
    with pytest.raises(Refused):
        person_update(person=person, phone="13900001111", acting_user=county.users[username])
    assert row(person) == before and not AuditLog.objects.exists()


def test_a_grid_member_changes_nobody_in_the_next_grid(county):
    person = county.persons["张伟"]  # 东岭村, grid 2
    with pytest.raises(Refused):
        person_update(person=person, phone="13900001111", acting_user=county.users["dave"])


def test_nobody_changes_nothing(county):
    person = county.persons["王建国"]
    before = row(person)
    with pytest.raises(Refused):
        person_update(person=person, phone="13900001111", acting_user=None)
    assert row(person) == before
