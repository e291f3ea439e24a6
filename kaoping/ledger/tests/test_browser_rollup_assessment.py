"""carol records 东岭村's year-end assessment on a 360-px phone: the form offers the year's own
assessment beside the month of the date, and the subject's records mark the entry as the year's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.ledger.models import Entry
from kaoping.periods.tests.scheme_fixture import village_subjects
from kaoping.schemes.services import scheme_load

from .test_rollup_assessments import DONGLING, YEAR_END

pytestmark = [pytest.mark.browser]


def test_carol_records_the_year_end_assessment(live_server, live_county, phone, shot):
    version, _created = scheme_load(
        text=YEAR_END,
        filename="y.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    dongling = village_subjects(live_county)[DONGLING]
    browser_login(phone, live_server, "carol")
    phone.goto(
        f"{live_server.url}{reverse('ledger:entry_new', args=[dongling.pk, version.scheme.code])}"
    )
    level = phone.locator("#id_cadence")
    assert level.locator("option").all_inner_texts() == ["本期（月度）", "年度本级考核"]
    phone.select_option("#id_item_code", "Y1")
    phone.fill("#id_quantity", "86.5")
    phone.fill("#id_occurred_on", (timezone.localdate() - timedelta(days=1)).isoformat())
    level.select_option("year")
    no_sideways_scroll(phone)
    shot(phone, "1-form")
    phone.click("#entry-form button[type=submit]")
    phone.wait_for_url(f"**{reverse('periods:subject', args=[dongling.pk])}**")
    entry = Entry.objects.get()
    assert (entry.item_code, entry.cadence) == ("Y1", "year")
    assert "年度考核" in phone.locator(".entry-level").first.inner_text()
    no_sideways_scroll(phone)
    shot(phone, "2-records")
