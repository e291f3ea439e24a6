import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.people.models import Household, Person
from kaoping.regions.models import Region

pytestmark = pytest.mark.django_db


def visible_codes(county, username, action="region.view"):
    return set(
        Region.objects.for_user(county.users[username], action).values_list("code", flat=True)
    )


def test_county_admin_sees_everything(county):
    assert visible_codes(county, "alice") == set(county.regions)


def test_township_staff_sees_its_township_subtree_only(county):
    assert visible_codes(county, "bob") == {c for c in county.regions if c.startswith("330304001")}


def test_department_scorer_sees_only_covered_villages(county):
    codes = visible_codes(county, "grace")
    assert "330304001002" in codes and "330304002001" in codes
    assert "330304001001" not in codes and "330304001" not in codes


def test_villager_sees_own_household_only(county):
    erin = county.users["erin"]
    households = list(Household.objects.for_user(erin, "people.view"))
    assert [h.pk for h in households] == [erin.role_assignments.get().household_id]
    assert Person.objects.for_user(erin, "people.view").count() == 2
    assert not Household.objects.for_user(erin, "people.change").exists()


def test_anonymous_and_inactive_see_nothing(county):
    from django.contrib.auth.models import AnonymousUser

    assert not Region.objects.for_user(AnonymousUser(), "region.view").exists()
    bob = county.users["bob"]
    bob.is_active = False
    assert not Region.objects.for_user(bob, "region.view").exists()


def test_out_of_scope_is_404_and_refused_action_is_403(county):
    village = county.region("330304001001")
    with pytest.raises(Http404):
        get_scoped_or_404(Region.objects, county.users["oscar"], "region.view", code=village.code)
    with pytest.raises(PermissionDenied):
        get_scoped_or_404(Region.objects, county.users["carol"], "region.change", code=village.code)
    assert (
        get_scoped_or_404(Region.objects, county.users["alice"], "region.change", code=village.code)
        == village
    )


def test_scope_range_does_not_leak_into_sibling_codes(county):
    # 330304001 must not match 3303040010… of a longer sibling prefix or 330304002.
    Region.objects.create(code="330305", name="邻县", level="county")
    assert "330305" not in visible_codes(county, "alice")
