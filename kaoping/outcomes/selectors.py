"""Reads of consequences, each starting from the scoped chokepoint when a user is given."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kaoping.core.privacy import mask_name
from kaoping.people.models import CadrePost, Person, Subject, SubjectKind
from kaoping.periods.models import Period, PeriodStatus
from kaoping.schemes.models import SchemeVersion

from .models import (
    BonusPayout,
    BonusPool,
    Exchange,
    ExperienceShare,
    Honour,
    Interview,
    InterviewStatus,
    ItemStatus,
    KeyVillage,
    KeyVillageEvent,
    Pairing,
    PayoutLine,
    PayoutSheet,
    Pledge,
    PledgeItem,
    PledgeStatus,
)

VIEW = "outcome.view"
HONOURS_SHOWN = 200  # a household scheme may honour thousands; the page shows the first ones
RECENT_PERIODS = 24


def _scoped(model, user):
    return model.objects.all() if user is None else model.objects.for_user(user, VIEW)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


@dataclass
class MonthCheck:
    """Exchanges of one pairing in one month against its minimum."""

    pairing: Pairing
    month: date  # first day
    count: int
    complete: bool  # the month is over

    @property
    def short(self) -> bool:
        return self.complete and self.count < self.pairing.min_per_month


def pairing_months(
    pairings, *, today: date | None = None, since: date | None = None
) -> dict[int, list[MonthCheck]]:
    """pairing id → one MonthCheck per month it ran (from `since`, up to this month)."""
    today = today or timezone.localdate()
    pairings = list(pairings)
    counts: dict[tuple[int, date, str], int] = {}
    rows = (
        Exchange.objects.filter(pairing__in=pairings)
        .annotate(month=TruncMonth("on"))
        .values("pairing_id", "month", "kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[(row["pairing_id"], row["month"], row["kind"])] = row["n"]
    checks: dict[int, list[MonthCheck]] = {}
    this_month = today.replace(day=1)
    for pairing in pairings:
        month = pairing.start.replace(day=1)
        if since is not None and since.replace(day=1) > month:
            month = since.replace(day=1)
        last = min(pairing.end or today, today).replace(day=1)
        found = []
        while month <= last and month <= this_month:
            count = counts.get((pairing.pk, month, "offline"), 0)
            if not pairing.offline_only:
                count += counts.get((pairing.pk, month, "online"), 0)
            found.append(MonthCheck(pairing, month, count, month_end(month) < today))
            month = _next_month(month)
        checks[pairing.pk] = found
    return checks


def pairing_months_below(
    user=None, *, today: date | None = None, months: int = 3, region_prefix: str = ""
) -> list[MonthCheck]:
    """Finished months of the last `months` in which a pairing logged fewer exchanges than its
    minimum (the 结对共建 check: at least 2 offline exchanges a month), oldest first."""
    today = today or timezone.localdate()
    since = today.replace(day=1)
    for _step in range(months):
        since = date(since.year - (since.month == 1), (since.month - 2) % 12 + 1, 1)
    pairings = (
        _scoped(Pairing, user)
        .filter(start__lt=today.replace(day=1))
        .filter(Q(end__isnull=True) | Q(end__gte=since))
        .select_related("strong__region", "weak__region", "period__scheme")
    )
    if region_prefix:
        pairings = pairings.filter(weak__region__code__startswith=region_prefix)
    found = [
        check
        for checks in pairing_months(pairings, today=today, since=since).values()
        for check in checks
        if check.short
    ]
    return sorted(found, key=lambda c: (c.month, c.pairing.weak.region.code))


def pledge_items_overdue(user=None, *, today: date | None = None, region_prefix: str = ""):
    """Open items of open pledge lists whose deadline has passed, most overdue first."""
    today = today or timezone.localdate()
    rows = (
        _scoped(PledgeItem, user)
        .filter(status=ItemStatus.OPEN, deadline__lt=today, pledge__status=PledgeStatus.OPEN)
        .select_related("pledge__subject__region", "pledge__period__scheme")
        .order_by("deadline", "pledge__subject__region__code", "id")
    )
    if region_prefix:
        rows = rows.filter(pledge__subject__region__code__startswith=region_prefix)
    return rows


# An interview still unarranged this many days after its period was closed is overdue.
ARRANGE_DAYS = 14
OPEN_SHOWN = 300  # the to-do lists show the oldest ones first


def interviews_open(user, *, today: date | None = None) -> list[Interview]:
    """Interviews still to arrange or hold (the close triggered them and they stand), of closed
    periods, overdue first, each with `overdue` set: scheduled for a day that has passed, or
    still unarranged `ARRANGE_DAYS` days after the close."""
    today = today or timezone.localdate()
    rows = list(
        _scoped(Interview, user)
        .filter(
            status__in=[InterviewStatus.PENDING, InterviewStatus.SCHEDULED],
            triggered=True,
        )
        .exclude(period__status=PeriodStatus.OPEN)
        .select_related("subject__region", "period__scheme")
        .order_by("period__end", "subject__region__code", "id")[:OPEN_SHOWN]
    )
    late = timezone.now() - timedelta(days=ARRANGE_DAYS)
    for row in rows:
        if row.status == InterviewStatus.SCHEDULED:
            row.overdue = row.scheduled_on is not None and row.scheduled_on < today
        else:
            row.overdue = row.period.closed_at is not None and row.period.closed_at < late
    return sorted(rows, key=lambda r: not r.overdue)


def rectifications_open(user, *, today: date | None = None):
    """Open pledge lists and rectifications that stand, with their progress, overdue first (the
    deadline has passed)."""
    today = today or timezone.localdate()
    rows = _with_progress(
        _scoped(Pledge, user)
        .filter(status=PledgeStatus.OPEN, triggered=True)
        .exclude(period__status=PeriodStatus.OPEN)
        .select_related("subject__region", "period__scheme"),
        today,
    ).order_by("deadline", "subject__region__code", "id")
    found = list(rows[:OPEN_SHOWN])
    causes = _causes({row.period.version_id for row in found})
    for row in found:
        row.overdue = row.deadline < today
        row.cause = causes.get((row.period.version_id, row.list_code), row.list_code)
    return found


def _causes(version_ids: set[int]) -> dict[tuple[int, str], str]:
    """(version, list code) → what set a pledge off: the list's name or the grade rule's."""
    names: dict[tuple[int, str], str] = {}
    for version in SchemeVersion.objects.filter(pk__in=version_ids):
        spec = version.spec()
        for rule in spec.ranking.lists:
            names[(version.pk, rule.code)] = rule.name
        for rule in spec.consequences.by_grade if spec.consequences else ():
            names[(version.pk, rule.code)] = rule.name
    return names


def alerts_count(user, *, today: date | None = None) -> int:
    """Overdue pledge items plus pairing months below the minimum, for the console badge."""
    today = today or timezone.localdate()
    return pledge_items_overdue(user, today=today).count() + len(
        pairing_months_below(user, today=today)
    )


def _with_progress(pledges, today: date):
    return pledges.annotate(
        item_count=Count("items"),
        done_count=Count("items", filter=Q(items__status=ItemStatus.DONE)),
        overdue_count=Count(
            "items", filter=Q(items__status=ItemStatus.OPEN, items__deadline__lt=today)
        ),
    )


def period_consequences(user, period: Period, *, today: date | None = None) -> dict:
    """Everything a period's close triggered that `user` may see, for the overview page."""
    today = today or timezone.localdate()
    interviews = list(
        _scoped(Interview, user)
        .filter(period=period)
        .select_related("subject__region")
        .order_by("-level_index", "subject__region__code")
    )
    shares = list(
        _scoped(ExperienceShare, user)
        .filter(period=period)
        .select_related("subject__region")
        .order_by("position", "subject_id")
    )
    pledges = list(
        _with_progress(
            _scoped(Pledge, user)
            .filter(
                Q(period=period)
                | Q(
                    scheme_id=period.scheme_id,
                    status=PledgeStatus.OPEN,
                    period__start__lt=period.start,
                )
            )
            .select_related("subject__region", "period"),
            today,
        ).order_by("subject__region__code", "-period__start")
    )
    causes = _causes({p.period.version_id for p in pledges})
    for pledge in pledges:
        pledge.cause = causes.get((pledge.period.version_id, pledge.list_code), pledge.list_code)
    pairings = list(
        _scoped(Pairing, user)
        .filter(period=period)
        .select_related("strong__region", "weak__region")
        .annotate(exchange_count=Count("exchanges"))
        .order_by("weak__region__code")
    )
    checks = pairing_months(pairings, today=today)
    for pairing in pairings:
        pairing.checks = checks[pairing.pk]
        pairing.short_months = [c for c in pairing.checks if c.short]
    pool = BonusPool.objects.filter(period=period).select_related("remainder_to").first()
    payouts = []
    payout_sum = None
    if pool is not None:
        visible = _scoped(BonusPayout, user).filter(pool=pool)
        payouts = list(visible.select_related("subject__region").order_by("-amount_fen", "rank"))
        payout_sum = visible.aggregate(s=Sum("amount_fen"))["s"] or 0
    honours = _scoped(Honour, user).filter(period=period)
    return {
        "payout_sheet": PayoutSheet.objects.filter(period=period).first(),
        "interviews": interviews,
        "shares": shares,
        "pledges": pledges,
        "pairings": pairings,
        "pool": pool,
        "payouts": payouts,
        "payout_sum": payout_sum,
        "honours": list(honours.select_related("subject__region")[:HONOURS_SHOWN]),
        "honour_count": honours.count(),
    }


