"""Reads of the posting: what the public page, the posters and the exports show.

Everything here reads results, nodes and list memberships as the close wrote them; nothing is
recomputed. Persons (households, party members, cadres) appear with masked names wherever the
reader is not entitled to see them in full.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for
from kaoping.core.fields import subtree_q
from kaoping.core.privacy import mask_name, mask_phone
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.ledger.selectors import annotate_item_names
from kaoping.ledger.services import scorable_items, subject_variant
from kaoping.people.models import Subject
from kaoping.periods.breakdown import PART_PREFIX
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.periods.selectors import period_grade_names, tie_note
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Level, Region
from kaoping.regions.selectors import rank_group_labels
from kaoping.schemes.models import SchemeNode
from kaoping.schemes.selectors import rating_labels

from .models import Objection, ObjectionStatus

PUBLIC_STATUSES = (PeriodStatus.POSTED, PeriodStatus.FINAL)
# Subjects that are people: their names are personal data and are masked in public.
PERSON_KINDS = frozenset({"household", "party_member", "cadre"})
# Kinds of list a village notice-board poster carries.
POSTER_KINDS = ("red", "black", "progress", "flag")
# Rows of one list shown on a public page; longer lists are read by village or in the export.
LIST_ROWS_SHOWN = 200


def mask_contact(value: str) -> str:
    """138****0001 for a telephone number, z***@example.cn for an address, else 张***1."""
    value = value.strip()
    if not value:
        return ""
    digits = sum(c.isdigit() for c in value)
    if digits >= 7 and digits >= len(value) - 2:
        return mask_phone(value)
    if "@" in value:
        local, _at, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[:1] + "***" + (value[-1:] if len(value) > 2 else "")


def public_name(subject) -> str:
    """The subject's name as the public sees it: villages and teams by name, people masked."""
    return mask_name(subject.name) if subject.kind in PERSON_KINDS else subject.name


def place_of(subject) -> str:
    """Where the subject belongs, one level up: a village's township, a household's village."""
    region = subject.region
    if subject.kind in ("village", "team", "household"):
        region = region.parent or region
    return region.name


def period_label(period: Period) -> str:
    """2026-Q3 → “2026年第3季度” (in the reader's language)."""
    year, _sep, rest = period.label.partition("-")
    if period.cadence == "month":
        return _("%(year)s, month %(n)d") % {"year": year, "n": int(rest)}
    if period.cadence == "quarter":
        return _("%(year)s, quarter %(n)d") % {"year": year, "n": int(rest[1:])}
    if period.cadence == "half_year":
        if rest == "H1":
            return _("%(year)s, first half") % {"year": year}
        return _("%(year)s, second half") % {"year": year}
    return _("year %(year)s") % {"year": year}


def public_period_or_404(pk: int) -> Period:
    """A posted or final period; anything else does not exist for the public."""
    try:
        return Period.objects.select_related("scheme__region", "version").get(
            pk=pk, status__in=PUBLIC_STATUSES
        )
    except Period.DoesNotExist:
        raise Http404 from None


def public_periods():
    return (
        Period.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("scheme__region")
        .order_by("-posted_at", "-id")
    )


def region_choices(period: Period, region: Region | None) -> list[tuple[Region, int]]:
    """The places to narrow the posting to, as (region, indent): a drill-down, not a list of all.

    The way down from the scheme's area to the place shown, then that place's own children
    (a village's siblings when a village is shown). A county's list stays short, and a scheme
    over a province does not put twenty thousand villages into every page.
    """
    top = period.scheme.region.code
    place_code = region.code if region is not None else top  # region_in_period: inside `top`
    if region is not None and region.level in (Level.VILLAGE, Level.GRID):
        place_code = place_code[: LEVEL_DIGITS["township"]]
    prefixes = [place_code[:n] for n in LEVEL_DIGITS.values() if len(top) < n <= len(place_code)]
    path = list(Region.objects.filter(code__in=prefixes).order_by("code"))
    children = Region.objects.filter(parent__code=place_code).exclude(level=Level.GRID)
    indent = len(path)
    return [(r, i) for i, r in enumerate(path)] + [(r, indent) for r in children.order_by("code")]


def region_in_period(period: Period, code: str | None) -> Region | None:
    """The region asked for with ?region=CODE, if it lies inside the scheme's county."""
    if not code or not code.isdigit():
        return None
    if not code.startswith(period.scheme.region.code):
        return None
    return Region.objects.filter(code=code).first()


def _in_region(queryset, region: Region | None):
    return queryset.filter(subtree_q("subject__region__code", region.code)) if region else queryset


