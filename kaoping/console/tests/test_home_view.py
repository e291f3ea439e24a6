import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kaoping.console.context import menu_links

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


def test_menu_is_each_users_own_though_kept_between_requests(county):
    """The menu's links are rendered once per set of links (console.context.menu_links): each
    user still gets the links of their own roles, and the log-out form the token of their own
    session, whoever was served before them."""
    audit = reverse("console:audit")
    for username, sees_audit in (("alice", True), ("carol", False), ("alice", True)):
        client = Client(enforce_csrf_checks=True)
        client.force_login(county.users[username])
        page = client.get(reverse("console:home"), follow=True).content.decode()
        assert (f'href="{audit}"' in page) is sees_audit
        assert page.count(f'href="{reverse("accounts:password_change")}"') == 1
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302
        assert "_auth_user_id" not in client.session


def test_menu_links_follow_the_language(county, client_for, settings):
    """Part of what a kept menu is kept under: its language."""
    client = client_for(county, "alice")
    with translation.override("en"):
        english = menu_links({"audit": True})
    with translation.override("zh-hans"):
        chinese = menu_links({"audit": True})
    assert "Audit log" in english and "操作日志" in chinese
    assert "Audit log" not in chinese
    assert "操作日志" in client.get(reverse("console:home")).content.decode()
