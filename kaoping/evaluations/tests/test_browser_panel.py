"""集中评比 live, on 360-px phones: bob chairs the session, carol scores two contestants on her
phone, bob's board shows it at its next poll, bob closes and the screen in the room — open on a
projector all along — turns from progress into the standing without a reload."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.evaluations.models import Ballot, BallotChannel, RoundStatus
from kaoping.evaluations.panel import panel_contestants
from kaoping.evaluations.testing import evaluation_world

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page, width=360):
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"page is {scrolled}px wide"


def cast(round_, subject, user, score):
    Ballot.objects.create(
        round=round_,
        subject=subject,
        rater_key=f"user:{user.pk}",
        channel=BallotChannel.ACCOUNT,
        rater_user=user,
        marks={"show": str(score)},
        mark=Decimal(score),
    )


def test_a_live_panel_from_the_phones_to_the_screen(live_server, live_county, browser, phone, shot):
    world = evaluation_world(live_county)
    panel = world.panel
    bob, carol, clara = (live_county.users[n] for n in ("bob", "carol", "clara"))
    panel.judges.add(clara)  # a third judge: the trimmed mean needs three ballots
    order = list(panel_contestants(panel))  # 刘芳, 张伟, 李秀英, 王建国 (东岭村), 赵强 (西溪村)
    marks = zip(order, (80, 70, 65, 75, 85), (60, 95, 66, 76, 86), strict=True)
    for subject, by_bob, by_clara in marks:
        cast(panel, subject, bob, by_bob)
        cast(panel, subject, clara, by_clara)

    # The chair's board: ten of fifteen scores in, carol's column empty.
    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}{reverse('evaluations:panel', args=[panel.pk])}")
    board = phone.locator("#panel-board")
    assert board.get_attribute("data-scored") == "10" and board.get_attribute("data-due") == "15"
    assert phone.locator("#panel-grid tbody tr").count() == 5
    assert phone.locator("#panel-grid td.cell-todo").count() == 5
    no_sideways_scroll(phone)
    shot(phone, "1-chair-board")

    # The screen in the room, on a projector: progress only, no mark.
    projector = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
    screen = projector.new_page()
    browser_login(screen, live_server, "bob")
    screen.goto(f"{live_server.url}{reverse('evaluations:screen', args=[panel.pk])}")
    assert screen.locator("#panel-progress li").count() == 5
    assert screen.locator("#panel-standing").count() == 0
    assert "2/3" in screen.locator(f"#panel-progress li[data-subject='{order[0].pk}']").inner_text()
    shot(screen, "2-screen-open")

    # Carol's phone: the first contestant first; after each score, the next.
    carols = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", device_scale_factor=2
    )
    try:
        mine = carols.new_page()
        browser_login(mine, live_server, "carol")
        mine.goto(f"{live_server.url}{reverse('evaluations:judge', args=[panel.pk])}")
        assert mine.locator("#judge-current").get_attribute("data-subject") == str(order[0].pk)
        no_sideways_scroll(mine)
        shot(mine, "3-carol-first")
        mine.fill("#score-form input[name=q_show]", "88")
        mine.click("#score-submit")
        mine.wait_for_selector(f"#judge-current[data-subject='{order[1].pk}']")
        mine.fill("#score-form input[name=q_show]", "72")
        mine.click("#score-submit")
        mine.wait_for_selector(f"#judge-current[data-subject='{order[2].pk}']")
        assert mine.locator("#judge-scored tbody tr").count() == 2
        scored = mine.locator("#judge-scored").inner_text()
        assert "88.00" in scored and "72.00" in scored
        assert "80" not in scored and "95" not in scored  # the other judges' marks are not hers
        no_sideways_scroll(mine)
        shot(mine, "4-carol-two-scored")
    finally:
        carols.close()

    # Bob's board catches up at its next poll (every 3 s), without a reload.
    phone.wait_for_selector("#panel-board[data-scored='12']", timeout=10_000)
    row = phone.locator(f"#panel-grid tr[data-subject='{order[1].pk}']")
    assert row.get_attribute("data-scored") == "3"
    assert phone.locator("#panel-grid td.cell-todo").count() == 3
    shot(phone, "5-chair-board-updated")

    # Three scores are missing: bob closes anyway and lands on the screen.
    phone.check("#close-anyway")
    phone.click("#close-button")
    phone.wait_for_selector("#panel-standing")
    assert phone.url.endswith(reverse("evaluations:screen", args=[panel.pk]))
    panel.refresh_from_db()
    assert panel.status == RoundStatus.CLOSED
    ranked = phone.locator("#panel-standing tbody tr:not(.short)")
    assert ranked.count() == 2
    # Trimmed means: 刘芳 60·80·88 → 80, 张伟 70·72·95 → 72; the rest had two ballots.
    assert ranked.nth(0).get_attribute("data-subject") == str(order[0].pk)
    assert ranked.nth(0).get_attribute("data-value") == "80.00"
    assert ranked.nth(1).get_attribute("data-value") == "72.00"
    assert phone.locator("#panel-standing tbody tr.short").count() == 3
    assert phone.locator("#panel-rule").inner_text().strip()
    no_sideways_scroll(phone)
    shot(phone, "6-standing-phone")

    # The projector's screen turns to the standing at its next poll.
    try:
        screen.wait_for_selector("#panel-standing", timeout=10_000)
        assert screen.locator("#panel-standing tbody tr").count() == 5
        assert screen.locator("#panel-screen").get_attribute("data-state") == "closed"
        shot(screen, "7-screen-standing")
    finally:
        projector.close()
