"""Console pages of the posting: objections (viewed by reviewers, decided by county admins) and
the full Excel export of a period.

Who may do what: viewing objections follows `entry.review` (county admins, township staff and
review groups, in their area; an objection is scoped by its subject's region, a county-level one
by the scheme's county), deciding follows `period.close` (county admins), as closing does.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.privacy import mask_name
from kaoping.core.views import action_submit, form_submit
from kaoping.ledger.services import EntryDraft
from kaoping.periods.models import Period, PeriodStatus

from . import selectors
from .exports import xlsx_response
from .forms import DecisionForm
from .models import Objection, ObjectionStatus
from .selectors import mask_contact, region_in_period
from .services import objection_decide, objection_reclose

VIEW_ACTION = "objection.view"
DECIDE_ACTION = "objection.decide"
PAGE_SIZE = 50
SUBJECT_CHOICES = 500  # a larger period is searched by subject number instead of a list


def _require_viewer(user) -> None:
    if not user_can(user, VIEW_ACTION):
        raise PermissionDenied


@login_required
def objection_list(request):
    user = request.user
    _require_viewer(user)
    status = request.GET.get("status", ObjectionStatus.SUBMITTED)
    period_id = request.GET.get("period", "")
    rows = selectors.objection_list(
        user=user,
        action=VIEW_ACTION,
        status=status if status in ObjectionStatus.values else None,
        period_id=int(period_id) if period_id.isdigit() else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    decider = user_can(user, DECIDE_ACTION)
    for objection in page:
        objection.shown_name = objection.name if decider else mask_name(objection.name)
    return render(
        request,
        "publishing/objections.html",
        {
            "page": page,
            "status": status,
            "statuses": ObjectionStatus.choices,
            "period_id": period_id,
        },
    )


def _decision_subject(request, objection: Objection, user):
    """The subject a correction is for: the objection's, or one the handler picks."""
    if objection.subject is not None:
        return objection.subject, []
    period = objection.period
    chosen = request.POST.get("subject") or request.GET.get("subject")
    subject = None
    if chosen and chosen.isdigit():
        subject = selectors.subject_of_period_result(
            user=user, period=period, subject_id=int(chosen)
        )
    results = selectors.result_list_to_choose(user=user, period=period, limit=SUBJECT_CHOICES)
    choices = [
        (r.subject_id, f"{r.rank}. {r.subject.name} · {r.subject.region.name}")
        for r in results or []
    ]
    return subject, choices


def _form_parts(objection: Objection, subject, user) -> tuple[list, list, list]:
    """Choices of the decision form: entries to reverse, items and rating labels."""
    if subject is None:
        return [], [], []
    found = selectors.correction_choices(user=user, period=objection.period, subject=subject)
    entry_choices = [
        (
            str(e.pk),
            f"#{e.pk} {e.occurred_on:%m-%d} {e.item_name}"
            + (f" · {e.label}" if e.label else f" × {e.quantity.normalize():f}")
            + f" ({e.points.normalize():+f})"
            + (f" · {e.note}" if e.note else ""),
        )
        for e in found.entries
    ]
    return entry_choices, found.items, [(label, label) for label in found.labels]


def _correction_day(period: Period) -> date:
    return min(period.end, timezone.localdate())


@login_required
def objection_detail(request, pk: int):
    user = request.user
    _require_viewer(user)
    objection = get_scoped_or_404(
        Objection.objects.select_related(
            "period__scheme__region", "period__version", "subject__region", "decided_by"
        ),
        user,
        VIEW_ACTION,
        pk=pk,
    )
    can_decide = may(user, DECIDE_ACTION, objection)
    if request.method == "POST" and not can_decide:
        raise PermissionDenied
    pending = objection.status == ObjectionStatus.SUBMITTED
    subject, subject_choices, form = None, [], None
    if can_decide and pending:
        # Only the handler's form needs these choices; a reviewer reading along pays no query.
        subject, subject_choices = _decision_subject(request, objection, user)
        entries, items, labels = _form_parts(objection, subject, user)
        form = DecisionForm(
            request.POST or None,
            entries=entries,
            items=items,
            labels=labels,
            initial={"occurred_on": _correction_day(objection.period), "quantity": 1},
        )
        if request.method == "POST":

            def decide(data):
                corrections = []
                if data["decision"] == "uphold" and data["item_code"] and subject is not None:
                    corrections.append(
                        EntryDraft(
                            subject=subject,
                            item_code=data["item_code"],
                            occurred_on=data["occurred_on"] or _correction_day(objection.period),
                            quantity=data["quantity"] or 1,
                            label=data["label"],
                        )
                    )
                return objection_decide(
                    objection=objection,
                    decision=data["decision"],
                    text=data["text"],
                    acting_user=user,
                    reverse_entry_ids=[int(i) for i in data["reverse"]],
                    corrections=corrections,
                )

            def said(outcome):
                if outcome.close_problem:
                    return messages.WARNING, _(
                        "Decided, but the period could not be closed again: %(problem)s"
                    ) % {"problem": outcome.close_problem}
                if outcome.objection.status == ObjectionStatus.UPHELD:
                    return _("Upheld; the corrected results are on the public page.")
                return _("Dismissed.")

            done = form_submit(
                request,
                form,
                decide,
                redirect_to=reverse("portal:objection_detail", args=[pk]),
                message=said,
            )
            if done:
                return done
    objection.shown_name = objection.name if can_decide else mask_name(objection.name)
    objection.shown_contact = objection.contact if can_decide else mask_contact(objection.contact)
    return render(
        request,
        "publishing/objection_detail.html",
        {
            "objection": objection,
            "period": objection.period,
            "subject": subject,
            "subject_choices": subject_choices,
            "form": form,
            "can_decide": can_decide,
            "corrected": selectors.entry_list_of_corrections(user=user, objection=objection),
            "unapplied": objection.status == ObjectionStatus.UPHELD
            and objection.applied_at is None,
        },
    )


@require_POST
@login_required
def objection_reclose_view(request, pk: int):
    user = request.user
    _require_viewer(user)
    objection = get_scoped_or_404(Objection.objects.all(), user, DECIDE_ACTION, pk=pk)
    return action_submit(
        request,
        lambda: objection_reclose(objection=objection, acting_user=user),
        redirect_to=reverse("portal:objection_detail", args=[pk]),
        success=_("Closed again; the corrected results are on the public page."),
    )


@login_required
def period_export(request, pk: int):
    """Every list and the result table of a closed period, as far as the user may see it.

    Names are in full for the subjects inside the user's `people.view` scope, masked otherwise.
    """
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"), user, "period.view", pk=pk
    )
    if period.status == PeriodStatus.OPEN:
        raise Http404
    sheets = selectors.export_sheets_for_user(
        user=user, period=period, region=region_in_period(period, request.GET.get("region"))
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(sheets, f"{period.scheme.name}-{period.label}-{stamp}.xlsx")
