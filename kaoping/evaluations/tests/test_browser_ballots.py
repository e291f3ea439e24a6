"""Rating on a 360-px phone: a household scans its code (no account), rates 王建国 and sees the
thank-you state; carol, on the branch committee, rates him on her rating page."""

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.evaluations.models import Ballot, BallotChannel, RaterCode
from kaoping.evaluations.testing import evaluation_world

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_a_household_rates_by_its_code_and_carol_by_her_login(
    live_server, live_county, phone, shot
):
    world = evaluation_world(live_county)
    card = f"#s{world.subject.pk}"
    code = RaterCode.objects.get(
        round=world.masses, household=live_county.persons["张伟"].household
    )

    # No account: the phone opens the link its QR code carries.
    phone.goto(f"{live_server.url}{reverse('evaluations:code', args=[code.code])}")
    assert phone.locator(f"{card} .subject-name").inner_text() == "王*国"
    assert "东岭村党支部" in phone.locator(f"{card} .who").inner_text()
    assert phone.locator("#thanks").count() == 0
    no_sideways_scroll(phone)
    shot(phone, "1-code-page")

    phone.check(f"{card} input[type=radio][value='满意']")
    phone.click(f"{card} button[type=submit]")
    phone.wait_for_selector("#thanks")
    ballot = Ballot.objects.get()
    assert (ballot.channel, ballot.rater_household_id) == (BallotChannel.CODE, code.household_id)
    assert ballot.mark == 5
    assert phone.locator(f"{card} form").count() == 0
    assert phone.locator(f"{card}.done").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "2-thanks")

    # carol rates the members of her branch with her login.
    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}{reverse('evaluations:rate', args=[world.branch.pk])}")
    assert phone.locator(".rate-card").count() == 4
    assert phone.locator(f"{card} .subject-name").inner_text() == "王建国"
    no_sideways_scroll(phone)
    shot(phone, "3-rate-page")

    phone.check(f"{card} input[name$='q_role'][value='好']")
    phone.check(f"{card} input[name$='q_duty'][value='较好']")
    phone.click(f"{card} button[type=submit]")
    phone.wait_for_selector("#just-rated")
    # The page lands on the next card, its name and the thanks below the sticky bar, in view.
    bar = phone.evaluate("document.querySelector('.topbar').getBoundingClientRect().bottom")
    top = phone.evaluate("document.querySelector('#just-rated').getBoundingClientRect().top")
    assert bar <= top < 640, (bar, top)
    shot(phone, "4-landed")
    assert "4.50" in phone.locator(f"{card} .done-mark").inner_text()
    assert Ballot.objects.get(rater_user=live_county.users["carol"]).mark == 4.5
    assert phone.locator("#progress").inner_text().replace(" ", "").endswith("1/4")
    no_sideways_scroll(phone)
    shot(phone, "5-rated")


def test_carol_prints_the_codes_and_types_in_paper_ballots(live_server, live_county, phone, shot):
    world = evaluation_world(live_county)
    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}{reverse('evaluations:codes_villages', args=[world.masses.pk])}")
    phone.click("#villages a")
    phone.wait_for_selector("#code-sheet")
    assert phone.locator(".code-card svg").count() == 2
    no_sideways_scroll(phone)
    shot(phone, "1-sheet")
    phone.emulate_media(media="print")
    columns = phone.evaluate(
        "getComputedStyle(document.querySelector('#code-sheet')).gridTemplateColumns"
    )
    assert len(columns.split()) == 3
    assert phone.locator(".topbar").is_hidden()
    phone.emulate_media(media="screen")

    phone.goto(f"{live_server.url}{reverse('evaluations:paper', args=[world.mutual.pk])}")
    # Her one village is chosen; then whom in it.
    phone.select_option("#choose-subject select", str(world.subject.pk))
    phone.click("#choose-subject button")
    phone.wait_for_selector("#paper-form")
    codes = {
        name: RaterCode.objects.get(round=world.mutual, person=live_county.persons[name]).code
        for name in ("李秀英", "张伟")
    }
    phone.fill("fieldset[data-row='1'] .code-input", codes["李秀英"].lower())
    phone.fill("fieldset[data-row='1'] input[type=number]", "4.5")
    phone.fill("fieldset[data-row='2'] .code-input", codes["张伟"])
    phone.fill("fieldset[data-row='2'] input[type=number]", "8")
    phone.click("#save-paper")
    phone.wait_for_selector("fieldset.paper-row.bad[data-row='2'] .row-error")
    assert phone.locator("#row-errors-note li").count() == 1
    assert not Ballot.objects.exists()
    no_sideways_scroll(phone)
    shot(phone, "2-paper-error")
    phone.fill("fieldset[data-row='2'] input[type=number]", "3")
    phone.click("#save-paper")
    phone.wait_for_selector(".messages li")
    assert sorted(Ballot.objects.values_list("mark", flat=True)) == [3, 4.5]
    assert set(Ballot.objects.values_list("channel", flat=True)) == {BallotChannel.PAPER}
    no_sideways_scroll(phone)
    shot(phone, "3-paper-saved")

    # The audit role reads them one by one, the raters masked, on the same phone.
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('evaluations:ballots', args=[world.mutual.pk])}")
    assert phone.locator("#ballots tbody tr").count() == 2
    assert phone.locator("#scroll-hint").is_visible()
    no_sideways_scroll(phone)
    shot(phone, "4-ballots")
