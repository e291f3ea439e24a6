"""The election round's weekly analysis report (换届工作周报): per township and per department
(its villages: `election.access.department_files`), every week, delivered to the township's
staff and the department's scorers.

The figures are the board's (`election.board`) for the last day of the week, so the report and
the board say the same thing of the same day. A report travels to department heads and is
printed: it counts talks and findings but never names the persons checked, nor what was found.
"""

from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import ensure, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import subtree_q
from kaoping.election import board
from kaoping.election.access import department_files
from kaoping.election.models import (
    ElectionRound,
    Finding,
    IssueStatus,
    RoundStatus,
    StageReached,
    Talk,
    VillageFile,
    VillageIssue,
)
from kaoping.election.spec import INDICATORS, spec_of
from kaoping.inbox.services import messages_deliver, recipients_for
from kaoping.regions.models import Department, Level, Region

from . import charts
from .models import Report, ReportKind, ReportStatus
from .selectors import Chart, ReportData, Table
from .services import report_build

AHEAD_DAYS = 7  # "next week's deadlines"
RAG_COLOURS = {"red": charts.RED, "amber": "#e67e22", "green": charts.GREEN}


def _indicator_names() -> dict[str, str]:
    """The indicators' names: the board's own (`board.INDICATOR_LABELS`), so the report and the
    board call an indicator the same."""
    return {code: str(label) for code, label in board.INDICATOR_LABELS.items()}


def week_label(week_start: date) -> str:
    year, week, _day = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def week_title(week_start: date) -> str:
    year, week, _day = week_start.isocalendar()
    return _("week %(week)d of %(year)d") % {"week": week, "year": year}


def _check_week(week_start: date) -> None:
    if week_start.weekday() != 0:
        raise KaopingError({"week_start": _("A week starts on a Monday.")})


