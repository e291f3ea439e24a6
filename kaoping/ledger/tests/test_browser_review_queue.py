"""A reviewer on a 360-px phone filters the queue by scheme and approves what it shows."""

from datetime import date

import pytest
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entry_record
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load

from .ledger_fixture import GRID, HOUSEHOLD_SCHEME, add_reviewer, fill_grid, load_household_scheme

pytestmark = [pytest.mark.browser]


def test_reviewer_filters_by_scheme_and_approves_on_a_phone(live_server, live_county, phone, shot):
    county = live_county
    fill_grid(county, 6)
    points = load_household_scheme(county)
    civility = scheme_load(
        text=HOUSEHOLD_SCHEME.replace("code: hh", "code: civility").replace(
            "name: 农户积分", "name: 文明户评比"
        ),
        filename="civility.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )[0].scheme
    add_reviewer(county)
    subjects = Subject.objects.filter(kind="household", region__code=GRID).order_by("pk")[:3]
    with transaction.atomic():
        for subject in subjects:
            for scheme in (points, civility):
                entry_record(
                    scheme=scheme,
                    subject=subject,
                    item_code="CLEAN",
                    occurred_on=date(2026, 3, 5),
                    acting_user=county.users["dave"],
                    source="collected",
                )

    browser_login(phone, live_server, "rita")
    phone.goto(f"{live_server.url}/review/")
    assert phone.locator("input[name=entry]").count() == 6
    phone.select_option("select[name=scheme]", label="文明户评比")
    phone.fill("input[name=item]", "庭院")
    phone.click("form.filters button[type=submit]")
    phone.wait_for_url("**/review/?*scheme=civility*")
    rows = phone.locator("#review-form tbody tr")
    assert rows.count() == 3
    assert "文明户评比" in rows.first.inner_text()  # the scheme shows under the item on a phone
    assert "庭院整洁" in rows.first.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-filtered")

    phone.locator("thead input[type=checkbox]").check()
    phone.click("button[value=approve]")
    phone.wait_for_load_state()
    assert "3" in phone.locator(".messages").inner_text()
    shot(phone, "2-approved")
    approved = Entry.objects.filter(status="approved")
    assert set(approved.values_list("scheme__code", flat=True)) == {"civility"}
    assert approved.count() == 3
    assert Entry.objects.filter(scheme=points, status="submitted").count() == 3
