"""Console pages of the Excel import: template, upload and preview, import, progress."""

from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.core.errors import KaopingError
from kaoping.core.scoping import get_scoped_or_404
from kaoping.ledger.imports import import_queue, import_template, import_upload
from kaoping.ledger.models import ImportJob, ImportStatus
from kaoping.ledger.tasks import import_commit_task
from kaoping.schemes.models import Scheme

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(forms.Form):
    scheme = forms.ModelChoiceField(queryset=Scheme.objects.none(), label=gettext_lazy("Scheme"))
    file = forms.FileField(
        label=gettext_lazy("Filled-in template (.xlsx) or CSV"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv"}),
    )

    def __init__(self, *args, schemes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".xlsx", ".xlsm", ".csv"}:
            raise forms.ValidationError(gettext_lazy("Upload the .xlsx template (or a .csv)."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                gettext_lazy("The file is larger than 30 MB; split it into smaller files.")
            )
        return upload


def _importable_schemes(user):
    return Scheme.objects.for_user(user, "entry.record").order_by("code")


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
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_upload(
                    scheme=form.cleaned_data["scheme"],
                    data=upload.read(),
                    filename=upload.name,
                    acting_user=user,
                )
            except KaopingError as exc:
                form.add_error(None, exc.messages)
            else:
                return HttpResponseRedirect(reverse("console:import_job", args=[job.pk]))
    jobs = (
        ImportJob.objects.for_user(user, "entry.record")
        .filter(uploaded_by=user)
        .select_related("scheme")[:20]
    )
    return render(
        request, "console/import_start.html", {"schemes": schemes, "form": form, "jobs": jobs}
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
        as_attachment=True, filename=f"记分导入-{scheme.code}.xlsx"
    )
    return response


def _status_context(user, job: ImportJob) -> dict:
    running = job.status == ImportStatus.COMMITTING
    context = {
        "job": job,
        "running": running,
        "writing": running and job.rows_total and job.rows_done >= job.rows_total,
        "can_commit": job.status == ImportStatus.PREVIEWED
        and not job.errors
        and job.uploaded_by_id == user.pk,
    }
    if job.status == ImportStatus.COMMITTED:
        context["by_status"] = list(
            job.entries.values("status").annotate(n=Count("id")).order_by("status")
        )
    return context


@login_required
def import_job(request, pk: int):
    user = request.user
    _require_record(user)
    job = _job_or_404(user, pk)
    context = _status_context(user, job)
    if job.uploaded_by_id == user.pk and job.status != ImportStatus.COMMITTED:
        context["form"] = ImportUploadForm(
            schemes=_importable_schemes(user), initial={"scheme": job.scheme_id}
        )
    return render(request, "console/import_job.html", context)


@login_required
def import_status(request, pk: int):
    """The status card alone, polled by htmx every 2 s while the import runs."""
    user = request.user
    _require_record(user)
    job = _job_or_404(user, pk)
    return render(request, "console/import_status.html", _status_context(user, job))


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
    return HttpResponseRedirect(reverse("console:import_job", args=[job.pk]))
