"""Writes of reports: ask for one, build it (data → PDF, Word, Excel), the county's schedules,
and the periodic job that builds and delivers the scheduled ones to the inbox."""

import re
from collections import defaultdict

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import ensure, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.progress import progress_finish, progress_start, progress_step
from kaoping.inbox.services import messages_deliver, recipients_for
from kaoping.periods.models import Period, PeriodStatus
from kaoping.publishing.selectors import period_label
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import Scheme

from .models import Report, ReportKind, ReportSchedule, ReportStatus, ScheduleWhen
from .render import render_docx, render_pdf, render_xlsx
from .selectors import report_data

YEAR = re.compile(r"^\d{4}$")
# The roles a schedule may send to: the staff who act on results.
SCHEDULE_ROLES = (
    Role.COUNTY_ADMIN,
    Role.TOWNSHIP_STAFF,
    Role.VILLAGE_SECRETARY,
    Role.VILLAGE_COMMITTEE,
)
REPORT_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
DUE_STATUSES = {
    ScheduleWhen.AFTER_CLOSE: (PeriodStatus.CLOSED, PeriodStatus.POSTED, PeriodStatus.FINAL),
    ScheduleWhen.AFTER_POST: (PeriodStatus.POSTED, PeriodStatus.FINAL),
}


def _check(*, kind: str, scheme: Scheme, period: Period | None, label: str, region: Region):
    if kind not in ReportKind.values or kind == ReportKind.ELECTION_WEEKLY:
        raise KaopingError({"kind": _("Choose a kind of report.")})
    if region.level not in REPORT_LEVELS:
        raise KaopingError({"region": _("Choose a county, a township or a village.")})
    if kind == ReportKind.VILLAGE_ANNUAL:
        if region.level != Level.VILLAGE:
            raise KaopingError({"region": _("A village's annual report is made of a village.")})
        if scheme.subject_kind != "village":
            raise KaopingError({"scheme": _("Choose a scheme that scores villages.")})
        if not YEAR.match(label or ""):
            raise KaopingError({"label": _("Give the year as four digits, e.g. 2026.")})
        return
    if period is None:
        raise KaopingError({"period": _("Choose a period.")})
    if period.scheme_id != scheme.pk:
        raise KaopingError({"period": _("This period belongs to another scheme.")})
    if period.status == PeriodStatus.OPEN:
        raise KaopingError({"period": _("This period is not closed yet: it has no results.")})


def report_create(
    *,
    kind: str,
    scheme: Scheme,
    region: Region,
    acting_user,
    period: Period | None = None,
    label: str = "",
    schedule: ReportSchedule | None = None,
) -> Report:
    """Ask for a report (queued); `report_build` makes its files."""
    ensure(acting_user, "report.create", region)
    if period is not None:
        ensure(acting_user, "period.view", period)
        period = Period.objects.get(pk=period.pk)  # its status now, not as the caller read it
    _check(kind=kind, scheme=scheme, period=period, label=label, region=region)
    if kind == ReportKind.VILLAGE_ANNUAL:
        period = None
    else:
        label = period.label
    with transaction.atomic():
        report = Report(
            kind=kind,
            scheme=scheme,
            period=period,
            label=label,
            region=region,
            schedule=schedule,
            created_by=acting_user,
        )
        report.title = _("%(kind)s · %(scheme)s · %(label)s · %(region)s") % {
            "kind": report.get_kind_display(),
            "scheme": scheme.name,
            "label": period_label(period) if period is not None else label,
            "region": region.name,
        }
        report.save()
        audit_record(
            actor=acting_user,
            action="reports.report.created",
            obj=report,
            region_code=region.code,
            after={"name": report.title},
        )
    return report


def report_build(*, report: Report, acting_user) -> Report:
    """Build the files of a queued report: read its data as `acting_user`, render the PDF, the
    Word and the Excel file, store them. A failure is kept on the report (failed, with the
    error), never raised: the page shows it.

    Manages its own transactions: the report is marked running at once (the page shows it), and
    the files and "done" are written together at the end. Idempotent: a report that is not
    queued is left as it is.
    """
    ensure(acting_user, "report.create", report)
    with transaction.atomic():
        claimed = Report.objects.filter(pk=report.pk, status=ReportStatus.QUEUED).update(
            status=ReportStatus.RUNNING
        )
    report.refresh_from_db()
    if not claimed:
        return report
    progress = progress_start(
        kind="report.build",
        key=f"report:{report.pk}",
        label=report.title,
        total=4,
        user_id=report.created_by_id,
    )
    try:
        progress_step(progress, done=0, message=_("Reading results"))
        data = report_data(user=acting_user, report=report)
        files = {}
        for done, (field, render, suffix) in enumerate(
            (
                ("pdf", render_pdf, "pdf"),
                ("docx", render_docx, "docx"),
                ("xlsx", render_xlsx, "xlsx"),
            ),
            start=1,
        ):
            progress_step(progress, done=done, message=suffix.upper())
            files[field] = (f"report-{report.pk}.{suffix}", render(data))
    except Exception as error:  # a report that cannot be built says why on its page
        if isinstance(error, KaopingError):
            message = "; ".join(error.messages)
        else:
            message = f"{type(error).__name__}: {error}"
        with transaction.atomic():
            Report.objects.filter(pk=report.pk, status=ReportStatus.RUNNING).update(
                status=ReportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
            )
        progress_finish(progress, error=message[:500])
        report.refresh_from_db()
        return report
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        for field, (name, content) in files.items():
            getattr(report, field).save(name, ContentFile(content), save=False)
        report.status = ReportStatus.DONE
        report.finished_at = timezone.now()
        report.error = ""
        report.save(update_fields=["pdf", "docx", "xlsx", "status", "finished_at", "error"])
        audit_record(
            actor=acting_user,
            action="reports.report.built",
            obj=report,
            region_code=report.region.code,
        )
    progress_finish(progress, url=reverse("reports:detail", args=[report.pk]))
    return report


