"""Redemptions: points and stock move once; windows, limits and the state machine hold."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.store import services
from kaoping.store.models import (
    Movement,
    MovementKind,
    Redemption,
    RedemptionStatus,
    RedemptionWindow,
    StockKind,
    StockMove,
)

from .fixture import account_of, add_keepers, earn, erin_subject, load_scheme, open_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(county):
    add_keepers(county)
    scheme = load_scheme(county)
    store, rice, oil = open_store(county)
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")  # 50 points
    return scheme, store, rice, oil, account_of(scheme, subject)


def state(account, goods):
    account.refresh_from_db()
    goods.refresh_from_db()
    return account.balance, goods.stock


def test_request_then_hand_over_moves_points_and_stock_once(setup, county):
    _scheme, _store, rice, _oil, account = setup
    erin, kim = county.users["erin"], county.users["kim"]
    redemption, created = services.redemption_make(
        account=account, goods=rice, acting_user=erin, idempotency_key="k1"
    )
    assert created and redemption.status == RedemptionStatus.REQUESTED
    assert state(account, rice) == (Decimal(40), 9)
    again, created = services.redemption_make(
        account=account, goods=rice, acting_user=erin, idempotency_key="k1"
    )
    assert (again.pk, created) == (redemption.pk, False)
    assert services.redemption_complete(redemption=redemption, acting_user=kim)
    assert not services.redemption_complete(redemption=redemption, acting_user=kim)
    assert state(account, rice) == (Decimal(40), 9)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.completed_by) == (RedemptionStatus.COMPLETED, kim)
    assert Movement.objects.filter(redemption=redemption).count() == 1
    assert StockMove.objects.filter(redemption=redemption, kind=StockKind.REDEMPTION).count() == 1
    assert AuditLog.objects.filter(action="store.redemption.completed").count() == 1
    # The honour total is never lowered by spending.
    assert account.earned == Decimal(50)


def test_a_keeper_redeems_at_the_counter_in_one_step(setup, county):
    _scheme, _store, rice, _oil, account = setup
    redemption, _ = services.redemption_make(
        account=account, goods=rice, quantity=3, acting_user=county.users["kim"], hand_over=True
    )
    assert redemption.status == RedemptionStatus.COMPLETED
    assert redemption.points == Decimal(30)
    assert state(account, rice) == (Decimal(20), 7)


def test_not_enough_points_leaves_stock_alone(setup, county):
    _scheme, _store, rice, _oil, account = setup
    with pytest.raises(KaopingError, match="Not enough points|积分不足"):
        services.redemption_make(
            account=account, goods=rice, quantity=6, acting_user=county.users["kim"], hand_over=True
        )
    assert state(account, rice) == (Decimal(50), 10)
    assert not Redemption.objects.exists()


def test_sold_out_takes_no_points(setup, county):
    _scheme, _store, rice, _oil, account = setup
    services.stock_adjust(goods=rice, quantity=-10, note="受潮", acting_user=county.users["kim"])
    with pytest.raises(KaopingError):
        services.redemption_make(account=account, goods=rice, acting_user=county.users["erin"])
    assert state(account, rice) == (Decimal(50), 0)


def test_a_household_limit_per_window(setup, county):
    scheme, _store, _rice, oil, account = setup
    earn(scheme, account.subject, "BIG")
    erin = county.users["erin"]
    first, _ = services.redemption_make(account=account, goods=oil, acting_user=erin)
    with pytest.raises(KaopingError, match="at most|最多"):
        services.redemption_make(account=account, goods=oil, acting_user=erin)
    # Withdrawing the first frees the limit again.
    services.redemption_cancel(redemption=first, acting_user=erin, reason="不要了")
    services.redemption_make(account=account, goods=oil, acting_user=erin)
    assert state(account, oil) == (Decimal(75), 9)


def test_outside_a_window_nothing_is_redeemed(setup, county):
    _scheme, store, rice, _oil, account = setup
    RedemptionWindow.objects.all().delete()
    today = timezone.localdate()
    services.window_add(
        store=store,
        name="下季度",
        starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=36),
        acting_user=system_actor(),
    )
    with pytest.raises(KaopingError, match=str((today + timedelta(days=30)).isoformat())):
        services.redemption_make(account=account, goods=rice, acting_user=county.users["erin"])
    assert state(account, rice) == (Decimal(50), 10)


def test_cancelling_a_handed_over_redemption_returns_points_and_stock(setup, county):
    _scheme, _store, rice, _oil, account = setup
    kim = county.users["kim"]
    redemption, _ = services.redemption_make(
        account=account, goods=rice, quantity=2, acting_user=kim, hand_over=True
    )
    with pytest.raises(KaopingError):
        services.redemption_cancel(redemption=redemption, acting_user=kim, reason=" ")
    assert services.redemption_cancel(redemption=redemption, acting_user=kim, reason="退货")
    assert not services.redemption_cancel(redemption=redemption, acting_user=kim, reason="退货")
    assert state(account, rice) == (Decimal(50), 10)
    kinds = list(
        Movement.objects.filter(redemption=redemption).order_by("pk").values_list("kind", "amount")
    )
    assert kinds == [(MovementKind.REDEEM, Decimal(-20)), (MovementKind.REFUND, Decimal(20))]


def test_a_household_withdraws_a_request_but_not_goods_handed_over(setup, county):
    _scheme, _store, rice, _oil, account = setup
    erin = county.users["erin"]
    redemption, _ = services.redemption_make(account=account, goods=rice, acting_user=erin)
    services.redemption_complete(redemption=redemption, acting_user=county.users["kim"])
    redemption.refresh_from_db()
    with pytest.raises(KaopingError):
        services.redemption_cancel(redemption=redemption, acting_user=erin, reason="不要了")
    assert state(account, rice) == (Decimal(40), 9)


def test_a_refund_settles_debt_first(setup, county):
    scheme, _store, rice, _oil, account = setup
    kim = county.users["kim"]
    redemption, _ = services.redemption_make(
        account=account, goods=rice, quantity=5, acting_user=kim, hand_over=True
    )
    earn(scheme, account.subject, "WASTE")  # −40 with nothing left: all owed
    account.refresh_from_db()
    assert (account.balance, account.debt) == (0, Decimal(40))
    services.redemption_cancel(redemption=redemption, acting_user=kim, reason="退货")
    account.refresh_from_db()
    # As if the redemption never happened: 50 − 40.
    assert (account.balance, account.debt) == (Decimal(10), 0)


def test_keepers_and_households_act_only_in_their_scope(setup, county):
    _scheme, _store, rice, _oil, account = setup
    for username, hand_over in (("ken", True), ("erin", True), ("dave", False), ("oscar", False)):
        with pytest.raises(KaopingError):
            services.redemption_make(
                account=account, goods=rice, acting_user=county.users[username], hand_over=hand_over
            )
    redemption, _ = services.redemption_make(
        account=account, goods=rice, acting_user=county.users["erin"]
    )
    with pytest.raises(KaopingError):
        services.redemption_complete(redemption=redemption, acting_user=county.users["ken"])
    assert state(account, rice) == (Decimal(40), 9)


def test_a_household_is_served_by_its_own_store(setup, county):
    scheme, _store, _rice, _oil, _account = setup
    from .fixture import household_subjects

    other = household_subjects("330304002001").first()
    earn(scheme, other, "BIG")
    _west, west_rice, _ = open_store(county, "330304002001")
    account = account_of(scheme, erin_subject(county))
    with pytest.raises(KaopingError, match="another store|其他"):
        services.redemption_make(account=account, goods=west_rice, acting_user=system_actor())


def test_uncollected_requests_go_back_on_the_shelf(setup, county):
    _scheme, store, rice, _oil, account = setup
    redemption, _ = services.redemption_make(
        account=account, goods=rice, acting_user=county.users["erin"]
    )
    closes = redemption.window.ends_on + timedelta(days=store.pickup_days)
    assert services.redemptions_lapse(today=closes, acting_user=system_actor()) == 0
    assert (
        services.redemptions_lapse(today=closes + timedelta(days=1), acting_user=system_actor())
        == 1
    )
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert state(account, rice) == (Decimal(50), 10)


def test_stock_in_records_the_donor_once(setup, county):
    _scheme, _store, rice, _oil, _account = setup
    kim = county.users["kim"]
    with pytest.raises(KaopingError):
        services.stock_in(goods=rice, quantity=5, kind="donation", acting_user=kim)
    move, created = services.stock_in(
        goods=rice,
        quantity=5,
        kind="donation",
        donor="瓯海农商银行",
        thank_publicly=True,
        acting_user=kim,
        idempotency_key="s1",
    )
    again, created_again = services.stock_in(
        goods=rice, quantity=5, kind="donation", donor="x", acting_user=kim, idempotency_key="s1"
    )
    assert created and not created_again and again.pk == move.pk
    rice.refresh_from_db()
    assert rice.stock == 15
    with pytest.raises(KaopingError):
        services.stock_in(goods=rice, quantity=1, kind="purchase", acting_user=county.users["ken"])


def test_stock_corrections_never_go_below_zero(setup, county):
    _scheme, _store, rice, _oil, _account = setup
    with pytest.raises(KaopingError):
        services.stock_adjust(goods=rice, quantity=-11, note="盘亏", acting_user=system_actor())
    rice.refresh_from_db()
    assert rice.stock == 10


def test_card_numbers_carry_a_check_digit():
    from kaoping.store.models import account_pk_from_card, card_number_for

    number = card_number_for(1)
    assert number == "0000000018" and account_pk_from_card(number) == 1
    assert account_pk_from_card("000 000 0018") == 1
    assert account_pk_from_card("0000000019") is None  # one digit wrong
    assert account_pk_from_card("0000000081") is None  # two digits swapped
    assert account_pk_from_card("3303040010010001") is None  # a household number
    assert account_pk_from_card("abc") is None
