"""Pages of the Excel import: template, upload and preview, import, progress."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.views import form_submit
from kaoping.schemes.models import Scheme
from kaoping.schemes.selectors import scheme_list

from ..forms import ImportUploadForm
from ..imports import import_is_stalled, import_queue, import_upload
from ..models import ImportJob, ImportStatus
from ..selectors import entry_list_awaiting_evidence, import_job_list, import_job_status_counts
from ..tasks import import_commit_task
from ..template import import_template
from .evidence import awaiting_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _importable_schemes(user):
    return scheme_list(user=user, action="entry.record")


def _require_record(user) -> None:
    if not user_can(user, "entry.record"):
        raise PermissionDenied


def _job_or_404(user, pk: int) -> ImportJob:
    return get_scoped_or_404(
        ImportJob.objects.select_related("scheme", "uploaded_by"), user, "entry.record", pk=pk
    )


@login_required
def import_start(request):
    user = request.user
    _require_record(user)
    schemes = _importable_schemes(user)
    only = schemes[0].pk if len(schemes) == 1 else None
    form = ImportUploadForm(schemes=schemes, initial={"scheme": request.GET.get("scheme") or only})
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, schemes=schemes)

        def upload(data):
            return import_upload(
                scheme=data["scheme"],
                data=data["file"].read(),
                filename=data["file"].name,
                acting_user=user,
            )

        done = form_submit(
            request,
            form,
            upload,
            redirect_to=lambda job: reverse("ledger:import_job", args=[job.pk]),
        )
        if done:
            return done
    jobs = import_job_list(user=user)
    return render(
        request, "ledger/import_start.html", {"schemes": schemes, "form": form, "jobs": jobs}
    )


@login_required
def import_template_download(request, scheme_code: str):
    user = request.user
    _require_record(user)
    scheme = get_scoped_or_404(
        Scheme.objects.select_related("region"), user, "entry.record", code=scheme_code
    )
    response = HttpResponse(import_template(scheme, user), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_('entry import')}-{scheme.code}.xlsx"
    )
    return response


def _status_context(user, job: ImportJob) -> dict:
    # An import whose process died (kill -9, a restart) stays "committing": say so and offer to
    # start it again instead of polling for ever.
    stalled = import_is_stalled(job)
    running = job.status == ImportStatus.COMMITTING and not stalled
    context = {
        "job": job,
        "running": running,
        "stalled": stalled,
        "writing": running and job.rows_total and job.rows_done >= job.rows_total,
        "can_commit": (job.status == ImportStatus.PREVIEWED or stalled)
        and not job.errors
        and job.rows_total > 0  # none: the check was cut short (the server stopped)
        and job.uploaded_by_id == user.pk,
    }
    if job.status == ImportStatus.COMMITTED:
        context["by_status"] = import_job_status_counts(job=job)
    return context


def _awaiting_context(user, job: ImportJob) -> dict:
    if job.status != ImportStatus.COMMITTED:
        return {}
    return awaiting_context(entry_list_awaiting_evidence(user=user, job=job))


@login_required
def import_job(request, pk: int):
    user = request.user
    _require_record(user)
    job = _job_or_404(user, pk)
    context = {**_status_context(user, job), **_awaiting_context(user, job)}
    if job.uploaded_by_id == user.pk and job.status != ImportStatus.COMMITTED:
        context["form"] = ImportUploadForm(
            schemes=_importable_schemes(user), initial={"scheme": job.scheme_id}
        )
    return render(request, "ledger/import_job.html", context)


@login_required
def import_status(request, pk: int):
    """The status card alone, polled by htmx every 2 s while the import runs."""
    user = request.user
    _require_record(user)
    job = _job_or_404(user, pk)
    return render(request, "ledger/import_status.html", _status_context(user, job))


@require_POST
@login_required
def import_commit_view(request, pk: int):
    user = request.user
    _require_record(user)
    job = _job_or_404(user, pk)
    if job.uploaded_by_id != user.pk:
        raise PermissionDenied
    # Claimed first, so the status page shows the job as running even before a worker starts;
    # with the immediate backend the task has finished when enqueue returns.
    if import_queue(job=job, acting_user=user):
        import_commit_task.enqueue(job.pk, user.pk)
    return HttpResponseRedirect(reverse("ledger:import_job", args=[job.pk]))
