import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.ledger.tests.ledger_fixture import fill_grid

pytestmark = pytest.mark.django_db

VILLAGE = "330304001001"


def url(code):
    return reverse("console:region", args=[code])


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("alice", 200),
        ("bob", 200),
        ("carol", 200),
        ("clara", 200),
        ("oscar", 404),
        ("grace", 404),
        ("erin", 404),
    ],
)
def test_village_page_by_persona(county, client_for, username, status):
    assert client_for(county, username).get(url(VILLAGE)).status_code == status


def test_anonymous_is_sent_to_login(county, client_for):
    response = client_for(county, None).get(url(VILLAGE))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_village_page_lists_households_cadres_party_members_grids(county, client_for):
    response = client_for(county, "carol").get(url(VILLAGE))
    html = response.content.decode()
    assert "东岭村第1网格" in html and "东岭村第2网格" in html
    assert "王建国" in html  # head of household, secretary and party member
    assert "一肩挑" in html
    assert response.context["households"].paginator.count == 4
    assert "西溪村" not in html


def test_unknown_code_is_404(county, client_for):
    assert client_for(county, "alice").get(url("330304999999")).status_code == 404


def test_department_scorer_opens_covered_village(county, client_for):
    assert client_for(county, "grace").get(url("330304002001")).status_code == 200


def test_county_page_counts_households_per_township(county, client_for):
    response = client_for(county, "alice").get(url("330304"))
    counts = {child.code: n for child, n in response.context["children"]}
    assert counts == {"330304001": 6, "330304002": 2}


def test_village_page_query_count_does_not_grow_with_households(
    county, client_for, django_assert_max_num_queries
):
    client = client_for(county, "carol")
    # 15: one more than before for the village's natural villages (自然村), a count.
    with django_assert_max_num_queries(15):
        client.get(url(VILLAGE))


def test_village_page_query_count_is_the_same_for_3_times_the_households(county, client_for):
    client = client_for(county, "carol")
    counts = []
    for households in (5, 15):
        fill_grid(county, households)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(VILLAGE))
        assert response.context["households"].paginator.count >= households
        counts.append(len(queries))
    assert counts[0] == counts[1]
