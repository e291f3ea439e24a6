"""Issue acceptance in a real browser on a 360-px phone: a quarter closes with its bottom three
listed; the township user finds three interviews at the quarter's level and records minutes."""

import pytest

from kaoping.conftest import browser_login

from ..models import Interview
from .fixtures import SPREAD, build_villages, close, load, score, villages

pytestmark = [pytest.mark.browser]


def test_bottom_three_of_the_quarter_are_interviewed_and_minuted(
    live_server, live_county, phone, shot
):
    build_villages(live_county)
    scheme = load(live_county)
    subjects = villages()
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, subjects, SPREAD, label)
    quarter = close(scheme, "2026-Q1", user=live_county.users["alice"])

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/")
    phone.click("summary")
    phone.get_by_role("link", name="结果运用").click()
    phone.wait_for_url("**/outcomes/")
    phone.get_by_role("link", name="擂台测试 2026-Q1").click()
    phone.wait_for_url(f"**/outcomes/periods/{quarter.pk}/")

    rows = phone.locator("#interviews tr.interview")
    assert rows.count() == 3
    assert [rows.nth(i).locator(".level").inner_text() for i in range(3)] == [
        "镇党委副书记和镇长约谈"
    ] * 3
    assert sorted(rows.nth(i).locator("a").inner_text() for i in range(3)) == [
        "第10村",
        "第8村",
        "第9村",
    ]
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    phone.locator("#interviews").get_by_role("link", name="第10村", exact=True).click()
    phone.wait_for_url("**/outcomes/interviews/**")
    phone.fill("input[name=held_on]", "2026-04-08")
    phone.fill("input[name=interviewer]", "镇党委副书记 李明、镇长 王强")
    phone.fill(
        "textarea[name=minutes]",
        "查摆问题三条:集体经济薄弱、村容整治滞后、议事不规范。表态:一个月内整改到位。",
    )
    phone.click("#minutes-form button[type=submit]")
    phone.wait_for_load_state()
    assert "已举行" in phone.locator("main").inner_text()
    assert "查摆问题三条" in phone.locator(".minutes").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    held = Interview.objects.get(period=quarter, subject__region__name="第10村")
    assert (held.status, held.level_name, held.recorded_by.username) == (
        "held",
        "镇党委副书记和镇长约谈",
        "bob",
    )
    shot(phone, "1-end")
