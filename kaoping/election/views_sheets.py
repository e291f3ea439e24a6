"""Pages of the persons' sheets (一人一表): the list, one sheet (audited at every view), the
organisation's intention, adding a candidate by ID number, and the export with a stated reason.

Only the county (organisation department) and the township staff of a sheet's village see it
(`election.sheet`): anyone else gets 403 on the list and the export, 404 or 403 on a sheet.
"""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.errors import KaopingError
from kaoping.core.privacy import mask_id_number
from kaoping.core.views import form_add_errors, form_submit

from . import sheet_selectors as selectors
from . import sheets as services
from .forms_sheets import CandidateForm, ExportForm, IntentionForm
from .models import PersonSheet, Qualification, RoundStatus
from .sheets_xlsx import xlsx_response

PAGE_SIZE = 30
FILTERS = ("round", "township", "village", "qualification", "intended", "q")


def _may_see_sheets(user, action: str = selectors.SHEET) -> None:
    if not user_can(user, action):
        raise PermissionDenied


def _round(request, action: str = selectors.SHEET):
    round_ = selectors.round_current(request.user, action, request.GET.get("round"))
    if round_ is None:
        raise Http404(_("No election round has been opened yet."))
    return round_


def _filters(request) -> dict[str, str]:
    given = {name: (request.GET.get(name) or "").strip()[:50] for name in FILTERS}
    if given["qualification"] not in Qualification.values:
        given["qualification"] = ""
    if given["intended"] not in ("1", "0"):
        given["intended"] = ""
    for name in ("township", "village"):
        if not given[name].isdigit():
            given[name] = ""
    return given


def _filtered(request, round_, filters):
    prefix = filters["village"] or filters["township"]
    unsorted = selectors.sheets_filtered(
        request.user, round_, prefix=prefix, q=filters["q"], intended=filters["intended"]
    )
    sheets = unsorted
    if filters["qualification"]:
        sheets = sheets.filter(qualification=filters["qualification"])
    return unsorted, sheets


def _query(filters, **changes) -> str:
    values = {**filters, **changes}
    return urlencode({k: v for k, v in values.items() if v})


@login_required
def sheet_list(request):
    user = request.user
    _may_see_sheets(user)
    round_ = _round(request)
    filters = _filters(request)
    unsorted, sheets = _filtered(request, round_, filters)
    counts = selectors.sheet_counts(unsorted)
    page = Paginator(sheets, PAGE_SIZE).get_page(request.GET.get("page"))
    for sheet in page:
        sheet.masked_id = mask_id_number(sheet.person.id_number or "")
    townships, villages = selectors.region_choices(user, round_)
    if filters["township"]:
        villages = [v for v in villages if v.code.startswith(filters["township"])]
    return render(
        request,
        "election/sheets_list.html",
        {
            "round": round_,
            "page": page,
            "counts": counts,
            "qualifications": [
                (value, label, counts[value], _query(filters, qualification=value, page=""))
                for value, label in Qualification.choices
            ],
            "all_query": _query(filters, qualification=""),
            "filters": filters,
            "townships": townships,
            "villages": villages,
            "export_query": _query(filters),
            "may_add": round_.status == RoundStatus.OPEN and user_can(user, "election.candidate"),
        },
    )


@login_required
def sheet_detail(request, pk):
    with transaction.atomic(durable=True):
        sheet = selectors.sheet_open(request.user, pk)
    content = selectors.sheet_content(sheet)
    subject = content.reviews[0].subject if content.reviews else None
    return render(
        request,
        "election/sheets_detail.html",
        {
            "sheet": sheet,
            "content": content,
            "may_edit": sheet.round.status == RoundStatus.OPEN,
            "review_link": subject is not None and may(request.user, "entry.view", subject),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sheet_edit(request, pk):
    sheet = get_scoped_or_404(
        PersonSheet.objects.select_related("person", "village", "round"),
        request.user,
        selectors.SHEET,
        pk=pk,
    )
    detail = reverse("election:sheet", args=[sheet.pk])
    if request.method == "POST":
        form = IntentionForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda d: services.sheet_update(
                sheet=sheet,
                acting_user=request.user,
                intended=d["intended"],
                intended_post=d["intended_post"],
                one_shoulder_intended=d["one_shoulder_intended"],
                is_candidate=d["is_candidate"],
            ),
            redirect_to=detail,
            message=_("The intention is saved."),
        )
        if done:
            return done
        status = 400
    else:
        form = IntentionForm(
            initial={
                "is_candidate": sheet.is_candidate,
                "intended": sheet.intended,
                "intended_post": sheet.intended_post,
                "one_shoulder_intended": sheet.one_shoulder_intended,
            }
        )
        status = 200
    return render(
        request,
        "election/sheets_edit.html",
        {"sheet": sheet, "form": form, "detail": detail},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def candidate_add(request):
    user = request.user
    _may_see_sheets(user, "election.candidate")
    round_ = _round(request, "election.candidate")
    if request.method == "POST":
        form = CandidateForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda d: services.candidate_add(
                round=round_,
                id_number=d["id_number"],
                acting_user=user,
                intended=d["intended"],
                intended_post=d["intended_post"],
                one_shoulder_intended=d["one_shoulder_intended"],
            ),
            redirect_to=lambda sheet: reverse("election:sheet", args=[sheet.pk]),
            message=lambda sheet: (
                _("%(name)s is on the sheets as a prospective candidate.")
                % {"name": sheet.person.name}
            ),
        )
        if done:
            return done
        status = 400
    else:
        form = CandidateForm()
        status = 200
    return render(
        request,
        "election/sheets_candidate_add.html",
        {"round": round_, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sheets_export(request):
    """GET: the reason form for the current filter; POST: the .xlsx, audited with the reason."""
    user = request.user
    _may_see_sheets(user)
    round_ = _round(request)
    filters = _filters(request)
    _unsorted, sheets = _filtered(request, round_, filters)
    full_id = selectors.export_shows_full_id(user, round_)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                rows = selectors.sheets_export(
                    user, round_, sheets, reason=form.cleaned_data["reason"]
                )
        except KaopingError as exc:
            form_add_errors(form, exc)
        else:
            stamp = datetime.now(tz=timezone.get_current_timezone()).strftime("%Y%m%d-%H%M")
            return xlsx_response(
                title=_("persons' sheets"),
                header=selectors.export_header(),
                rows=rows,
                filename=f"{round_.name}-{_('persons sheets')}-{stamp}.xlsx",
            )
    return render(
        request,
        "election/sheets_export.html",
        {
            "round": round_,
            "form": form,
            "count": sheets.count(),
            "full_id": full_id,
            "filters": filters,
            "list_query": _query(filters),
        },
        status=400 if form.is_bound else 200,
    )


urls = [
    path("election/sheets/", sheet_list, name="sheets"),
    path("election/sheets/add/", candidate_add, name="candidate_add"),
    path("election/sheets/export/", sheets_export, name="sheets_export"),
    path("election/sheets/<int:pk>/", sheet_detail, name="sheet"),
    path("election/sheets/<int:pk>/edit/", sheet_edit, name="sheet_edit"),
]
