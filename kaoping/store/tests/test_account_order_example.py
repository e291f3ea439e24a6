"""The worked example of docs/schemes.md §16 (account-order-example): base, deduction order,
suspension with held credits, the reset, and spending that lowers the score, written through
the services households, scorers and keepers use."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entry_record, ledger_seal
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.schemes.calendar import label_for
from kaoping.store import services
from kaoping.store.models import Account, Goods, Movement, MovementKind

from .fixture import add_keepers, erin_subject, load_scheme, open_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county, django_capture_on_commit_callbacks):
    add_keepers(county)
    scheme = load_scheme(county, docs_example("account-order-example"))
    _store, rice, _oil = open_store(county, stock=10, price="20")
    subject = erin_subject(county)
    services.accounts_open(scheme=scheme, acting_user=system_actor(), subject_ids=[subject.pk])
    account = Account.objects.get(scheme=scheme, subject=subject)

    def record(item: str, times: int = 1) -> None:
        # Approved at once (auto_approve: department); the ledger announces it on commit and
        # the store's receiver credits it, as in production.
        for _n in range(times):
            with django_capture_on_commit_callbacks(execute=True):
                entry_record(
                    scheme=scheme,
                    subject=subject,
                    item_code=item,
                    occurred_on=timezone.localdate(),
                    acting_user=system_actor(),
                    source="department",
                )

    def redeem():
        with django_capture_on_commit_callbacks(execute=True):
            return services.redemption_make(
                account=account, goods=rice, acting_user=county.users["kim"], hand_over=True
            )[0]

    return scheme, account, rice, record, redeem


def balances(account) -> tuple:
    account.refresh_from_db()
    return account.balance, account.base, account.held, account.excluded_until


def test_the_account_order_example_keeps_its_stated_balances(world):
    scheme, account, rice, record, redeem = world
    today = timezone.localdate()
    next_reset = date(today.year + 1, 1, 1)
    assert balances(account) == (0, 100, 0, None)
    record("HELP", 3)
    assert balances(account) == (30, 100, 0, None)
    redemption = redeem()
    assert balances(account) == (10, 100, 0, None)
    spent = Entry.objects.get(pk=redemption.spend_entry_id)
    assert (spent.item_code, spent.quantity, spent.points) == ("XF01", 20, -20)
    record("FIGHT")
    assert balances(account) == (0, 50, 0, None)
    record("FIGHT")
    assert balances(account) == (0, 0, 0, next_reset)
    record("HELP")
    assert balances(account) == (0, 0, 10, next_reset)
    entries = Entry.objects.count()
    with pytest.raises(KaopingError) as refused:
        redeem()
    assert next_reset.isoformat() in str(refused.value)
    assert Entry.objects.count() == entries
    assert Goods.objects.get(pk=rice.pk).stock == 9
    assert balances(account) == (0, 0, 10, next_reset)
    account.refresh_from_db()
    assert account.earned == Decimal("-80")  # the honour total follows the score, not spending

    # The month closes at 40 − 120 − 20: the redemption lowered the score.
    period = period_open(scheme=scheme, label=label_for("month", today), acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    result = Result.objects.get(period=period, subject=account.subject)
    assert scheme.latest_version().to_points(result.total) == -100

    # The reset on 1 January: the base again, redemption again, the held 10 lapse.
    assert services.accounts_reset(today=next_reset, acting_user=system_actor()) == 1
    assert balances(account) == (0, 100, 0, None)
    reset = Movement.objects.filter(account=account, kind=MovementKind.RESET).first()
    assert (reset.base_change, reset.held_change) == (100, -10)
    assert services.accounts_reset(today=next_reset, acting_user=system_actor()) == 0


def test_a_cancelled_redemption_reverses_its_entry(world, county):
    scheme, account, rice, record, redeem = world
    record("HELP", 3)
    redemption = redeem()
    services.redemption_cancel(
        redemption=redemption, acting_user=county.users["kim"], reason="退货"
    )
    reversal = Entry.objects.get(reverses_id=redemption.spend_entry_id)
    assert (reversal.sign, reversal.item_code) == (-1, "XF01")
    assert balances(account) == (30, 100, 0, None)
    # Neither the spending nor its reversal moved the account.
    assert not Movement.objects.filter(entry__item_code="XF01").exists()


def test_a_redemption_that_fails_leaves_no_entry_and_no_change(world, county):
    scheme, account, rice, record, redeem = world
    record("HELP", 3)
    today = timezone.localdate()
    ledger_seal(scheme=scheme, start=today, end=today, reason="本月已定稿")
    entries = Entry.objects.count()
    with pytest.raises(KaopingError):
        redeem()
    assert Entry.objects.count() == entries
    assert balances(account) == (30, 100, 0, None)
    assert Goods.objects.get(pk=rice.pk).stock == 10
    assert not account.redemptions.exists()
