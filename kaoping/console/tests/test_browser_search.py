"""Search on a phone: a name typed as it sounds, and the way on to its party member profile."""

import pytest

from kaoping.conftest import browser_login

pytestmark = [pytest.mark.browser]


def test_full_pinyin_with_a_typo_finds_the_secretary_and_his_profile(
    live_server, live_county, phone, shot
):
    from kaoping.people.services import subjects_sync

    subjects_sync(kind="party_member")
    subjects_sync(kind="cadre")
    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/search/")
    phone.fill("input[name=q]", "wang jain guo")
    phone.click("form[role=search] button")
    phone.wait_for_load_state()
    assert phone.locator("ul.plain li").filter(has_text="王建国").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-results")
    phone.get_by_role("link", name="党员（A类） · 东岭村").click()
    phone.wait_for_url("**/subjects/**")
    assert "王建国" in phone.locator("h1").inner_text()
    shot(phone, "2-profile")
