"""On a 360-px phone: a household whose base points deductions used up is suspended (docs/
schemes.md §16, account-order-example); the keeper's counter refuses the redemption, naming
the day it ends, and the household's own page shows the suspension and the held points."""

from datetime import date

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.ledger.services import entry_record
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.store.models import Account, Redemption

from .fixture import add_keepers, erin_subject, load_scheme, open_store

pytestmark = [pytest.mark.browser]


def test_a_suspended_household_is_refused_at_the_counter(live_server, live_county, phone, shot):
    county = live_county
    add_keepers(county)
    scheme = load_scheme(county, docs_example("account-order-example"))
    _store, rice, _oil = open_store(county, price="20")
    subject = erin_subject(county)
    for item in ("HELP", "HELP", "HELP", "FIGHT", "FIGHT", "FIGHT", "HELP"):
        entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            occurred_on=timezone.localdate(),
            acting_user=system_actor(),
            source="department",
        )
    account = Account.objects.get(scheme=scheme, subject=subject)
    until = date(timezone.localdate().year + 1, 1, 1)
    assert (account.balance, account.base, account.held) == (0, 0, 10)
    assert account.excluded_until == until

    # The keeper scans the card, sees the suspension, tries anyway and is refused.
    browser_login(phone, live_server, "kim")
    phone.goto(f"{live_server.url}/store/keeper/card/{account.card_number}/")
    assert phone.locator("#suspended").get_attribute("data-until") == until.isoformat()
    assert f"{until.year}年1月1日" in phone.locator("#suspended").inner_text()
    assert phone.locator("#held-points b").inner_text() == "10"
    no_sideways_scroll(phone)
    shot(phone, "1-counter")
    phone.select_option("#id_goods", str(rice.pk))
    phone.click("#redeem-form button[type=submit]")
    phone.wait_for_load_state()
    assert until.isoformat() in phone.locator(".messages").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "2-refused")
    assert not Redemption.objects.exists()

    # The household's page: suspended until 1 January, base 0 of 100, 10 held, no request button.
    browser_login(phone, live_server, "erin")
    phone.goto(f"{live_server.url}/my/points/")
    assert f"{until.year}年1月1日" in phone.locator("#suspended").inner_text()
    assert phone.locator("#base-points b").inner_text() == "0"
    assert phone.locator("#held-points b").inner_text() == "10"
    assert phone.locator(".request-form").count() == 0
    assert until.isoformat() in phone.locator("#history").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "3-household")
