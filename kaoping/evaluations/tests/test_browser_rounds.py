"""A round on a 360-px phone: alice opens this month's branch evaluation from the evaluations'
home, the committee's ballots come in, she closes the round and reads the results with their
honesty signals."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.evaluations.models import Ballot, BallotChannel, Round, RoundStatus
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import Entry
from kaoping.people.models import Subject

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_alice_opens_and_closes_a_branch_round(live_server, live_county, phone, shot):
    world = evaluation_world(live_county)
    world.branch.delete()  # alice opens this month's herself
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('evaluations:home')}")
    assert phone.locator("#open-rounds tbody tr").count() == 3
    no_sideways_scroll(phone)
    shot(phone, "1-home")

    phone.click(f"#plans a[data-plan='{world.plan.pk}']")
    phone.wait_for_selector("#open-round")
    phone.wait_for_load_state("load")  # rounds.js listens for the choice once the page has loaded
    # Choosing the campaign reloads the form for it (rounds.js): judges for a panel alone.
    with phone.expect_navigation():
        phone.select_option("#id_campaign", "panel")
    assert "campaign=panel" in phone.url and phone.locator("#panel-fields").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "2-open-form-panel")
    with phone.expect_navigation():
        phone.select_option("#id_campaign", "branch")
    assert "campaign=branch" in phone.url and phone.locator("#panel-fields").count() == 0
    no_sideways_scroll(phone)
    shot(phone, "2-open-form")
    phone.click("#open-round button[type=submit]")
    phone.wait_for_selector("#so-far")
    round_ = Round.objects.get(campaign="branch")
    assert phone.url.endswith(reverse("evaluations:round", args=[round_.pk]))
    assert phone.locator("#ballots-total").inner_text() == "0"

    # The committee rates: carol gives everyone she rates a 5, clara rates one member.
    person = live_county.persons
    wang, li, zhang = (
        Subject.objects.get(kind="party_member", person=person[n])
        for n in ("王建国", "李秀英", "张伟")
    )
    carol, clara = live_county.users["carol"], live_county.users["clara"]
    for subject, user, mark in (
        (wang, carol, "5"),
        (li, carol, "5"),
        (zhang, carol, "5"),
        (wang, clara, "4"),
    ):
        Ballot.objects.create(
            round=round_,
            subject=subject,
            rater_key=f"user:{user.pk}",
            rater_user=user,
            channel=BallotChannel.ACCOUNT,
            marks={"role": "好", "duty": "好"},
            mark=Decimal(mark),
        )
    phone.reload()
    assert phone.locator("#ballots-total").inner_text() == "4"
    assert phone.locator("#response tbody tr").count() == 2  # 东岭村 and 西溪村
    no_sideways_scroll(phone)
    shot(phone, "3-open-round")

    # Days before its last day the round closes only with the tick.
    assert (
        phone.locator("#close").bounding_box()["y"] < phone.locator("#so-far").bounding_box()["y"]
    )
    phone.check("#close-early")
    phone.click("#close-round button[type=submit]")
    phone.wait_for_selector("#results")
    round_.refresh_from_db()
    assert round_.status == RoundStatus.CLOSED
    assert Entry.objects.filter(source="evaluation").count() == 3
    assert "4.50" in phone.locator(f"#results-table tr[data-subject='{wang.pk}']").inner_text()
    assert "5.00" in phone.locator("#results-table tbody tr").first.inner_text()  # best first
    assert phone.locator("#results-table .entry-link").count() == 3
    assert phone.locator("#results-table .flag-short").count() == 2  # 刘芳 and 赵强
    assert phone.locator("#signals #signal-short").count() == 1
    assert phone.locator("#signals #signal-straight").count() == 1  # carol: 5 for everyone
    fits = phone.evaluate(
        "() => { const t = document.querySelector('#results-table');"
        " return t.scrollWidth <= t.parentElement.clientWidth; }"
    )
    assert fits, "the results table is wider than its card"
    no_sideways_scroll(phone)
    shot(phone, "4-results")
