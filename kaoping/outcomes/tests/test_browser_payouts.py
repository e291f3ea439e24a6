"""The payout sheet on a 360-px phone: a county user finds it from the period's consequences,
reads the amounts, and downloads the Excel (its cells checked) and the PDF."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kaoping.conftest import browser_login, no_sideways_scroll

from .test_payouts import docs_world

pytestmark = [pytest.mark.browser]


def test_a_county_user_reads_and_downloads_the_payout_sheet(live_server, live_county, phone, shot):
    period = docs_world(live_county)
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/outcomes/")
    phone.get_by_role("link", name=f"{period.scheme.name} 2026").click()
    phone.wait_for_url(f"**/outcomes/periods/{period.pk}/")
    shot(phone, "1-consequences")
    phone.click("#payout-sheet-link")
    phone.wait_for_url(f"**/outcomes/periods/{period.pk}/payouts/")

    rows = phone.locator("#payouts tr.payout")
    assert rows.count() == 6
    seen = {
        rows.nth(i).locator(".name").inner_text(): (
            rows.nth(i).locator(".rate").inner_text(),
            rows.nth(i).locator(".amount").inner_text(),
        )
        for i in range(6)
    }
    assert seen["王建国"] == ("87.35%", "873.50")
    assert seen["张伟"] == ("87.35%", "393.08")
    assert seen["陈明"] == ("100.00%", "800.00")
    assert seen["黄敏"] == ("66.67%", "433.36")
    assert phone.locator("#payouts-total").inner_text() == "3816.64"
    no_sideways_scroll(phone)
    shot(phone, "2-sheet")

    with phone.expect_download() as excel:
        phone.click("#payouts-xlsx")
    workbook = load_workbook(io.BytesIO(Path(excel.value.path()).read_bytes()))
    cells = {row[2]: row for row in workbook.active.iter_rows(values_only=True)}
    assert cells["王建国"][:8] == (
        "东岭村",
        "东岭村",
        "王建国",
        "党组织书记",
        87.35,
        87.35,
        1000,
        873.5,
    )
    assert cells["黄敏"][7] == 433.36
    assert excel.value.suggested_filename == f"payouts-{period.scheme.code}-2026.xlsx"

    with phone.expect_download() as pdf:
        phone.click("#payouts-pdf")
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF-")
    shot(phone, "3-downloaded")