@dataclass
class PayoutRow:
    """One line of a payout sheet as a page, a workbook or a PDF shows it."""

    line: PayoutLine
    name: str  # the cadre's name, masked unless the reader may see the person in full
    place: str  # the village (a cadre subject) or the subject's name
    post: str  # the post's label
    score: Decimal  # the subject's total


def payout_rows(user, sheet: PayoutSheet) -> list[PayoutRow]:
    """The lines of `sheet` that `user` may see, village by village, highest base first.

    A name is shown in full to whoever may view the person in the people register
    (`people.view` in their area) and masked (张*三) for everyone else, as on public pages.
    """
    lines = list(
        _scoped(PayoutLine, user)
        .filter(sheet=sheet)
        .select_related("subject__region", "person")
        .order_by("subject__region__code", "subject_id", "-base_fen", "person_id")
    )
    people = {line.person_id for line in lines}
    decimals = sheet.period.version.decimals
    full = (
        people
        if user is None
        else set(
            Person.objects.for_user(user, "people.view")
            .filter(pk__in=people)
            .values_list("pk", flat=True)
        )
    )
    posts = dict(CadrePost.choices)
    return [
        PayoutRow(
            line=line,
            name=line.person.name if line.person_id in full else mask_name(line.person.name),
            place=line.subject.region.name
            if line.subject.kind == SubjectKind.CADRE
            else line.subject.name,
            post=str(posts.get(line.post, line.post)),
            score=Decimal(line.total).scaleb(-decimals),
        )
        for line in lines
    ]


