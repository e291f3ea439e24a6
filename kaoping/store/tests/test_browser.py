"""The acceptance path on a 360-px phone: a household earns points, sees them, asks for goods
inside the redemption window; the keeper scans the household's card and hands them over; stock
and balance move once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kaoping.conftest import browser_login
from kaoping.ledger.services import entries_review, entry_record
from kaoping.store.models import Account, Movement, Redemption, RedemptionStatus, StockMove

from .fixture import add_keepers, erin_subject, load_scheme, open_store

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_earn_see_request_and_collect_by_qr_code(live_server, live_county, phone, shot):
    county = live_county
    add_keepers(county)
    scheme = load_scheme(county)
    _store, rice, _oil = open_store(county)
    subject = erin_subject(county)

    # A grid member records a good deed; the review group approves it: 50 points.
    entry, _ = entry_record(
        scheme=scheme,
        subject=subject,
        item_code="BIG",
        occurred_on=timezone.localdate(),
        acting_user=county.users["dave"],
        source="collected",
        note="雨夜帮邻居抢收稻谷",
    )
    entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["rita"])

    # The household sees the points on its phone.
    browser_login(phone, live_server, "erin")
    phone.click("summary:has-text('菜单')")
    phone.click("nav >> text=我的积分")
    phone.wait_for_url("**/my/points/")
    assert phone.locator("#balance-amount").inner_text() == "50"
    assert "见义勇为" in phone.locator("#history").inner_text()
    assert "雨夜帮邻居抢收稻谷" in phone.locator("#history").inner_text()
    assert no_sideways_scroll(phone)

    # Large text for older eyes: bigger letters, taps of at least 52 px.
    phone.click("#text-size")
    phone.wait_for_selector(".kp-large")
    ask = phone.locator(f"li[data-goods='{rice.pk}'] button")
    assert ask.bounding_box()["height"] >= 52
    assert phone.locator("#text-size").bounding_box()["height"] >= 52
    assert no_sideways_scroll(phone)

    # It asks for a bag of rice inside the redemption window.
    ask.click()
    phone.wait_for_url("**/my/points/**")
    assert "已申请兑换" in phone.locator(".messages").inner_text()
    assert "大米" in phone.locator("#requests").inner_text()
    assert phone.locator("#balance-amount").inner_text() == "40"

    # The keeper scans the card: the QR code opens this URL on the keeper's phone.
    account = Account.objects.get(subject=subject)
    shot(phone, "1-before-next-login")
    browser_login(phone, live_server, "kim")
    phone.goto(f"{live_server.url}/store/keeper/card/{account.card_number}/")
    assert phone.locator("#household-name").inner_text() == subject.name
    assert no_sideways_scroll(phone)
    phone.click("#requests button.complete")
    phone.wait_for_load_state()
    assert "已交付" in phone.locator(".messages").inner_text()
    # A second tap (a stale page, a double tap) changes nothing.
    redemption = Redemption.objects.get()
    phone.evaluate(
        """id => fetch(`/store/redemptions/${id}/complete/`, {method: "POST",
            headers: {"X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value}})""",
        redemption.pk,
    )

    redemption.refresh_from_db()
    account.refresh_from_db()
    rice.refresh_from_db()
    assert redemption.status == RedemptionStatus.COMPLETED
    assert (account.balance, rice.stock) == (Decimal(40), 9)
    assert Movement.objects.filter(redemption=redemption).count() == 1
    assert StockMove.objects.filter(redemption=redemption).count() == 1
    shot(phone, "2-end")


def test_older_points_history_a_page_at_a_time(live_server, live_county, phone, shot):
    """The phone page lists the latest movements; the household reads older ones on a page of
    their own, and comes back."""
    from .fixture import account_of, earn

    county = live_county
    scheme = load_scheme(county)
    subject = erin_subject(county)
    earn(scheme, subject, "CLEAN", times=24)
    earn(scheme, subject, "BIG")  # the newest
    account = account_of(scheme, subject)

    browser_login(phone, live_server, "erin")
    phone.goto(f"{live_server.url}/my/points/")
    rows = phone.locator("#history ul.history > li")
    assert rows.count() == 20
    assert "见义勇为" in rows.first.inner_text()
    shot(phone, "1-phone-page")

    phone.click("#history-older")
    phone.wait_for_url(f"**/my/points/history/?account={account.pk}")
    assert phone.locator("h1").inner_text() == "积分明细"
    assert (
        phone.locator("#history ul.history > li").count()
        == Movement.objects.filter(account=account).count()
    )
    assert no_sideways_scroll(phone)
    shot(phone, "2-history")

    phone.click("text=‹ 我家的积分")
    phone.wait_for_url("**/my/points/")
    assert phone.locator("#balance-amount").is_visible()
