"""Pages of the ledger: review queue, recording (one entry, a grid's batch), my entries,
corrections."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.views import action_submit, form_submit
from kaoping.people.models import Subject
from kaoping.people.selectors import subject_list_households
from kaoping.regions.models import Level, Region
from kaoping.regions.selectors import region_list
from kaoping.schemes.models import Scheme

from ..adjustments import ADJUST_CODE, adjust_cadences
from ..forms import EntryForm
from ..models import Entry, EntrySource, EntryStatus
from ..selectors import (
    annotate_item_names,
    assessment_levels,
    entry_list_awaiting_evidence,
    entry_list_mine,
    entry_review_queue,
    evidence_required_codes,
    review_item_names,
    review_scheme_choices,
    scheme_item_choices,
)
from ..services import (
    EntryDraft,
    entries_record_batch,
    entries_review,
    entry_record,
    entry_reverse,
    scorable_items,
)
from .evidence import awaiting_context

PAGE_SIZE = 50
# The statuses the queue filters by (an entry awaiting its evidence is not yet reviewable).
REVIEW_STATUSES = (EntryStatus.SUBMITTED, EntryStatus.APPROVED, EntryStatus.REJECTED)

OUTCOME_TEXT = {
    "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"),
    "not_found": gettext_lazy("no such entry"),
    "not_reviewer": gettext_lazy("your role does not review this scheme"),
    "own_entry": gettext_lazy("you recorded it yourself"),
    "sealed": gettext_lazy("its period is finalised; it no longer counts"),
    "already_reviewed": gettext_lazy("already decided by someone else"),
}


@login_required
def review_queue(request):
    user = request.user
    if not user_can(user, "entry.review"):
        raise PermissionDenied
    outcomes = None
    if request.method == "POST":
        decision = request.POST.get("decision")
        ids = [int(i) for i in request.POST.getlist("entry") if i.isdigit()]
        if decision not in ("approve", "reject") or not ids:
            messages.error(request, _("Choose entries and a decision."))
        else:
            try:
                with transaction.atomic(durable=True):  # the page is the edge
                    results = entries_review(
                        entry_ids=ids,
                        decision=decision,
                        reason=request.POST.get("reason", ""),
                        acting_user=user,
                    )
            except PermissionDenied:
                raise  # a refusal by the service is a 403, not a message
            except KaopingError as exc:
                messages.error(request, exc.messages[0])
            else:
                named = _entries_named(user, [r.entry_id for r in results])
                outcomes = [
                    (
                        r.entry_id,
                        r.ok,
                        OUTCOME_TEXT[r.outcome],
                        named.get(r.entry_id, f"#{r.entry_id}"),
                    )
                    for r in results
                ]
                done = sum(1 for r in results if r.ok)
                if len(results) == 1 and done:
                    # One entry: say whose and what, as the reviewer knows it (not its number).
                    _id, _ok, text, what = outcomes[0]
                    messages.success(
                        request, _("%(what)s: %(outcome)s.") % {"what": what, "outcome": text}
                    )
                else:
                    messages.success(
                        request,
                        _("%(done)d of %(total)d decided.") % {"done": done, "total": len(results)},
                    )
    filters = {
        key: request.GET.get(key, "").strip()
        for key in ("region", "item", "status", "start", "end", "scheme")
    }
    filters["status"] = filters["status"] or EntryStatus.SUBMITTED
    for key, label in (("start", _("from")), ("end", _("to"))):
        if filters[key] and _date_or_none(filters[key]) is None:
            # 2026-02-30 used to be a 500 (parse_date raises on a date that does not exist).
            messages.warning(
                request,
                _(
                    "“%(value)s” in “%(field)s” is not a date such as 2026-03-05; that filter is ignored."
                )
                % {"value": filters[key], "field": label},
            )
            filters[key] = ""
    page = Paginator(entry_review_queue(user=user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    annotate_item_names(page)
    villages = region_list(user=user, action="entry.review", level=Level.VILLAGE, limit=300)
    schemes = review_scheme_choices(user=user)
    return render(
        request,
        "ledger/review.html",
        {
            "page": page,
            "filters": filters,
            "outcomes": outcomes,
            "villages": villages,
            "schemes": schemes,
            "item_names": review_item_names(user=user, scheme_code=filters["scheme"])
            if filters["scheme"]
            else [],
            "statuses": [(s.value, s.label) for s in REVIEW_STATUSES],
        },
    )


def _entries_named(user, ids: list[int]) -> dict[int, str]:
    """Entry id → "subject · item" for the outcome of a review, of the entries `user` sees."""
    entries = list(
        Entry.objects.for_user(user, "entry.view").filter(pk__in=ids).select_related("subject")
    )
    annotate_item_names(entries)
    return {e.pk: f"{e.subject.name} · {e.item_name}" for e in entries}


@login_required
def grid_record(request, code: str, scheme_code: str):
    """One form for every household of a grid: the grid member's monthly round."""
    user = request.user
    grid = get_scoped_or_404(Region.objects, user, "entry.record", code=code)
    scheme = get_scoped_or_404(
        Scheme.objects.filter(subject_kind="household"), user, "scheme.view", code=scheme_code
    )
    subjects = list(
        subject_list_households(user=user, action="entry.record", region_code=grid.code)
    )
    version = scheme.latest_version()
    items = list(scorable_items(version, subjects[0]).order_by("position")) if subjects else []
    errors: dict[int, list[str]] = {}
    day = timezone.localdate()
    form_key = request.POST.get("form_key") or uuid.uuid4().hex
    if request.method == "POST":
        day = parse_date(request.POST.get("occurred_on", "")) or day
        drafts, rows = [], []
        for subject in subjects:
            item = request.POST.get(f"item_{subject.pk}", "")
            if not item:
                if request.FILES.getlist(f"evidence_{subject.pk}"):
                    # A photo with no item would be dropped without a word.
                    errors[subject.pk] = [_("Choose the item this photo or file is for.")]
                continue
            drafts.append(
                EntryDraft(
                    subject=subject,
                    item_code=item,
                    occurred_on=day,
                    quantity=request.POST.get(f"qty_{subject.pk}") or "1",
                    note=request.POST.get(f"note_{subject.pk}", ""),
                    idempotency_key=f"grid:{form_key}:{subject.pk}",
                    evidence=request.FILES.getlist(f"evidence_{subject.pk}"),
                )
            )
            rows.append(subject.pk)
        if errors:
            messages.error(
                request,
                _("Nothing was saved; correct the households marked below.")
                + " "
                + _("Choose their photos or files again."),
            )
        elif not drafts:
            messages.error(request, _("Choose an item for at least one household."))
        else:
            try:
                with transaction.atomic(durable=True):  # the page is the edge
                    created = entries_record_batch(
                        scheme=scheme, drafts=drafts, acting_user=user, source=EntrySource.COLLECTED
                    )
            except ImportFailed as exc:
                for error in exc.errors:
                    errors.setdefault(rows[error.row - 1], []).append(error.message)
                # A browser never refills a file input, so say so rather than let it look kept.
                message = _("Nothing was saved; correct the households marked below.")
                if request.FILES:
                    message += " " + _("Choose their photos or files again.")
                messages.error(request, message)
            else:
                messages.success(
                    request,
                    _("Recorded for %(n)d households.") % {"n": len(created) or len(drafts)},
                )
                return HttpResponseRedirect(reverse("ledger:my_entries"))
    for subject in subjects:
        subject.row_errors = errors.get(subject.pk, [])
        subject.chosen = request.POST.get(f"item_{subject.pk}", "")
        subject.qty = request.POST.get(f"qty_{subject.pk}", "")
        subject.note = request.POST.get(f"note_{subject.pk}", "")
    return render(
        request,
        "ledger/grid_record.html",
        {
            "grid": grid,
            "scheme": scheme,
            "subjects": subjects,
            "items": items,
            "day": day,
            "form_key": form_key,
        },
    )


