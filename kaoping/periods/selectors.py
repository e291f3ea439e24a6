"""Reads of results: tables, the explanation of a total, a subject's history."""

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.evaluations.models import RoundResult
from kaoping.ledger.models import Entry, EntrySource, EntryStatus, MetricValue
from kaoping.people.models import Subject
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import SchemeGrade, SchemeLevel, SchemeNode
from kaoping.schemes.spec import RollupMethod, SchemeSpec, VetoEffect, VetoItem

from .breakdown import PART_PREFIX
from .crossscheme import (
    SourceProvenance,
    SourceRead,
    source_provenance,
    source_reads,
    sources_waiting,
)
from .engine import ADJUST_CODE
from .metrics import system_metrics
from .models import ListMembership, Period, Result
from .services import NAMES_SHOWN, subjects_without_data


@dataclass
class ExplainedNode:
    node: SchemeNode
    value: Decimal
    raw: Decimal | None  # None when nothing was recorded below (the value is the empty value)
    entry_count: int
    fired: bool
    limit: str  # which bound decided the value: "" or "max"/"floor"/"cap"
    entries: list
    levels: list
    # A metric item: the subject's value of the metric for the period (None: none reported), and
    # the evaluation round it came from when a campaign fed it.
    metric_value: Decimal | None = None
    evaluation: "EvaluationSource | None" = None
    # A `source:` item: the other scheme's results its figure was read from.
    source: SourceProvenance | None = None

    @property
    def indent(self) -> int:
        return self.node.depth


@dataclass(frozen=True)
class EvaluationSource:
    """The evaluation round an entry was written from: its campaign, result and ballots."""

    round_id: int
    name: str
    value: Decimal | None
    ballots: int


def _metric_sources(period: Period, subject_id: int, metrics: list[str]) -> tuple[dict, dict]:
    """The subject's value of each metric for the period, and the evaluation round behind each
    one an evaluation fed (metric → EvaluationSource)."""
    if not metrics:
        return {}, {}
    values = {
        m.metric: m.value
        for m in MetricValue.objects.filter(
            scheme_id=period.scheme_id,
            period_label=period.label,
            subject_id=subject_id,
            metric__in=metrics,
        )
    }
    rounds = {
        metric: EvaluationSource(round_id, name, value, ballots)
        for metric, round_id, name, value, ballots in RoundResult.objects.filter(
            subject_id=subject_id,
            metric__in=metrics,
            round__plan__scheme_id=period.scheme_id,
            round__period_label=period.label,
        )
        .order_by("round_id")
        .values_list("metric", "round_id", "round__name", "value", "ballots")
    }
    return values, rounds


def _attach_evaluations(entries: list) -> None:
    """Give each entry of an evaluation `.evaluation` (an EvaluationSource, or None), in one
    query for all of them: the page shows the pool and its count and links to the round's
    aggregate, never to a ballot."""
    ids = [e.pk for e in entries if e.source == EntrySource.EVALUATION]
    found = {}
    if ids:
        for entry_id, round_id, name, value, ballots in RoundResult.objects.filter(
            entry_id__in=ids
        ).values_list("entry_id", "round_id", "round__name", "value", "ballots"):
            found[entry_id] = EvaluationSource(round_id, name, value, ballots)
    for entry in entries:
        entry.evaluation = found.get(entry.pk)


@dataclass(frozen=True)
class ExplainedPart:
    """One part of a composite roll-up's total: the year's 40 % of the months' mean."""

    source: str  # a cadence, "self" or "adjust"
    label: str
    weight: Decimal | None  # None for the adjustments, which are added as they are
    periods: int | None  # how many periods a mean is over
    value: Decimal
    entries: tuple = ()  # the adjustments' entries, each with its reason (the note)

    @property
    def percent(self) -> str:
        """The weight as people write it: 0.4 → 40%."""
        return f"{(self.weight * 100).normalize():f}%" if self.weight is not None else ""