def report_retry(*, report: Report, acting_user) -> Report:
    """Queue a failed report again."""
    ensure(acting_user, "report.create", report)
    with transaction.atomic():
        changed = Report.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
            status=ReportStatus.QUEUED, error=""
        )
        if not changed:
            raise KaopingError(_("Only a failed report can be built again."))
        audit_record(
            actor=acting_user,
            action="reports.report.retried",
            obj=report,
            region_code=report.region.code,
        )
    report.refresh_from_db()
    return report


# ── schedules ────────────────────────────────────────────────────────────────────────────────


def _check_schedule(*, kind, scheme, region, recipients, when) -> list[str]:
    if kind not in ReportKind.values or kind == ReportKind.ELECTION_WEEKLY:
        raise KaopingError({"kind": _("Choose a kind of report.")})
    if when not in ScheduleWhen.values:
        raise KaopingError({"when": _("Choose when the report is sent.")})
    roles = [r for r in dict.fromkeys(recipients) if r]
    if not roles:
        raise KaopingError({"recipients": _("Choose who receives the report.")})
    unknown = [r for r in roles if r not in SCHEDULE_ROLES]
    if unknown:
        raise KaopingError(
            {"recipients": _("No such role: %(roles)s.") % {"roles": "、".join(unknown)}}
        )
    if region.level not in REPORT_LEVELS:
        raise KaopingError({"region": _("Choose a county, a township or a village.")})
    if kind == ReportKind.VILLAGE_ANNUAL and region.level != Level.VILLAGE:
        raise KaopingError({"region": _("A village's annual report is made of a village.")})
    if not region.code.startswith(scheme.region.code):
        raise KaopingError({"scheme": _("This scheme does not score this region.")})
    return roles


def schedule_save(
    *,
    kind: str,
    scheme: Scheme,
    region: Region,
    recipients: list[str],
    when: str,
    acting_user,
    active: bool = True,
    schedule: ReportSchedule | None = None,
) -> ReportSchedule:
    """Create a schedule, or change `schedule`."""
    ensure(acting_user, "report.schedule", region)
    if schedule is not None:
        ensure(acting_user, "report.schedule", schedule)
    roles = _check_schedule(
        kind=kind, scheme=scheme, region=region, recipients=recipients, when=when
    )
    with transaction.atomic():
        before = _schedule_audit(schedule) if schedule is not None else None
        if schedule is None:
            schedule = ReportSchedule(created_by=acting_user)
        schedule.kind, schedule.scheme, schedule.region = kind, scheme, region
        schedule.recipients, schedule.when, schedule.active = roles, when, active
        schedule.save()
        audit_record(
            actor=acting_user,
            action="reports.schedule.saved",
            obj=schedule,
            region_code=region.code,
            before=before,
            after=_schedule_audit(schedule),
        )
    return schedule


def _schedule_audit(schedule: ReportSchedule) -> dict:
    """What the audit log shows of a schedule, in words (its keys are the log's known ones)."""
    return {
        "name": f"{schedule.get_kind_display()} · {schedule.scheme.name} · {schedule.region.name}",
        "note": "、".join(str(Role(role).label) for role in schedule.recipients),
        "active": schedule.active,
    }


def schedule_delete(*, schedule: ReportSchedule, acting_user) -> None:
    ensure(acting_user, "report.schedule", schedule)
    with transaction.atomic():
        audit_record(
            actor=acting_user,
            action="reports.schedule.deleted",
            obj=schedule,
            region_code=schedule.region.code,
            before=_schedule_audit(schedule),
        )
        schedule.delete()