@login_required
def my_entries(request):
    page = Paginator(entry_list_mine(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    annotate_item_names(page)
    return render(
        request,
        "ledger/my_entries.html",
        {"page": page, **awaiting_context(entry_list_awaiting_evidence(user=request.user))},
    )


@require_POST
@login_required
def entry_reverse_view(request, pk: int):
    entry = get_scoped_or_404(
        Entry.objects.select_related("subject__region", "scheme"),
        request.user,
        "entry.review",
        pk=pk,
    )
    return action_submit(
        request,
        lambda: entry_reverse(
            entry=entry,
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
            idempotency_key=request.POST.get("idempotency_key") or None,
        ),
        redirect_to=reverse("periods:subject", args=[entry.subject_id]),
        success=_("The entry was reversed."),
    )


@login_required
def entry_new(request, subject_id: int, scheme_code: str):
    user = request.user
    subject = get_scoped_or_404(
        Subject.objects.select_related("region"), user, "entry.record", pk=subject_id
    )
    scheme = get_scoped_or_404(
        Scheme.objects.filter(subject_kind=subject.kind), user, "scheme.view", code=scheme_code
    )
    version = scheme.latest_version()
    items, labels = scheme_item_choices(version=version, subject=subject, user=user)
    needs_evidence = evidence_required_codes(version=version, subject=subject)
    levels = assessment_levels(scheme, version.spec())
    adjusted = adjust_cadences(version.spec())
    adjustment = (ADJUST_CODE, adjusted[0]) if adjusted else None
    if request.method == "POST":
        form = EntryForm(
            request.POST,
            request.FILES,
            items=items,
            labels=labels,
            needs_evidence=needs_evidence,
            levels=levels,
            adjustment=adjustment,
        )

        def record(data):
            return entry_record(
                scheme=scheme,
                subject=subject,
                item_code=data["item_code"],
                # An adjustment of 0 is refused by the Recorder, not read as 1.
                quantity=data["quantity"]
                if data["item_code"] == ADJUST_CODE
                else (data["quantity"] or 1),
                label=data["label"],
                occurred_on=data["occurred_on"],
                note=data["note"],
                acting_user=user,
                idempotency_key=data["idempotency_key"] or None,
                evidence=data["evidence"],
                cadence=data.get("cadence") or "",
            )

        done = form_submit(
            request,
            form,
            record,
            redirect_to=reverse("periods:subject", args=[subject.pk]),
            message=_("Recorded."),
        )
        if done:
            return done
    else:
        form = EntryForm(
            items=items,
            labels=labels,
            needs_evidence=needs_evidence,
            levels=levels,
            adjustment=adjustment,
            initial={
                "occurred_on": timezone.localdate(),
                "idempotency_key": uuid.uuid4().hex,
                "quantity": 1,
            },
        )
    return render(
        request,
        "ledger/entry_new.html",
        {"subject": subject, "scheme": scheme, "form": form},
    )


def _date_or_none(text: str):
    """The date `text` names (2026-03-05), or None when it names none (2026-02-30, "x")."""
    try:
        return parse_date(text)
    except ValueError:
        return None
