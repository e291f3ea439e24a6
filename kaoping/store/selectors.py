"""Reads of the points store: a household's account, the shelf, honours, lists and reports."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.shortcuts import get_object_or_404

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.fields import subtree_q
from kaoping.core.privacy import mask_name
from kaoping.ledger.selectors import annotate_item_names
from kaoping.people.models import Subject, SubjectKind
from kaoping.periods.models import Period, PeriodStatus, Result
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import Scheme, SchemeGrade
from kaoping.schemes.selectors import scheme_list

from .models import (
    ZERO,
    Account,
    Goods,
    Movement,
    MovementKind,
    Redemption,
    RedemptionStatus,
    RedemptionWindow,
    StockKind,
    StockMove,
    Store,
    account_pk_from_card,
)
from .services import account_policy, next_window, open_window, store_for_account

VILLAGE_CODE_LENGTH = 12
SCORED = (PeriodStatus.CLOSED, PeriodStatus.POSTED, PeriodStatus.FINAL)
PUBLIC = (PeriodStatus.POSTED, PeriodStatus.FINAL)


def villager_accounts(user) -> list[Account]:
    """The accounts of the households a villager heads (their own scope, nothing else)."""
    households = RoleAssignment.objects.filter(user=user, role=Role.VILLAGER).values("household")
    accounts = list(
        Account.objects.for_user(user, "store.view")
        .filter(subject__household__in=households, subject__kind=SubjectKind.HOUSEHOLD)
        .select_related("scheme", "subject__region", "subject__household")
        .order_by("subject_id", "scheme_id")
    )
    return [a for a in accounts if account_policy(a.scheme) is not None]


def find_account(user, text: str, action: str = "store.redeem") -> Account | None:
    """The account a keeper means by a card number (typed or scanned) or a household number."""
    text = text.strip()
    if not text:
        return None
    visible = Account.objects.for_user(user, action).select_related(
        "scheme", "subject__region", "subject__household"
    )
    pk = account_pk_from_card(text)
    if pk is not None:
        found = visible.filter(pk=pk).first()
        if found is not None:
            return found
    return (
        visible.filter(subject__household__number=text, subject__kind=SubjectKind.HOUSEHOLD)
        .order_by("pk")
        .first()
    )


def redeemed_total(account: Account) -> Decimal:
    return -(
        Movement.objects.filter(
            account=account, kind__in=[MovementKind.REDEEM, MovementKind.REFUND]
        ).aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    )


def account_movements(account: Account):
    """The account's movements newest first, with what their rows show (the entry and its
    evidence, or the goods); give a page of them `movements_named` before showing it."""
    return (
        Movement.objects.filter(account=account)
        .select_related("entry__scheme", "redemption__goods")
        .prefetch_related("entry__evidence")
        .order_by("-effective_on", "-id")
    )


def movements_named(movements) -> None:
    """Give the entries of `movements` their item names, in one query."""
    annotate_item_names([m.entry for m in movements if m.entry is not None])


def account_history(account: Account, limit: int) -> tuple[list[Movement], bool]:
    """The latest `limit` movements (as `account_movements`), and whether there are older."""
    rows = list(account_movements(account)[: limit + 1])
    rows, older = rows[:limit], len(rows) > limit
    movements_named(rows)
    return rows, older


def open_requests(account: Account) -> list[Redemption]:
    return list(
        Redemption.objects.filter(account=account, status=RedemptionStatus.REQUESTED)
        .select_related("goods", "window")
        .order_by("requested_on", "pk")
    )


def recent_redemptions(account: Account, limit: int = 20) -> list[Redemption]:
    return list(
        Redemption.objects.filter(account=account)
        .select_related("goods", "completed_by")
        .order_by("-requested_on", "-pk")[:limit]
    )


@dataclass
class Shelf:
    store: Store | None
    goods: list[Goods]
    window: object
    upcoming: object


def shelf(account: Account, today: date) -> Shelf:
    """The store that serves the account, what it offers (marking what the balance buys)."""
    store = store_for_account(account)
    if store is None:
        return Shelf(None, [], None, None)
    goods = list(Goods.objects.filter(store=store, active=True).order_by("position", "price", "pk"))
    window = open_window(store, today)
    taken = {}
    if window is not None:
        taken = dict(
            Redemption.objects.filter(account=account, window=window)
            .exclude(status=RedemptionStatus.CANCELLED)
            .values("goods")
            .annotate(n=Sum("quantity"))
            .values_list("goods", "n")
        )
    for item in goods:
        limit = item.limit_per_household
        item.at_limit = limit is not None and taken.get(item.pk, 0) >= limit
        item.affordable = item.price <= account.balance and item.stock > 0
    return Shelf(store, goods, window, next_window(store, today))


@dataclass
class Rank:
    period: Period
    rank: int
    of: int
    total: Decimal
    ytd: Decimal | None = None  # the year-to-date total, where the scheme keeps one


def subject_rank(subject: Subject, scheme) -> Rank | None:
    """The subject's rank in its ranking group in the latest scored period of the scheme."""
    result = (
        Result.objects.filter(
            subject=subject,
            period__scheme=scheme,
            period__status__in=SCORED,
            period__cadence=scheme.cadence,
        )
        .select_related("period__version")
        .order_by("-period__end")
        .first()
    )
    if result is None:
        return None
    of = Result.objects.filter(period=result.period, rank_group=result.rank_group).count()
    to_points = result.period.version.to_points
    ytd = None if result.ytd is None else to_points(result.ytd)
    return Rank(result.period, result.rank, of, to_points(result.total), ytd)