def _parts(period: Period, rows: dict, subject_id: int) -> list[ExplainedPart]:
    """The parts of a composite roll-up in the order the scheme lists them, then the ± adjustments
    of any roll-up that takes them, each listed with its reason."""
    rollup = _rollup(period)
    if rollup is None:
        return []
    to_points = period.version.to_points
    parts = []
    for part in rollup.parts if rollup.method is RollupMethod.COMPOSITE else ():
        source = str(part.source)
        row = rows.get(PART_PREFIX + source)
        mean = str(part.aggregate) == "mean"
        if source == "self":
            label = _("own assessment")
        elif mean:
            label = _("mean of the %(cadence)s results") % {"cadence": cadence_label(source)}
        else:
            label = _("sum of the %(cadence)s results") % {"cadence": cadence_label(source)}
        parts.append(
            ExplainedPart(
                source=source,
                label=label,
                weight=part.weight,
                periods=(row.entry_count if row else 0) if mean else None,
                value=to_points(row.value) if row else Decimal(0),
            )
        )
    adjust = rows.get(PART_PREFIX + "adjust")
    entries = (
        list(
            Entry.objects.filter(
                scheme_id=period.scheme_id,
                subject_id=subject_id,
                item_code=ADJUST_CODE,
                cadence=period.cadence,
                occurred_on__gte=period.start,
                occurred_on__lte=period.end,
            )
            .select_related("created_by")
            .order_by("occurred_on", "id")
        )
        if rollup.adjust
        else []
    )
    _mark_after_close(period, entries)
    if adjust is not None or entries:
        value = to_points(adjust.value) if adjust is not None else Decimal(0)
        parts.append(ExplainedPart("adjust", _("adjustments"), None, None, value, tuple(entries)))
    return parts


def _mark_after_close(period: Period, entries: list) -> None:
    """Mark (`after_close`) the entries recorded or reviewed after the period was last closed:
    the points shown are what that close used (its results' breakdowns), so these are listed
    but did not count, until the period is closed again."""
    closed_at = period.closed_at if period.status != "open" else None
    for entry in entries:
        entry.after_close = bool(
            closed_at
            and (
                entry.created_at > closed_at
                or (entry.reviewed_at is not None and entry.reviewed_at > closed_at)
            )
        )


def _rollup(period: Period):
    """The roll-up rule `period` is closed by, or None for the scheme's own periods."""
    if period.cadence == period.scheme.cadence:
        return None
    return next(
        (r for r in period.version.spec().rollups if str(r.cadence) == period.cadence), None
    )


def _has_tree(period: Period) -> bool:
    """Whether the period's result has node values: not for a composite without `self`."""
    rollup = _rollup(period)
    return (
        rollup is None
        or rollup.method is not RollupMethod.COMPOSITE
        or any(str(part.source) == "self" for part in rollup.parts)
    )


def _entry_cadence(period: Period) -> str:
    """The cadence of the entries behind a period's tree: the scheme's own ("") for its own
    periods and for a sum or mean roll-up (whose nodes add up the months'), the roll-up's for a
    composite, whose tree is its own assessment (a quarter's 群众测评)."""
    rollup = _rollup(period)
    if rollup is not None and rollup.method is RollupMethod.COMPOSITE:
        return period.cadence
    return ""