def _files(round_: ElectionRound, *, region: Region | None, department: Department | None):
    """The files of the township's villages, or of the department's villages
    (`access.department_files`: those it covers and those it is paired with, as its board)."""
    if (region is None) == (department is None):
        raise KaopingError(_("A weekly report is of a township or of a department."))
    if department is not None:
        return department_files(round_, department)
    files = VillageFile.objects.for_user(system_actor(), "election.view").filter(round=round_)
    return files.filter(subtree_q("village__code", region.code))


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants of local midnight starting `first` and ending `last`."""
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), zone)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone)
    return start, end


def _changes(round_, files: list[VillageFile], week_start: date, week_end: date) -> dict:
    """What happened during the week, counted (no names: the report goes to department heads)."""
    start, end = _day_bounds(week_start, week_end)
    within = {"file__in": files}
    return {
        "stages_reached": StageReached.objects.filter(
            **within, reached_on__range=(week_start, week_end)
        ).count(),
        "talks_held": Talk.objects.filter(**within, held_on__range=(week_start, week_end)).count(),
        "issues_added": VillageIssue.objects.filter(
            **within, recorded_at__gte=start, recorded_at__lt=end
        ).count(),
        "issues_cleared": VillageIssue.objects.filter(
            **within, status=IssueStatus.DONE, done_on__range=(week_start, week_end)
        ).count(),
        "findings_received": Finding.objects.filter(
            round=round_,
            sheet__village__in=[f.village_id for f in files],
            recorded_at__gte=start,
            recorded_at__lt=end,
        ).count(),
    }


def _due_items(round_, files: list[VillageFile], *, after: date | None, until: date) -> list:
    """Stages not reached and open issues whose deadline is in (after, until] (from the first
    deadline when `after` is None): rows of village, list, title, owner, deadline, by deadline.
    As the board counts them: a stage is reached once recorded, an issue open until cleared."""
    spec = spec_of(round_)
    list_names = spec.list_names()
    reached = set(StageReached.objects.filter(file__in=files).values_list("file_id", "stage"))
    rows = []
    for stage in spec.stages:
        if stage.due > until or (after is not None and stage.due <= after):
            continue
        for file in files:
            if (file.pk, stage.code) not in reached:
                rows.append(
                    {
                        "village": file.village.name,
                        "is_stage": True,
                        "list": _("stage"),
                        "title": stage.name,
                        "owner": file.village.parent.name if file.village.parent_id else "",
                        "deadline": stage.due,
                    }
                )
    issues = VillageIssue.objects.filter(
        file__in=files, status=IssueStatus.OPEN, deadline__lte=until
    ).select_related("file__village")
    if after is not None:
        issues = issues.filter(deadline__gt=after)
    for issue in issues.order_by("deadline", "file__village__code", "id"):
        rows.append(
            {
                "village": issue.file.village.name,
                "is_stage": False,
                "list": list_names.get(issue.kind, issue.kind),
                "title": issue.title,
                "owner": issue.owner,
                "deadline": issue.deadline,
            }
        )
    rows.sort(key=lambda row: (row["deadline"], row["village"]))
    return rows


def election_weekly_data(
    round_: ElectionRound,
    *,
    region: Region | None = None,
    department: Department | None = None,
    week_start: date,
) -> dict:
    """The weekly report of a township (all its villages' files) or of a department (its
    villages' files, `access.department_files`: the villages of its board), for the week starting on Monday `week_start`, read as the system.

    Keys: week_start, week_end, label, where (the township's or the department's name), rows
    and total (the board's `BoardRow`s for the week's last day), changes (counts), red (village,
    reasons: the names of its red indicators), overdue (stages due by the week's end and issues
    due before it, not done) and upcoming (due in the next seven days), each a list of village,
    list, title, owner, deadline.
    """
    _check_week(week_start)
    spec = spec_of(round_)
    queryset = _files(round_, region=region, department=department)
    files = list(queryset.select_related("village__parent").order_by("village__code"))
    week_end = week_start + timedelta(days=6)
    rows = board.village_rows(round_, queryset, today=week_end)
    total = board.aggregate(rows, region=region if region is not None else round_.county, spec=spec)
    names = _indicator_names()
    red = [
        {
            "village": row.region.name,
            "reasons": [
                names[code] for code in INDICATORS if row.indicators[code].colour == board.RED
            ],
        }
        for row in rows
        if row.colour == board.RED
    ]
    # The board counts an issue overdue from the day after its deadline, a stage on its day.
    overdue = [
        item
        for item in _due_items(round_, files, after=None, until=week_end)
        if item["is_stage"] or item["deadline"] < week_end
    ]
    upcoming = [
        item
        for item in _due_items(
            round_,
            files,
            after=week_end - timedelta(days=1),
            until=week_end + timedelta(days=AHEAD_DAYS),
        )
        if item not in overdue and (not item["is_stage"] or item["deadline"] > week_end)
    ]
    return {
        "round": round_,
        "week_start": week_start,
        "week_end": week_end,
        "label": week_label(week_start),
        "where": department.name if department is not None else region.name,
        "rows": rows,
        "total": total,
        "changes": _changes(round_, files, week_start, week_end),
        "red": red,
        "overdue": overdue,
        "upcoming": upcoming,
    }


# ── the report: its data laid out, built, delivered ─────────────────────────────────────────


def _colour_names() -> dict[str, str]:
    return {
        board.RED: _("red"),
        board.AMBER: _("amber"),
        board.GREEN: _("green"),
        board.NONE: "—",
    }


def _value(item) -> str:
    if item.value is None:
        return "—"
    if item.code in board.COUNT_INDICATORS:
        return str(item.value)
    return f"{item.value}%"


def _with_colour(item, colours: dict[str, str]) -> str:
    if item.colour == board.NONE:
        return _value(item)
    return f"{_value(item)} {colours[item.colour]}"


def election_report_data(report: Report) -> ReportData:
    """What an election weekly report shows, laid out for the renderers (`report_data` calls it
    for this kind)."""
    week_start = date.fromisoformat(f"{report.label}-1") if "-W" in report.label else None
    if week_start is None or report.election_round_id is None:
        raise KaopingError(_("This report needs an election round and a week."))
    data = election_weekly_data(
        report.election_round,
        region=None if report.department_id else report.region,
        department=report.department,
        week_start=week_start,
    )
    total, names, colours = data["total"], _indicator_names(), _colour_names()
    out = ReportData(
        title=report.title,
        subtitle=_("%(round)s · %(first)s to %(last)s")
        % {
            "round": report.election_round.name,
            "first": data["week_start"].isoformat(),
            "last": data["week_end"].isoformat(),
        },
        facts=[
            (_("villages"), str(total.villages)),
            (_("villages in red"), str(total.red_villages)),
            (_("villages in amber"), str(total.amber_villages)),
            (_("villages in green"), str(total.green_villages)),
        ]
        + [(names[code], _with_colour(total.indicators[code], colours)) for code in INDICATORS],
    )
    if total.villages:
        counts = [total.red_villages, total.amber_villages, total.green_villages]
        out.charts.append(
            Chart(
                _("Villages by colour"),
                charts.count_chart(
                    _("Villages by colour"),
                    [colours[board.RED], colours[board.AMBER], colours[board.GREEN]],
                    counts,
                    [RAG_COLOURS["red"], RAG_COLOURS["amber"], RAG_COLOURS["green"]],
                ),
            )
        )
    changes = data["changes"]
    out.tables.append(
        Table(
            heading=_("What changed this week"),
            header=[_("what"), _("number")],
            rows=[
                [_("stages reached"), changes["stages_reached"]],
                [_("talks held"), changes["talks_held"]],
                [_("issues added"), changes["issues_added"]],
                [_("issues cleared"), changes["issues_cleared"]],
                [_("findings received"), changes["findings_received"]],
            ],
        )
    )
    out.tables.append(
        Table(
            heading=_("Villages in red"),
            header=[_("village"), _("indicators in red")],
            rows=[[item["village"], "、".join(item["reasons"])] for item in data["red"]],
            kind="red",
            note=_("No village is in red."),
        )
    )
    item_header = [_("village"), _("list"), _("item"), _("owner"), _("deadline")]

    def item_rows(items):
        return [
            [i["village"], i["list"], i["title"], i["owner"], i["deadline"].isoformat()]
            for i in items
        ]

    out.tables.append(
        Table(
            heading=_("Overdue items"),
            header=item_header,
            rows=item_rows(data["overdue"]),
            note=_("Nothing is overdue."),
        )
    )
    out.tables.append(
        Table(
            heading=_("Deadlines of the next seven days"),
            header=item_header,
            rows=item_rows(data["upcoming"]),
            note=_("No deadline in the next seven days."),
        )
    )
    out.tables.append(
        Table(
            heading=_("The board on %(day)s") % {"day": data["week_end"].isoformat()},
            header=[_("village"), _("stage"), _("colour")] + [names[code] for code in INDICATORS],
            rows=[
                [row.region.name, row.stage_name or "—", colours[row.colour]]
                + [_value(row.indicators[code]) for code in INDICATORS]
                for row in data["rows"]
            ],
            note=_("No village file in this report."),
        )
    )
    return out


def _title(where: str, week_start: date) -> str:
    return _("Election weekly report · %(where)s · %(week)s") % {
        "where": where,
        "week": week_title(week_start),
    }


def _targets(round_: ElectionRound) -> list[tuple[Region | None, Department | None]]:
    """The townships of the round's county, then the departments with any village in the round
    (`access.department_files`: covered or paired)."""
    townships = Region.objects.filter(
        subtree_q("code", round_.county.code), level=Level.TOWNSHIP
    ).order_by("code")
    departments = [
        d
        for d in Department.objects.filter(
            Q(county=round_.county)
            | Q(pk__in=VillageFile.objects.filter(round=round_).values("paired_department_id"))
        ).order_by("code")
        if department_files(round_, d).exists()
    ]
    return [(t, None) for t in townships] + [(None, d) for d in departments]


def _report_for(round_, week_start, region, department, acting_user) -> Report:
    """The week's report of the township or department, made (queued) the first time."""
    label = week_label(week_start)
    where = {"election_round": round_, "label": label, "kind": ReportKind.ELECTION_WEEKLY}
    if department is not None:
        where |= {"department": department}
    else:
        where |= {"region": region, "department__isnull": True}
    found = Report.objects.filter(**where).first()
    if found is not None:
        return found
    report = Report(
        kind=ReportKind.ELECTION_WEEKLY,
        election_round=round_,
        department=department,
        region=region if region is not None else round_.county,
        label=label,
        title=_title(department.name if department is not None else region.name, week_start),
        created_by=acting_user,
    )
    try:
        with transaction.atomic():
            report.save()
            audit_record(
                actor=acting_user,
                action="reports.report.created",
                obj=report,
                region_code=report.region.code,
                after={"name": report.title},
            )
    except IntegrityError:  # another runner made it meanwhile: theirs is the week's report
        return Report.objects.get(**where)
    return report


def _recipients(region, department) -> list:
    if department is not None:
        return list(
            RoleAssignment.objects.filter(
                role=Role.DEPARTMENT_SCORER, department=department, user__is_active=True
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()
        )
    return recipients_for(roles=[Role.TOWNSHIP_STAFF], region=region, direction="covering")


def _deliver(report: Report, region, department, acting_user) -> int:
    with report.pdf.open("rb") as pdf:
        attachment = (f"{report.title}.pdf", pdf.read())
    # A township's staff open the report's page (its history is on the reports list); a
    # department's scorers have no reports pages: the PDF they receive is the report.
    url = reverse("reports:detail", args=[report.pk]) if department is None else ""
    with transaction.atomic():
        return messages_deliver(
            recipients=_recipients(region, department),
            title=report.title,
            kind="report",
            body=_("The weekly report of the village elections is ready: %(title)s.")
            % {"title": report.title},
            url=url,
            attachment=attachment,
            dedupe_key=f"election-weekly:{report.pk}",
            acting_user=acting_user,
        )


def _build_and_deliver(
    *, round_, week_start, acting_user, only=None
) -> tuple[list[Report], int, list[str]]:
    ensure(acting_user, "report.create", round_.county)
    _check_week(week_start)
    reports, delivered, failed = [], 0, []
    targets = _targets(round_)
    if only is not None:
        wanted = {(getattr(r, "pk", None), getattr(d, "pk", None)) for r, d in only}
        targets = [
            (r, d) for r, d in targets if (getattr(r, "pk", None), getattr(d, "pk", None)) in wanted
        ]
    for region, department in targets:
        report = _report_for(round_, week_start, region, department, acting_user)
        if report.status == ReportStatus.FAILED:  # a failure is tried again at the next run
            Report.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
                status=ReportStatus.QUEUED, error=""
            )
            report.refresh_from_db()
        if report.status == ReportStatus.QUEUED:
            report = report_build(report=report, acting_user=acting_user)
        reports.append(report)
        if report.status != ReportStatus.DONE:
            failed.append(f"{report.title}: {report.error or report.get_status_display()}")
            continue
        delivered += _deliver(report, region, department, acting_user)
    return reports, delivered, failed


def election_weekly_build(
    *, round_: ElectionRound, week_start: date, acting_user, only=None
) -> list[Report]:
    """Build the round's weekly report of the week starting on Monday `week_start` for each
    township of its county and each paired department, and deliver each to the township's staff
    or the department's scorers (with the PDF; e-mailed when mail is configured).

    Idempotent: the week's report of a township or department is built once (a constraint holds
    it) and a recipient gets its message once (the inbox's dedupe key); a failed report is built
    again. Manages its own transactions (a report is built in several).

    `only`: (township, None) and (None, department) pairs to build for instead of all of them
    (the demo builds the reports of its own logins only: each takes seconds to render).
    """
    reports, _delivered, _failed = _build_and_deliver(
        round_=round_, week_start=week_start, acting_user=acting_user, only=only
    )
    return reports


def election_weekly_job(*, now) -> str:
    """The periodic job (Monday morning): every open round's report of the week just ended."""
    today = timezone.localdate(now)
    week_start = today - timedelta(days=today.weekday() + 7)
    actor = system_actor()
    built = sent = 0
    failed: list[str] = []
    for round_ in ElectionRound.objects.filter(status=RoundStatus.OPEN).select_related("county"):
        try:
            reports, delivered, round_failed = _build_and_deliver(
                round_=round_, week_start=week_start, acting_user=actor
            )
        except KaopingError as error:
            failed.append(f"{round_.code}: {'; '.join(error.messages)}")
            continue
        built += len(reports)
        sent += delivered
        failed += round_failed
    summary = f"{week_label(week_start)}: {built} weekly reports, {sent} messages delivered"
    if failed:
        summary += "; failed: " + " | ".join(failed)
    return summary
