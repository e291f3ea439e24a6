"""Reads of the ledger, for its pages and for the pages above it; lists start from `for_user`."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, Exists, F, OuterRef, QuerySet, Sum, Value, When, Window
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.fields import subtree_q
from kaoping.core.templatetags.scoring import node_rule
from kaoping.people.models import Subject, SubjectKind
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import Scheme, SchemeNode, SchemeVersion
from kaoping.schemes.scoring import assessed_cadences, item_levels
from kaoping.schemes.selectors import rating_labels

from .adjustments import ADJUST_CODE, adjust_cadences
from .duties import (
    department_codes,
    department_may_score,
    entries_reviewable,
    reviewed_schemes,
    sealed,
)
from .models import Entry, EntryStatus, Evidence, ImportJob
from .services import scorable_items, subject_variant

# Rating and veto items are decided by others (a rating by the review group, a veto by the
# village committee): a household can only say that something happened, so many times.
DECLARABLE_RULES = ("count", "quantity")
RECENT_IMPORTS = 20


def item_names(entries) -> dict[tuple[int, str], str]:
    """(scheme id, item code) → item name for the given entries, in one query (latest names win)."""
    schemes = {e.scheme_id for e in entries}
    codes = {e.item_code for e in entries}
    rows = (
        # Every tree's rows: an overlay's items are in its region's trees only.
        SchemeNode.objects.filter(version__scheme_id__in=schemes, code__in=codes)
        .order_by("version__number")
        .values_list("version__scheme_id", "code", "name")
    )
    return {(scheme_id, code): name for scheme_id, code, name in rows}


def annotate_item_names(entries) -> None:
    """Give each entry an `item_name` for display."""
    names = item_names(entries)
    for entry in entries:
        if entry.item_code == ADJUST_CODE:
            entry.item_name = _("Adjustment")
            continue
        entry.item_name = names.get((entry.scheme_id, entry.item_code), entry.item_code)


def entry_review_queue(*, user, filters: Mapping[str, str]) -> QuerySet[Entry]:
    """The entries `user` may decide (`duties.entries_reviewable`: nothing the review would then
    refuse, nothing inside a finalised period), as the review page filters them: `status`
    (submitted unless given; "all" for every status), `region` (a code prefix), `scheme` (a
    code), `item` (part of the item's name), `start` and `end` (ISO dates, inclusive). Oldest
    first; evidence prefetched."""
    entries = entries_reviewable(
        Entry.objects.select_related("subject__region", "scheme", "created_by"), user
    )
    status = filters.get("status") or EntryStatus.SUBMITTED
    if status != "all":
        entries = entries.filter(status=status)
    if filters.get("region"):
        entries = entries.filter(subtree_q("subject__region__code", filters["region"]))
    if filters.get("scheme"):
        entries = entries.filter(scheme__code=filters["scheme"])
    if filters.get("item"):
        # By name in any version of the entry's scheme: a renamed item is still found by both.
        named = SchemeNode.objects.filter(
            version__scheme_id=OuterRef("scheme_id"),
            code=OuterRef("item_code"),
            is_item=True,
            name__icontains=filters["item"],
        )
        entries = entries.filter(Exists(named))
    if start := parse_date(filters.get("start") or ""):
        entries = entries.filter(occurred_on__gte=start)
    if end := parse_date(filters.get("end") or ""):
        entries = entries.filter(occurred_on__lte=end)
    return entries.order_by("occurred_on", "id").prefetch_related("evidence")


def review_scheme_choices(*, user) -> list[Scheme]:
    """The schemes whose entries `user` reviews somewhere, by name (the queue's scheme filter)."""
    return list(Scheme.objects.filter(pk__in=list(reviewed_schemes(user))).order_by("name", "code"))


def review_item_names(*, user, scheme_code: str) -> list[str]:
    """The names of the items of one scheme `user` reviews (the queue's item suggestions)."""
    scheme_ids = list(reviewed_schemes(user))
    names = (
        SchemeNode.objects.filter(
            version__scheme__code=scheme_code, version__scheme_id__in=scheme_ids, is_item=True
        )
        .exclude(aggregate="metric")
        .order_by("position")
        .values_list("name", flat=True)
    )
    return list(dict.fromkeys(names))


def entry_list_mine(*, user) -> QuerySet[Entry]:
    """The entries `user` recorded (in the area they may still see), newest first; `lapsed`
    marks those dated inside a finalised period (one still submitted there no longer counts)."""
    return (
        Entry.objects.for_user(user, "entry.view")
        .filter(created_by=user)
        .select_related("subject", "scheme", "reviewed_by")
        .annotate(lapsed=sealed())
        .order_by("-created_at", "-id")
    )


def entry_list_of_subject(*, user, subject: Subject) -> QuerySet[Entry]:
    """A subject's entries, newest first, each with the running total of approved points of
    its scheme counted oldest first (whichever way the page is ordered)."""
    running = Window(
        Sum(Case(When(status=EntryStatus.APPROVED, then=F("points")), default=Value(Decimal(0)))),
        partition_by=[F("scheme_id")],
        order_by=[F("occurred_on").asc(), F("id").asc()],
    )
    return (
        Entry.objects.for_user(user, "entry.view")
        .filter(subject=subject)
        .select_related("scheme", "created_by", "reviewed_by")
        .annotate(running_total=running)
        .order_by("-occurred_on", "-id")
    )


def evidence_get(*, user, pk: int) -> Evidence | None:
    """One evidence file, if `user` may see the entry it belongs to."""
    visible = Entry.objects.for_user(user, "entry.view")
    return Evidence.objects.filter(pk=pk, entry__in=visible).first()


def import_job_list(*, user, limit: int = RECENT_IMPORTS) -> list[ImportJob]:
    """The user's own recent uploads, newest first."""
    return list(
        ImportJob.objects.for_user(user, "entry.record")
        .filter(uploaded_by=user)
        .select_related("scheme")[:limit]
    )


def import_job_status_counts(*, job: ImportJob) -> list[dict]:
    """How many of an import's entries are in each status."""
    return list(job.entries.values("status").annotate(n=Count("id")).order_by("status"))


def scheme_item_choices(
    *, version: SchemeVersion, subject: Subject, user=None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The items `subject` may be scored on under `version` (named with their list, in the
    scheme's order) by `user` (a department scorer: the items the scheme gives its department),
    and the rating labels of its variant, as form choices."""
    variant = subject_variant(version, subject)
    departments = department_codes(user)
    nodes = [
        n
        for n in scorable_items(version, subject).order_by("position")
        if department_may_score(departments, n.owner)
    ]
    parents = {
        n.code: n.name
        for n in SchemeNode.objects.filter(version=version, variant=variant, is_item=False)
    }
    # An item recorded at roll-up levels only says so in its choice (年度考核 only).
    only = {
        code: _("%(levels)s assessment only") % {"levels": "、".join(map(cadence_label, levels))}
        for code, levels in item_levels(version.spec()).items()
    }
    items = [
        (
            n.code,
            (f"{parents.get(n.parent_code, '')} · {n.name}" if n.parent_code in parents else n.name)
            + (f"（{only[n.code]}）" if n.code in only else ""),
        )
        for n in nodes
    ]
    adjusted = adjust_cadences(version.spec())
    if adjusted:
        # Last, after the scheme's own items: points added or taken at a roll-up by hand.
        items.append(
            (
                ADJUST_CODE,
                _("± adjustment (%(levels)s, reason required)")
                % {"levels": "、".join(map(cadence_label, adjusted))},
            )
        )
    labels = [(label, label) for label in rating_labels(version=version, variant=variant)]
    return items, labels


def assessment_levels(scheme: Scheme, spec) -> list[tuple[str, str]]:
    """The assessments an entry of `scheme` may count in, as form choices: the scheme's own
    period of its date ("") first, then each roll-up level assessed in its own right or taking
    ± adjustments (`adjust: true`), in the order of the file's roll-ups."""
    assessed, adjusted = set(assessed_cadences(spec)), set(adjust_cadences(spec))
    levels = [
        ("", _("the %(cadence)s period of the date") % {"cadence": cadence_label(scheme.cadence)})
    ]
    for rollup in spec.rollups:
        cadence = str(rollup.cadence)
        words = {"cadence": cadence_label(cadence)}
        if cadence in assessed and cadence in adjusted:
            levels.append((cadence, _("the %(cadence)s assessment and adjustments") % words))
        elif cadence in assessed:
            levels.append((cadence, _("the %(cadence)s assessment") % words))
        elif cadence in adjusted:
            levels.append((cadence, _("the %(cadence)s adjustments") % words))
    return levels


def evidence_required_codes(*, version: SchemeVersion, subject: Subject) -> set[str]:
    """The codes of the items of `subject` under `version` that need a photo or file."""
    return set(
        scorable_items(version, subject)
        .filter(evidence_required=True)
        .values_list("code", flat=True)
    )


def entry_list_awaiting_evidence(*, user, job: ImportJob | None = None) -> QuerySet[Entry]:
    """Entries waiting for their evidence that `user` may complete: an import's, or those `user`
    recorded. Oldest first."""
    entries = Entry.objects.for_user(user, "entry.record").filter(status=EntryStatus.AWAITING)
    entries = entries.filter(import_job=job) if job is not None else entries.filter(created_by=user)
    return entries.select_related("subject", "scheme").order_by("occurred_on", "id")


@dataclass(frozen=True)
class Declarable:
    scheme: Scheme
    node: SchemeNode

    @property
    def value(self) -> str:
        return f"{self.scheme.code}:{self.node.code}"


def subject_list_declaring(*, user) -> list[Subject]:
    """The household subjects `user` declares for: households named by their villager roles."""
    households = RoleAssignment.objects.filter(user=user, role=Role.VILLAGER).values("household")
    return list(
        Subject.objects.for_user(user, "entry.declare")
        .filter(kind=SubjectKind.HOUSEHOLD, household__in=households, active=True)
        .select_related("region")
        .order_by("pk")
    )


def declarable_items(*, subject: Subject, schemes) -> list[tuple[str, list[Declarable]]]:
    """The items `subject` may declare, grouped by the list (parent node) they are in."""
    groups: list[tuple[str, list[Declarable]]] = []
    schemes = list(schemes)
    for scheme in schemes:
        version = scheme.latest_version()
        if version is None:
            continue
        nodes = list(
            SchemeNode.objects.filter(version=version, variant=subject_variant(version, subject))
            .exclude(aggregate="metric")
            .order_by("position")
        )
        names = {n.code: n.name for n in nodes if not n.is_item}
        by_parent: dict[str, list[Declarable]] = {}
        for node in nodes:
            if node.is_item and node.declarable and node.rule in DECLARABLE_RULES:
                node.rule_text = node_rule(version, node)
                by_parent.setdefault(node.parent_code or "", []).append(Declarable(scheme, node))
        for parent, items in by_parent.items():
            title = names.get(parent, scheme.name)
            if len(schemes) > 1:
                title = f"{scheme.name} · {title}"
            groups.append((title, items))
    return groups
