"""The main console paths in a real headless Chromium at phone width."""

import pytest

from kaoping.conftest import browser_login

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_secretary_opens_own_village_and_gets_404_for_another(
    live_server, live_county, phone, shot
):
    browser_login(phone, live_server, "carol")
    assert phone.locator("h1").inner_text() == "工作台"
    phone.get_by_role("link", name="东岭村", exact=True).click()
    phone.wait_for_url("**/regions/330304001001/")
    assert "东岭村" in phone.locator("h1").inner_text()
    assert phone.locator("text=东岭村第1网格").first.is_visible()
    assert phone.locator("text=王建国").first.is_visible()
    assert no_sideways_scroll(phone)

    response = phone.goto(f"{live_server.url}/regions/330304002001/")
    assert response.status == 404
    shot(phone, "1-end")


def test_menu_search_and_household_on_a_phone(live_server, live_county, phone, shot):
    browser_login(phone, live_server, "bob")
    phone.click("summary:has-text('菜单')")
    phone.click("nav >> text=搜索")
    phone.wait_for_url("**/search/")
    phone.fill("input[name=q]", "wjg")
    phone.click("form[role=search] button")
    phone.wait_for_url("**/search/?q=wjg")
    phone.get_by_role("link", name="王建国").click()
    phone.wait_for_url("**/households/**")
    assert "户" in phone.locator("h1").inner_text()
    # ID numbers are masked for township staff.
    assert "*" in phone.locator("small.mono").first.inner_text()
    assert no_sideways_scroll(phone)
    shot(phone, "1-end")


def test_wrong_password_says_so(live_server, live_county, phone, shot):
    browser_login(phone, live_server, "carol", password="nope")
    assert phone.locator("[role=alert]").inner_text() == "用户名或密码错误。"
    shot(phone, "1-end")
