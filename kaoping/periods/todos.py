"""The periods' to-dos for the home page (kaoping.core.todos): periods to close, post and
finalise for whoever closes them, and the units of an area with nothing recorded in the period
running now for whoever runs the area."""

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.todos import Todo
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.people.models import Subject, SubjectKind

from .models import Period, PeriodStatus

# The units a township follows period by period; households and party members are too many to
# chase one by one from a home page, and their own people record for them.
FOLLOWED_KINDS = (
    SubjectKind.VILLAGE,
    SubjectKind.TEAM,
    SubjectKind.CADRE,
    SubjectKind.GRID,
    SubjectKind.NATURAL_VILLAGE,
)
CURRENT_SHOWN = 5  # periods running now, per home


def _first_to_do(periods) -> str:
    """The page of the period to do first (the one that ended earliest): one done, the home
    counts one fewer and links to the next, so nobody hunts through the schemes for them."""
    pk = periods.order_by("end", "pk").values_list("pk", flat=True).first()
    if pk is not None:
        return reverse("periods:detail", kwargs={"pk": pk})
    return reverse("schemes:list")


def _lifecycle(user) -> list[Todo]:
    today = timezone.localdate()
    now = timezone.now()
    periods = Period.objects.for_user(user, "period.close")
    to_close = Q(status=PeriodStatus.OPEN, end__lt=today)
    to_post = Q(status=PeriodStatus.CLOSED)
    to_finalise = Q(status=PeriodStatus.POSTED, objection_deadline__lte=now)
    counts = periods.aggregate(
        close=Count("pk", filter=to_close),
        post=Count("pk", filter=to_post),
        finalise=Count("pk", filter=to_finalise),
    )
    todos = []
    if counts["close"]:
        todos.append(
            Todo(
                title=_("%(n)d periods to close") % {"n": counts["close"]},
                url=_first_to_do(periods.filter(to_close)),
                count=counts["close"],
                detail=_("The period has ended: close it to compute results and lists."),
                order=10,
            )
        )
    if counts["post"]:
        todos.append(
            Todo(
                title=_("%(n)d periods to post publicly") % {"n": counts["post"]},
                url=_first_to_do(periods.filter(to_post)),
                count=counts["post"],
                detail=_("Closed, not yet posted: post the results for objections."),
                order=12,
            )
        )
    if counts["finalise"]:
        todos.append(
            Todo(
                title=_("%(n)d posted periods to finalise") % {"n": counts["finalise"]},
                url=_first_to_do(periods.filter(to_finalise)),
                count=counts["finalise"],
                detail=_("The objection window is over: finalise to lock the results."),
                order=14,
            )
        )
    return todos


def _unrecorded(user) -> list[Todo]:
    """Per period running today: the units in the user's area with no entry in it yet."""
    today = timezone.localdate()
    running = list(
        Period.objects.for_user(user, "period.view")
        .filter(
            status=PeriodStatus.OPEN,
            start__lte=today,
            end__gte=today,
            scheme__subject_kind__in=FOLLOWED_KINDS,
        )
        .select_related("scheme")
        .order_by("end", "scheme__name")[:CURRENT_SHOWN]
    )
    todos = []
    for period in running:
        recorded = Entry.objects.filter(
            subject=OuterRef("pk"),
            scheme_id=period.scheme_id,
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
        ).exclude(status=EntryStatus.REJECTED)
        missing = (
            Subject.objects.for_user(user, "entry.record")
            .filter(kind=period.scheme.subject_kind, active=True)
            .exclude(Exists(recorded))
            .count()
        )
        if missing:
            todos.append(
                Todo(
                    title=_("%(n)d without entries in %(scheme)s %(period)s")
                    % {"n": missing, "scheme": period.scheme.name, "period": period.label},
                    url=reverse("periods:detail", kwargs={"pk": period.pk}),
                    count=missing,
                    detail=_("Nothing recorded for them in the period running now (until %(end)s).")
                    % {"end": period.end.isoformat()},
                    order=30,
                )
            )
    return todos


def home_todos(user) -> list[Todo]:
    todos = []
    if user_can(user, "period.close"):
        todos += _lifecycle(user)
    # Who runs an area (county and township admins) follows what its units have recorded.
    if user_can(user, "outcome.manage") and user_can(user, "entry.record"):
        todos += _unrecorded(user)
    return todos
