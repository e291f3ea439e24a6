"""Opening a round on a 360-px phone: alice uploads a file with a mistake, sees the line it is
on, pastes the corrected text and lands on the round's page with its stages and versions."""

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.election.models import ElectionRound, PersonSheet, VillageFile
from kaoping.election.testing import ROUND_YAML, election_world
from kaoping.regions.models import Department

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_alice_opens_a_round_after_fixing_the_line_shown(live_server, live_county, phone, shot):
    Department.objects.create(county=live_county.region("330304"), code="D02", name="区信访局")
    mistaken = ROUND_YAML.replace("department: D02", "department: D09")
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('election:rounds')}")
    assert phone.locator("#rounds tbody tr").count() == 1  # the "none yet" row
    no_sideways_scroll(phone)
    shot(phone, "1-rounds")

    phone.set_input_files(
        "#open-round input[type=file]",
        files=[{"name": "ouhai.yaml", "mimeType": "application/yaml", "buffer": mistaken.encode()}],
    )
    phone.click("#open-round button[type=submit]")
    phone.wait_for_selector("#round-problems")
    problem = phone.locator("#round-problems li").inner_text()
    assert "ouhai.yaml" in problem and "第 10 行" in problem and "D09" in problem
    assert not ElectionRound.objects.exists()
    no_sideways_scroll(phone)
    shot(phone, "2-line-shown")

    phone.fill("#open-round textarea", ROUND_YAML)
    phone.click("#open-round button[type=submit]")
    phone.wait_for_selector("#stages")
    round_ = ElectionRound.objects.get()
    assert phone.url.endswith(reverse("election:round", args=[round_.pk]))
    assert round_.name in phone.locator("h1").inner_text()
    assert phone.locator("#stages tbody tr").count() == 4
    assert "区委政法委" in phone.locator("#conditions").inner_text()
    assert phone.locator("#versions tbody tr").count() == 1
    assert VillageFile.objects.filter(round=round_).count() == 3
    assert PersonSheet.objects.filter(round=round_).count() == 2
    no_sideways_scroll(phone)
    shot(phone, "3-round")

    phone.click("#versions a")
    assert "D02" in phone.locator("#version-text").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "4-version")


def test_bob_reads_the_round_and_its_format_on_a_phone(live_server, live_county, phone, shot):
    """A township's staff see the county's round read-only: the stage table fits the phone,
    names without codes, and the format's page is one tap away."""
    ew = election_world(live_county)
    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}{reverse('election:rounds')}")
    assert ew.round.name in phone.locator("#rounds").inner_text()
    assert phone.locator("#open-round").count() == 0
    phone.click(f"#rounds a:has-text('{ew.round.name}')")
    phone.wait_for_selector("#stages")
    assert phone.locator("#load-version, #close-round").count() == 0
    stages = phone.locator("#stages").inner_text()
    assert "选举日" in stages and "election_day" not in stages and stages.count("选举日") == 1
    conditions = phone.locator("#conditions").inner_text()
    assert "区委政法委" in conditions and "criminal" not in conditions and "D01" not in conditions
    fits = phone.evaluate(
        "() => { const t = document.querySelector('#stages');"
        " return t.scrollWidth <= t.parentElement.clientWidth; }"
    )
    assert fits, "the stage table is wider than its card"
    no_sideways_scroll(phone)
    shot(phone, "bob-round")

    phone.click("#format")
    phone.wait_for_selector("#format-doc")
    assert phone.locator("#format-doc h2").count() >= 7
    no_sideways_scroll(phone)
    shot(phone, "bob-format")
