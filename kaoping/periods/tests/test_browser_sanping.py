"""The explanation of a party member's 三评 on a 360-px phone: the quarter's entry names its
evaluation and its ballots, the year shows its three weighted pools."""

from decimal import Decimal

import pytest

from kaoping.conftest import browser_login
from kaoping.evaluations.models import RoundResult

from .test_sanping import build_year

pytestmark = [pytest.mark.browser]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_explain_shows_the_pools_on_a_phone(live_server, live_county, phone, shot):
    year = build_year(live_county)
    world = year.world
    RoundResult.objects.create(
        round=world.masses,
        subject=world.subject,
        value=Decimal("4.2"),
        ballots=31,
        eligible=40,
        valid=True,
        entry=year.masses_entry,
    )
    browser_login(phone, live_server, "carol")

    phone.goto(f"{live_server.url}/periods/{year.quarters[0].pk}/explain/{world.subject.pk}/")
    shown = phone.locator("#node-PY02 .evaluation").inner_text()
    assert world.masses.name in shown and "4.20" in shown and "31" in shown
    assert fits(phone)
    shot(phone, "1-quarter")

    phone.goto(f"{live_server.url}/periods/{year.total.pk}/explain/{world.subject.pk}/")
    assert "76.42" in phone.locator(".stats").inner_text()
    assert "82.67" in phone.locator("#part-month").inner_text()
    assert "40%" in phone.locator("#part-month").inner_text()
    assert "81.5" in phone.locator("#part-half_year").inner_text()
    assert fits(phone)
    shot(phone, "2-year")
