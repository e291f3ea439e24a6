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
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.privacy import mask_name
from kaoping.core.views import action_submit, form_submit
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.ledger.selectors import annotate_item_names
from kaoping.ledger.services import EntryDraft, scorable_items, subject_variant
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result

from . import selectors
from .exports import xlsx_response
from .forms import DecisionForm
from .models import Objection, ObjectionStatus
from .selectors import export_sheets, mask_contact, name_policy, region_in_period
from .services import objection_decide, objection_reclose

VIEW_ACTION = "objection.view"
DECIDE_ACTION = "objection.decide"
PAGE_SIZE = 50
SUBJECT_CHOICES = 500  # a larger period is searched by subject number instead of a list


def _require_viewer(user) -> None:
    if not user_can(user, VIEW_ACTION):
        raise PermissionDenied


def _can_decide(user, objection: Objection) -> bool:
    return Objection.objects.for_user(user, DECIDE_ACTION).filter(pk=objection.pk).exists()


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
    results = Result.objects.for_user(user, "period.view").filter(period=objection.period)
    chosen = request.POST.get("subject") or request.GET.get("subject")
    subject = None
    if chosen and chosen.isdigit():
        found = results.filter(subject_id=int(chosen)).select_related("subject__region").first()
        subject = found.subject if found else None
    choices = []
    if results.count() <= SUBJECT_CHOICES:
        choices = [
            (r.subject_id, f"{r.rank}. {r.subject.name} · {r.subject.region.name}")
            for r in results.select_related("subject__region").order_by("rank", "subject_id")
        ]
    return subject, choices


def _form_parts(objection: Objection, subject) -> tuple[list, list, list]:
    """Choices of the decision form: entries to reverse, items and rating labels."""
    if subject is None:
        return [], [], []
    period = objection.period
    entries = list(
        Entry.objects.filter(
            scheme_id=period.scheme_id,
            subject=subject,
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
            status=EntryStatus.APPROVED,
            sign=1,
            reversals__isnull=True,
        ).order_by("occurred_on", "id")
    )
    annotate_item_names(entries)
    entry_choices = [
        (
            str(e.pk),
            f"#{e.pk} {e.occurred_on:%m-%d} {e.item_name}"
            + (f" · {e.label}" if e.label else f" × {e.quantity.normalize():f}")
            + f" ({e.points.normalize():+f})"
            + (f" · {e.note}" if e.note else ""),
        )
        for e in entries
    ]
    version = period.scheme.latest_version()
    items = [(n.code, n.name) for n in scorable_items(version, subject).order_by("position")]
    labels = sorted(
        {
            (lv.label, lv.label)
            for lv in version.levels.filter(variant=subject_variant(version, subject))
        }
    )
    return entry_choices, items, labels


def _correction_day(period: Period) -> date:
    return min(period.end, timezone.localdate())


@login_required
def objection_detail(request, pk: int):
    user = request.user
    _require_viewer(user)
    try:
        objection = (
            Objection.objects.for_user(user, VIEW_ACTION)
            .select_related("period__scheme__region", "period__version", "subject__region")
            .select_related("decided_by")
            .get(pk=pk)
        )
    except Objection.DoesNotExist:
        raise Http404 from None
    can_decide = _can_decide(user, objection)
    if request.method == "POST" and not can_decide:
        raise PermissionDenied
    pending = objection.status == ObjectionStatus.SUBMITTED
    subject, subject_choices = _decision_subject(request, objection, user)
    entries, items, labels = _form_parts(objection, subject)
    form = None
    if can_decide and pending:
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
    corrected = []
    ids = [*objection.corrections.get("reversals", []), *objection.corrections.get("recorded", [])]
    if ids:
        corrected = list(Entry.objects.filter(pk__in=ids).order_by("id"))
        annotate_item_names(corrected)
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
            "corrected": corrected,
            "unapplied": objection.status == ObjectionStatus.UPHELD
            and objection.applied_at is None,
        },
    )


@require_POST
@login_required
def objection_reclose_view(request, pk: int):
    user = request.user
    _require_viewer(user)
    objection = Objection.objects.for_user(user, VIEW_ACTION).filter(pk=pk).first()
    if objection is None:
        raise Http404
    if not _can_decide(user, objection):
        raise PermissionDenied
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
    sheets = export_sheets(
        period,
        results=Result.objects.for_user(user, "period.view"),
        memberships=ListMembership.objects.for_user(user, "period.view"),
        name_of=name_policy(user),
        region=region_in_period(period, request.GET.get("region")),
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(sheets, f"{period.scheme.name}-{period.label}-{stamp}.xlsx")
