"""Issue acceptance: 20 households recorded on a phone, 19 approved and 1 rejected, the household sees it."""

import pytest

from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry

from .ledger_fixture import GRID, add_reviewer, fill_grid, load_household_scheme

pytestmark = [pytest.mark.browser]


def test_grid_round_review_and_household_view(live_server, live_county, phone, shot):
    county = live_county
    fill_grid(county, 20)
    scheme = load_household_scheme(county)
    add_reviewer(county)
    erin_household = county.users["erin"].role_assignments.get().household

    browser_login(phone, live_server, "dave")
    phone.goto(f"{live_server.url}/regions/{GRID}/")
    phone.get_by_role("link", name="为本网格记分：农户积分").click()
    phone.wait_for_url(f"**/grids/{GRID}/record/{scheme.code}/")
    selects = phone.locator("select[name^=item_]")
    assert selects.count() == 20
    for index in range(20):
        selects.nth(index).select_option("CLEAN")
    phone.click("main button[type=submit]")
    phone.wait_for_url("**/entries/mine/")
    assert Entry.objects.filter(status="submitted").count() == 20
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    shot(phone, "1-before-next-login")
    browser_login(phone, live_server, "rita")
    phone.goto(f"{live_server.url}/review/")
    rejected = Entry.objects.get(subject__household=erin_household)
    phone.locator("thead input[type=checkbox]").check()
    phone.locator(f"input[name=entry][value='{rejected.pk}']").uncheck()
    phone.click("button[value=approve]")
    phone.wait_for_load_state()
    assert "19" in phone.locator(".messages").inner_text()
    phone.locator(f"input[name=entry][value='{rejected.pk}']").check()
    phone.fill("input[name=reason]", "照片与实际不符")
    phone.click("button[value=reject]")
    phone.wait_for_load_state()
    assert Entry.objects.filter(status="approved").count() == 19
    rejected.refresh_from_db()
    assert (rejected.status, rejected.review_reason) == ("rejected", "照片与实际不符")

    shot(phone, "2-before-next-login")
    browser_login(phone, live_server, "erin")
    phone.goto(f"{live_server.url}/households/{erin_household.pk}/")
    phone.get_by_role("link", name="积分与记录").click()
    phone.wait_for_url("**/subjects/**")
    row = phone.locator("section:has(h2:text-matches('^记分记录')) tbody tr").first
    assert "已驳回" in row.inner_text() and "照片与实际不符" in row.inner_text()
    shot(phone, "3-end")
