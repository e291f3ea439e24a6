"""Issue acceptance on a 360-px phone: the Monday job has run; bob (township staff of 东岭街道)
finds the weekly report in his inbox, opens it, downloads the PDF and opens the report's page."""

from datetime import datetime

import pytest
from django.utils import timezone

from kaoping.conftest import browser_login
from kaoping.election.testing import election_world
from kaoping.reports.election import election_weekly_job
from kaoping.reports.models import Report

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_bob_opens_the_weekly_report_from_his_inbox(live_server, live_county, phone, shot):
    election_world(live_county)
    election_weekly_job(now=timezone.make_aware(datetime(2026, 10, 19, 7, 30)))
    report = Report.objects.get(region__code="330304001", label="2026-W42")

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/inbox/")
    no_sideways_scroll(phone)
    shot(phone, "1-inbox")
    phone.get_by_role("link", name=report.title).click()
    phone.wait_for_url("**/inbox/*/")
    assert report.title in phone.locator("h1").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "2-message")

    attachment = phone.locator("a[download]")
    with phone.expect_download() as download:
        attachment.click()
    assert download.value.suggested_filename.endswith(".pdf")
    response = phone.request.get(live_server.url + attachment.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # The message leads to the report's page, with its three files.
    phone.locator("main a.button").first.click()
    phone.wait_for_url(f"**/reports/{report.pk}/")
    assert phone.locator("#download-pdf").count() == 1
    assert phone.locator("#download-docx").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "3-report")
    response = phone.request.get(
        live_server.url + phone.locator("#download-pdf").get_attribute("href")
    )
    assert response.ok and response.headers["content-type"] == "application/pdf"

    # The reports list keeps the history: this week's report is there.
    phone.goto(f"{live_server.url}/reports/")
    assert report.title in phone.locator("main").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "4-history")