def explain(period: Period, result: Result) -> dict:
    """The tree of `result` with each node's points, the bound that applied, and its entries."""
    version = period.version
    to_points = version.to_points
    nodes = list(
        SchemeNode.objects.filter(version=version, variant=result.variant).order_by("position")
    )
    rows = result.nodes()
    if not _has_tree(period):
        # A composite of shorter periods only (the party-member year): its total is the parts,
        # and its tree would show nothing but empty values.
        nodes = []
    entries_by_item: dict[str, list] = {}
    if nodes and (period.cadence == period.scheme.cadence or rows):
        entries = list(
            Entry.objects.filter(
                scheme_id=period.scheme_id,
                subject_id=result.subject_id,
                cadence=_entry_cadence(period),
                occurred_on__gte=period.start,
                occurred_on__lte=period.end,
            )
            .select_related("created_by")
            .order_by("occurred_on", "id")
        )
        _attach_evaluations(entries)
        _mark_after_close(period, entries)
        for entry in entries:
            entries_by_item.setdefault(entry.item_code, []).append(entry)
    levels: dict[str, list] = {}
    for level in SchemeLevel.objects.filter(version=version, variant=result.variant):
        levels.setdefault(level.item_code, []).append(level)
    metric_values, metric_rounds = _metric_sources(
        period, result.subject_id, [n.metric for n in nodes if n.is_item and n.rule == "metric"]
    )
    read_from = source_provenance(period, version.spec(), result.subject) if nodes else {}
    explained = []
    for node in nodes:
        row = rows.get(node.code)
        limit = ""
        if row is not None and row.raw != row.value:
            if (
                node.cap is not None
                and abs(row.raw) > node.cap
                and row.value in (node.cap, -node.cap)
            ):
                limit = "cap"
            elif node.hi is not None and row.value == node.hi:
                limit = "max"
            else:
                limit = "floor"
        explained.append(
            ExplainedNode(
                node=node,
                value=to_points(row.value if row else node.empty_value),
                raw=to_points(row.raw) if row else None,
                entry_count=row.entry_count if row else 0,
                fired=bool(row and row.fired),
                limit=limit,
                entries=entries_by_item.get(node.code, []) if node.is_item else [],
                levels=levels.get(node.code, []),
                metric_value=metric_values.get(node.metric) if node.rule == "metric" else None,
                evaluation=metric_rounds.get(node.metric) if node.rule == "metric" else None,
                source=read_from.get(node.metric) if node.rule == "metric" else None,
            )
        )
    grade = SchemeGrade.objects.filter(version=version, code=result.grade_code).first()
    parts = _parts(period, rows, result.subject_id)
    return {
        "nodes": explained,
        "parts": parts,
        # The tree's top row is then the total before the ± adjustments, not the total shown.
        "adjusted": any(part.source == "adjust" for part in parts),
        "grade": grade,
        "total": to_points(result.total),
        "raw_total": to_points(result.raw_total),
        "fired": [n for n in explained if n.fired],
    }


@dataclass
class PeriodList:
    code: str
    name: str
    kind: str
    members: list
    tied_out: tuple = ()  # (subject, why) of a tie across the cut-off left off by a tie-break


def _tie_key_name(spec, by: str) -> str:
    """What a key of `ranking.tie_break`, as `ListMembership.tie_break` records it, is called."""
    if by.startswith("node:"):
        code = by.removeprefix("node:")
        return next((e.name for _p, e, _d in spec.walk() if e.code == code), code)
    return {"previous_rank": _("the previous period's rank")}.get(by, by)


def tie_note(spec, rule_pick: str, position: int, listed: bool, by: str, subject_id: int) -> str:
    """Why a subject of a tie across a list's cut-off is on it or not (`at_cutoff: break`):
    “并列第3名，按上期名次上榜”, “并列倒数第1名，抽签未上榜（对象编号 17）”."""
    values = {"n": position, "subject": subject_id, "key": _tie_key_name(spec, by)}
    bottom = rule_pick == "bottom"
    if by == "tie":
        if bottom:
            return _("tied %(n)s from the bottom; still tied after every key, all listed") % values
        return _("tied %(n)s; still tied after every key, all listed") % values
    notes = {
        # (bottom, listed, how it was settled) → the note
        (False, True, "lot"): _("tied %(n)s; listed by lot (subject no. %(subject)s)"),
        (False, False, "lot"): _("tied %(n)s; not listed by lot (subject no. %(subject)s)"),
        (True, True, "lot"): _(
            "tied %(n)s from the bottom; listed by lot (subject no. %(subject)s)"
        ),
        (True, False, "lot"): _(
            "tied %(n)s from the bottom; not listed by lot (subject no. %(subject)s)"
        ),
        (False, True, ""): _("tied %(n)s; listed"),
        (False, False, ""): _("tied %(n)s; not listed"),
        (True, True, ""): _("tied %(n)s from the bottom; listed"),
        (True, False, ""): _("tied %(n)s from the bottom; not listed"),
        (False, True, "key"): _("tied %(n)s; listed by %(key)s"),
        (False, False, "key"): _("tied %(n)s; not listed by %(key)s"),
        (True, True, "key"): _("tied %(n)s from the bottom; listed by %(key)s"),
        (True, False, "key"): _("tied %(n)s from the bottom; not listed by %(key)s"),
    }
    how = by if by in ("lot", "") else "key"
    return notes[(bottom, listed, how)] % values


