"""The helpers every service and view goes through: may, ensure, restrict, the system actor and
get_scoped_or_404 (out of scope is 404, in scope but not allowed is 403)."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kaoping.accounts.scoping import (
    SYSTEM_USERNAME,
    Refused,
    ensure,
    get_scoped_or_404,
    is_system,
    is_unrestricted,
    may,
    restrict,
    system_actor,
    view_action,
)
from kaoping.core.errors import KaopingError
from kaoping.people.models import Household, Person
from kaoping.regions.models import Region

pytestmark = pytest.mark.django_db

DONGLING, XIXI = "330304001001", "330304002001"
GRID = "330304001001001"  # erin's, in 东岭村


def village(county, code=DONGLING) -> Region:
    return county.region(code)


# ─── the system actor ───


def test_the_system_actor_is_one_inactive_superuser(county):
    system = system_actor()
    assert system_actor().pk == system.pk
    assert get_user_model().objects.filter(username=SYSTEM_USERNAME).count() == 1
    assert (system.is_active, system.is_superuser) == (False, True)
    assert is_system(system) and not is_system(county.users["alice"]) and not is_system(None)


def test_the_system_actor_cannot_log_in(county):
    system = system_actor()
    system.set_password("pw")
    system.save()
    assert authenticate(username=SYSTEM_USERNAME, password="pw") is None


def test_the_system_actor_may_do_everything_anywhere(county):
    system = system_actor()
    for code in (DONGLING, XIXI, "330304"):
        assert may(system, "region.change", village(county, code))
    assert restrict(Region.objects.all(), system, "store.redeem").count() == len(county.regions)
    assert is_unrestricted(system)


# ─── may and ensure ───


@pytest.mark.parametrize(
    ("username", "action", "code", "allowed"),
    [
        ("carol", "people.change", DONGLING, True),  # her village
        ("carol", "people.change", XIXI, False),  # out of scope
        ("oscar", "people.change", XIXI, True),
        ("clara", "people.change", DONGLING, False),  # in scope, but reads only
        ("bob", "store.manage", DONGLING, True),  # below his township
        ("bob", "store.manage", "330304", False),  # the county is above it
        ("alice", "region.change", XIXI, True),
        ("erin", "region.view", GRID, True),  # a villager sees her grid
        ("erin", "region.view", DONGLING, False),  # not the village above it
        ("erin", "region.change", GRID, False),
    ],
)
def test_may_is_the_role_in_its_scope(county, username, action, code, allowed):
    assert may(county.users[username], action, village(county, code)) is allowed


def test_nobody_anonymous_and_inactive_may_nothing(county):
    bob = county.users["bob"]
    bob.is_active = False
    for user in (None, AnonymousUser(), bob):
        assert not may(user, "region.view", village(county))
        assert not may(user, "region.view", Region.objects.all())
        assert not may(user, "region.view", Region.objects.none())  # not even on nothing


def test_an_inactive_superuser_is_not_unrestricted(county):
    root = get_user_model().objects.create_superuser(username="root", password="pw")
    assert is_unrestricted(root) and may(root, "region.change", village(county))
    root.is_active = False
    assert not is_unrestricted(root) and not may(root, "region.change", village(county))


def test_may_on_a_queryset_means_every_row(county):
    carol = county.users["carol"]
    her_people = Person.objects.filter(region__code__startswith=DONGLING)
    assert may(carol, "people.change", her_people)
    assert not may(carol, "people.change", Person.objects.filter(region__code__startswith="3303"))
    assert may(carol, "people.change", Person.objects.none())  # a batch of nothing touches nothing


def test_ensure_refuses_with_an_error_views_answer_403_to(county):
    with pytest.raises(Refused) as refused:
        ensure(county.users["oscar"], "people.change", village(county))
    assert isinstance(refused.value, PermissionDenied) and isinstance(refused.value, KaopingError)
    assert refused.value.messages  # a message a command or the API can show
    ensure(county.users["carol"], "people.change", village(county))  # no error


def test_view_action_is_the_read_of_the_area():
    assert view_action("people.change") == "people.view"
    assert view_action("store.redeem") == "store.view"


# ─── get_scoped_or_404 ───


def test_out_of_scope_is_404_not_a_hint_that_it_exists(county):
    with pytest.raises(Http404):
        get_scoped_or_404(Region.objects, county.users["oscar"], "region.change", code=DONGLING)
    with pytest.raises(Http404):  # one that does not exist looks the same
        get_scoped_or_404(Region.objects, county.users["alice"], "region.view", code="999999")


def test_in_scope_but_not_allowed_is_403(county):
    with pytest.raises(PermissionDenied):
        get_scoped_or_404(Region.objects, county.users["clara"], "region.change", code=DONGLING)


def test_allowed_returns_the_object(county):
    found = get_scoped_or_404(Region.objects, county.users["alice"], "region.change", code=DONGLING)
    assert found == village(county)


def test_a_villager_finds_her_own_household_only(county):
    erin = county.users["erin"]
    own = erin.role_assignments.get().household
    assert get_scoped_or_404(Household.objects, erin, "people.view", pk=own.pk) == own
    with pytest.raises(PermissionDenied):  # hers to see, not to change
        get_scoped_or_404(Household.objects, erin, "people.change", pk=own.pk)
    neighbour = Household.objects.filter(region=own.region).exclude(pk=own.pk).first()
    with pytest.raises(Http404):  # the neighbour's, in the same grid: not hers at all
        get_scoped_or_404(Household.objects, erin, "people.view", pk=neighbour.pk)
