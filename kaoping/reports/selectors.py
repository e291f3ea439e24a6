"""Reads of reports: what each kind of report says, as a plain structure the renderers lay out,
and the report and schedule lists.

A report reads results and list places as the close wrote them (through the selectors the
period page uses), never recomputes them. It is a document that travels (printed, mailed,
forwarded), so persons are always named as the public posting names them: masked.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.people.models import Subject
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.periods.selectors import period_grade_names, period_lists
from kaoping.publishing.selectors import period_label, place_of, public_name
from kaoping.regions.models import Region
from kaoping.regions.selectors import rank_group_labels
from kaoping.schemes.models import Scheme

from . import charts
from .models import Report, ReportKind, ReportSchedule

TOP_SHOWN = 15  # bars in the chart of the best totals
MOVES_SHOWN = 5  # risers and fallers listed
LIST_KINDS = ("red", "black", "progress")
LIST_COLOURS = {"red": charts.RED, "black": charts.BLACK, "progress": charts.GREEN}


@dataclass
class Table:
    heading: str
    header: list[str]
    rows: list[list]
    kind: str = ""  # red/black/progress for a list: the renderers colour its heading
    note: str = ""


@dataclass
class Chart:
    title: str
    png: bytes


@dataclass
class ReportData:
    """Everything a report shows: the renderers only lay this out."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    large: bool = False  # a bulletin for the notice board: larger type


def _fmt(value: Decimal | int | float) -> str:
    if isinstance(value, Decimal):
        text = f"{value.normalize():f}"
        return "0" if text == "-0" else text
    return str(value)


def _in_region(queryset: QuerySet, region: Region, lookup: str = "subject__region__code"):
    return queryset.filter(**{f"{lookup}__startswith": region.code})


def previous_period(period: Period) -> Period | None:
    """The scheme's period of the same cadence just before `period` that has results."""
    return (
        Period.objects.filter(
            scheme_id=period.scheme_id, cadence=period.cadence, end__lt=period.start
        )
        .exclude(status=PeriodStatus.OPEN)
        .order_by("-start")
        .first()
    )


def _results(user, period: Period, region: Region) -> list[Result]:
    return list(
        _in_region(Result.objects.for_user(user, "period.view"), region)
        .filter(period=period)
        .select_related("subject__region__parent")
        .order_by("rank_group", "rank", "subject_id")
    )


def _lists(user, period: Period, region: Region, kinds=LIST_KINDS):
    lists = [listed for listed in period_lists(user, period) if listed.kind in kinds]
    for listed in lists:
        listed.members = [
            m for m in listed.members if m.subject.region.code.startswith(region.code)
        ]
    return lists


def _progress_by(period: Period) -> dict[str, str]:
    """list code → what a progress list measures: places gained or points gained."""
    return {rule.code: rule.by for rule in period.version.spec().ranking.lists}


def _list_table(period: Period, listed, group_labels: dict[str, str]) -> Table:
    header = [_("place on list"), _("name"), _("belongs to"), _("value")]
    grouped = len({m.rank_group for m in listed.members}) > 1
    if grouped:
        header.insert(0, _("ranking group"))
    by = _progress_by(period).get(listed.code, "") if listed.kind == "progress" else ""
    rows = []
    for member in listed.members:
        if by == "rank_gain":
            value = _("+%(n)d places") % {"n": member.value}
        elif by:
            value = "+" + _fmt(period.version.to_points(member.value))
        else:
            value = _fmt(member.points)
        row = [
            member.position or _("carried over"),
            public_name(member.subject),
            place_of(member.subject),
            value,
        ]
        if grouped:
            row.insert(0, group_labels.get(member.rank_group, member.rank_group))
        rows.append(row)
    return Table(
        heading=f"{listed.name}（{len(listed.members)}）",
        header=header,
        rows=rows,
        kind=listed.kind,
        note="" if rows else _("Nobody is on this list."),
    )


def _heading(period: Period, region: Region) -> str:
    return f"{region.name} · {period.scheme.name} · {period_label(period)}"