def list_names(period: Period) -> dict[str, tuple[str, str]]:
    """list/streak/award code → (name, kind) from the period's scheme version."""
    spec = period.version.spec()
    names = {rule.code: (rule.name, str(rule.kind)) for rule in spec.ranking.lists}
    names |= {rule.code: (rule.name, "streak") for rule in spec.ranking.streaks}
    names |= {rule.code: (rule.name, "award") for rule in spec.ranking.awards}
    return names


def period_lists(user, period: Period) -> list[PeriodList]:
    """The period's lists in scheme order, each with the members the user may see."""
    names = list_names(period)
    rows = (
        ListMembership.objects.for_user(user, "period.view")
        .filter(period=period)
        .select_related("subject__region", "carried_from")
        .order_by("list_code", "position", "subject_id")
    )
    rows = list(rows)
    # Positions count within a ranking group (a township, a track): each member carries its
    # group so that six "#1" read as the first of six groups, and members sit by group.
    groups = dict(
        Result.objects.filter(
            period=period, subject_id__in={r.subject_id for r in rows}
        ).values_list("subject_id", "rank_group")
    )
    grouped: dict[str, list] = {}
    for row in sorted(
        rows,
        key=lambda r: (
            r.list_code,
            groups.get(r.subject_id, ""),
            r.carried,  # fresh listings first, then the carries of earlier ones
            r.position or 0,
            r.carried_from.start.isoformat() if r.carried_from else "",
        ),
    ):
        row.points = period.version.to_points(row.value) if row.kind != "progress" else None
        row.rank_group = groups.get(row.subject_id, "")
        grouped.setdefault(row.list_code, []).append(row)
    tied_out = _ties_left_out(user, period, grouped)
    return [
        PeriodList(
            code=code,
            name=name,
            kind=kind,
            members=grouped.get(code, []),
            tied_out=tuple(tied_out.get(code, ())),
        )
        for code, (name, kind) in names.items()
    ]


def _ties_left_out(user, period: Period, grouped: dict[str, list]) -> dict[str, list]:
    """Notes the list page shows for ties across a cut-off (`at_cutoff: break`): on each listed
    member of one (`member.tie_note`), and {list: [(subject, note)]} for those left off, the
    subjects the user may see only. One query for those subjects; none without such ties."""
    if not period.tie_breaks:
        return {}
    spec = period.version.spec()
    picks = {rule.code: rule.pick for rule in spec.ranking.lists}
    ties = {(t["list"], t["subject"]): t for t in period.tie_breaks}
    for code, members in grouped.items():
        for member in members:
            tie = ties.get((code, member.subject_id))
            if tie is not None and tie["in"] and not member.carried:
                member.tie_note = tie_note(
                    spec, picks.get(code, "top"), tie["position"], True, tie["by"], tie["subject"]
                )
    out = [t for t in period.tie_breaks if not t["in"]]
    subjects = Subject.objects.for_user(user, "period.view").in_bulk({t["subject"] for t in out})
    left: dict[str, list] = {}
    for tie in out:
        if tie["subject"] in subjects:
            note = tie_note(
                spec,
                picks.get(tie["list"], "top"),
                tie["position"],
                False,
                tie["by"],
                tie["subject"],
            )
            left.setdefault(tie["list"], []).append((subjects[tie["subject"]], note))
    return left


