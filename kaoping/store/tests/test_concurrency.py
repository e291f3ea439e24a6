"""Many clients redeeming at once: never oversold, never overdrawn, never past a limit.

Each thread has its own database connection, as each web worker has. On PostgreSQL the
attempts really run in parallel (row locks and conditional updates decide). SQLite lets one
writer in at a time, so there the test only shows that the same code is correct when writes
queue; the full 200-client run needs PostgreSQL.
"""

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.tests.ledger_fixture import fill_grid
from kaoping.store import services
from kaoping.store.models import Account, Goods, Movement, Redemption, StockMove

from .fixture import GRID, add_keepers, earn, household_subjects, load_scheme, open_store

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers; run with DATABASE_URL=postgres://… for real parallelism",
)


def run_parallel(jobs: list[tuple[int, int, int]], threads: int) -> Counter:
    """Run (account id, goods id, quantity) attempts from `threads` clients started together."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    start = threading.Barrier(threads)
    outcomes: Counter = Counter()

    def client():
        try:
            start.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    account_id, goods_id, quantity = queue.pop()
                for _retry in range(100):
                    try:
                        account = Account.objects.select_related("scheme", "subject__region").get(
                            pk=account_id
                        )
                        goods = Goods.objects.select_related("store__region").get(pk=goods_id)
                        services.redemption_make(
                            account=account,
                            goods=goods,
                            quantity=quantity,
                            acting_user=system_actor(),
                            hand_over=True,
                        )
                        outcome = "redeemed"
                    except KaopingError:
                        outcome = "refused"  # sold out or not enough points
                    except OperationalError:  # SQLite: "table is locked"; a client retries
                        time.sleep(0.005)
                        continue
                    break
                else:
                    outcome = "gave up"
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=client) for _n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def assert_books_balance(goods: Goods) -> None:
    """Every balance and stock equals the sum of its rows, and none is negative."""
    for account in Account.objects.all():
        total = Movement.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or 0
        assert account.balance == total >= 0
    goods.refresh_from_db()
    moved = StockMove.objects.filter(goods=goods).aggregate(t=Sum("quantity"))["t"]
    assert goods.stock == moved >= 0


def _county_with_households(live_county, households: int):
    add_keepers(live_county)
    fill_grid(live_county, households)
    scheme = load_scheme(live_county)
    store, rice, _oil = open_store(live_county, stock=10)
    subjects = list(household_subjects(GRID[:12]).filter(region__code=GRID)[:households])
    for subject in subjects:
        earn(scheme, subject, "CLEAN", times=2)  # 20 points: two bags each
    return scheme, rice, list(Account.objects.filter(subject__in=subjects).order_by("pk"))


@on_postgresql
def test_200_parallel_attempts_on_the_last_10_items_redeem_exactly_10(live_county):
    _scheme, rice, accounts = _county_with_households(live_county, 40)
    assert len(accounts) == 40 and rice.stock == 10
    # 40 households, 5 attempts each, from 40 clients at once: 200 attempts on 10 bags.
    jobs = [(a.pk, rice.pk, 1) for _round in range(5) for a in accounts]
    started = time.monotonic()
    outcomes = run_parallel(jobs, threads=40)
    elapsed = time.monotonic() - started
    assert sum(outcomes.values()) == 200
    assert outcomes["redeemed"] == 10, outcomes
    assert Redemption.objects.count() == 10
    rice.refresh_from_db()
    assert rice.stock == 0
    assert_books_balance(rice)
    # Nobody got more than their balance allows (two bags).
    per_account = Counter(Redemption.objects.values_list("account_id", flat=True))
    assert max(per_account.values()) <= 2
    print(f"200 attempts from 40 clients in {elapsed:.2f} s: {dict(outcomes)}")


@on_postgresql
def test_one_household_cannot_overdraw_from_many_clients(live_county):
    _scheme, rice, accounts = _county_with_households(live_county, 1)
    services.stock_in(goods=rice, quantity=100, kind="purchase", acting_user=system_actor())
    (account,) = accounts  # 20 points: exactly two bags
    outcomes = run_parallel([(account.pk, rice.pk, 1)] * 60, threads=30)
    assert outcomes["redeemed"] == 2, outcomes
    account.refresh_from_db()
    assert account.balance == 0
    assert_books_balance(rice)


@on_postgresql
def test_a_limit_holds_against_parallel_requests_of_one_household(live_county):
    scheme, _rice, accounts = _county_with_households(live_county, 1)
    (account,) = accounts
    earn(scheme, account.subject, "BIG", times=2)  # 120 points; oil costs 25, limit 1 a window
    oil = Goods.objects.get(name="食用油")
    outcomes = run_parallel([(account.pk, oil.pk, 1)] * 30, threads=30)
    assert outcomes["redeemed"] == 1, outcomes
    account.refresh_from_db()
    assert account.balance == Decimal(95)


def test_parallel_clients_on_the_embedded_database_too(live_county):
    # A smaller run that also passes on SQLite, where writers queue behind each other.
    _scheme, rice, accounts = _county_with_households(live_county, 8)
    jobs = [(a.pk, rice.pk, 1) for _round in range(3) for a in accounts]  # 24 attempts
    outcomes = run_parallel(jobs, threads=8)
    assert outcomes["redeemed"] == 10, outcomes
    assert outcomes["gave up"] == 0
    assert_books_balance(rice)