@dataclass
class ListRow:
    position: int
    name: str
    place: str
    value: str  # already formatted: points, "+3" places, or a number of periods
    subject_id: int
    carried: bool = False
    tier: str = ""
    tie_note: str = ""  # why a subject of a tie across the cut-off is on (at_cutoff: break)
    carried_from: str = ""  # the label of the period a carried row's listing was made in


@dataclass
class PublicList:
    code: str
    name: str
    kind: str  # red, black, progress, flag, mark, streak, award
    rows: list[ListRow] = field(default_factory=list)
    total: int = 0  # members in all (rows may be cut at LIST_ROWS_SHOWN)


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value.normalize():f}"
    return "0" if text == "-0" else text


def list_rules(period: Period) -> list[tuple[str, str, str, object]]:
    """(code, name, kind, rule) of every list, streak and award of the period, in scheme order."""
    spec = period.version.spec()
    rules = [(r.code, r.name, str(r.kind), r) for r in spec.ranking.lists]
    rules += [(r.code, r.name, "streak", r) for r in spec.ranking.streaks]
    rules += [(r.code, r.name, "award", r) for r in spec.ranking.awards]
    return rules


def _value(period: Period, kind: str, rule, membership: ListMembership) -> Decimal | int:
    """What a list row is worth: points, or places gained, or periods running (a streak)."""
    if kind == "streak" or (kind == "progress" and getattr(rule, "by", "") == "rank_gain"):
        return membership.value
    return period.version.to_points(membership.value)


def _value_text(period: Period, kind: str, rule, membership: ListMembership) -> str:
    value = _value(period, kind, rule, membership)
    if kind == "progress":
        if isinstance(value, int):
            return _("+%(n)d places") % {"n": value}
        return "+" + _fmt(value)
    if kind == "streak":
        return _("%(n)d periods running") % {"n": value}
    return _fmt(value)


def public_lists(
    period: Period,
    *,
    region: Region | None = None,
    kinds: tuple[str, ...] | None = None,
    name_of: Callable = public_name,
    limit: int | None = LIST_ROWS_SHOWN,
) -> list[PublicList]:
    """The period's lists with their members (names through `name_of`), in scheme order."""
    rules = [r for r in list_rules(period) if kinds is None or r[2] in kinds]
    memberships = _in_region(ListMembership.objects.filter(period=period), region)
    totals = dict(
        memberships.filter(list_code__in=[r[0] for r in rules])
        .values_list("list_code")
        .annotate(n=Count("id"))
        .order_by()
    )
    lists = []
    for code, name, kind, rule in rules:
        tiers = {t.code: t.name for t in getattr(rule, "tiers", ())}
        rows = memberships.filter(list_code=code).select_related(
            "subject__region__parent", "carried_from"
        )
        rows = rows.order_by("carried", "position", "subject__region__code", "subject_id")
        if limit is not None:
            rows = rows[:limit]
        lists.append(
            PublicList(
                code=code,
                name=name,
                kind=kind,
                total=totals.get(code, 0),
                rows=[
                    ListRow(
                        position=m.position,
                        name=name_of(m.subject),
                        place=place_of(m.subject),
                        value=_value_text(period, kind, rule, m),
                        subject_id=m.subject_id,
                        carried=m.carried,
                        carried_from=m.carried_from.label if m.carried_from else "",
                        tier=tiers.get(m.tier, m.tier),
                        tie_note=tie_note(
                            period.version.spec(),
                            getattr(rule, "pick", "top"),
                            m.position,
                            True,
                            m.tie_break,
                            m.subject_id,
                        )
                        if m.tie_break
                        else "",
                    )
                    for m in rows
                ],
            )
        )
    return lists


def public_results(period: Period, *, region: Region | None = None):
    """The period's results in rank order (a queryset, to be paginated)."""
    return _in_region(
        Result.objects.filter(period=period).select_related("subject__region__parent"), region
    ).order_by("rank_group", "rank", "subject__region__code", "subject_id")


@dataclass
class IndexValue:
    code: str
    name: str
    value: Decimal
    max: Decimal | None


def index_nodes(period: Period) -> list[SchemeNode]:
    """The indices (depth-1 nodes) of the period's version, default tree, in scheme order."""
    return list(
        SchemeNode.objects.filter(version=period.version, variant="", depth=1).order_by("position")
    )