def bulletin_data(*, user, period: Period, region: Region) -> ReportData:
    """The 考评通报 of a period: counts, the ranking with movements, the lists, with charts."""
    to_points = period.version.to_points
    results = _results(user, period, region)
    groups = rank_group_labels(r.rank_group for r in results)
    previous = previous_period(period)
    rows, moves = _ranking_rows(results, period=period, previous=previous, groups=groups)
    risers, fallers = _risers_and_fallers(moves)
    lists = _lists(user, period, region)
    data = ReportData(
        title=_("%(scheme)s assessment bulletin, %(period)s")
        % {"scheme": period.scheme.name, "period": period_label(period)},
        subtitle=_heading(period, region),
        facts=_bulletin_facts(results, to_points=to_points, lists=lists, previous=previous),
    )
    data.charts += _bulletin_charts(
        results, to_points=to_points, lists=lists, movers=risers + fallers[::-1]
    )
    data.tables.append(_ranking_table(rows, groups))
    data.tables += [_list_table(period, listed, groups) for listed in lists]
    data.tables.append(_movements_table(risers + fallers, previous=previous))
    return data


def _ranking_rows(
    results: list[Result], *, period: Period, previous: Period | None, groups: dict
) -> tuple[list[list], list[tuple[int, Result]]]:
    """The ranking's rows (group first) and the places each subject moved since `previous`
    (only those ranked in the same group then)."""
    to_points = period.version.to_points
    grades = period_grade_names(period=period)
    before: dict[int, tuple[str, int]] = {}
    if previous is not None:
        before = {
            subject_id: (group, rank)
            for subject_id, group, rank in Result.objects.filter(
                period=previous, subject_id__in=[r.subject_id for r in results]
            ).values_list("subject_id", "rank_group", "rank")
        }
    moves: list[tuple[int, Result]] = []
    rows = []
    for result in results:
        points = to_points(result.total)
        earlier = before.get(result.subject_id)
        if earlier is None or earlier[0] != result.rank_group:
            move_text = _("new") if previous is not None else ""
        else:
            move = earlier[1] - result.rank
            moves.append((move, result))
            move_text = f"↑{move}" if move > 0 else (f"↓{-move}" if move < 0 else "—")
        rows.append(
            [
                groups.get(result.rank_group, result.rank_group),
                result.rank,
                public_name(result.subject),
                place_of(result.subject),
                _fmt(points),
                grades.get(result.grade_code, ""),
                move_text,
            ]
        )
    return rows, moves


def _risers_and_fallers(moves: list[tuple[int, Result]]) -> tuple[list, list]:
    """The MOVES_SHOWN biggest risers (biggest first) and fallers (biggest fall first)."""
    movers = [m for m in moves if m[0]]
    risers = sorted(movers, key=lambda m: (-m[0], m[1].rank))[:MOVES_SHOWN]
    fallers = sorted(movers, key=lambda m: (m[0], m[1].rank))[:MOVES_SHOWN]
    return [m for m in risers if m[0] > 0], [m for m in fallers if m[0] < 0]


def _bulletin_facts(
    results: list[Result], *, to_points, lists: list, previous: Period | None
) -> list[tuple[str, str]]:
    """The figures heading the bulletin: how many ranked, average, highest and lowest total,
    the size of each list and the period compared with."""
    totals = [to_points(r.total) for r in results]
    facts = [(_("subjects ranked"), str(len(results)))]
    if totals:
        average = (sum(totals) / len(totals)).quantize(Decimal("0.01"))
        facts += [
            (_("average total"), _fmt(average)),
            (_("highest total"), _fmt(max(totals))),
            (_("lowest total"), _fmt(min(totals))),
        ]
    facts += [(listed.name, str(len(listed.members))) for listed in lists]
    if previous is not None:
        facts.append((_("compared with"), period_label(previous)))
    return facts


