import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_shows_scope_roots_and_counts(county, client_for):
    response = client_for(county, "bob").get(reverse("console:home"))
    home = response.context["home"]
    assert [r.code for r in home.roots] == ["330304001"]
    assert home.counts == {
        "villages": 2,
        "households": 6,
        "persons": 12,
        "party_members": 1,
    }


def test_department_scorer_starts_from_covered_villages(county, client_for):
    response = client_for(county, "grace").get(reverse("console:home"))
    [department] = response.context["home"].departments
    assert [r.code for r in department["villages"]] == ["330304001002", "330304002001"]
    page = response.content.decode()
    assert page.index("南山社区") < page.index("西溪村")


def test_villager_home_is_their_points_page(county, client_for):
    response = client_for(county, "erin").get(reverse("console:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("store:my_points")


def test_navigation_follows_the_role(county, client_for):
    assert client_for(county, "alice").get(reverse("console:home")).context["nav"]["audit"] is True
    assert client_for(county, "carol").get(reverse("console:home")).context["nav"]["audit"] is False


def test_anonymous_goes_to_login(county, client_for):
    assert client_for(county, None).get(reverse("console:home")).status_code == 302
