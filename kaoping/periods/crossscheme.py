"""One scheme's result as another's input: the close fills a `source:` metric item's figure.

A metric item with `source: {scheme, take, …}` (docs/schemes.md, 读取其他方案的结果) scores the
subject's result in another scheme. When the reading period is closed, before anything is scored,
this module finds the source periods it reads — the source's period of the same label, or its
periods of `cadence` inside the reading period — and writes one metric value per subject (a
`ledger.MetricValue` of the reading scheme and label, like any figure a feeder pushes), by one
set-based statement per item. `scoring.source_figure` says the same in Python; the property
test `test_crossscheme.py` holds the two equal.

Source periods count once they are closed, posted or final; an open one stops the close
(`sources_missing` names it, and the close page lists it beforehand). A source period that was
never opened (the contest was not held that month) gives no result, like a subject without one.
A subject with no result in any source period gets no figure: its item scores as the reading
scheme says for no data (`no_data`).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.core.errors import KaopingError
from kaoping.ledger.models import MetricValue
from kaoping.people.models import Subject
from kaoping.schemes.calendar import labels_within
from kaoping.schemes.models import METRIC_SCALE, Scheme, SchemeGrade
from kaoping.schemes.sources import item_levels, source_cadence, source_items
from kaoping.schemes.spec import MetricItem, SchemeSpec

from . import engine
from .models import ListMembership, Period, PeriodStatus, Result

# Per-period figures are summed at 10^10 (a total's up to 6 places, a grade's number 4) so that
# the one rounding to the metric's four places happens after combining, as in `source_figure`.
WIDE_PLACES = 10
WIDE = 10**WIDE_PLACES
NARROW = WIDE // METRIC_SCALE


@dataclass
class SourceRead:
    """What one `source:` item reads when `period` is closed."""

    item: MetricItem
    scheme: Scheme | None
    cadence: str
    labels: list[str]
    periods: list[Period] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """The source periods opened and not yet closed: the close waits for them."""
        return [p.label for p in self.periods if p.status == PeriodStatus.OPEN]

    @property
    def absent(self) -> list[str]:
        """The source labels with no period at all (the contest was not held that month): they
        are read as giving no result."""
        opened = {p.label for p in self.periods}
        return [label for label in self.labels if label not in opened]


def source_reads(period: Period, spec: SchemeSpec) -> list[SourceRead]:
    """The `source:` items scored at `period`'s level, with the source periods each reads."""
    reads = []
    for _path, item in source_items(spec):
        if period.cadence not in item_levels(spec, item):
            continue
        cadence = source_cadence(item, period.cadence)
        scheme = Scheme.objects.filter(code=item.source.scheme).first()
        labels = labels_within(cadence, period.start, period.end)
        found = (
            list(
                Period.objects.filter(scheme=scheme, cadence=cadence, label__in=labels)
                .select_related("version")
                .order_by("start")
            )
            if scheme is not None
            else []
        )
        reads.append(SourceRead(item, scheme, cadence, labels, found))
    return reads


def sources_waiting(reads: list[SourceRead]) -> str:
    """Why a close must wait for the source periods among `reads`, or "" when all are closed."""
    missing = [
        (read.scheme.name if read.scheme else read.item.source.scheme, read.item.name, labels)
        for read in reads
        if (labels := read.missing)
    ]
    if not missing:
        return ""
    return _("Close the periods this scheme reads first: %(missing)s.") % {
        "missing": "；".join(
            _("%(scheme)s %(labels)s (read by %(item)s)")
            % {"scheme": scheme, "labels": "、".join(labels), "item": item}
            for scheme, item, labels in missing
        )
    }


def sources_missing(period: Period, spec: SchemeSpec) -> list[tuple[str, str, list[str]]]:
    """(source scheme name, item, labels) of every source period the close still waits for."""
    return [
        (read.scheme.name if read.scheme else read.item.source.scheme, read.item.name, missing)
        for read in source_reads(period, spec)
        if (missing := read.missing)
    ]


