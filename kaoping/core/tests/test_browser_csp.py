"""Under the Content-Security-Policy the pages' own scripts still run: a nonce'd inline script,
HTMX, and the behaviours that replaced inline handlers; the browser reports no violation."""

from datetime import date

import pytest
from django.db import transaction

from kaoping.conftest import browser_login
from kaoping.ledger.services import entry_record
from kaoping.ledger.tests.ledger_fixture import (
    GRID,
    add_reviewer,
    fill_grid,
    load_household_scheme,
)
from kaoping.people.models import Subject

pytestmark = [pytest.mark.browser]


def test_console_scripts_run_and_nothing_is_blocked(live_server, live_county, phone):
    county = live_county
    fill_grid(county, 3)
    scheme = load_household_scheme(county)
    add_reviewer(county)
    subjects = list(Subject.objects.filter(kind="household", region__code__startswith=GRID))[:3]
    with transaction.atomic():
        for subject in subjects:
            entry_record(
                scheme=scheme,
                subject=subject,
                item_code="CLEAN",
                occurred_on=date(2026, 3, 5),
                acting_user=county.users["dave"],
            )
    violations = []
    phone.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    browser_login(phone, live_server, "rita")
    phone.goto(f"{live_server.url}/review/")
    boxes = phone.locator("input[name=entry]")
    assert boxes.count() == 3
    phone.locator("input[data-check-all=entry]").check()
    assert all(boxes.nth(i).is_checked() for i in range(3))
    assert phone.evaluate("typeof htmx") == "object"

    browser_login(phone, live_server, "dave")
    phone.goto(f"{live_server.url}/subjects/{subjects[0].pk}/record/{scheme.code}/")
    phone.wait_for_load_state("networkidle")
    assert violations == []