def subject_history(subject) -> list[dict]:
    """Per scheme: the subject's total and rank in every closed period, with its lists."""
    results = (
        Result.objects.filter(subject=subject)
        .select_related("period__scheme", "period__version")
        .order_by("period__scheme__code", "period__cadence", "period__start")
    )
    marks: dict[int, list[str]] = {}
    for membership in ListMembership.objects.filter(subject=subject).select_related(
        "period__version"
    ):
        name = list_names_cached(membership.period).get(
            membership.list_code, (membership.list_code, "")
        )[0]
        marks.setdefault(membership.period_id, []).append(name)
    series: dict[tuple[str, str], dict] = {}
    for result in results:
        key = (result.period.scheme.name, result.period.cadence)
        line = series.setdefault(
            key,
            {
                "scheme": key[0],
                "cadence": key[1],
                "labels": [],
                "totals": [],
                "ranks": [],
                "marks": [],
            },
        )
        line["labels"].append(result.period.label)
        line["totals"].append(
            float(result.period.version.to_points(result.total))
        )  # chart only; tables show Decimal
        line["ranks"].append(result.rank)
        line["marks"].append("、".join(marks.get(result.period_id, [])))
    return list(series.values())


_NAMES: dict[tuple[int, str], dict] = {}


def list_names_cached(period: Period) -> dict[str, tuple[str, str]]:
    key = (period.version_id, period.version.sha256)
    if key not in _NAMES:
        _NAMES[key] = list_names(period)
    return _NAMES[key]


def period_list_of_scheme(*, user, scheme) -> QuerySet[Period]:
    """The periods of `scheme`, newest first."""
    return (
        Period.objects.for_user(user, "period.view")
        .filter(scheme=scheme)
        .select_related("version")
        .order_by("-start", "cadence")
    )


def period_grade_names(*, period: Period) -> dict[str, str]:
    """Grade code → name under the version the period is scored with."""
    return {g.code: g.name for g in SchemeGrade.objects.filter(version=period.version)}


def period_grades(*, period: Period, results: QuerySet[Result]) -> tuple[dict[str, str], bool]:
    """Grade code → name under the period's version, and whether a table of `results` (the
    period's results a reader sees) needs a grade (等次) column: a grade is given on the period's
    cadence (`Grade.cadences`, as the close's grade statement reads them), or one of the results
    holds one anyway (a veto with `effect: grade` forces its grade on any period). A household
    scheme that grades only the year shows no empty column on its months. One query, and one
    more only for a scheme that grades other cadences and has such a veto."""
    rows = list(
        SchemeGrade.objects.filter(version_id=period.version_id).values_list(
            "code", "name", "cadences"
        )
    )
    names = {code: name for code, name, _cadences in rows}
    cadence = str(period.cadence)
    if any(not cadences or cadence in cadences.split(",") for _c, _n, cadences in rows):
        return names, True
    if not rows or not _forces_grades(period.version.spec()):
        return names, False
    return names, results.exclude(grade_code="").exists()


def _forces_grades(spec: SchemeSpec) -> bool:
    """Whether an item of the scheme (or of an overlay) is a veto that forces a grade; a
    variant changes points and bounds, never a veto's effect."""
    elements = chain(spec.walk(), *(overlay.walk() for overlay in spec.overlays))
    return any(
        isinstance(element, VetoItem) and element.effect is VetoEffect.GRADE
        for _path, element, _depth in elements
    )


def result_list(*, user, period: Period, group: str | None = None) -> QuerySet[Result]:
    """The results of `period` the user may see (of one ranking group if given), in rank order."""
    results = (
        Result.objects.for_user(user, "period.view")
        .filter(period=period)
        .select_related("subject__region")
        .order_by("rank_group", "rank", "subject_id")
    )
    return results if group is None else results.filter(rank_group=group)


def result_groups(*, user, period: Period) -> list[str]:
    """The ranking groups (tracks) of `period`'s results that `user` sees a result in."""
    return list(
        Result.objects.for_user(user, "period.view")
        .filter(period=period)
        .values_list("rank_group", flat=True)
        .distinct()
        .order_by("rank_group")
    )


def result_list_of_subject(*, user, subject) -> QuerySet[Result]:
    """A subject's results in every period, by scheme and newest period first."""
    return (
        Result.objects.for_user(user, "period.view")
        .filter(subject=subject)
        .select_related("period__scheme", "period__version")
        .order_by("period__scheme__code", "-period__start", "period__cadence")
    )