def posted_periods(scheme, limit: int = 6) -> list[Period]:
    return list(
        Period.objects.filter(scheme=scheme, status__in=PUBLIC)
        .select_related("scheme")
        .order_by("-end", "cadence")[:limit]
    )


@dataclass
class RankingRow:
    rank: int
    name: str
    total: Decimal
    own: bool


def village_ranking(
    scheme, village_code: str, own_subject_id: int | None = None, limit: int = 30
) -> tuple[Period | None, list[RankingRow]]:
    """The village's latest closed household ranking, names masked (张*三) as on public boards.

    The results are found by the village's subjects, (period, subject) key by key: matched by
    region instead, SQLite reads every result of a province's period (sampled statistics say
    a period holds a thousand) to keep the village's few hundred, 20–30 ms on the phone page."""
    in_village = Subject.objects.filter(subtree_q("region__code", village_code)).values("pk")
    period = (
        Period.objects.filter(
            scheme=scheme,
            status__in=SCORED,
            cadence=scheme.cadence,
            results__subject__in=in_village,
        )
        .order_by("-end")
        .first()
    )
    if period is None:
        return None, []
    ordered = Result.objects.filter(period=period, subject__in=in_village).order_by(
        "rank", "subject_id"
    )
    # The first `limit` and the household's own row, in one query: a village has hundreds.
    shown = Q(pk__in=ordered.values("pk")[:limit])
    if own_subject_id is not None:
        shown |= Q(subject_id=own_subject_id)
    results = ordered.filter(shown).select_related("subject")
    rows = [
        RankingRow(
            result.rank,
            mask_name(result.subject.name),
            period.version.to_points(result.total),
            result.subject_id == own_subject_id,
        )
        for result in results
    ]
    return period, rows


def _honour_results():
    honour = SchemeGrade.objects.filter(
        version=OuterRef("period__version"), code=OuterRef("grade_code"), honour=True
    )
    return Result.objects.filter(Exists(honour), period__status__in=PUBLIC)


def subject_honours(subject: Subject) -> list[tuple[str, str]]:
    """(honour name, period label) the subject holds from posted results, newest first."""
    results = (
        _honour_results()
        .filter(subject=subject)
        .select_related("period")
        .order_by("-period__end")[:5]
    )
    names = _grade_names(results)
    return [(names[(r.period.version_id, r.grade_code)], r.period.label) for r in results]


def _grade_names(results) -> dict[tuple[int, str], str]:
    results = list(results)
    grades = SchemeGrade.objects.filter(
        version_id__in={r.period.version_id for r in results},
        code__in={r.grade_code for r in results},
    )
    return {(g.version_id, g.code): g.name for g in grades}


def honours_of(subject_ids) -> dict[int, list[tuple[str, str]]]:
    """subject_honours for many subjects in two queries."""
    results = list(
        _honour_results()
        .filter(subject_id__in=list(subject_ids))
        .select_related("period")
        .order_by("-period__end")
    )
    names = _grade_names(results)
    found: dict[int, list[tuple[str, str]]] = {}
    for r in results:
        found.setdefault(r.subject_id, []).append(
            (names[(r.period.version_id, r.grade_code)], r.period.label)
        )
    return found


def cards_of(accounts: list[Account]) -> list[dict]:
    """What a printed points card shows for each account: its village and its honours."""
    codes = {a.subject.region.code[:VILLAGE_CODE_LENGTH] for a in accounts}
    villages = {r.code: r for r in Region.objects.filter(code__in=codes)}
    honours = honours_of(a.subject_id for a in accounts)
    return [
        {
            "account": a,
            "village": villages.get(a.subject.region.code[:VILLAGE_CODE_LENGTH]),
            "honours": honours.get(a.subject_id, [])[:3],
        }
        for a in accounts
    ]