def _bulletin_charts(
    results: list[Result], *, to_points, lists: list, movers: list[tuple[int, Result]]
) -> list[Chart]:
    """The highest totals (coloured by list), the size of each list, the movements shown."""
    shown_charts = []
    listed_colour = {
        m.subject_id: LIST_COLOURS[listed.kind] for listed in lists for m in listed.members
    }
    best = sorted(results, key=lambda r: (-r.total, r.rank, r.subject_id))[:TOP_SHOWN]
    if best:
        shown_charts.append(
            Chart(
                _("Highest totals"),
                charts.bar_chart(
                    _("Highest totals"),
                    [public_name(r.subject) for r in best],
                    [float(to_points(r.total)) for r in best],  # a chart only; tables show Decimal
                    colours=[listed_colour.get(r.subject_id, charts.BLUE) for r in best],
                    legend=[(listed.name, LIST_COLOURS[listed.kind]) for listed in lists],
                ),
            )
        )
    if lists:
        shown_charts.append(
            Chart(
                _("Members of each list"),
                charts.count_chart(
                    _("Members of each list"),
                    [listed.name for listed in lists],
                    [len(listed.members) for listed in lists],
                    [LIST_COLOURS[listed.kind] for listed in lists],
                ),
            )
        )
    if movers:
        shown_charts.append(
            Chart(
                _("Movements since the previous period"),
                charts.movement_chart(
                    _("Movements since the previous period"),
                    [public_name(r.subject) for _m, r in movers],
                    [m for m, _r in movers],
                ),
            )
        )
    return shown_charts


def _ranking_table(rows: list[list], groups: dict) -> Table:
    header = [_("rank"), _("name"), _("belongs to"), _("total"), _("grade"), _("movement")]
    if len(groups) > 1:  # one ranking for the whole county needs no group column
        header.insert(0, _("ranking group"))
    else:
        rows = [row[1:] for row in rows]
    return Table(
        heading=_("Ranking"),
        header=header,
        rows=rows,
        note="" if rows else _("No results in this region."),
    )


def _movements_table(movers: list[tuple[int, Result]], *, previous: Period | None) -> Table:
    moves_rows = [
        [public_name(r.subject), place_of(r.subject), f"↑{m}" if m > 0 else f"↓{-m}", r.rank]
        for m, r in movers
    ]
    return Table(
        heading=_("Movements since the previous period"),
        header=[_("name"), _("belongs to"), _("movement"), _("rank")],
        rows=moves_rows,
        note=""
        if moves_rows
        else (
            _("No earlier period to compare with.") if previous is None else _("No place changed.")
        ),
    )


def red_black_data(*, user, period: Period, region: Region) -> ReportData:
    """The red and black lists of a period for the notice board, ready to print."""
    lists = _lists(user, period, region)
    groups = rank_group_labels(m.rank_group for listed in lists for m in listed.members)
    data = ReportData(
        title=_("%(scheme)s red and black lists, %(period)s")
        % {"scheme": period.scheme.name, "period": period_label(period)},
        subtitle=_heading(period, region),
        facts=[(listed.name, str(len(listed.members))) for listed in lists],
        large=True,
    )
    places: dict[str, dict[str, int]] = {}
    for listed in lists:
        for member in listed.members:
            counts = places.setdefault(place_of(member.subject), {})
            counts[listed.kind] = counts.get(listed.kind, 0) + 1
    if lists:
        data.charts.append(
            Chart(
                _("Members of each list"),
                charts.count_chart(
                    _("Members of each list"),
                    [listed.name for listed in lists],
                    [len(listed.members) for listed in lists],
                    [LIST_COLOURS[listed.kind] for listed in lists],
                ),
            )
        )
    data.tables += [_list_table(period, listed, groups) for listed in lists]
    return data


