"""The coverage pages for every persona: drill-down, overdue list, the county's rule; query counts."""

from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kaoping.grid.models import CoverageRule, Visit
from kaoping.people.models import Household

pytestmark = pytest.mark.django_db

G1 = "330304001001001"
_keys = count(1)


def visit_all(county, grid_code, days_ago=1):
    today = timezone.localdate()
    for household in Household.objects.filter(region__code=grid_code):
        Visit.objects.create(
            household=household,
            grid=household.region,
            visitor=county.users["dave"],
            visited_on=today - timedelta(days=days_ago),
            idempotency_key=f"v{next(_keys)}",
        )


def test_the_county_admin_drills_down_to_a_grid(county, client_for):
    visit_all(county, G1)
    client = client_for(county, "alice")
    page = client.get("/grid/coverage/").content.decode()
    assert "东岭街道" in page and "西溪镇" in page
    page = client.get("/grid/coverage/?region=330304001").content.decode()
    assert "东岭村" in page and "南山社区" in page and "西溪村" not in page
    page = client.get("/grid/coverage/?region=330304001001").content.decode()
    assert "东岭村第1网格" in page and "100.0%" in page and "0.0%" in page
    response = client.get(f"/grid/coverage/?region={G1}")
    assert response.status_code == 200 and "100.0%" in response.content.decode()


def test_out_of_scope_is_404_and_no_visit_scope_is_403(county, client_for):
    assert client_for(county, "dave").get("/grid/coverage/?region=330304").status_code == 404
    assert client_for(county, "bob").get("/grid/coverage/?region=330304002").status_code == 404
    assert client_for(county, "erin").get("/grid/coverage/").status_code == 403
    assert client_for(county, "grace").get("/grid/overdue/").status_code == 403
    assert client_for(county, None).get("/grid/coverage/").status_code == 302


def test_a_grid_member_starts_at_his_grid(county, client_for):
    page = client_for(county, "dave").get("/grid/coverage/").content.decode()
    assert "东岭村第1网格" in page and "南山社区" not in page


def test_the_overdue_list_names_households_not_visited_in_time(county, client_for):
    visit_all(county, G1, days_ago=40)
    page = client_for(county, "dave").get("/grid/overdue/").content.decode()
    assert "40 天前" in page or "40 days ago" in page
    visit_all(county, G1, days_ago=2)
    page = client_for(county, "dave").get("/grid/overdue/").content.decode()
    assert "40 天前" not in page and "40 days ago" not in page
    bob = client_for(county, "bob").get("/grid/overdue/").content.decode()
    assert "从未走访" in bob or "never visited" in bob


def test_the_county_admin_sets_the_rule_and_others_may_not(county, client_for):
    assert client_for(county, "bob").get("/grid/coverage/rule/").status_code == 403
    response = client_for(county, "bob").post(
        "/grid/coverage/rule/", {"cycle": "quarter", "overdue_days": "92"}
    )
    assert response.status_code == 403 and not CoverageRule.objects.exists()
    client = client_for(county, "alice")
    assert client.get("/grid/coverage/rule/").status_code == 200
    response = client.post("/grid/coverage/rule/", {"cycle": "quarter", "overdue_days": "3"})
    assert response.status_code == 200 and not CoverageRule.objects.exists()
    response = client.post("/grid/coverage/rule/", {"cycle": "quarter", "overdue_days": "92"})
    assert response.status_code == 302
    rule = CoverageRule.objects.get()
    assert (rule.cycle, rule.overdue_days) == ("quarter", 92)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_pages_query_count_does_not_grow_with_households(county, client_for):
    client = client_for(county, "alice")
    urls = ["/grid/coverage/", "/grid/coverage/?region=330304001001", "/grid/overdue/"]
    before = [queries(client, url) for url in urls]
    grid = county.region(G1)
    Household.objects.bulk_create(
        Household(region=grid, number=f"X{n:05d}", address=f"{n}号") for n in range(60)
    )
    visit_all(county, G1)
    assert [queries(client, url) for url in urls] == before
    assert max(before) <= 15
