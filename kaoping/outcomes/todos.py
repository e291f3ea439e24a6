"""The consequences' to-dos for the home page (kaoping.core.todos): interviews and experience
sharing to arrange, pledge lists to accept, key villages followed, for whoever arranges them;
pledge lists to carry out and their overdue items for the village that wrote them."""

from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.todos import Todo
from kaoping.periods.models import PeriodStatus

from .decisions import decision_list
from .models import (
    Decision,
    ExperienceShare,
    Interview,
    InterviewStatus,
    ItemStatus,
    KeyVillage,
    Pledge,
    PledgeItem,
    PledgeStatus,
    ShareStatus,
)
from .selectors import ARRANGE_DAYS


def _index() -> str:
    return reverse("outcomes:index")


def _one(queryset, count: int, name: str) -> str:
    """The object's page when there is exactly one, else the consequences page."""
    if count == 1:
        pk = queryset.values_list("pk", flat=True).first()
        if pk is not None:
            return reverse(name, kwargs={"pk": pk})
    return _index()


def _arranging(user) -> list[Todo]:
    today = timezone.localdate()
    late = timezone.now() - timedelta(days=ARRANGE_DAYS)
    todos = []
    interviews = (
        Interview.objects.for_user(user, "outcome.manage")
        .filter(status__in=[InterviewStatus.PENDING, InterviewStatus.SCHEDULED], triggered=True)
        .exclude(period__status=PeriodStatus.OPEN)
    )
    overdue = Q(status=InterviewStatus.SCHEDULED, scheduled_on__lt=today) | Q(
        status=InterviewStatus.PENDING, period__closed_at__lt=late
    )
    counts = interviews.aggregate(n=Count("pk"), late=Count("pk", filter=overdue))
    if counts["n"]:
        todos.append(
            Todo(
                title=_("%(n)d interviews to arrange or hold") % {"n": counts["n"]},
                url=_one(interviews, counts["n"], "outcomes:interview"),
                count=counts["n"],
                urgent=bool(counts["late"]),
                detail=_("%(n)d overdue") % {"n": counts["late"]} if counts["late"] else "",
                order=20,
            )
        )
    shares = (
        ExperienceShare.objects.for_user(user, "outcome.manage")
        .filter(status=ShareStatus.PENDING, triggered=True)
        .exclude(period__status=PeriodStatus.OPEN)
        .count()
    )
    if shares:
        todos.append(
            Todo(
                title=_("%(n)d experience exchanges to arrange") % {"n": shares},
                url=_index(),
                count=shares,
                order=22,
            )
        )
    open_items = PledgeItem.objects.filter(pledge=OuterRef("pk"), status=ItemStatus.OPEN)
    acceptable = (
        Pledge.objects.for_user(user, "outcome.manage")
        .filter(status=PledgeStatus.OPEN, triggered=True)
        .exclude(Exists(open_items))
        .annotate(n_items=Count("items"))
        .filter(n_items__gte=1)
        .filter(n_items__gte=F("items_min"))
    )
    accepted = acceptable.count()
    if accepted:
        todos.append(
            Todo(
                title=_("%(n)d pledge lists done, to accept") % {"n": accepted},
                url=_one(acceptable, accepted, "outcomes:pledge"),
                count=accepted,
                order=24,
            )
        )
    deciding = decision_list(user, pending=True).filter(
        pk__in=Decision.objects.for_user(user, "outcome.manage").values("pk")
    )
    to_decide = deciding.count()
    if to_decide:
        todos.append(
            Todo(
                title=_("%(n)d decisions to take") % {"n": to_decide},
                url=_one(deciding, to_decide, "outcomes:decision")
                if to_decide == 1
                else reverse("outcomes:decisions"),
                count=to_decide,
                order=23,
            )
        )
    followed = (
        KeyVillage.objects.for_user(user, "outcome.view").filter(left_on__isnull=True).count()
    )
    if followed:
        todos.append(
            Todo(
                title=_("%(n)d key villages followed") % {"n": followed},
                url=reverse("outcomes:key_villages"),
                count=followed,
                order=70,
            )
        )
    return todos


def _overdue_items(user, action: str) -> list[Todo]:
    """Open items of open pledge lists past their deadline: one line, to the list when there is
    one list."""
    today = timezone.localdate()
    overdue = PledgeItem.objects.for_user(user, action).filter(
        status=ItemStatus.OPEN, deadline__lt=today, pledge__status=PledgeStatus.OPEN
    )
    late = overdue.count()
    if not late:
        return []
    pledge_ids = set(overdue.values_list("pledge_id", flat=True).distinct()[:2])
    return [
        Todo(
            title=_("%(n)d pledge items overdue") % {"n": late},
            url=(
                reverse("outcomes:pledge", kwargs={"pk": pledge_ids.pop()})
                if len(pledge_ids) == 1
                else _index()
            ),
            count=late,
            urgent=True,
            order=18,
        )
    ]


def _pledging(user) -> list[Todo]:
    """The village's own pledge lists (干事清单) and rectification: what the secretary writes
    and ticks off."""
    today = timezone.localdate()
    pledges = Pledge.objects.for_user(user, "outcome.pledge").filter(
        status=PledgeStatus.OPEN, triggered=True
    )
    counts = pledges.aggregate(n=Count("pk"), late=Count("pk", filter=Q(deadline__lt=today)))
    todos = []
    if counts["n"]:
        todos.append(
            Todo(
                title=_("%(n)d pledge lists to carry out") % {"n": counts["n"]},
                url=_one(pledges, counts["n"], "outcomes:pledge"),
                count=counts["n"],
                urgent=bool(counts["late"]),
                detail=_("past the deadline") if counts["late"] else "",
                order=20,
            )
        )
    return todos + _overdue_items(user, "outcome.pledge")


def _interviews_of_village(user) -> list[Todo]:
    """A village's interviews still to be held: its secretary and committee attend them."""
    interviews = (
        Interview.objects.for_user(user, "outcome.view")
        .filter(status__in=[InterviewStatus.PENDING, InterviewStatus.SCHEDULED], triggered=True)
        .exclude(period__status=PeriodStatus.OPEN)
    )
    n = interviews.count()
    if not n:
        return []
    return [
        Todo(
            title=_("%(n)d interviews to attend") % {"n": n},
            url=_one(interviews, n, "outcomes:interview"),
            count=n,
            order=20,
        )
    ]


def home_todos(user) -> list[Todo]:
    if user_can(user, "outcome.manage"):
        return _arranging(user) + _overdue_items(user, "outcome.manage")
    if user_can(user, "outcome.pledge"):
        return _pledging(user) + _interviews_of_village(user)
    if user_can(user, "outcome.view"):
        return _interviews_of_village(user)
    return []