def breakdown(period: Period, result: Result) -> dict:
    """A result by index (depth 1) and, for a composite roll-up, by part. No entries, no evidence."""
    to_points = period.version.to_points
    nodes = SchemeNode.objects.filter(
        version=period.version, variant=result.variant, depth=1
    ).order_by("position")
    rows = {code: node.value for code, node in result.nodes().items()}
    indices = [
        IndexValue(
            code=n.code,
            name=n.name,
            value=to_points(rows.get(n.code, n.empty_value)),
            max=to_points(n.max),
        )
        for n in nodes
    ]
    parts = [
        (code.removeprefix(PART_PREFIX), to_points(node.value))
        for code, node in result.nodes().items()
        if code.startswith(PART_PREFIX)
    ]
    on_lists = {code: name for code, name, _kind, _rule in list_rules(period)}
    memberships = ListMembership.objects.filter(period=period, subject_id=result.subject_id)
    return {
        "indices": indices,
        "parts": sorted(parts),
        "total": to_points(result.total),
        "grade": period_grade_names(period=period).get(result.grade_code, ""),
        "lists": [on_lists.get(m.list_code, m.list_code) for m in memberships],
    }


def decided_objections(period: Period, *, subject_id: int | None = None):
    """Upheld objections of the period with their decisions, newest first (for the public)."""
    rows = Objection.objects.filter(period=period, status=ObjectionStatus.UPHELD).select_related(
        "subject__region"
    )
    if subject_id is not None:
        rows = rows.filter(subject_id=subject_id)
    return rows.order_by("-decided_at", "-id")


def objection_counts(period: Period) -> dict[str, int]:
    counts = dict(
        Objection.objects.filter(period=period)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status: counts.get(status, 0) for status in ObjectionStatus.values}


# ── Exports ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: Iterator[list]


def name_policy(user) -> Callable:
    """How a console user sees subjects' names: in full where they may view people, else masked.

    The public export always masks (public_name); a console user sees full names exactly for
    the subjects inside their `people.view` scopes (a villager: their own household).
    """
    scopes = scopes_for(user, "people.view") if user.is_authenticated else []
    if user.is_authenticated and user.is_superuser:
        return lambda subject: subject.name

    def name_of(subject) -> str:
        for scope in scopes:
            if scope.household_id is not None:
                if subject.household_id == scope.household_id:
                    return subject.name
            elif subject.region.code.startswith(scope.prefix):
                return subject.name
        return public_name(subject)

    return name_of


def _sheet_title(name: str, used: set[str]) -> str:
    title = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "-"
    base, n = title, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def export_sheets(
    period: Period,
    *,
    results,
    memberships,
    name_of: Callable,
    region: Region | None = None,
) -> list[Sheet]:
    """One sheet of results with a column per index, then one sheet per list, as row generators.

    `results` and `memberships` are the querysets the reader may see (all of them for the public
    export, `for_user` in the console); rows are streamed in chunks, never held all at once.
    """
    used: set[str] = set()
    to_points = period.version.to_points
    indices = index_nodes(period)
    empty = {
        (n.variant, n.code): n.empty_value
        for n in SchemeNode.objects.filter(version=period.version, depth=1)
    }
    grades = period_grade_names(period=period)
    # The year-to-date total (累计) beside the total, for a scheme whose lists or grades use it.
    ytd = period.version.spec().uses_ytd()
    results = _in_region(results.filter(period=period), region)
    memberships = _in_region(memberships.filter(period=period), region)

    def result_rows() -> Iterator[list]:
        chunk: list[Result] = []
        queryset = results.select_related("subject__region__parent").order_by(
            "rank_group", "rank", "subject__region__code", "subject_id"
        )
        for result in queryset.iterator(chunk_size=2000):
            chunk.append(result)
            if len(chunk) == 2000:
                yield from _rows(chunk)
                chunk = []
        yield from _rows(chunk)

    def _rows(chunk: list[Result]) -> Iterator[list]:
        if not chunk:
            return
        values: dict[tuple[int, str], int] = {
            (r.subject_id, code): node.value for r in chunk for code, node in r.nodes().items()
        }
        groups = rank_group_labels(r.rank_group for r in chunk)
        for r in chunk:
            yield [
                groups.get(r.rank_group, r.rank_group),
                r.rank,
                name_of(r.subject),
                place_of(r.subject),
                to_points(r.total),
                *([None if r.ytd is None else to_points(r.ytd)] if ytd else []),
                grades.get(r.grade_code, ""),
                *[
                    to_points(values.get((r.subject_id, n.code), empty.get((r.variant, n.code), 0)))
                    for n in indices
                ],
                _("yes") if r.zeroed else "",
                _("yes") if r.barred else "",
            ]

    sheets = [
        Sheet(
            title=_sheet_title(_("Results"), used),
            header=[
                _("ranking group"),
                _("rank"),
                _("name"),
                _("belongs to"),
                _("total"),
                *([_("year to date")] if ytd else []),
                _("grade"),
                *[n.name for n in indices],
                _("vetoed"),
                _("barred"),
            ],
            rows=result_rows(),
        )
    ]
    for code, name, kind, rule in list_rules(period):
        tiers = {t.code: t.name for t in getattr(rule, "tiers", ())}

        def list_rows(code=code, kind=kind, rule=rule, tiers=tiers) -> Iterator[list]:
            rows = (
                memberships.filter(list_code=code)
                .select_related("subject__region__parent", "carried_from")
                .order_by("carried", "position", "subject__region__code", "subject_id")
            )
            for m in rows.iterator(chunk_size=2000):
                yield [
                    m.position or "",
                    name_of(m.subject),
                    place_of(m.subject),
                    _value(period, kind, rule, m),
                    tiers.get(m.tier, m.tier),
                    (m.carried_from.label if m.carried_from else _("yes")) if m.carried else "",
                ]

        sheets.append(
            Sheet(
                title=_sheet_title(name, used),
                header=[
                    _("place on list"),
                    _("name"),
                    _("belongs to"),
                    _("value"),
                    _("tier"),
                    _("carried over"),
                ],
                rows=list_rows(),
            )
        )
    return sheets


