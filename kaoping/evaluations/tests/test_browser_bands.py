"""群众测评 scored by bands, on a 360-px phone: alice closes the masses round, which stores each
result as the quarter's figure; once the quarter is closed, 王建国's explanation shows the 90-point
band with the round and its ballots behind it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.evaluations.models import Ballot, BallotChannel, RoundStatus
from kaoping.evaluations.testing import banded_masses, evaluation_world
from kaoping.ledger.models import Entry, MetricValue
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.calendar import labels_within, period_dates

pytestmark = [pytest.mark.browser]


def test_a_banded_masses_round_scores_by_its_band(live_server, live_county, phone, shot):
    world = evaluation_world(live_county)
    scheme = banded_masses(live_county)
    masses, wang = world.masses, world.subject
    for n, mark in enumerate(("5", "3")):  # 4.00: the band 4 ≤ x < 4.5, 90 points
        Ballot.objects.create(
            round=masses,
            subject=wang,
            rater_key=f"household:test-{n}",
            channel=BallotChannel.CODE,
            marks={"service": "满意" if mark == "5" else "基本满意"},
            mark=Decimal(mark),
        )

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('evaluations:round', args=[masses.pk])}")
    assert "分档" in phone.locator("#close").inner_text()  # what closing will do, in Chinese
    no_sideways_scroll(phone)
    shot(phone, "1-round")
    if phone.locator("#close-early").count():
        phone.check("#close-early")
    phone.click("#close-round button[type=submit]")
    phone.wait_for_selector("#results")
    masses.refresh_from_db()
    assert masses.status == RoundStatus.CLOSED
    assert not Entry.objects.filter(source="evaluation").exists()
    assert MetricValue.objects.get(subject=wang, metric="masses_rating").value == Decimal("4")
    row = phone.locator(f"#results-table tr[data-subject='{wang.pk}']")
    assert "4.00" in row.inner_text() and row.locator(".entry-link").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "2-results")

    start, end = period_dates("quarter", masses.period_label)
    for label in (*labels_within("month", start, end), masses.period_label):
        period = period_open(scheme=scheme, label=label, acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
    phone.goto(f"{live_server.url}{reverse('periods:explain', args=[period.pk, wang.pk])}")
    node = phone.locator("#node-PY02")
    assert "群众测评 4.00（2 票）" in node.inner_text()
    assert node.locator("td.num").inner_text().strip() in ("90", "90.00")
    assert node.locator(f"a[href='{reverse('evaluations:round', args=[masses.pk])}']").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "3-explain")
