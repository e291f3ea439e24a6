"""`build_store`: points stores for the demo county, after its year of scoring.

Every approved entry of a scheme with an `account:` block is credited (the demo ledger is written
with bulk inserts, which announce nothing, so this is `store_reconcile`'s set-based repair at
work). Then each 村社 of the first township (where the demo logins are) opens a store: goods
bought before the fourth quarter, donations from local firms and 乡贤 (most thanked by name), the
first week of each quarter as redemption windows plus a year-end week that is open on the demo's
today. The 2026-Q4 window (1–7 October) holds a quarter of redemptions handed over at the counter,
a few of them cancelled; the open week has requests waiting for the keeper.

Everything goes through the store's services, so balances, stock and audit rows are what real use
would have left. Draws come from `Build.rng("store", village)`: a seed gives the same stores.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.demo.scoring import TODAY
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import Scheme
from kaoping.store import services
from kaoping.store.models import Account, Redemption, RedemptionStatus, Store

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

QUARTER_WINDOW = (date(2026, 10, 1), date(2026, 10, 7))
YEAR_END_WINDOW = (date(2026, 11, 16), date(2026, 11, 30))
STOCKED_ON = date(2026, 9, 20)
MAX_REDEMPTIONS_PER_STORE = 300  # a big village's quarter, not every household of a million

# (name, unit, price in points, bought before the quarter, limit per household and window)
GOODS = (
    ("大米（5 公斤）", "袋", Decimal(40), 40, 1),
    ("食用油（5 升）", "桶", Decimal(60), 20, 1),
    ("洗衣液", "瓶", Decimal(20), 40, 2),
    ("酱油", "瓶", Decimal(10), 50, None),
    ("毛巾", "条", Decimal(8), 60, None),
    ("牙膏", "支", Decimal(6), 60, None),
    ("保温杯", "个", Decimal(35), 10, 1),
    ("雨伞", "把", Decimal(25), 15, 1),
)
# (donor, thanked by name, goods index, quantity)
DONATIONS = (
    ("瓯海农商银行", True, 0, 30),
    ("村乡贤联谊会", True, 1, 10),
    ("永兴超市", True, 3, 40),
    ("爱心人士", False, 4, 30),
    ("瓯海区慈善总会", True, 7, 10),
)


def build_store(build: "Build") -> None:
    """A demo step: credit the year's entries, then open the stores of the first township.

    Crediting commits a chunk of accounts at a time, so the step runs outside the per-step
    transaction (see kaoping.demo.generator.demo_build), and only when the demo scores (without
    schemes there are no accounts to spend). It acts as the system actor, and as the village's
    keeper at the counter where the demo has one."""
    started = monotonic()
    credited = services.accounts_reconcile(
        acting_user=system_actor(), out=lambda line: build.progress(f"  store: crediting {line}")
    )
    build.out(
        f"  store: {credited:,} entries credited to points accounts ({monotonic() - started:.1f} s)"
    )
    scheme = _household_scheme()
    if scheme is None:
        build.out("  store: no household scheme keeps accounts; no store opened")
        return
    township = (
        Region.objects.filter(level=Level.TOWNSHIP, code__startswith="330304")
        .order_by("code")
        .first()
    )
    villages = list(Region.objects.filter(parent=township, level=Level.VILLAGE).order_by("code"))
    keeper = get_user_model().objects.filter(username="store").first()
    totals = {"redeemed": 0, "requested": 0, "cancelled": 0}
    for village in villages:
        for key, count in _village_store(build, scheme, village, keeper).items():
            totals[key] += count
    build.out(
        f"  store: {len(villages)} stores; 2026-Q4 window: {totals['redeemed']:,} redemptions "
        f"({totals['cancelled']} cancelled); open window: {totals['requested']} requests waiting"
    )


build_store.manages_transactions = True
build_store.scores_only = True


def _household_scheme() -> Scheme | None:
    for scheme, policy in services.account_schemes().values():
        if scheme.subject_kind == "household" and policy.spendable:
            return scheme
    return None


def _village_store(build: "Build", scheme: Scheme, village: Region, keeper) -> dict[str, int]:
    rng = build.rng("store", village.code)
    system = system_actor()
    actor = keeper if keeper is not None and _keeps(keeper, village) else system
    store = services.store_save(
        region=village,
        name=f"{village.name}积分超市",
        address=f"{village.name}党群服务中心一楼",
        hours="兑换周每天 8:30–11:30",
        acting_user=system,
    )
    for year in (2026, 2027):
        services.windows_quarterly(store=store, year=year, days=7, acting_user=system)
    services.window_add(
        store=store,
        name="年终兑换周",
        starts_on=YEAR_END_WINDOW[0],
        ends_on=YEAR_END_WINDOW[1],
        acting_user=system,
    )
    goods = []
    for position, (name, unit, price, bought, limit) in enumerate(GOODS, start=1):
        item = services.goods_save(
            store=store,
            acting_user=system,
            name=name,
            unit=unit,
            price=price,
            limit_per_household=limit,
            position=position,
        )
        services.stock_in(
            goods=item,
            quantity=bought,
            kind="purchase",
            unit_cost=(price / 2).quantize(Decimal("0.01")),
            acting_user=system,
            day=STOCKED_ON,
        )
        goods.append(item)
    for donor, thanked, index, quantity in DONATIONS:
        if rng.random() < 0.7:
            services.stock_in(
                goods=goods[index],
                quantity=quantity,
                kind="donation",
                donor=donor,
                thank_publicly=thanked,
                acting_user=system,
                day=STOCKED_ON + timedelta(days=rng.randint(0, 60)),
            )
    services.accounts_open(scheme=scheme, subject_ids=scheme_subjects(village), acting_user=system)
    accounts = list(
        Account.objects.filter(
            scheme=scheme, subject__region__code__startswith=village.code, balance__gt=0
        )
        .select_related("scheme", "subject__region")
        .order_by("pk")
    )
    counts = {"redeemed": 0, "requested": 0, "cancelled": 0}
    quarter = [a for a in accounts if rng.random() < 0.35][:MAX_REDEMPTIONS_PER_STORE]
    for account in quarter:
        day = QUARTER_WINDOW[0] + timedelta(days=rng.randint(0, 6))
        budget = account.balance * Decimal("0.7")
        for _pick in range(rng.choice((1, 1, 2))):
            affordable = [g for g in goods if g.price <= budget]
            if not affordable:
                break
            item = rng.choice(affordable)
            made = _redeem(account, item, actor, day, hand_over=True)
            if made is None:
                continue
            budget -= item.price
            counts["redeemed"] += 1
            if rng.random() < 0.03:
                services.redemption_cancel(
                    redemption=made, acting_user=actor, reason="物品有破损，已退回"
                )
                counts["cancelled"] += 1
    waiting = [a for a in accounts if a not in quarter and rng.random() < 0.05][:20]
    for account in waiting:
        account.refresh_from_db()
        affordable = [g for g in goods if g.price <= account.balance]
        if affordable:
            day = YEAR_END_WINDOW[0] + timedelta(
                days=rng.randint(0, (TODAY - YEAR_END_WINDOW[0]).days)
            )
            if _redeem(account, rng.choice(affordable), system, day, hand_over=False) is not None:
                counts["requested"] += 1
    return counts


def scheme_subjects(village: Region):
    from kaoping.people.models import Subject

    return Subject.objects.filter(kind="household", region__code__startswith=village.code).values(
        "pk"
    )


def _keeps(user, village: Region) -> bool:
    return Store.objects.for_user(user, "store.redeem").filter(region=village).exists()


def _redeem(account, goods, actor, day: date, *, hand_over: bool) -> Redemption | None:
    try:
        redemption, _created = services.redemption_make(
            account=account,
            goods=goods,
            acting_user=actor,
            hand_over=hand_over,
            day=day,
        )
    except KaopingError:  # sold out, or the balance fell below the price: a real counter says no
        return None
    account.refresh_from_db(fields=["balance"])
    if redemption.status == RedemptionStatus.COMPLETED:
        # Handed over that morning, not when the demo was built.
        moment = timezone.make_aware(datetime.combine(day, time(9, 30)))
        Redemption.objects.filter(pk=redemption.pk).update(completed_at=moment)
    return redemption