def _figure(read: SourceRead) -> tuple[str, list]:
    """The per-period figure of result `r` at 10^10 (NULL: nothing to read), and its params."""
    source = read.item.source
    take = str(source.take)
    if take == "total":
        cases = " ".join("WHEN %s THEN CAST(%s AS BIGINT)" for _p in read.periods)
        params = []
        for p in read.periods:
            params += [p.pk, 10 ** (WIDE_PLACES - p.version.decimals)]
        return f"r.total * (CASE r.period_id {cases} END)", params
    if take == "rank":
        return f"r.rank * {WIDE}", []
    if take == "grade":
        cases = " ".join("WHEN %s THEN CAST(%s AS BIGINT)" for _g in source.grades)
        params = []
        for code, number in source.grades.items():
            params += [code, int(number * WIDE)]
        return f"(CASE r.grade_code {cases} ELSE NULL END)", params
    return (
        "(CASE WHEN EXISTS (SELECT 1 FROM periods_listmembership l WHERE l.period_id = r.period_id "
        f"AND l.subject_id = r.subject_id AND l.list_code = %s) THEN {WIDE} ELSE 0 END)",
        [source.list],
    )


def _statement(scope: engine.Scope, read: SourceRead) -> tuple[str, list]:
    cte, cte_params = scope.cte()
    figure, figure_params = _figure(read)
    reader, source_kind = scope.subject_kind, read.scheme.subject_kind
    if reader == source_kind:
        mapped, map_params = "s.id = t.id", []
    else:  # a village and its own two-committee team: the same village region
        mapped, map_params = "s.region_id = t.region_id AND s.kind = %s", [source_kind]
    combine = str(read.item.source.combine)
    value = {
        "sum": engine.rdiv("a.total", str(NARROW)),
        "mean": engine.rdiv("a.total", f"a.n * {NARROW}"),
        "min": engine.rdiv("a.low", str(NARROW)),
        "max": engine.rdiv("a.high", str(NARROW)),
    }[combine]
    ids = ", ".join("%s" for _p in read.periods)
    sql = (
        "INSERT INTO ledger_metricvalue (scheme_id, period_label, subject_id, metric, value_scaled) "
        + cte
        + f"SELECT %s, %s, a.subject_id, %s, {value} FROM ("
        f"SELECT f.subject_id, CAST(SUM(f.v) AS BIGINT) AS total, COUNT(f.v) AS n, "
        "MIN(f.v) AS low, MAX(f.v) AS high FROM ("
        f"SELECT u.subject_id, {figure} AS v FROM u "
        "JOIN people_subject t ON t.id = u.subject_id "
        f"JOIN people_subject s ON {mapped} "
        f"JOIN periods_result r ON r.subject_id = s.id AND r.period_id IN ({ids})"
        ") f GROUP BY f.subject_id HAVING COUNT(f.v) > 0) a"
    )
    return sql, [
        *cte_params,
        scope.scheme_id,
        scope.period_label,
        read.item.metric,
        *figure_params,
        *map_params,
        *[p.pk for p in read.periods],
    ]


def sources_fill(period: Period, spec: SchemeSpec, scope: engine.Scope) -> int:
    """Write the figures of `period`'s `source:` items from the source results; refuse, naming
    them, while a source period is open or missing. Returns the number of values written."""
    reads = source_reads(period, spec)
    if not reads:
        return 0
    if waiting_for := sources_waiting(reads):
        raise KaopingError(waiting_for)
    MetricValue.objects.filter(
        scheme_id=period.scheme_id,
        period_label=period.label,
        metric__in=[read.item.metric for read in reads],
    ).delete()
    closed = [read for read in reads if read.periods]
    inserted = engine.run([_statement(scope, read) for read in closed])
    return inserted["ledger_metricvalue"]


def source_metrics(scheme_id: int) -> set[str]:
    """`settings.FED_METRICS`: the metrics a scheme's `source:` items fill, which nobody
    reports and the close does not ask for."""
    scheme = Scheme.objects.filter(pk=scheme_id).first()
    version = scheme.latest_version() if scheme is not None else None
    if version is None:
        return set()
    return {item.metric for _path, item in source_items(version.spec())}


