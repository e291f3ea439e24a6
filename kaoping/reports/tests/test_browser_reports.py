"""In a real browser at 360 px: township staff ask for the bulletin of their township and download
its PDF."""

import pytest

from kaoping.conftest import browser_login
from kaoping.publishing.tests.fixtures import posted_quarter
from kaoping.reports.models import Report, ReportStatus

pytestmark = [pytest.mark.browser]


def test_make_a_report_and_download_the_pdf(live_server, live_county, phone, shot, tmp_path):
    posted = posted_quarter(live_county)
    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/reports/")
    shot(phone, "1-list")
    phone.get_by_role("link", name="新建报告").click()
    phone.wait_for_url("**/reports/new/")
    phone.select_option("select[name=kind]", "bulletin")
    phone.select_option("select[name=scheme]", str(posted.scheme.pk))
    phone.select_option("select[name=period]", str(posted.period.pk))
    phone.select_option("select[name=region]", str(live_county.region("330304001").pk))
    shot(phone, "2-new")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/reports/*/")
    report = Report.objects.get()
    assert report.status == ReportStatus.DONE, report.error
    assert "考评通报" in phone.locator("h1").inner_text()
    shot(phone, "3-report")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    with phone.expect_download() as download:
        phone.click("#download-pdf")
    saved = tmp_path / "bulletin.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    assert saved.stat().st_size == report.pdf.size
