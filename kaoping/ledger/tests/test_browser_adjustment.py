"""bob, township staff, takes 2 points off 东岭村's year on a 360-px phone with the reason; once
approved and the year closed, the explanation of 东岭村's year lists the adjustment and its
reason (docs/schemes.md §9 “加减分怎样录入”)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.ledger.adjustments import ADJUST_CODE
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entries_review
from kaoping.periods.models import Result
from kaoping.periods.tests.scheme_fixture import village_subjects
from kaoping.schemes.services import scheme_load

from .test_adjustments import ADJUST, DONGLING, close_year

pytestmark = [pytest.mark.browser]

REASON = "发生安全事故"


def test_bob_takes_two_points_off_a_village_s_year(live_server, live_county, phone, shot):
    version, _created = scheme_load(
        text=ADJUST,
        filename="a.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    dongling = village_subjects(live_county)[DONGLING]
    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}{reverse('ledger:entry_new', args=[dongling.pk, scheme.code])}")
    form = phone.locator("#entry-form")
    quantity_label = phone.locator('label[for="id_quantity"]')
    before = quantity_label.inner_text()
    phone.select_option("#id_item_code", ADJUST_CODE)
    # The script picks the year, asks for the reason and says the value is points.
    assert phone.locator("#id_cadence").input_value() == "year"
    assert phone.locator("#id_note").evaluate("n => n.required") is True
    assert quantity_label.inner_text() != before
    assert quantity_label.inner_text().startswith(form.get_attribute("data-points-label"))
    phone.fill("#id_quantity", "-2")
    phone.fill("#id_note", REASON)
    no_sideways_scroll(phone)
    shot(phone, "1-form")
    phone.click("#entry-form button[type=submit]")
    phone.wait_for_url(f"**{reverse('periods:subject', args=[dongling.pk])}**")
    entry = Entry.objects.get()
    assert (entry.item_code, entry.cadence, entry.sign, entry.points, entry.note) == (
        ADJUST_CODE,
        "year",
        -1,
        Decimal(-2),
        REASON,
    )
    assert phone.locator(".adjust-points").first.get_attribute("data-points") == "-2"
    no_sideways_scroll(phone)
    shot(phone, "2-records")

    # alice approves it (nobody approves their own entry); the year is closed.
    entries_review(entry_ids=[entry.pk], decision="approve", acting_user=live_county.users["alice"])
    year = close_year(scheme, timezone.localdate().year)
    result = Result.objects.get(period=year, subject=dongling)
    assert year.version.to_points(result.total) == Decimal(-2)
    phone.goto(f"{live_server.url}{reverse('periods:explain', args=[year.pk, dongling.pk])}")
    line = phone.locator("#part-adjust")
    assert "-2" in line.inner_text()
    adjustment = line.locator(".adjustment-entry")
    assert adjustment.count() == 1
    assert adjustment.locator(".adjust-reason").inner_text() == REASON
    no_sideways_scroll(phone)
    shot(phone, "3-explain")
