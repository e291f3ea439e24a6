"""Issue acceptance in a real browser at 360 px: a grid member records a problem for a household;
the township resolves it; the household confirms and rates it on its phone page."""

import pytest

from kaoping.conftest import browser_login
from kaoping.problems.models import Problem

pytestmark = [pytest.mark.browser]


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_raise_resolve_and_confirm_on_phones(live_server, live_county, phone, shot):
    household = live_county.users["erin"].role_assignments.get().household

    # dave, the grid member, records the problem at the household's door.
    browser_login(phone, live_server, "dave")
    phone.goto(f"{live_server.url}/problems/raise/{household.pk}/")
    assert household.number in phone.locator("main").inner_text()
    phone.select_option("select[name=category]", "infrastructure")
    phone.fill("input[name=title]", "村口路灯不亮")
    phone.fill("textarea[name=description]", "村口到小学一段路灯坏了三盏。")
    assert fits_the_phone(phone)
    shot(phone, "1-dave-raises")
    phone.get_by_role("button", name="登记").click()
    phone.wait_for_url("**/problems/*/")
    assert "民情事项已登记" in phone.locator(".messages").inner_text()
    assert phone.locator("#status").inner_text() == "待办理"
    assert "东岭村第1网格" in phone.locator("#held-by").inner_text()
    problem = Problem.objects.get()
    assert problem.raised_by == live_county.users["dave"]
    assert fits_the_phone(phone)
    shot(phone, "2-dave-sees-it")

    # bob, of the township, finds it in the list and resolves it.
    browser_login(phone, live_server, "bob")
    phone.click(".menu summary")
    phone.get_by_role("link", name="民情台账").click()
    phone.wait_for_url("**/problems/")
    assert fits_the_phone(phone)
    shot(phone, "3-bob-list")
    phone.get_by_role("link", name="村口路灯不亮").click()
    phone.wait_for_url(f"**/problems/{problem.pk}/")
    phone.fill("textarea[name=resolution]", "镇里安排电工更换了三盏路灯。")
    assert fits_the_phone(phone)
    shot(phone, "4-bob-resolves")
    phone.get_by_role("button", name="已办理，请群众确认").click()
    phone.wait_for_url(f"**/problems/{problem.pk}/")
    assert phone.locator("#status").inner_text() == "已办理，待群众确认"

    # erin, the household, confirms and rates it from her phone page.
    browser_login(phone, live_server, "erin")
    phone.goto(f"{live_server.url}/my/points/")
    phone.locator("#tile-problems").click()
    phone.wait_for_url("**/my/problems/")
    card = phone.locator(f"#problem-{problem.pk}")
    assert "镇里安排电工更换了三盏路灯" in card.inner_text()
    card.get_by_label("解决了").check()
    card.get_by_label("★★★★", exact=True).check()
    card.locator("textarea[name=comment]").fill("亮了，谢谢！")
    assert fits_the_phone(phone)
    shot(phone, "5-erin-confirms")
    card.get_by_role("button", name="提交我的答复").click()
    phone.wait_for_url("**/my/problems/**")
    assert "谢谢，这件事已办结" in phone.locator(".messages").inner_text()
    assert "您打了 4 星" in phone.locator(f"#problem-{problem.pk}").inner_text()
    assert fits_the_phone(phone)
    shot(phone, "6-erin-done")
    problem.refresh_from_db()
    assert (problem.status, problem.satisfaction, problem.closed_on_time) == ("closed", 4, True)
    assert problem.household_comment == "亮了，谢谢！"
