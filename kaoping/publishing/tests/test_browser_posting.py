"""Issue acceptance in a real browser at 360 px: post a quarter, object on the public page,
uphold the objection in the console with a correcting entry, read the corrected lists."""

import pytest

from kaoping.conftest import browser_login

from .fixtures import posted_quarter

pytestmark = [pytest.mark.browser]


def list_names(page, code):
    return page.locator(f"#list-{code} tbody td:nth-child(2) a").all_inner_texts()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_post_object_uphold_and_see_the_corrected_list(live_server, live_county, phone, shot):
    posted = posted_quarter(live_county)  # closed and posted through the services
    public = f"{live_server.url}/p/{posted.period.pk}/"

    phone.goto(public)
    assert "六比六争（测试）" in phone.locator("h1").inner_text()
    assert list_names(phone, "red") == ["东岭村", "南山社区"]
    assert list_names(phone, "black") == ["西溪村"]
    assert list_names(phone, "progress") == ["溪口村"]
    assert fits_the_phone(phone)
    shot(phone, "1-posting")

    # A villager of 西溪村 objects to the black listing, from the line's breakdown.
    phone.locator("#list-black").get_by_role("link", name="西溪村").click()
    phone.wait_for_url("**/s/**")
    assert phone.locator("#index-HJ").inner_text().split()[-2:] == ["10", "20"]
    assert fits_the_phone(phone)
    phone.get_by_role("link", name="对此项提出异议").click()
    phone.wait_for_url("**/objection/**")
    phone.fill("input[name=name]", "陈小明")
    phone.fill("input[name=contact]", "13800001234")
    phone.fill("textarea[name=reason]", "本季度我村召开组织生活会 11 次，台账没有记录。")
    assert fits_the_phone(phone)
    shot(phone, "2-objection")
    phone.get_by_role("button", name="提交异议").click()
    phone.wait_for_url(public)
    assert "您的异议已收到" in phone.locator(".messages").inner_text()

    # The county admin upholds it with a correcting entry.
    browser_login(phone, live_server, "alice")
    phone.click(".menu summary")
    phone.get_by_role("link", name="异议处理").click()
    phone.wait_for_url("**/p/manage/objections/")
    phone.locator("table.list a").first.click()
    phone.wait_for_url("**/p/manage/objections/*/")
    assert "13800001234" in phone.locator("main").inner_text()
    phone.check("input[name=decision][value=uphold]")
    phone.fill("textarea[name=text]", "经核实，西溪村本季度组织生活漏录 11 次，予以补记。")
    phone.select_option("select[name=item_code]", "BL1")
    phone.fill("input[name=quantity]", "11")
    phone.fill("input[name=occurred_on]", "2026-08-20")
    assert fits_the_phone(phone)
    shot(phone, "3-decide")
    phone.get_by_role("button", name="提交处理决定").click()
    phone.wait_for_load_state()
    assert "异议成立" in phone.locator(".messages").inner_text()

    # Anyone reads the corrected posting: 西溪村 (32) on the red list, 北山村 now bottom.
    phone.context.clear_cookies()
    phone.goto(public)
    assert list_names(phone, "red") == ["西溪村", "东岭村"]
    assert list_names(phone, "black") == ["北山村"]
    assert "予以补记" in phone.locator("#decisions").inner_text()
    first = phone.locator("#results tbody tr").first.inner_text()
    assert "西溪村" in first and "32" in first
    assert fits_the_phone(phone)
    shot(phone, "4-corrected")
