import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def household(county, grid_code):
    return next(h for h in county.households.values() if h.region.code == grid_code)


@pytest.mark.parametrize(
    ("username", "status"),
    [("alice", 200), ("carol", 200), ("dave", 200), ("erin", 200), ("oscar", 404), ("grace", 404)],
)
def test_household_by_persona(county, client_for, username, status):
    target = household(county, "330304001001001")
    erin_household = county.users["erin"].role_assignments.get().household
    if username == "erin":
        target = erin_household
    assert (
        client_for(county, username).get(reverse("people:household", args=[target.pk])).status_code
        == status
    )


def test_villager_cannot_open_the_neighbours_household(county, client_for):
    erin_household = county.users["erin"].role_assignments.get().household
    neighbour = next(
        h
        for h in county.households.values()
        if h.region.code == "330304001001001" and h.pk != erin_household.pk
    )
    assert (
        client_for(county, "erin").get(reverse("people:household", args=[neighbour.pk])).status_code
        == 404
    )


def test_id_numbers_and_phones_are_masked_unless_the_role_needs_them(county, client_for):
    target = household(county, "330304001001001")
    head = target.head
    carol_html = (
        client_for(county, "carol")
        .get(reverse("people:household", args=[target.pk]))
        .content.decode()
    )
    assert head.id_number not in carol_html and head.masked_id_number in carol_html
    assert head.phone not in carol_html and head.masked_phone in carol_html
    alice_html = (
        client_for(county, "alice")
        .get(reverse("people:household", args=[target.pk]))
        .content.decode()
    )
    assert head.id_number in alice_html
