"""A department's findings page (`election:findings`): its conditions, the Excel import with every
bad row shown, the template, one finding typed in, and its own findings (nobody else's).

Access is by department (`election/access.py`), not by region: the page is for the logins of a
department (department scorers). Anyone else who may see the election pages gets a page saying
that findings are entered by the departments; anyone who may not gets a 403.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.core.limits import PlainTextMixin
from kaoping.core.privacy import mask_id_number
from kaoping.core.views import action_submit, form_submit

from .findings import (
    DOCUMENT_MAX,
    HEADERS,
    SUMMARY_MAX,
    conditions_answered,
    department_choices,
    department_findings,
    finding_withdraw,
    findings_import,
    findings_submit,
    findings_template,
    rounds_of,
)
from .models import Finding, FindingSource, RoundStatus

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FindingsImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Findings (Excel or CSV)"))


class FindingForm(PlainTextMixin, forms.Form):
    id_number = forms.CharField(label=gettext_lazy("ID number"), max_length=18)
    name = forms.CharField(label=gettext_lazy("full name"), max_length=50, required=False)
    condition = forms.ChoiceField(label=gettext_lazy("condition"), required=False)
    hit = forms.ChoiceField(
        label=gettext_lazy("applies"),
        choices=[("否", gettext_lazy("no")), ("是", gettext_lazy("yes"))],
    )
    summary = forms.CharField(label=gettext_lazy("finding"), max_length=SUMMARY_MAX, required=False)
    found_on = forms.DateField(
        label=gettext_lazy("date of the finding"),
        # <input type=date> takes ISO dates only, whatever the locale's format.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    document = forms.CharField(
        label=gettext_lazy("document reference"), max_length=DOCUMENT_MAX, required=False
    )

    def __init__(self, *args, conditions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [("", _("— a note, no condition —"))] + [
            (c.code, c.name) for c in conditions
        ]
        self.fields["found_on"].initial = timezone.localdate()


def _where(request):
    """The departments of the login, the chosen one, its county's rounds and the chosen round
    (from ?department=<id>&round=<id>, defaulting to the first department and open round)."""
    departments = department_choices(request.user)
    if not departments:
        return departments, None, [], None
    wanted = request.GET.get("department", "")
    department = next((d for d in departments if str(d.pk) == wanted), departments[0])
    rounds = rounds_of(department)
    wanted = request.GET.get("round", "")
    round_ = next((r for r in rounds if str(r.pk) == wanted), rounds[0] if rounds else None)
    return departments, department, rounds, round_


def _page_url(department, round_) -> str:
    query = {"department": department.pk}
    if round_ is not None:
        query["round"] = round_.pk
    return f"{reverse('election:findings')}?{urlencode(query)}"


def _row_errors_to_fields(form: FindingForm) -> None:
    """A refused single finding's problems on the form's own fields: the form is one row, so a
    row number (and the import's error box) would only confuse."""
    fields = {label: key for key, label in HEADERS.items()}
    for problem in getattr(form, "row_errors", None) or ():
        key = fields.get(problem.field)
        form.add_error(key if key in form.fields else None, problem.message)


@login_required
def findings_page(request):
    user = request.user
    departments, department, rounds, round_ = _where(request)
    if department is None:
        if not user_can(user, "election.view"):
            raise PermissionDenied
        # The county and the township read findings on the persons' sheets, merged.
        return render(request, "election/findings_none.html", {})
    conditions = conditions_answered(round_, department) if round_ else []
    import_form = FindingsImportForm()
    add_form = FindingForm(conditions=conditions)
    errors = None
    is_open = round_ is not None and round_.status == RoundStatus.OPEN
    if request.method == "POST":
        if not is_open:
            raise PermissionDenied
        here = _page_url(department, round_)
        if request.POST.get("form") == "import":
            import_form = FindingsImportForm(request.POST, request.FILES)
            done = form_submit(
                request,
                import_form,
                lambda data: findings_import(
                    round=round_,
                    department=department,
                    data=data["file"].read(),
                    filename=data["file"].name,
                    acting_user=user,
                ),
                redirect_to=here,
                message=lambda found: _("Imported %(n)d findings.") % {"n": len(found)},
            )
            errors = getattr(import_form, "row_errors", None)
        else:
            add_form = FindingForm(request.POST, conditions=conditions)
            done = form_submit(
                request,
                add_form,
                lambda data: findings_submit(
                    round=round_,
                    department=department,
                    rows=[data],
                    source=FindingSource.FORM,
                    acting_user=user,
                ),
                redirect_to=here,
                message=_("The finding is entered."),
            )
            _row_errors_to_fields(add_form)
        if done:
            return done
    rows = department_findings(user=user, round=round_, department=department) if round_ else []
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    names = {c.code: c.name for c in conditions}
    for finding in page:
        finding.id_masked = mask_id_number(finding.sheet.person.id_number or "")
        finding.condition_name = names.get(finding.condition, finding.condition)
    return render(
        request,
        "election/findings_page.html",
        {
            "departments": departments,
            "department": department,
            "rounds": rounds,
            "round": round_,
            "is_open": is_open,
            "conditions": conditions,
            "import_form": import_form,
            "add_form": add_form,
            "errors": errors,
            "page": page,
            "here": _page_url(department, round_),
        },
    )


@login_required
def findings_template_download(request):
    _departments, department, _rounds, round_ = _where(request)
    if department is None:
        raise PermissionDenied
    if round_ is None:
        raise Http404
    response = HttpResponse(
        findings_template(round=round_, department=department), content_type=XLSX
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{department.name}{_('findings import')}.xlsx"
    )
    return response


@require_POST
@login_required
def finding_withdraw_view(request):
    departments = department_choices(request.user)
    if not departments:
        raise PermissionDenied
    # Only the login's own departments' findings are found: any other is 404.
    finding = (
        Finding.objects.select_related("round", "sheet__village", "department")
        .filter(department__in=departments, pk=request.POST.get("finding") or 0)
        .first()
        if str(request.POST.get("finding", "")).isdigit()
        else None
    )
    if finding is None:
        raise Http404
    here = _page_url(finding.department, finding.round)
    return action_submit(
        request,
        lambda: finding_withdraw(finding=finding, acting_user=request.user),
        redirect_to=here,
        success=_("The finding is withdrawn."),
    )


urls = [
    path("election/findings/", findings_page, name="findings"),
    path("election/findings/template/", findings_template_download, name="findings_template"),
    path("election/findings/withdraw/", finding_withdraw_view, name="finding_withdraw"),
]
