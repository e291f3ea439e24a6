"""Public pages of the posting (公示): no login, only posted and final periods, names masked."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kaoping.core.errors import KaopingError
from kaoping.core.http import client_address
from kaoping.core.pagecache import CachedPaginator, cached_page
from kaoping.evaluations.member_selectors import member_card
from kaoping.periods.models import ListMembership, Result
from kaoping.periods.selectors import period_grades
from kaoping.regions.selectors import rank_group_labels

from .exports import xlsx_response
from .forms import ObjectionForm
from .posters import PAPER, poster_pdf
from .selectors import (
    breakdown,
    decided_objections,
    export_sheets,
    objection_counts,
    place_of,
    public_lists,
    public_name,
    public_period_or_404,
    public_periods,
    public_results,
    region_choices,
    region_in_period,
)
from .services import ObjectionThrottled, objection_file, objection_window_open

PAGE_SIZE = 50


def index(request):
    page = Paginator(public_periods(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "publishing/index.html", {"page": page})


@cached_page("period")
def posting(request, pk: int):
    period = public_period_or_404(pk)
    region = region_in_period(period, request.GET.get("region"))
    # Posted and final periods change only through pagecache.changed: a signed-in reader, who
    # gets the page rendered, reuses their count and the order of their pages.
    results = public_results(period, region=region)
    page = CachedPaginator(
        results,
        PAGE_SIZE,
        namespace="period",
        idents=[period.pk],
        key=f"posting|{region.code if region else ''}",
    ).get_page(request.GET.get("page"))
    grades, grades_shown = period_grades(period=period, results=results)
    group_labels = rank_group_labels(result.rank_group for result in page)
    for result in page:
        result.public_name = public_name(result.subject)
        result.place = place_of(result.subject)
        result.points = period.version.to_points(result.total)
        result.ytd_points = None if result.ytd is None else period.version.to_points(result.ytd)
        result.grade_name = grades.get(result.grade_code, "")
        result.group_label = group_labels.get(result.rank_group, result.rank_group)
    decisions = list(decided_objections(period))
    for objection in decisions:
        objection.subject_name = public_name(objection.subject) if objection.subject else ""
    return render(
        request,
        "publishing/posting.html",
        {
            "period": period,
            "region": region,
            # Indented with full-width spaces: an <option> takes no styling on phones.
            "regions": [
                ("\u3000" * indent + r.name, r) for r, indent in region_choices(period, region)
            ],
            "lists": public_lists(period, region=region),
            "page": page,
            "grades_shown": grades_shown,
            "decisions": decisions,
            "counts": objection_counts(period),
            "window_open": objection_window_open(period),
        },
    )


@cached_page("period")
def subject_breakdown(request, pk: int, subject_id: int):
    period = public_period_or_404(pk)
    result = (
        Result.objects.filter(period=period, subject_id=subject_id)
        .select_related("subject__region__parent")
        .first()
    )
    if result is None:
        raise Http404
    decisions = list(decided_objections(period, subject_id=subject_id))
    result.group_label = rank_group_labels([result.rank_group]).get(result.rank_group, "")
    return render(
        request,
        "publishing/breakdown.html",
        {
            "period": period,
            "result": result,
            "name": public_name(result.subject),
            "decisions": decisions,
            "window_open": objection_window_open(period),
            # 二亮: a party member's card (masked name, branch, the year's pledges and kept).
            "member_card": member_card(result.subject, year=period.start.year)
            if result.subject.kind == "party_member"
            else None,
            **breakdown(period, result),
        },
    )


@require_http_methods(["GET", "POST"])
def objection(request, pk: int):
    period = public_period_or_404(pk)
    subject = None
    subject_id = request.POST.get("subject") or request.GET.get("subject")
    if subject_id:
        result = (
            Result.objects.filter(
                period=period, subject_id=subject_id if subject_id.isdigit() else 0
            )
            .select_related("subject__region")
            .first()
        )
        if result is None:
            raise Http404
        subject = result.subject
    window_open = objection_window_open(period)
    form = ObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST" and window_open and form.is_valid():
        try:
            filed = objection_file(
                period=period,
                subject=subject,
                address=client_address(request),
                **form.cleaned_data,
            )
        except KaopingError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
                status = 429 if isinstance(exc, ObjectionThrottled) else 400
        else:
            messages.success(
                request,
                _(
                    "Your objection has been received as No. %(n)d. The decision will be shown on "
                    "this page."
                )
                % {"n": filed.pk},
            )
            return HttpResponseRedirect(reverse("portal:posting", args=[period.pk]))
    return render(
        request,
        "publishing/objection_form.html",
        {
            "period": period,
            "subject": subject,
            "subject_name": public_name(subject) if subject else "",
            "form": form,
            "window_open": window_open,
        },
        status=status,
    )


def poster(request, pk: int):
    period = public_period_or_404(pk)
    size = request.GET.get("size", "a4").lower()
    if size not in PAPER:
        raise Http404
    region = region_in_period(period, request.GET.get("region"))
    pdf = poster_pdf(
        period=period,
        region=region,
        size=size,
        public_url=request.build_absolute_uri(reverse("portal:posting", args=[period.pk])),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{period.scheme.code}-{period.label}{'-' + region.code if region else ''}-{size}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def export(request, pk: int):
    """The public Excel file: every list and the result table, persons' names masked."""
    period = public_period_or_404(pk)
    region = region_in_period(period, request.GET.get("region"))
    sheets = export_sheets(
        period,
        results=Result.objects.all(),
        memberships=ListMembership.objects.all(),
        name_of=public_name,
        region=region,
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(sheets, f"{period.scheme.name}-{period.label}-{stamp}.xlsx")
