"""A head of household declares a good deed with a photo from a 360-px phone."""

import pytest

from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.ledger.tests.declare_fixture import image_bytes, load_household_scheme

pytestmark = [pytest.mark.browser]


def test_erin_declares_a_good_deed_with_a_photo(live_server, live_county, phone, shot, tmp_path):
    load_household_scheme(live_county)
    picture = tmp_path / "good-deed.jpg"
    picture.write_bytes(image_bytes((1200, 900)))
    browser_login(phone, live_server, "erin")

    phone.click("summary:has-text('菜单')")
    phone.click("nav >> text=申报好人好事")
    phone.wait_for_url("**/my/declare/")
    assert phone.locator("h1").inner_text() == "申报好人好事"
    # Only items counted in units ask how many.
    assert not phone.locator("#id_quantity").is_visible()
    phone.select_option("#id_item", "test-household:GY05")
    assert phone.locator("#id_quantity").is_visible()
    phone.select_option("#id_item", "test-household:GY02")
    assert not phone.locator("#id_quantity").is_visible()

    phone.fill("#id_note", "雨夜帮邻居把落水的老人扶回家")
    phone.set_input_files("#id_photo", str(picture))
    submit = phone.locator("#declare-submit")
    assert submit.bounding_box()["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    submit.click()
    phone.wait_for_url("**/subjects/**")

    assert "已申报" in phone.locator(".messages").inner_text()
    row = phone.locator("table.list tbody tr", has_text="雨夜帮邻居")
    assert "待审核" in row.inner_text()
    entry = Entry.objects.get()
    assert (entry.item_code, entry.status, entry.evidence.count()) == (
        "GY02",
        EntryStatus.SUBMITTED,
        1,
    )
    shot(phone, "1-end")
