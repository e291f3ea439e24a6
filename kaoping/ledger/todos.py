"""The ledger's to-dos for the home page (kaoping.core.todos): the review queue for reviewers,
entries waiting for their evidence and recent imports that need a look for whoever recorded
them, and for a department scorer the villages its items have nothing for yet this period."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.todos import Todo, counted
from kaoping.people.models import Subject
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.models import Scheme, SchemeNode

from .duties import DEPT_PREFIX, department_codes
from .models import Entry, EntryStatus, ImportJob, ImportStatus
from .selectors import entry_review_queue

# A failed or unfinished import is a to-do for this long; after that it is history.
IMPORT_DAYS = 7
SCHEMES_SHOWN = 5  # a department's schemes followed on its home


def _review(user) -> list[Todo]:
    waiting, more = counted(entry_review_queue(user=user, filters={}))
    if not (waiting or more):
        return []
    title = _("More than %(n)d entries to review") if more else _("%(n)d entries to review")
    return [
        Todo(
            title=title % {"n": waiting},
            url=reverse("ledger:review"),
            count=waiting,
            order=10,
        )
    ]


def _own(user) -> list[Todo]:
    todos = []
    awaiting = Entry.objects.for_user(user, "entry.record").filter(
        status=EntryStatus.AWAITING, created_by=user
    )
    n = awaiting.count()
    if n:
        first = awaiting.values_list("pk", flat=True).first() if n == 1 else None
        todos.append(
            Todo(
                title=_("%(n)d entries awaiting evidence") % {"n": n},
                url=(
                    reverse("ledger:entry_evidence", kwargs={"pk": first})
                    if first
                    else reverse("ledger:my_entries")
                ),
                count=n,
                detail=_("Imported without the photo or file their item needs."),
                order=16,
            )
        )
    since = timezone.now() - timedelta(days=IMPORT_DAYS)
    jobs = ImportJob.objects.for_user(user, "entry.record").filter(
        uploaded_by=user, created_at__gte=since
    )
    counts = jobs.aggregate(
        failed=Count("pk", filter=Q(status=ImportStatus.FAILED)),
        checked=Count("pk", filter=Q(status=ImportStatus.PREVIEWED)),
    )
    for status, n, title, urgent in (
        (ImportStatus.FAILED, counts["failed"], _("%(n)d imports failed"), True),
        (
            ImportStatus.PREVIEWED,
            counts["checked"],
            _("%(n)d imports checked, not imported"),
            False,
        ),
    ):
        if not n:
            continue
        pk = jobs.filter(status=status).values_list("pk", flat=True).first() if n == 1 else None
        todos.append(
            Todo(
                title=title % {"n": n},
                url=(
                    reverse("ledger:import_job", kwargs={"pk": pk})
                    if pk
                    else reverse("ledger:imports")
                ),
                count=n,
                urgent=urgent,
                order=15,
            )
        )
    return todos


def _department(user, codes: frozenset[str]) -> list[Todo]:
    """Per scheme giving items to the user's department: the subjects of its villages with no
    entry of those items in the scheme's period running today."""
    owners = [DEPT_PREFIX + code for code in codes]
    items: dict[int, set[str]] = {}
    for scheme_id, code in SchemeNode.objects.filter(owner__in=owners, is_item=True).values_list(
        "version__scheme_id", "code"
    ):
        items.setdefault(scheme_id, set()).add(code)
    if not items:
        return []
    schemes = list(
        Scheme.objects.for_user(user, "scheme.view")
        .filter(pk__in=list(items))
        .order_by("name")[:SCHEMES_SHOWN]
    )
    today = timezone.localdate()
    todos = []
    for scheme in schemes:
        label = label_for(scheme.cadence, today)
        start, end = period_dates(scheme.cadence, label)
        scored = Entry.objects.filter(
            subject=OuterRef("pk"),
            scheme=scheme,
            item_code__in=sorted(items[scheme.pk]),
            occurred_on__gte=start,
            occurred_on__lte=end,
        ).exclude(status=EntryStatus.REJECTED)
        missing = (
            Subject.objects.for_user(user, "entry.record")
            .filter(kind=scheme.subject_kind, active=True)
            .exclude(Exists(scored))
            .count()
        )
        if missing:
            todos.append(
                Todo(
                    title=_("%(n)d to score in %(scheme)s %(period)s")
                    % {"n": missing, "scheme": scheme.name, "period": label},
                    url=reverse("ledger:imports"),
                    count=missing,
                    detail=_("Your department's items have no entry for them yet (until %(end)s).")
                    % {"end": end.isoformat()},
                    order=20,
                )
            )
    return todos


def home_todos(user) -> list[Todo]:
    todos = []
    if user_can(user, "entry.review"):
        todos += _review(user)
    if user_can(user, "entry.record"):
        todos += _own(user)
        codes = department_codes(user)
        if codes:
            todos += _department(user, codes)
    return todos
