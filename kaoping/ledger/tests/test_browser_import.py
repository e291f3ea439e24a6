"""Issue acceptance on a 360-px phone: upload, read the problems, upload the fix, import."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry
from kaoping.ledger.testing import HOUSEHOLD_SCHEME, import_workbook
from kaoping.schemes.services import scheme_load

pytestmark = [pytest.mark.browser]

GOOD = [
    ("3303040010010001", "参加志愿服务活动", 1, None, date(2026, 3, 5), "扫雪"),
    ("3303040010010002", "文明户评议", None, "优秀", date(2026, 3, 6), ""),
]


def test_carol_fixes_a_file_and_imports_it(live_server, live_county, phone, shot, tmp_path):
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="hh.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    broken = tmp_path / "三月记分.xlsx"
    broken.write_bytes(import_workbook([GOOD[0], ("3303049999999999", *GOOD[1][1:])]))
    fixed = tmp_path / "三月记分(改).xlsx"
    fixed.write_bytes(import_workbook(GOOD))

    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/imports/")
    phone.select_option("select[name=scheme]", str(version.scheme.pk))
    phone.set_input_files("input[type=file]", str(broken))
    phone.click("form.form button[type=submit]")
    phone.wait_for_url("**/imports/*/")

    status = phone.locator("#import-status")
    assert "还不能导入" in status.locator("h2").inner_text()
    problem = status.locator("table.problems tbody tr")
    assert problem.count() == 1
    assert problem.locator("td").first.inner_text() == "3"  # the Excel row the user sees
    assert "对象" in problem.inner_text() and "3303049999999999" in problem.inner_text()
    assert status.locator("button").count() == 0  # nothing to import yet
    assert Entry.objects.count() == 0

    phone.set_input_files("form.form input[type=file]", str(fixed))
    phone.click("form.form button[type=submit]")
    phone.wait_for_function(
        "document.querySelector('#import-status h2').innerText.includes('没有问题')"
    )
    assert "已检查 2 行" in status.locator("h2").inner_text()

    status.get_by_role("button", name="导入 2 行").click()
    phone.wait_for_function(
        "document.querySelector('#import-status h2').innerText.includes('已导入')"
    )
    assert "已导入：2 条记录" in status.locator("h2").inner_text()
    assert "待审核" in status.inner_text()
    assert Entry.objects.filter(source="imported").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-end")
