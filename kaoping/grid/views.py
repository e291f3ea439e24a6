"""Pages of grid work: the round, the visit form, a visit, the household's book and booklets."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.errors import KaopingError
from kaoping.core.views import form_add_errors, form_submit
from kaoping.ledger.evidence import evidence_prepare_all
from kaoping.people.models import Household
from kaoping.regions.models import Region

from . import selectors
from .book import book_context, booklet_pdf, label_change, post_label, visitor_name
from .forms import VisitForm
from .models import VisitKind
from .services import visit_record


@login_required
def round_page(request):
    """The grid member's phone page: the households of this cycle's round, grid by grid."""
    user = request.user
    if not user_can(user, "visit.record"):
        raise PermissionDenied
    query = request.GET.get("q", "")[:50]
    grid_code = request.GET.get("grid", "")[:20]
    today = timezone.localdate()
    the_round = selectors.round_of(user=user, today=today, query=query, grid_code=grid_code)
    return render(
        request,
        "grid/round.html",
        {"round": the_round, "query": query, "grid_code": grid_code, "today": today},
    )


def _visit_form(request, household, data=None, files=None):
    members, tags, current = selectors.visit_form_choices(user=request.user, household=household)
    return VisitForm(data, files, members=members, tags=tags, current_tag_ids=current)


@login_required
def visit_new(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "visit.record", pk=pk
    )
    if request.method == "POST":
        form = _visit_form(request, household, request.POST, request.FILES)
        prepared = None
        if form.is_valid():
            try:
                # Cleaning photos is slow: done before the transaction, never inside it.
                prepared = evidence_prepare_all(form.cleaned_data["photos"])
            except KaopingError as exc:
                form_add_errors(form, exc, fields={"__all__": "photos"})
        if prepared is not None:
            done = form_submit(
                request,
                form,
                lambda data: visit_record(
                    household=household,
                    acting_user=user,
                    kind=VisitKind.PHONE if data["phone"] else VisitKind.IN_PERSON,
                    visited_on=data["visited_on"],
                    met=data["met"],
                    note=data["note"],
                    changes=form.changes(),
                    prepared=prepared,
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    idempotency_key=data["idempotency_key"],
                ),
                redirect_to=lambda visit: reverse("grid:visit", args=[visit.pk]) + "?saved=1",
                message=_("Visit recorded."),
                # The book service names its own fields; the form's are the new member's.
                fields={
                    "kind": "phone",
                    "name": "new_name",
                    "id_number": "new_id_number",
                    "relation": "new_relation",
                    "gender": "new_gender",
                    "head": "new_head",
                },
            )
            if done:
                return done
    else:
        form = _visit_form(request, household)
    return render(
        request,
        "grid/visit_form.html",
        {"household": household, "form": form, "storage_key": f"kaoping-visit-{household.pk}"},
    )


VISITS_PAGE = 50


@login_required
def visit_list(request):
    """The visits of the user's area, newest first: a grid leader's or chief's view of the work."""
    user = request.user
    if not user_can(user, "visit.view"):
        raise PermissionDenied
    grid_code = request.GET.get("grid", "")[:20]
    visitor = request.GET.get("visitor", "")
    visitor_id = int(visitor) if visitor.isdigit() and len(visitor) < 10 else None
    visits = selectors.visit_list(user=user, grid_code=grid_code, visitor_id=visitor_id)
    page = Paginator(visits, VISITS_PAGE).get_page(request.GET.get("page"))
    for visit in page:
        visit.visitor_label = visitor_name(visit)
        visit.post_label = post_label(visit.visitor_post)
    return render(
        request,
        "grid/visits.html",
        {
            "page": page,
            "grid_code": grid_code,
            "visitor_id": visitor_id,
            "visitors": selectors.visitors_in_area(user=user, grid_code=grid_code),
        },
    )


@login_required
def visit_detail(request, pk: int):
    user = request.user
    visit = selectors.visit_get(user=user, pk=pk)
    if visit is None:
        raise Http404
    return render(
        request,
        "grid/visit.html",
        {
            "visit": visit,
            "changes": [
                label_change(c) for c in selectors.changes_of_visit(user=user, visit=visit)
            ],
            "saved": request.GET.get("saved") == "1",
            "can_round": user_can(user, "visit.record"),
            "storage_key": f"kaoping-visit-{visit.household_id}",
            "problem_url": selectors.problem_new_url(visit=visit)
            if may(user, "problem.raise", visit.household)
            else None,
        },
    )


@login_required
def visit_photo(request, pk: int):
    photo = selectors.visit_photo_get(user=request.user, pk=pk)
    if photo is None:
        raise Http404
    try:
        handle = default_storage.open(photo.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def book(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "visit.view", pk=pk
    )
    context = book_context(user=user, household=household)
    return render(request, "grid/book.html", context)


@login_required
def book_pdf(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "visit.view", pk=pk
    )
    return _pdf(booklet_pdf(request, user=user, households=[household]), f"book-{household.number}")


@login_required
def grid_books_pdf(request, code: str):
    user = request.user
    grid = get_scoped_or_404(Region.objects, user, "visit.view", code=code)
    households = list(selectors.households_of_grid(user=user, grid=grid))
    if not households:
        raise Http404
    return _pdf(booklet_pdf(request, user=user, households=households, grid=grid), f"books-{code}")


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