def schedule_due_period(schedule: ReportSchedule) -> Period | None:
    """The newest period of the schedule's scheme it has not delivered yet and now may, or None.

    Only the newest: a schedule made today sends this period's report, not a year of old ones.
    """
    cadence = "year" if schedule.kind == ReportKind.VILLAGE_ANNUAL else schedule.scheme.cadence
    newest = (
        Period.objects.filter(
            scheme_id=schedule.scheme_id,
            cadence=cadence,
            status__in=DUE_STATUSES[schedule.when],
        )
        .order_by("-start")
        .first()
    )
    if newest is None or (schedule.last_label and newest.label <= schedule.last_label):
        return None
    return newest


def _report_region(schedule: ReportSchedule, assignment_region: Region | None) -> Region:
    """What a recipient receives: the schedule's region, or the part of it the recipient works
    in (a township's staff get their township's bulletin), never more than they may see."""
    region = schedule.region
    if schedule.kind == ReportKind.VILLAGE_ANNUAL or assignment_region is None:
        return region
    inner = assignment_region
    if inner.code.startswith(region.code) and inner.code != region.code:
        while inner.level not in REPORT_LEVELS and inner.parent_id:
            inner = inner.parent
        return inner
    return region


def schedule_deliver(*, schedule: ReportSchedule, period: Period, acting_user) -> int:
    """Build the schedule's report of `period` for each part of its region its recipients work
    in, and deliver each to its recipients' inbox; the number of messages newly delivered.

    Twice delivers nothing new: a built report of the schedule, period and region is reused,
    and the inbox drops a message whose key (schedule, period) the recipient already has.
    Manages its own transactions (a report is built in several).
    """
    ensure(acting_user, "report.schedule", schedule)
    users = recipients_for(roles=schedule.recipients, region=schedule.region, direction="within")
    users += recipients_for(roles=schedule.recipients, region=schedule.region, direction="covering")
    assignments = RoleAssignment.objects.filter(
        user__in=users, role__in=schedule.recipients, region__isnull=False
    ).select_related("region")
    by_region: dict[int, set[int]] = defaultdict(set)
    regions: dict[int, Region] = {}
    for assignment in assignments:
        region = _report_region(schedule, assignment.region)
        regions[region.pk] = region
        by_region[region.pk].add(assignment.user_id)
    label = schedule_label(schedule, period)
    delivered = 0
    for region_pk, user_ids in sorted(by_region.items()):
        region = regions[region_pk]
        report = (
            Report.objects.filter(
                schedule=schedule, label=label, region=region, status=ReportStatus.DONE
            )
            .order_by("-id")
            .first()
        )
        if report is None:
            with transaction.atomic():
                report = report_create(
                    kind=schedule.kind,
                    scheme=schedule.scheme,
                    region=region,
                    period=None if schedule.kind == ReportKind.VILLAGE_ANNUAL else period,
                    label=label,
                    schedule=schedule,
                    acting_user=acting_user,
                )
            report = report_build(report=report, acting_user=acting_user)
        if report.status != ReportStatus.DONE:
            raise KaopingError(
                _("The report %(title)s failed: %(error)s")
                % {"title": report.title, "error": report.error}
            )
        # Who receives it must be able to open it: the region is theirs by construction. The
        # PDF goes along, so that an e-mailed message carries the report itself.
        with report.pdf.open("rb") as pdf:
            attachment = (f"{report.title}.pdf", pdf.read())
        with transaction.atomic():
            delivered += messages_deliver(
                recipients=sorted(user_ids),
                title=report.title,
                kind="report",
                body=_("A new report is ready: %(title)s.") % {"title": report.title},
                url=reverse("reports:detail", args=[report.pk]),
                attachment=attachment,
                dedupe_key=f"report:{schedule.pk}:{label}",
                acting_user=acting_user,
            )
    with transaction.atomic():
        ReportSchedule.objects.filter(pk=schedule.pk).update(
            last_label=label, last_run_at=timezone.now()
        )
    schedule.last_label = label
    return delivered


def schedule_label(schedule: ReportSchedule, period: Period) -> str:
    return period.label[:4] if schedule.kind == ReportKind.VILLAGE_ANNUAL else period.label


def reports_due(*, now) -> str:
    """The periodic job: deliver every active schedule's report of a period newly closed or
    posted. Acts as the system; a schedule that fails is told in the summary and tried again
    at the next run, the others go on."""
    actor = system_actor()
    sent, failed = 0, []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("scheme", "region"):
        period = schedule_due_period(schedule)
        if period is None:
            continue
        try:
            sent += schedule_deliver(schedule=schedule, period=period, acting_user=actor)
        except KaopingError as error:
            failed.append(f"{schedule.pk}: {'; '.join(error.messages)}")
    summary = f"{sent} report messages delivered"
    if failed:
        summary += "; failed: " + " | ".join(failed)
    return summary


__all__ = [
    "report_build",
    "report_create",
    "report_retry",
    "reports_due",
    "schedule_delete",
    "schedule_deliver",
    "schedule_due_period",
    "schedule_save",
]
