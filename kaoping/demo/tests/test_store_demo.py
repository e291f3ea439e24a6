"""The demo step `build_store`, run on the small county with the shipped household scheme."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.demo.generator import STEPS, Build
from kaoping.demo.store import QUARTER_WINDOW, YEAR_END_WINDOW, build_store
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.tests.ledger_fixture import fill_grid
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load
from kaoping.store.models import (
    Account,
    Goods,
    Movement,
    Redemption,
    RedemptionStatus,
    StockKind,
    StockMove,
    Store,
)

pytestmark = pytest.mark.django_db


def test_the_step_runs_after_the_year_of_scoring():
    from kaoping.demo.scoring import build_scoring

    assert STEPS.index(build_store) > STEPS.index(build_scoring)
    assert build_store.manages_transactions


def test_stores_with_donations_and_a_quarter_of_redemptions(county):
    fill_grid(county, 40)
    text = (Path(settings.BASE_DIR) / "schemes" / "household-points.yaml").read_text("utf-8")
    version, _ = scheme_load(
        text=text,
        filename="household-points.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    # A ledger written the way the demo writes it: bulk rows that announce nothing.
    approved = timezone.make_aware(datetime(2026, 9, 1, 10))
    Entry.objects.bulk_create(
        Entry(
            scheme=version.scheme,
            subject=subject,
            item_code="GY08",  # +10
            quantity_scaled=3000,
            points=Decimal(30),
            occurred_on=date(2026, 8, 20),
            status=EntryStatus.APPROVED,
            source=EntrySource.COLLECTED,
            reviewed_at=approved,
        )
        for subject in Subject.objects.filter(kind="household")
    )
    lines: list[str] = []
    build_store(Build(out=lines.append))

    assert "entries credited" in lines[0]
    assert Account.objects.filter(balance=0, earned=0).count() == 0
    stores = Store.objects.order_by("region__code")
    assert [s.region.code for s in stores] == ["330304001001", "330304001002"]
    for store in stores:
        assert Goods.objects.filter(store=store).count() == 8
        windows = list(store.windows.values_list("starts_on", "ends_on"))
        assert QUARTER_WINDOW in windows and YEAR_END_WINDOW in windows
    donations = StockMove.objects.filter(kind=StockKind.DONATION)
    assert donations.exists() and donations.filter(thank_publicly=True).exists()
    quarter = Redemption.objects.filter(
        requested_on__range=QUARTER_WINDOW, status=RedemptionStatus.COMPLETED
    )
    assert quarter.count() >= 5
    assert Redemption.objects.filter(status=RedemptionStatus.REQUESTED).exists()
    # The books balance: every balance and stock is the sum of its rows, none negative.
    for account in Account.objects.all():
        assert account.balance >= 0
        assert (
            account.balance
            == Movement.objects.filter(account=account).aggregate(t=Sum("amount"))["t"]
        )
    for goods in Goods.objects.all():
        assert goods.stock >= 0
        assert (
            goods.stock == StockMove.objects.filter(goods=goods).aggregate(t=Sum("quantity"))["t"]
        )