def objection_list(
    *, user, action: str = "objection.view", status: str | None = None, period_id: int | None = None
) -> QuerySet[Objection]:
    """The objections `user` may see, newest first (of one status and one period if given)."""
    rows = Objection.objects.for_user(user, action).select_related(
        "period__scheme", "subject__region"
    )
    if status is not None:
        rows = rows.filter(status=status)
    if period_id is not None:
        rows = rows.filter(period_id=period_id)
    return rows.order_by("-created_at", "-id")


def export_sheets_for_user(*, user, period: Period, region: Region | None = None) -> list[Sheet]:
    """The console export of `period`: the results and list places `user` may see, with names
    in full inside their `people.view` scope and masked outside it."""
    return export_sheets(
        period,
        results=Result.objects.for_user(user, "period.view"),
        memberships=ListMembership.objects.for_user(user, "period.view"),
        name_of=name_policy(user),
        region=region,
    )


# ── An objection's decision ──────────────────────────────────────────────────────────────────


def subject_of_period_result(*, user, period: Period, subject_id: int) -> Subject | None:
    """The subject of one result of `period` that `user` may see, with its region."""
    result = (
        Result.objects.for_user(user, "period.view")
        .filter(period=period, subject_id=subject_id)
        .select_related("subject__region")
        .first()
    )
    return result.subject if result is not None else None


def result_list_to_choose(*, user, period: Period, limit: int) -> list[Result] | None:
    """The results of `period` that `user` may see, in rank order, to pick a subject from; None
    when there are more than `limit` (a large period is searched by subject number instead)."""
    rows = list(
        Result.objects.for_user(user, "period.view")
        .filter(period=period)
        .select_related("subject__region")
        .order_by("rank", "subject_id")[: limit + 1]
    )
    return rows if len(rows) <= limit else None


@dataclass
class CorrectionChoices:
    """What an upheld objection may correct for one subject of the period."""

    entries: list[Entry]  # approved, not yet reversed, inside the period; with `item_name`
    items: list[tuple[str, str]]  # (code, name) of the items that may be recorded
    labels: list[str]  # the rating labels of the subject's variant


def correction_choices(*, user, period: Period, subject: Subject) -> CorrectionChoices:
    """The entries `user` may reverse and the items and labels they may record for `subject`."""
    entries = list(
        Entry.objects.for_user(user, "entry.view")
        .filter(
            scheme_id=period.scheme_id,
            subject=subject,
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
            status=EntryStatus.APPROVED,
            reverses__isnull=True,  # an original (a negative adjustment has sign −1 too)
            reversals__isnull=True,
        )
        .order_by("occurred_on", "id")
    )
    annotate_item_names(entries)
    version = period.scheme.latest_version()
    items = [(n.code, n.name) for n in scorable_items(version, subject).order_by("position")]
    variant = subject_variant(version, subject)
    labels = rating_labels(version=version, variant=variant)
    return CorrectionChoices(entries=entries, items=items, labels=labels)


def entry_list_of_corrections(*, user, objection: Objection) -> list[Entry]:
    """The entries an upheld objection wrote (its reversals and recorded corrections), by id."""
    corrections = objection.corrections or {}
    ids = [*corrections.get("reversals", []), *corrections.get("recorded", [])]
    if not ids:
        return []
    entries = list(Entry.objects.for_user(user, "entry.view").filter(pk__in=ids).order_by("id"))
    annotate_item_names(entries)
    return entries