@dataclass
class Honour:
    name: str  # masked
    grade: str
    period: str


def region_honours(region_code: str, limit: int = 60) -> list[Honour]:
    """Households and members honoured (星级文明户…) in the latest posted period that honoured any."""
    results = _honour_results().filter(subject__region__code__startswith=region_code)
    latest = results.order_by("-period__end").values_list("period_id", flat=True).first()
    if latest is None:
        return []
    rows = list(
        results.filter(period_id=latest)
        .select_related("subject", "period")
        .order_by("rank")[:limit]
    )
    names = _grade_names(rows)
    return [
        Honour(
            mask_name(r.subject.name), names[(r.period.version_id, r.grade_code)], r.period.label
        )
        for r in rows
    ]


def store_thanks(store: Store, today: date, days: int = 366) -> list[StockMove]:
    """Donations of the last year whose donors agreed to be thanked by name."""
    return list(
        StockMove.objects.filter(
            goods__store=store,
            kind=StockKind.DONATION,
            thank_publicly=True,
            created_on__gte=today - timedelta(days=days),
        )
        .select_related("goods")
        .order_by("-created_on", "-pk")
    )


def pending_requests(store: Store) -> list[Redemption]:
    return list(
        Redemption.objects.filter(goods__store=store, status=RedemptionStatus.REQUESTED)
        .select_related("account__subject__household", "goods")
        .order_by("requested_on", "pk")
    )


# --- reports -------------------------------------------------------------------------------


def _village_names(codes) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))


def liability_by_village(user) -> list[dict]:
    """Outstanding (spendable, unredeemed) points per village, with debt and honour totals."""
    rows = list(
        Account.objects.for_user(user, "store.report")
        .annotate(village=Substr("subject__region__code", 1, VILLAGE_CODE_LENGTH))
        .values("village")
        .annotate(
            accounts=Count("pk"),
            balance=Coalesce(Sum("balance"), ZERO),
            debt=Coalesce(Sum("debt"), ZERO),
            earned=Coalesce(Sum("earned"), ZERO),
        )
        .order_by("village")
    )
    names = _village_names(r["village"] for r in rows)
    for row in rows:
        row["name"] = names.get(row["village"], row["village"])
    return rows


def stock_turnover(user, start: date, end: date) -> list[Goods]:
    """Per goods: stock at the start and end of [start, end], what came in and went out.

    Turnover is what went out over the average stock of the period.
    """

    def moved(condition: Q):
        return Coalesce(
            Sum("moves__quantity", filter=condition), Value(0), output_field=IntegerField()
        )

    inside = Q(moves__created_on__gte=start, moves__created_on__lte=end)
    goods = list(
        Goods.objects.for_user(user, "store.report")
        .select_related("store")
        .annotate(
            after_end=moved(Q(moves__created_on__gt=end)),
            net=moved(inside),
            purchased=moved(inside & Q(moves__kind=StockKind.PURCHASE)),
            donated=moved(inside & Q(moves__kind=StockKind.DONATION)),
            redeemed=moved(inside & Q(moves__kind__in=[StockKind.REDEMPTION, StockKind.RETURN])),
            adjusted=moved(inside & Q(moves__kind=StockKind.ADJUST)),
        )
        .order_by("store__region__code", "position", "pk")
    )
    for item in goods:
        item.closing = item.stock - item.after_end
        item.opening = item.closing - item.net
        item.out = -item.redeemed
        average = Decimal(item.opening + item.closing) / 2
        item.turnover = (Decimal(item.out) / average).quantize(Decimal("0.01")) if average else None
    return goods


def redemptions_by_month(user, start: date, end: date) -> list[dict]:
    """Redemptions not cancelled, per store and month: how many, how many items, what points."""
    rows = list(
        Redemption.objects.for_user(user, "store.report")
        .filter(requested_on__gte=start, requested_on__lte=end)
        .exclude(status=RedemptionStatus.CANCELLED)
        .annotate(month=TruncMonth("requested_on"))
        .values("month", "goods__store__name")
        .annotate(
            count=Count("pk"),
            households=Count("account", distinct=True),
            quantity=Sum("quantity"),
            points=Sum("points"),
        )
        .order_by("goods__store__name", "month")
    )
    return rows


