"""The coverage page at 360 px: the county admin drills down county → township → village → grid
and opens the overdue list; the page never gets wider than the phone."""

from itertools import count

import pytest
from django.utils import timezone

from kaoping.conftest import browser_login
from kaoping.grid.models import Visit
from kaoping.people.models import Household

pytestmark = [pytest.mark.browser]

_keys = count(1)


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_coverage_drill_down_on_a_phone(live_server, live_county, phone, shot):
    county = live_county
    today = timezone.localdate()
    for household in Household.objects.filter(region__code="330304001001001"):
        Visit.objects.create(
            household=household,
            grid=household.region,
            visitor=county.users["dave"],
            visited_on=today,
            idempotency_key=f"b{next(_keys)}",
        )
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/grid/coverage/")
    assert "走访覆盖率" in phone.locator("h1").inner_text()
    assert phone.locator(".coverage-total").inner_text() == "25.0%"  # 2 of 8 households
    assert fits_the_phone(phone)
    shot(phone, "1-county")

    phone.locator(".coverage-rows").get_by_role("link", name="东岭街道").click()
    phone.wait_for_url("**region=330304001*")
    assert phone.locator(".coverage-total").inner_text() == "33.3%"  # 2 of 6
    phone.locator(".coverage-rows").get_by_role("link", name="东岭村").click()
    phone.wait_for_url("**region=330304001001*")
    rows = phone.locator(".coverage-rows tbody tr")
    assert rows.count() == 2
    assert "100.0%" in rows.nth(0).inner_text() and "0.0%" in rows.nth(1).inner_text()
    assert phone.locator(".coverage-rows meter").count() == 2
    assert fits_the_phone(phone)
    shot(phone, "2-village")

    phone.locator(".coverage-rows").get_by_role("link", name="东岭村第2网格").click()
    phone.wait_for_url("**region=330304001001002*")
    assert phone.locator(".coverage-total").inner_text() == "0.0%"
    phone.get_by_role("link", name="逾期未走访户").click()
    phone.wait_for_url("**/grid/overdue/**")
    assert phone.locator(".overdue-rows tbody tr").count() == 2
    assert "从未走访" in phone.locator(".overdue-rows").inner_text()
    assert fits_the_phone(phone)
    shot(phone, "3-overdue")
