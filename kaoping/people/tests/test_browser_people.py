"""On a 360-px phone: import households (a file with a bad cell, then the fixed one), and the
county's household tags page."""

import pytest

from kaoping.conftest import browser_login
from kaoping.people.household_import import HEADERS
from kaoping.people.models import Household, HouseholdTag
from kaoping.testing import make_id_number

pytestmark = [pytest.mark.browser]

GRID = "330304001001002"  # 东岭村第2网格, in bob's township


def rows(id_number: str) -> bytes:
    lines = [
        ",".join(HEADERS.values()),
        f"H990001,{GRID},是,冯大,男,{id_number},户主,13700000009,东岭村9组1号,",
        f"H990001,{GRID},否,冯二,女,{make_id_number(702, '19900202')},女,,,",
    ]
    return ("\n".join(lines) + "\n").encode()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_bob_fixes_the_household_list_and_imports_it(
    live_server, live_county, phone, shot, tmp_path
):
    good = make_id_number(701, "19660606")
    broken = tmp_path / "户籍.csv"
    broken.write_bytes(rows(good[:-1] + ("0" if good[-1] != "0" else "1")))
    fixed = tmp_path / "户籍(改).csv"
    fixed.write_bytes(rows(good))

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/people/import/")
    phone.set_input_files("form.form input[type=file]", str(broken))
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    problems = phone.locator(".error-box table tbody tr")
    assert problems.count() == 1
    cells = problems.first.locator("td").all_inner_texts()
    assert cells[:2] == ["2", "身份证号"] and "校验" in cells[2]
    assert not Household.objects.filter(number="H990001").exists()
    assert fits(phone)
    shot(phone, "1-problem")

    phone.set_input_files("form.form input[type=file]", str(fixed))
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    assert "已导入 1 户，共 2 人" in phone.locator(".messages").inner_text()
    phone.goto(f"{live_server.url}/regions/{GRID[:12]}/")
    assert "H990001" in phone.locator("main").inner_text()
    assert fits(phone)
    shot(phone, "2-imported")


def test_alice_adds_and_retires_a_tag(live_server, live_county, phone, shot):
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/people/tags/")
    phone.fill("input[name=name]", "监测户")
    phone.fill("input[name=code]", "jiance")
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    assert "监测户" in phone.locator("table.list").inner_text()
    assert fits(phone)
    shot(phone, "1-added")
    phone.get_by_role("link", name="编辑").first.click()
    phone.wait_for_load_state()
    phone.uncheck("input[name=active]")
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    assert "已停用" in phone.locator("table.list").inner_text()
    assert HouseholdTag.objects.get().active is False
    assert fits(phone)
    shot(phone, "2-retired")


def test_carol_appoints_a_group_head(live_server, live_county, phone, shot):
    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/regions/330304001001/")
    phone.get_by_role("link", name="三长").click()
    phone.wait_for_load_state()
    phone.select_option("select[name=person]", label="张伟")
    phone.select_option("select[name=post]", "group")
    phone.locator("input[name=households]").nth(0).check()
    phone.locator("input[name=households]").nth(1).check()
    phone.click("form.form button[type=submit]")
    phone.wait_for_load_state()
    row = phone.locator("table.list tbody tr").first.inner_text()
    assert "组长" in row and "张伟" in row and "2" in row
    assert fits(phone)
    shot(phone, "1-appointed")