def key_villages(user, *, active: bool | None = None):
    rows = (
        _scoped(KeyVillage, user)
        .select_related("subject__region", "period", "scheme", "designated_by")
        .order_by("left_on", "subject__region__code")
    )
    if active is not None:
        rows = rows.filter(left_on__isnull=active)
    return rows


def key_village_count(*, user, active: bool | None = None) -> int:
    """How many key villages `user` may see (only those still being helped if `active`)."""
    return key_villages(user, active=active).count()


def period_list_with_consequences(*, user, limit: int = RECENT_PERIODS) -> QuerySet[Period]:
    """The user's closed periods that set off any consequence, newest first."""
    triggered = Q()
    for model in (Interview, ExperienceShare, Pledge, Pairing, Honour, BonusPool, PayoutSheet):
        triggered |= Q(Exists(model.objects.filter(period=OuterRef("pk"))))
    return (
        Period.objects.for_user(user, "period.view")
        .exclude(status=PeriodStatus.OPEN)
        .filter(triggered)
        .select_related("scheme")
        .order_by("-end", "scheme__code", "cadence")[:limit]
    )


def subject_list_designatable(*, user) -> QuerySet[Subject]:
    """The active villages `user` may designate as key villages: those not key villages now."""
    return (
        Subject.objects.for_user(user, "outcome.manage")
        .filter(kind=SubjectKind.VILLAGE, active=True)
        .exclude(pk__in=KeyVillage.objects.filter(left_on__isnull=True).values("subject_id"))
        .select_related("region")
        .order_by("region__code")
    )


def pledge_item_list(*, user, pledge: Pledge) -> list[PledgeItem]:
    """The items of `pledge`, soonest deadline first, with who ticked them off."""
    return list(
        PledgeItem.objects.for_user(user, VIEW)
        .filter(pledge=pledge)
        .select_related("done_by")
        .order_by("deadline", "id")
    )


def exchange_list(*, user, pairing: Pairing) -> list[Exchange]:
    """The exchanges logged for `pairing`, newest first, with who logged them."""
    return list(
        Exchange.objects.for_user(user, VIEW)
        .filter(pairing=pairing)
        .select_related("recorded_by")
        .order_by("-on", "-id")
    )


def key_village_event_list(*, user, key_village: KeyVillage) -> list[KeyVillageEvent]:
    """What happened to `key_village` since it was designated, oldest first."""
    return list(
        KeyVillageEvent.objects.for_user(user, VIEW)
        .filter(key_village=key_village)
        .select_related("period", "actor")
        .order_by("on", "id")
    )
