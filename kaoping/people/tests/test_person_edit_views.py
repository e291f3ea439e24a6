import pytest
from django.urls import reverse

from kaoping.core.models import AuditLog
from kaoping.people.models import Person

pytestmark = pytest.mark.django_db


def post(county, client_for, username, person, **data):
    payload = {"name": person.name, "phone": "13900001111", "relation": person.relation, **data}
    return client_for(county, username).post(
        reverse("people:person_edit", args=[person.pk]), payload
    )


def test_secretary_updates_a_phone_and_it_is_audited(county, client_for):
    person = county.persons["王建国"]
    response = post(county, client_for, "carol", person)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13900001111"
    row = AuditLog.objects.get(action="people.person.updated")
    assert row.actor == county.users["carol"]
    assert row.region_code == person.region.code
    assert row.after["phone"] == "13900001111"


@pytest.mark.parametrize(
    ("username", "status"), [("clara", 403), ("erin", 403), ("oscar", 404), ("grace", 404)]
)
def test_denied_writes_change_nothing(county, client_for, username, status):
    person = county.persons["王建国"]
    before = Person.objects.filter(pk=person.pk).values().get()
    assert post(county, client_for, username, person).status_code == status
    assert Person.objects.filter(pk=person.pk).values().get() == before
    assert not AuditLog.objects.exists()


def test_anonymous_write_is_refused(county, client_for):
    person = county.persons["王建国"]
    response = post(county, client_for, None, person)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    person.refresh_from_db()
    assert person.phone != "13900001111"


def test_bad_phone_is_explained_and_nothing_saved(county, client_for):
    person = county.persons["王建国"]
    response = post(county, client_for, "carol", person, phone="12345")
    assert response.status_code == 200
    assert "11" in response.context["form"].errors["phone"][0]
    person.refresh_from_db()
    assert person.phone != "12345"
