"""The role homes on a 360-px phone: each persona's to-do takes it to the page where it is done,
and the villager lands on their own points page."""

import pytest

from kaoping.conftest import browser_login

from .test_homes import make_busy

pytestmark = [pytest.mark.browser]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_role_homes_on_a_phone(live_server, live_county, phone, shot):
    make_busy(live_county)

    # The township: the review queue is the first thing to do after the overdue pledge item.
    browser_login(phone, live_server, "bob")
    todos = phone.locator("#todos")
    assert "1 条记分待审核" in todos.inner_text()
    assert fits(phone)
    shot(phone, "1-township-home")
    todos.get_by_role("link", name="1 条记分待审核").click()
    phone.wait_for_url("**/review/")
    shot(phone, "2-township-review")

    # The secretary: an unread message, the pledge item overdue, the village's standing.
    browser_login(phone, live_server, "carol")
    assert phone.locator("#todos li.urgent").first.inner_text().startswith("1")
    assert fits(phone)
    shot(phone, "3-secretary-home")
    phone.locator("#todos").get_by_role("link", name="1 条未读消息").click()
    phone.wait_for_url("**/inbox/")
    assert fits(phone)
    shot(phone, "4-secretary-inbox")
    phone.get_by_role("link", name="三月月报").click()
    phone.wait_for_url("**/inbox/*/")
    assert "三月月报" in phone.locator("h1").inner_text()
    assert phone.get_by_role("link", name="打开页面").get_attribute("href") == "/outcomes/"
    assert phone.get_by_role("link", name="下载 三月月报.csv").is_visible()
    assert fits(phone)
    shot(phone, "5-secretary-message")
    phone.goto(f"{live_server.url}/")
    assert "未读消息" not in phone.locator("#todos").inner_text()  # read now

    # The store keeper: the request waiting at the counter.
    browser_login(phone, live_server, "kim")
    assert fits(phone)
    shot(phone, "6-keeper-home")
    phone.locator("#todos").get_by_role("link", name="1 个兑换申请待发放").click()
    phone.wait_for_url("**/store/keeper/")
    shot(phone, "7-keeper-counter")

    # The grid member: the households not yet visited, and the round one tap away.
    browser_login(phone, live_server, "dave")
    assert "本周期还有 2 户待走访" in phone.locator("#todos").inner_text()
    assert fits(phone)
    shot(phone, "8-grid-home")
    phone.locator("#todos").get_by_role("link", name="本周期还有 2 户待走访", exact=False).click()
    phone.wait_for_url("**/grid/round/")

    # The county admin: the period to close first, then the county dashboard.
    browser_login(phone, live_server, "alice")
    assert "1 个周期待关闭" in phone.locator("#todos").inner_text()
    assert phone.locator("#dashboard").is_visible()
    shot(phone, "9-county-home")

    # The villager goes straight to their points.
    browser_login(phone, live_server, "erin")
    phone.goto(f"{live_server.url}/")
    phone.wait_for_url("**/my/points/")
    shot(phone, "10-villager-points")