# -- where a figure came from (the explanation page) ----------------------------------------------

TAKE_TEXT = {
    "total": gettext_lazy("the total"),
    "rank": gettext_lazy("the rank"),
    "grade": gettext_lazy("the grade"),
}
COMBINE_TEXT = {
    "sum": gettext_lazy("added up over the periods"),
    "mean": gettext_lazy("averaged over the periods"),
    "min": gettext_lazy("the lowest of the periods"),
    "max": gettext_lazy("the highest of the periods"),
}


@dataclass
class SourcePeriodFigure:
    """One source period under a `source:` item: its label, what the subject had there, and the
    source result's explanation page (None when the subject has no result there)."""

    label: str
    text: str
    period_id: int | None = None
    subject_id: int | None = None


@dataclass
class SourceProvenance:
    scheme_name: str
    scheme_code: str
    what: str  # 总分 / 名次 / 等次 / 是否在“前三名”上, and how several periods combine
    periods: list[SourcePeriodFigure]


def _mapped_subject_id(subject, source_kind: str) -> int | None:
    if subject.kind == source_kind:
        return subject.pk
    return (
        Subject.objects.filter(kind=source_kind, region_id=subject.region_id)
        .values_list("pk", flat=True)
        .first()
    )


def source_provenance(period: Period, spec: SchemeSpec, subject) -> dict[str, SourceProvenance]:
    """metric → where the subject's figure of a `source:` item in `period` came from: the source
    scheme, what was read, and each source period with the subject's result there."""
    found: dict[str, SourceProvenance] = {}
    for read in source_reads(period, spec):
        if read.scheme is None:
            continue
        source = read.item.source
        take = str(source.take)
        source_spec = read.scheme.latest_version().spec()
        if take == "list":
            names = {rule.code: rule.name for rule in source_spec.ranking.lists}
            what = _("whether on “%(list)s” (1 if on it, 0 if not)") % {
                "list": names.get(source.list, source.list)
            }
        elif take == "grade":
            what = _("%(take)s (mapped by the scheme)") % {"take": TAKE_TEXT[take]}
        else:
            what = str(TAKE_TEXT[take])
        if len(read.labels) > 1:
            what = _("%(what)s, %(combine)s") % {
                "what": what,
                "combine": COMBINE_TEXT[str(source.combine)],
            }
        mapped = _mapped_subject_id(subject, read.scheme.subject_kind)
        results = {
            r.period_id: r
            for r in Result.objects.filter(period__in=read.periods, subject_id=mapped)
        }
        listed = set(
            ListMembership.objects.filter(
                period__in=read.periods, subject_id=mapped, list_code=source.list or ""
            ).values_list("period_id", flat=True)
        )
        grade_names = {
            (g.version_id, g.code): g.name
            for g in SchemeGrade.objects.filter(version__in={p.version_id for p in read.periods})
        }
        by_label = {p.label: p for p in read.periods}
        figures = []
        for label in read.labels:
            p = by_label.get(label)
            result = results.get(p.pk) if p is not None else None
            if result is None:
                figures.append(SourcePeriodFigure(label, _("no result")))
                continue
            if take == "total":
                text = _("%(points)s points") % {"points": p.version.to_points(result.total)}
            elif take == "rank":
                text = _("rank %(rank)s") % {"rank": result.rank}
            elif take == "grade":
                name = grade_names.get((p.version_id, result.grade_code), _("no grade"))
                number = (source.grades or {}).get(result.grade_code)
                text = name if number is None else f"{name} → {number}"
            else:
                text = _("on the list") if p.pk in listed else _("not on the list")
            figures.append(SourcePeriodFigure(label, text, p.pk, mapped))
        found[read.item.metric] = SourceProvenance(
            read.scheme.name, read.scheme.code, what, figures
        )
    return found
