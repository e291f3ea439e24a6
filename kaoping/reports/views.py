"""Pages of reports: the list (the history), asking for one, its page with the files, and the
county's schedules."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.progress import progress_running
from kaoping.core.views import action_submit, form_submit
from kaoping.schemes.selectors import scheme_list

from .forms import ReportForm, ScheduleForm
from .models import Report, ReportKind, ReportSchedule
from .selectors import report_list, report_periods, report_regions, schedule_list
from .services import report_create, report_retry, schedule_delete, schedule_save
from .tasks import report_build_task

PAGE_SIZE = 30
FILES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _require(user, action: str) -> None:
    if not user_can(user, action):
        raise PermissionDenied


@login_required
def report_index(request):
    user = request.user
    _require(user, "report.view")
    page = Paginator(report_list(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/list.html",
        {
            "page": page,
            "can_create": user_can(user, "report.create"),
            "can_schedule": user_can(user, "report.schedule"),
        },
    )


@login_required
def report_new(request):
    user = request.user
    _require(user, "report.create")
    kwargs = {
        "schemes": scheme_list(user=user),
        "periods": report_periods(user=user),
        "regions": report_regions(user=user).select_related("parent"),
    }
    form = ReportForm(request.POST or None, initial={"kind": ReportKind.BULLETIN}, **kwargs)
    if request.method == "POST":
        made: list[Report] = []

        def create(data):
            report = report_create(
                kind=data["kind"],
                scheme=data["scheme"],
                period=data["period"],
                label=data["year"] or "",
                region=data["region"],
                acting_user=user,
            )
            made.append(report)
            return report

        done = form_submit(
            request,
            form,
            create,
            redirect_to=lambda report: reverse("reports:detail", args=[report.pk]),
            fields={NON_FIELD_ERRORS: "kind", "label": "year"},
        )
        if done:
            # After the commit: with the in-process backend the report is built when this returns.
            report_build_task.enqueue(made[0].pk, user.pk)
            return done
    return render(request, "reports/new.html", {"form": form})


def _report_or_404(user, pk: int, action: str = "report.view") -> Report:
    return get_scoped_or_404(
        Report.objects.select_related(
            "scheme", "region", "period", "created_by", "election_round", "department"
        ),
        user,
        action,
        pk=pk,
    )


@login_required
def report_detail(request, pk: int):
    user = request.user
    report = _report_or_404(user, pk)
    files = [(fmt, getattr(report, fmt)) for fmt in FILES if getattr(report, fmt)]
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "files": files,
            "progress": progress_running(kind="report.build", key=f"report:{report.pk}")
            if report.busy
            else None,
            "can_retry": report.status == "failed" and may(user, "report.create", report),
        },
    )


@login_required
def report_file(request, pk: int, fmt: str):
    report = _report_or_404(request.user, pk)
    if fmt not in FILES or not getattr(report, fmt):
        raise Http404
    stored = getattr(report, fmt)
    name = f"{report.title}.{fmt}".replace("/", "_")
    response = FileResponse(stored.open("rb"), content_type=FILES[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@require_POST
@login_required
def report_retry_view(request, pk: int):
    user = request.user
    report = _report_or_404(user, pk, "report.create")
    url = reverse("reports:detail", args=[report.pk])
    response = action_submit(
        request, lambda: report_retry(report=report, acting_user=user), redirect_to=url
    )
    report.refresh_from_db()
    if report.status == "queued":
        report_build_task.enqueue(report.pk, user.pk)
    return response


@login_required
def schedule_index(request):
    user = request.user
    _require(user, "report.schedule")
    form = ScheduleForm(
        request.POST or None,
        schemes=scheme_list(user=user),
        # A schedule serves a county or a township (each recipient gets their own part); a
        # single village's report is asked for on the new-report page.
        regions=report_regions(user=user, action="report.schedule")
        .filter(level__in=("county", "township"))
        .select_related("parent"),
    )
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: schedule_save(
                kind=data["kind"],
                scheme=data["scheme"],
                region=data["region"],
                recipients=data["recipients"],
                when=data["when"],
                acting_user=user,
            ),
            redirect_to=reverse("reports:schedules"),
            message=_("The schedule is saved."),
        )
        if done:
            return done
    return render(
        request, "reports/schedules.html", {"form": form, "schedules": schedule_list(user=user)}
    )


@require_POST
@login_required
def schedule_delete_view(request, pk: int):
    user = request.user
    schedule = get_scoped_or_404(
        ReportSchedule.objects.select_related("region"), user, "report.schedule", pk=pk
    )
    url = reverse("reports:schedules")
    return action_submit(
        request,
        lambda: schedule_delete(schedule=schedule, acting_user=user),
        redirect_to=url,
        success=_("The schedule is deleted."),
    )


@require_POST
@login_required
def schedule_toggle_view(request, pk: int):
    """Pause an active schedule, or resume a paused one."""
    user = request.user
    schedule = get_scoped_or_404(
        ReportSchedule.objects.select_related("region", "scheme"), user, "report.schedule", pk=pk
    )
    return action_submit(
        request,
        lambda: schedule_save(
            schedule=schedule,
            kind=schedule.kind,
            scheme=schedule.scheme,
            region=schedule.region,
            recipients=schedule.recipients,
            when=schedule.when,
            active=not schedule.active,
            acting_user=user,
        ),
        redirect_to=reverse("reports:schedules"),
    )