@dataclass
class MissingMetric:
    """A reported metric the scheme scores and the subjects still without a value for it."""

    metric: str
    label: str
    count: int
    names: list[str]


@dataclass
class ClosePreview:
    """What a close of `period` would meet, shown before it is confirmed (nothing is written)."""

    period: Period
    policy: str  # the scheme's no_data: zero, exclude, block
    subject_count: int
    without_data: list[str]  # the first few names, in region order
    without_data_count: int
    problem: str  # why the close cannot run now (a roll-up's periods not closed), or ""
    missing_metrics: list[MissingMetric]
    pending: list[tuple[str, int]]  # (status label, entries) still waiting in the period
    # `source:` items: the other schemes' periods the close reads (an open one blocks it).
    sources: list[SourceRead] = field(default_factory=list)
    # What feeders want said before the close (`settings.PERIOD_HOOKS["close_notes"]`: an
    # inspection whose results are still missing).
    notes: list[str] = field(default_factory=list)

    @property
    def pending_total(self) -> int:
        return sum(n for _label, n in self.pending)

    @property
    def blocked(self) -> bool:
        return bool(self.problem) or (self.policy == "block" and self.without_data_count > 0)

    @property
    def scored_count(self) -> int:
        if self.policy == "exclude":
            return self.subject_count - self.without_data_count
        return self.subject_count

    @property
    def without_data_more(self) -> int:
        return self.without_data_count - len(self.without_data)


def period_close_preview(*, period: Period) -> ClosePreview:
    """Subjects without data, reported metrics still missing and entries still under review in
    `period`, for the page that asks before closing. Reads only; a few queries whatever the size
    (names are read for the first few subjects only)."""
    spec = period.version.spec()
    region = period.scheme.region.code
    subjects = Subject.objects.filter(
        kind=period.scheme.subject_kind, active=True, region__code__startswith=region
    )
    problem, count, without = "", 0, []
    try:
        count, rows = subjects_without_data(period, spec, limit=NAMES_SHOWN)
        without = [name for _id, name in rows]
    except KaopingError as error:
        problem = "; ".join(error.messages)
    sources = source_reads(period, spec)
    if not problem and (waiting_for := sources_waiting(sources)):
        problem = waiting_for
    own = period.cadence == str(spec.cadence)
    missing: list[MissingMetric] = []
    if own:
        used = sorted(
            set(
                SchemeNode.objects.filter(version=period.version)
                .exclude(metric="")
                .values_list("metric", flat=True)
            )
            - system_metrics(period.scheme_id)
        )
        for metric in used:
            lacking = subjects.exclude(
                pk__in=MetricValue.objects.filter(
                    scheme_id=period.scheme_id, period_label=period.label, metric=metric
                ).values("subject_id")
            ).order_by("region__code", "name")
            # Its own name: `count` is the number of subjects without data, shown below.
            lacking_count = lacking.count()
            if lacking_count:
                names = list(lacking.values_list("name", flat=True)[:NAMES_SHOWN])
                label = spec.metric_label(metric) or _metric_item_name(period, metric)
                missing.append(MissingMetric(metric, label, lacking_count, names))
    waiting = (
        Entry.objects.filter(
            scheme_id=period.scheme_id,
            status__in=[EntryStatus.SUBMITTED, EntryStatus.AWAITING],
            cadence="" if own else period.cadence,
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by("status")
    )
    labels = dict(EntryStatus.choices)
    return ClosePreview(
        period=period,
        policy=str(spec.no_data),
        subject_count=subjects.count(),
        without_data=without,
        without_data_count=count,
        problem=problem,
        missing_metrics=missing,
        pending=[(labels[row["status"]], row["n"]) for row in waiting],
        sources=sources,
        notes=[
            note
            for path in settings.PERIOD_HOOKS.get("close_notes", ())
            for note in import_string(path)(period, spec)
        ]
        if own
        else [],
    )


def _metric_item_name(period: Period, metric: str) -> str:
    node = (
        SchemeNode.objects.filter(version=period.version, metric=metric)
        .order_by("position")
        .first()
    )
    return node.name if node is not None else metric