def participation(user, start: date, end: date) -> list[dict]:
    """Per village: households, how many earned points from entries dated in [start, end], share."""
    earned = Movement.objects.filter(
        account__subject=OuterRef("pk"),
        kind=MovementKind.CREDIT,
        earned__gt=0,
        entry__occurred_on__gte=start,
        entry__occurred_on__lte=end,
    )
    rows = list(
        Subject.objects.for_user(user, "store.report")
        .filter(kind=SubjectKind.HOUSEHOLD, active=True)
        .annotate(
            village=Substr("region__code", 1, VILLAGE_CODE_LENGTH),
            earner=Exists(earned),
        )
        .values("village")
        .annotate(households=Count("pk"), earners=Count("pk", filter=Q(earner=True)))
        .order_by("village")
    )
    names = _village_names(r["village"] for r in rows)
    for row in rows:
        row["name"] = names.get(row["village"], row["village"])
        row["share"] = (
            (Decimal(row["earners"] * 100) / row["households"]).quantize(Decimal("0.1"))
            if row["households"]
            else None
        )
    return rows


def store_list(*, user, action: str = "store.view") -> list[Store]:
    """The stores where `user` may do `action` (see them; hand over goods at the counter with
    store.redeem), with their villages."""
    return list(Store.objects.for_user(user, action).select_related("region"))


def village_list_without_store(*, user, limit: int = 500) -> list[Region]:
    """The villages where `user` may open a store and none is open yet, by code."""
    return list(
        Region.objects.for_user(user, "store.manage")
        .filter(level=Level.VILLAGE, store__isnull=True)
        .order_by("code")[:limit]
    )


# --- the household's phone page ------------------------------------------------------------


def subject_household_of_user(*, user) -> Subject | None:
    """The first active household `user` may see in the store (a villager's own), with its region."""
    return (
        Subject.objects.for_user(user, "store.view")
        .filter(kind=SubjectKind.HOUSEHOLD, active=True)
        .select_related("region")
        .first()
    )


def scheme_default_of_households(*, user) -> Scheme | None:
    """The household scheme a villager without an account is ranked by: the oldest they see."""
    return scheme_list(user=user, subject_kind=SubjectKind.HOUSEHOLD).order_by("pk").first()


def village_of_subject(*, subject: Subject) -> Region | None:
    """The village (or community) `subject` lives in; `subject` was fetched in scope already."""
    return Region.objects.filter(code=subject.region.code[:VILLAGE_CODE_LENGTH]).first()


# --- the keeper's counter and management -------------------------------------------------------


def village_managed(*, user, code: str) -> Region | None:
    """The village `code` if `user` may open or manage a store there."""
    return (
        Region.objects.for_user(user, "store.manage").filter(level=Level.VILLAGE, code=code).first()
    )


def goods_list_of_store(*, user, store: Store) -> list[Goods]:
    """Every goods of `store`, on offer or not, in shelf order."""
    return list(
        Goods.objects.for_user(user, "store.view")
        .filter(store=store)
        .order_by("position", "price", "pk")
    )


def window_list_of_store(*, user, store: Store, limit: int = 12) -> list[RedemptionWindow]:
    """The latest redemption windows of `store`, newest first."""
    return list(
        RedemptionWindow.objects.for_user(user, "store.view")
        .filter(store=store)
        .order_by("-starts_on")[:limit]
    )


def stock_move_list_of_store(*, user, store: Store, limit: int = 30) -> list[StockMove]:
    """The latest stock movements of `store`'s goods, newest first."""
    return list(
        StockMove.objects.for_user(user, "store.view")
        .filter(goods__store=store)
        .select_related("goods", "created_by")
        .order_by("-created_on", "-pk")[:limit]
    )


def account_list_of_households(*, user, region_code: str, limit: int = 1000) -> list[Account]:
    """The accounts of the active households under `region_code`, by household number (cards)."""
    return list(
        Account.objects.for_user(user, "store.view")
        .filter(
            subject__kind=SubjectKind.HOUSEHOLD,
            subject__region__code__startswith=region_code,
            subject__active=True,
        )
        .select_related("scheme", "subject__region", "subject__household__head")
        .order_by("subject__household__number", "pk")[:limit]
    )


# --- public --------------------------------------------------------------------------------


def store_public_or_404(*, pk: int) -> Store:
    """An active store, for its public page; an inactive one does not exist for the public."""
    return get_object_or_404(Store.objects.select_related("region"), pk=pk, active=True)


def goods_list_on_offer(*, store: Store) -> list[Goods]:
    """The goods `store` offers now, as its public page shows them."""
    return list(Goods.objects.filter(store=store, active=True).order_by("position", "pk"))