def village_annual_data(*, user, scheme: Scheme, year: str, region: Region) -> ReportData:
    """A village's year under a scheme: its total, rank and lists in every closed period."""
    subject = (
        Subject.objects.for_user(user, "period.view")
        .filter(kind=scheme.subject_kind, region=region)
        .order_by("pk")
        .first()
    )
    if subject is None:
        raise KaopingError(
            _("%(region)s is not scored by %(scheme)s.")
            % {"region": region.name, "scheme": scheme.name}
        )
    periods = list(
        Period.objects.for_user(user, "period.view")
        .filter(scheme=scheme, start__year=int(year))
        .exclude(status=PeriodStatus.OPEN)
        .select_related("version", "scheme")
        .order_by("start", "cadence")
    )
    results = {
        r.period_id: r
        for r in Result.objects.for_user(user, "period.view").filter(
            subject=subject, period__in=periods
        )
    }
    lists: dict[int, list[str]] = {}
    for membership in ListMembership.objects.for_user(user, "period.view").filter(
        subject=subject, period__in=periods
    ):
        lists.setdefault(membership.period_id, []).append(membership.list_code)
    rows = []
    own = [p for p in periods if p.cadence == str(scheme.cadence)]
    line_labels, line_values = [], []
    for period in periods:
        result = results.get(period.pk)
        if result is None:
            continue
        names = {code: name for code, (name, _kind) in _list_names(period).items()}
        grades = period_grade_names(period=period)
        points = period.version.to_points(result.total)
        rows.append(
            [
                period_label(period),
                _fmt(points),
                result.rank,
                grades.get(result.grade_code, ""),
                "、".join(names.get(code, code) for code in lists.get(period.pk, [])),
            ]
        )
        if period in own:
            line_labels.append(period.label)
            line_values.append(float(points))  # a chart only
    data = ReportData(
        title=_("Annual report of %(village)s, %(year)s") % {"village": region.name, "year": year},
        subtitle=f"{region.name} · {scheme.name} · {year}",
        facts=[
            (_("periods with a result"), str(len(rows))),
            (
                _("times on a list"),
                str(sum(len(v) for k, v in lists.items() if k in results)),
            ),
        ],
    )
    if line_values:
        data.charts.append(
            Chart(
                _("Total in each period"),
                charts.line_chart(_("Total in each period"), line_labels, line_values),
            )
        )
    data.tables.append(
        Table(
            heading=_("Results of the year"),
            header=[_("period"), _("total"), _("rank"), _("grade"), _("lists")],
            rows=rows,
            note="" if rows else _("No closed period of this year."),
        )
    )
    return data


def _list_names(period: Period) -> dict[str, tuple[str, str]]:
    from kaoping.periods.selectors import list_names_cached

    return list_names_cached(period)


def report_data(*, user, report: Report) -> ReportData:
    """What `report` shows, read as `user` (its maker, or the system for a schedule)."""
    if report.kind == ReportKind.ELECTION_WEEKLY:
        # Built only by the round's job, as the system; the module imports this one.
        from .election import election_report_data

        return election_report_data(report)
    if report.kind == ReportKind.VILLAGE_ANNUAL:
        return village_annual_data(
            user=user, scheme=report.scheme, year=report.label[:4], region=report.region
        )
    if report.period is None:
        raise KaopingError(_("This report needs a period."))
    if report.kind == ReportKind.RED_BLACK:
        return red_black_data(user=user, period=report.period, region=report.region)
    return bulletin_data(user=user, period=report.period, region=report.region)


# ── lists ────────────────────────────────────────────────────────────────────────────────────


def report_list(*, user) -> QuerySet[Report]:
    """The reports `user` may see, newest first."""
    return (
        Report.objects.for_user(user, "report.view")
        .select_related("scheme", "region", "period", "created_by", "department")
        .order_by("-created_at", "-id")
    )


def schedule_list(*, user) -> QuerySet[ReportSchedule]:
    return (
        ReportSchedule.objects.for_user(user, "report.schedule")
        .select_related("scheme", "region")
        .order_by("scheme__name", "kind", "id")
    )


def report_regions(*, user, action: str = "report.create") -> QuerySet[Region]:
    """The county, townships and villages `user` may make a report of."""
    return (
        Region.objects.for_user(user, action)
        .filter(level__in=["county", "township", "village"])
        .order_by("code")
    )


def report_periods(*, user, scheme: Scheme | None = None) -> QuerySet[Period]:
    """Periods with results a report may be made of, newest first."""
    periods = (
        Period.objects.for_user(user, "period.view")
        .exclude(status=PeriodStatus.OPEN)
        .select_related("scheme")
    )
    if scheme is not None:
        periods = periods.filter(scheme=scheme)
    return periods.order_by("-start", "scheme__name", "cadence")
