"""The shell's pages: home, a region's page, search, the audit log.

A region's page shows what several apps hold about one place (its children, households,
subjects, cadres, party members, grid posts, the schemes a grid member records), so it is
composed here, where every app may be read; the pages of one app live in that app.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.audit_labels import action_choices, action_label, change_lines
from kaoping.ledger.models import EntrySource
from kaoping.people.models import SubjectKind
from kaoping.people.natural_villages import natural_village_list
from kaoping.people.selectors import (
    cadre_list,
    grid_post_list,
    household_list,
    party_member_list,
    subject_list_of_region,
)
from kaoping.problems.models import Level as ProblemLevel
from kaoping.regions.models import Level, Region
from kaoping.regions.selectors import region_ancestors
from kaoping.schemes.selectors import scheme_list

from . import selectors
from .homes import home_for

PAGE_SIZE = 50


@login_required
def home(request):
    """Each role's home (console/homes.py): the villager's is their phone page; the county
    admin's ends with the county dashboard."""
    user = request.user
    home = home_for(user)
    if home.kind == "villager":
        return HttpResponseRedirect(reverse("store:my_points"))
    context = {"home": home, "assignments": home.assignments}
    if home.kind == "county":
        # The dashboard sits beside the home in this app and is built on its own; imported here
        # so that a failure in it cannot keep every other home from loading.
        from .dashboard import dashboard_context

        try:
            context.update(dashboard_context(user, request.GET))
        except Region.DoesNotExist:
            raise Http404 from None
    return render(request, "console/home.html", context)


@login_required
def region_detail(request, code: str):
    user = request.user
    region = get_scoped_or_404(Region.objects, user, "region.view", code=code)
    context = {
        "region": region,
        "ancestors": region_ancestors(user=user, region=region),
        "children": selectors.children_with_counts(user, region),
    }
    if region.level == Level.GRID and may(user, "entry.record", region):
        context["grid_schemes"] = scheme_list(user=user, subject_kind=SubjectKind.HOUSEHOLD)
    if region.level in (Level.VILLAGE, Level.GRID):
        context["households"] = Paginator(
            household_list(user=user, region_code=region.code), PAGE_SIZE
        ).get_page(request.GET.get("page"))
    if region.level == Level.VILLAGE:
        context["subjects"] = subject_list_of_region(user=user, region=region)
        context["cadres"] = cadre_list(user=user, region=region)
        context["party_members"] = party_member_list(user=user, region=region)
        context["grid_posts"] = grid_post_list(user=user, region_code=region.code)
        if may(user, "people.view", region):
            # The link to its 自然村/村民小组, with how many it keeps.
            context["natural_villages"] = natural_village_list(user=user, village=region).count()
    return render(request, "console/region.html", context)


@login_required
def search(request):
    user = request.user
    query = request.GET.get("q", "").strip()
    results = selectors.search(user, query) if query else None
    return render(request, "console/search.html", {"query": query, "results": results})


# Codes of the apps' choices that audit rows store (a role granted, an entry's source), by
# their labels: core's audit labels know no app, so the log's page passes them in.
AUDIT_CHOICE_NAMES = dict(Role.choices) | dict(EntrySource.choices) | dict(ProblemLevel.choices)


@login_required
def audit_log(request):
    user = request.user
    if not user_can(user, "audit.view"):
        raise PermissionDenied
    region = request.GET.get("region", "").strip()
    actor = request.GET.get("actor", "").strip()
    action = request.GET.get("action", "").strip()
    rows = selectors.audit_log_list(user=user, region=region, actor=actor, action=action)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.action_label = action_label(row.action)
        row.changes = change_lines(row.before, row.after, AUDIT_CHOICE_NAMES)
    return render(
        request,
        "console/audit.html",
        {
            "page": page,
            "filters": {"region": region, "actor": actor, "action": action},
            "actions": action_choices(),
        },
    )
