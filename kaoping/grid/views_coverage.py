"""Pages of visit coverage: the drill-down (county → township → village → grid), the overdue
households, and the county's visiting rule."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import form_submit
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Region

from . import coverage
from .models import CoverageCycle

OVERDUE_PAGE_SIZE = 50


def _region(request) -> Region:
    """The region asked for (`?region=`) among those the user sees visits of, else their home."""
    user = request.user
    if not user_can(user, "visit.view"):
        raise PermissionDenied
    code = request.GET.get("region", "")[:20]
    if code:
        return get_scoped_or_404(Region.objects, user, "visit.view", code=code)
    region = coverage.home_region(user)
    if region is None:
        raise PermissionDenied
    return region


def _trail(user, region: Region) -> list[Region]:
    """The region's ancestors the user may open, county first (for the breadcrumb)."""
    codes = [region.code[:d] for d in LEVEL_DIGITS.values() if d < len(region.code)]
    return list(Region.objects.for_user(user, "visit.view").filter(code__in=codes).order_by("code"))


@require_GET
@login_required
def coverage_page(request):
    """Coverage of one cycle: the region's figure and a bar per child region, drilling down."""
    user = request.user
    region = _region(request)
    rule = coverage.rule_for(region.code)
    today = timezone.localdate()
    cycle = coverage.cycle_from_key(request.GET.get("cycle", "")[:7], rule.cycle)
    if cycle is None:
        cycle = coverage.cycle_of(today, rule.cycle)
    total, children = coverage.coverage_children(user=user, region=region, cycle=cycle)
    county = region.code[: LEVEL_DIGITS["county"]]
    county_region = Region.objects.filter(code=county).first()
    return render(
        request,
        "grid/coverage.html",
        {
            "region": region,
            "trail": _trail(user, region),
            "cycle": cycle,
            "previous": cycle.previous(),
            "next": cycle.next() if cycle.end < today else None,
            "total": total,
            "rows": children,
            "rule": rule,
            "can_edit_rule": county_region is not None
            and may(user, "region.change", county_region),
        },
    )


@require_GET
@login_required
def overdue_page(request):
    """Households of the region not visited for the county's overdue days or more, or never."""
    user = request.user
    region = _region(request)
    rule = coverage.rule_for(region.code)
    today = timezone.localdate()
    households = coverage.overdue_households(
        user=user, prefix=region.code, today=today, days=rule.overdue_days
    )
    page = Paginator(households, OVERDUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "household": household,
            "days": (today - household.last_visit).days if household.last_visit else None,
        }
        for household in page.object_list
    ]
    return render(
        request,
        "grid/coverage_overdue.html",
        {
            "region": region,
            "trail": _trail(user, region),
            "page": page,
            "rows": rows,
            "rule": rule,
            "today": today,
        },
    )


class CoverageRuleForm(forms.Form):
    cycle = forms.ChoiceField(label=gettext_lazy("visit cycle"), choices=CoverageCycle.choices)
    overdue_days = forms.IntegerField(
        label=gettext_lazy("overdue after (days)"),
        min_value=coverage.OVERDUE_DAYS_MIN,
        max_value=coverage.OVERDUE_DAYS_MAX,
    )


@login_required
def rule_page(request):
    """The county admin sets how often every household is to be visited."""
    user = request.user
    home = coverage.home_region(user)
    if home is None:
        raise Http404
    county = Region.objects.filter(code=home.code[: LEVEL_DIGITS["county"]], level="county").first()
    if county is None:
        raise Http404
    if not may(user, "region.change", county):
        raise PermissionDenied
    rule = coverage.rule_for(county.code)
    initial = {"cycle": rule.cycle, "overdue_days": rule.overdue_days}
    if request.method == "POST":
        form = CoverageRuleForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: coverage.coverage_rule_set(
                county=county,
                cycle=data["cycle"],
                overdue_days=data["overdue_days"],
                acting_user=user,
            ),
            redirect_to=reverse("grid:coverage") + f"?region={county.code}",
            message=_("The visiting rule is saved."),
        )
        if done:
            return done
    else:
        form = CoverageRuleForm(initial=initial)
    return render(request, "grid/coverage_rule.html", {"form": form, "county": county})
