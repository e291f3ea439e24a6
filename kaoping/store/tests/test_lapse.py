"""Yearly clearing and expiry, first in first out, by the scheme's `account:` policy."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.schemes.spec import AccountPolicy
from kaoping.store import services
from kaoping.store.models import Movement, MovementKind
from kaoping.store.services import lapse_cutoff

from .fixture import SCHEME, account_of, add_keepers, earn, erin_subject, load_scheme, open_store

pytestmark = pytest.mark.django_db


def test_cutoffs():
    clear = AccountPolicy(clear_on="01-10")
    assert lapse_cutoff(clear, date(2026, 3, 1)) == (date(2026, 1, 10), "clear")
    assert lapse_cutoff(clear, date(2026, 1, 9)) == (date(2025, 1, 10), "clear")
    expire = AccountPolicy(expire_months=12)
    assert lapse_cutoff(expire, date(2026, 3, 31)) == (date(2025, 3, 31), "expire")
    assert lapse_cutoff(AccountPolicy(expire_months=1), date(2026, 3, 31)) == (
        date(2026, 2, 28),
        "expire",
    )
    both = AccountPolicy(clear_on="01-10", expire_months=6)
    assert lapse_cutoff(both, date(2026, 3, 1)) == (date(2026, 1, 10), "clear")
    assert lapse_cutoff(both, date(2026, 9, 1)) == (date(2026, 3, 1), "expire")
    assert lapse_cutoff(AccountPolicy(), date(2026, 3, 1)) is None


def _backdate(account, day: date) -> None:
    Movement.objects.filter(account=account, kind=MovementKind.CREDIT).update(effective_on=day)


def test_clearing_takes_what_was_credited_before_the_day_first_in_first_out(county):
    scheme = load_scheme(
        county, SCHEME.replace("spendable: true", 'spendable: true\n  clear_on: "01-10"')
    )
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")  # 50, credited "last year"
    account = account_of(scheme, subject)
    _backdate(account, date(2025, 12, 20))
    earn(scheme, subject, "CLEAN")  # 10, credited after the clearing day
    Movement.objects.filter(account=account, entry__item_code="CLEAN").update(
        effective_on=date(2026, 1, 15)
    )
    today = date(2026, 1, 20)
    assert services.accounts_lapse(today=today, acting_user=system_actor()) == {"hh-store": 1}
    account.refresh_from_db()
    assert account.balance == Decimal(10)
    assert account.earned == Decimal(60)  # the honour total stays
    cleared = Movement.objects.get(kind=MovementKind.CLEAR)
    assert (cleared.amount, cleared.note) == (Decimal(-50), "2026-01-10")
    assert services.accounts_lapse(today=today, acting_user=system_actor()) == {"hh-store": 0}


def test_spent_points_are_the_oldest_ones(county):
    add_keepers(county)
    scheme = load_scheme(
        county, SCHEME.replace("spendable: true", "spendable: true\n  expire_months: 12")
    )
    _store, rice, _oil = open_store(county)
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")  # 50 old
    account = account_of(scheme, subject)
    _backdate(account, date(2024, 6, 1))
    earn(scheme, subject, "CLEAN", times=2)  # 20 recent
    services.redemption_make(
        account=account, goods=rice, quantity=3, acting_user=county.users["kim"], hand_over=True
    )  # 30 spent: from the old 50
    services.accounts_lapse(today=timezone.localdate(), acting_user=system_actor())
    account.refresh_from_db()
    # 50 old − 30 spent = 20 old left to expire; the 20 recent stay.
    assert account.balance == Decimal(20)
    assert Movement.objects.get(kind=MovementKind.EXPIRE).amount == Decimal(-20)


def test_points_refunded_after_they_lapsed_lapse_again(county):
    add_keepers(county)
    scheme = load_scheme(
        county, SCHEME.replace("spendable: true", "spendable: true\n  expire_months: 12")
    )
    _store, rice, _oil = open_store(county)
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")
    account = account_of(scheme, subject)
    _backdate(account, date(2024, 6, 1))
    redemption, _ = services.redemption_make(
        account=account, goods=rice, quantity=2, acting_user=county.users["kim"], hand_over=True
    )
    services.accounts_lapse(today=timezone.localdate(), acting_user=system_actor())
    account.refresh_from_db()
    assert account.balance == 0
    services.redemption_cancel(
        redemption=redemption, acting_user=county.users["kim"], reason="退货"
    )
    account.refresh_from_db()
    assert account.balance == Decimal(20)
    services.accounts_lapse(today=timezone.localdate(), acting_user=system_actor())
    account.refresh_from_db()
    assert account.balance == 0


def test_the_daily_command(county):
    from io import StringIO

    from django.core.management import call_command

    scheme = load_scheme(
        county, SCHEME.replace("spendable: true", 'spendable: true\n  clear_on: "01-10"')
    )
    subject = erin_subject(county)
    from kaoping.ledger.services import entry_record

    entry_record(
        scheme=scheme,
        subject=subject,
        item_code="BIG",
        occurred_on=date(2026, 1, 2),
        acting_user=system_actor(),
        source="department",
    )
    out = StringIO()
    call_command("store_daily", "--today", "2027-01-11", stdout=out)
    assert "credited 1 entries" in out.getvalue()
    assert "hh-store: 1 accounts cleared or expired" in out.getvalue()
    assert account_of(scheme, subject).balance == 0
    out = StringIO()
    call_command("store_reconcile", stdout=out)
    assert "0 entries credited" in out.getvalue()
