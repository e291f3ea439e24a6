"""At 360 px: alice creates a login, reads its temporary password once, and the new user is made
to choose its own password before it can do anything else."""

import pytest

from kaoping.conftest import browser_login

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"


def test_alice_creates_a_login_and_the_new_user_must_change_its_password(
    live_server, live_county, phone, shot
):
    browser_login(phone, live_server, "alice")
    phone.click("summary")
    phone.get_by_role("link", name="账号管理").click()
    phone.wait_for_url("**/logins/")
    no_sideways_scroll(phone)
    shot(phone, "1-logins")

    phone.get_by_role("link", name="新建账号").click()
    phone.fill("#id_name", "陈网格")
    phone.fill("#id_phone", "13911112345")
    phone.select_option("#id_role", "grid_member")
    phone.fill("#id_scope", "西溪镇")  # a township: no place for a grid member, the form says
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    shot(phone, "2-wrong-level")
    error = phone.locator(".error").first.inner_text()
    assert "网格员" in error and "西溪镇" in error
    no_sideways_scroll(phone)

    phone.fill("#id_scope", "330304002001001")
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/logins/issued/")
    password = phone.locator(".temp-password").inner_text().strip()
    assert len(password) == 10
    no_sideways_scroll(phone)
    shot(phone, "3-issued-once")
    phone.reload()
    phone.wait_for_url("**/logins/")  # shown once: a reload shows it no more
    assert password not in phone.content()

    browser_login(phone, live_server, "13911112345", password)
    phone.wait_for_url("**/password/")
    assert "请先设置您自己的密码" in phone.content()
    phone.goto(f"{live_server.url}/my/entries/")
    phone.wait_for_url("**/password/")  # nowhere else until it is changed
    no_sideways_scroll(phone)
    shot(phone, "4-forced-change")
    phone.fill("#id_old_password", password)
    phone.fill("#id_new_password1", "Xixi-2026-wang")
    phone.fill("#id_new_password2", "Xixi-2026-wang")
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{live_server.url}/")
    assert "密码已修改" in phone.content()
    shot(phone, "5-changed")

    browser_login(phone, live_server, "13911112345", "Xixi-2026-wang")
    assert "/password/" not in phone.url
