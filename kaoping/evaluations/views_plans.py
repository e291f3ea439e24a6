"""The evaluation plans' pages, for those who load plans (`evaluation.manage`: the county's
administrators and the townships' staff): the list with the form that loads a plan, a plan's
campaigns as a table with its versions, one version's text, the example file and the format's
page (docs/evaluations.md).

A township's staff see their county's plans read-only (a plan is seen from below, like a scheme);
loading a new version takes `evaluation.manage` on the plan's own region."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import may
from kaoping.core.views import form_submit
from kaoping.regions.models import Level
from kaoping.regions.selectors import region_list
from kaoping.schemes.format_doc import format_doc_html
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import SchemeNode

from .forms_plans import PlanFileForm
from .labels import aggregate_label, combine_label, pool_label
from .models import Plan, PlanVersion, Round
from .plans import plan_load
from .spec import spec_of

EXAMPLE = settings.BASE_DIR / "evaluations" / "jinggang-2026.yaml"
FORMAT_DOC = settings.BASE_DIR / "docs" / "evaluations.md"


def _manages(user) -> None:
    if not user_can(user, "evaluation.manage"):
        raise PermissionDenied


def _plans(user):
    """The plans `user` sees: their region's and those above it (a county's plan from a
    township)."""
    return Plan.objects.for_user(user, "evaluation.view").select_related("region", "scheme")


def _plan_regions(user) -> list:
    """Where `user` may load a plan: their counties, then their townships."""
    return [
        *region_list(user=user, action="evaluation.manage", level=Level.COUNTY),
        *region_list(user=user, action="evaluation.manage", level=Level.TOWNSHIP),
    ]


@login_required
def plan_list(request):
    user = request.user
    _manages(user)
    regions = _plan_regions(user)
    form = PlanFileForm(regions=regions)
    if request.method == "POST":
        if not regions:
            raise PermissionDenied
        form = PlanFileForm(request.POST, request.FILES, regions=regions)

        def call(data):
            filename, text = data["loaded"]
            return plan_load(region=data["region"], text=text, filename=filename, acting_user=user)

        done = form_submit(
            request,
            form,
            call,
            redirect_to=lambda p: reverse("evaluations:plan", args=[p.pk]),
            message=lambda p: (
                _("Loaded: %(name)s, version %(n)d.") % {"name": p.name, "n": p.version}
            ),
        )
        if done:
            return done
    plans = list(
        _plans(user).annotate(round_count=Count("rounds")).order_by("region__code", "code")
    )
    for plan in plans:
        plan.campaign_count = len(plan.spec.get("campaigns", []))
    return render(
        request,
        "evaluations/plans_list.html",
        {"plans": plans, "form": form, "can_load": bool(regions)},
    )


def _number(value: Decimal | None) -> str:
    """5, 4.5, 100: a mark as written, without trailing zeros or an exponent."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _questions(campaign) -> list[dict]:
    rows = []
    for item in campaign.form:
        if item.scale is not None:
            marks = " · ".join(f"{level} {_number(mark)}" for level, mark in item.scale.items())
        else:
            marks = f"0–{_number(item.max)}"
        rows.append({"name": item.name, "marks": marks})
    return rows


@login_required
def plan_detail(request, pk: int):
    user = request.user
    _manages(user)
    plan = get_object_or_404(_plans(user), pk=pk)
    can_load = may(user, "evaluation.manage", plan)
    form = PlanFileForm()
    if request.method == "POST":
        if not can_load:
            raise PermissionDenied
        form = PlanFileForm(request.POST, request.FILES)

        def call(data):
            filename, text = data["loaded"]
            return plan_load(
                region=plan.region, text=text, filename=filename, acting_user=user, plan=plan
            )

        done = form_submit(
            request,
            form,
            call,
            redirect_to=reverse("evaluations:plan", args=[plan.pk]),
            message=lambda p: _("Version %(n)d loaded.") % {"n": p.version},
        )
        if done:
            return done
        plan.refresh_from_db()
    spec = spec_of(plan.spec)
    version = plan.scheme.latest_version()
    items = {
        node.code: node
        for node in SchemeNode.objects.filter(
            version=version, variant="", code__in=[c.item for c in spec.campaigns]
        )
    }
    rounds = dict(
        Round.objects.filter(plan=plan)
        .values("campaign")
        .annotate(n=Count("id"))
        .values_list("campaign", "n")
    )
    campaigns = []
    for campaign in spec.campaigns:
        node = items.get(campaign.item)
        campaigns.append(
            {
                "campaign": campaign,
                "pool": pool_label(campaign.raters),
                "cadence": cadence_label(campaign.cadence),
                "item": node.name if node else campaign.item,
                "points": _number(version.to_points(node.points)) if node else "",
                "unit": node.unit if node else "",
                "questions": _questions(campaign),
                "combine": combine_label(campaign.combine) if len(campaign.form) > 1 else "",
                "aggregate": aggregate_label(campaign.aggregate),
                "rounds": rounds.get(campaign.code, 0),
            }
        )
    return render(
        request,
        "evaluations/plans_detail.html",
        {
            "plan": plan,
            "spec": spec,
            "campaigns": campaigns,
            "versions": plan.versions.select_related("loaded_by"),
            "form": form,
            "can_load": can_load,
        },
    )


@login_required
def plan_version(request, pk: int):
    user = request.user
    _manages(user)
    version = get_object_or_404(
        PlanVersion.objects.for_user(user, "evaluation.view").select_related("plan", "loaded_by"),
        pk=pk,
    )
    return render(request, "evaluations/plans_version.html", {"version": version})


@login_required
def plan_example(request):
    _manages(request.user)
    if not EXAMPLE.exists():
        raise Http404
    return FileResponse(
        EXAMPLE.open("rb"),
        as_attachment=True,
        filename=EXAMPLE.name,
        content_type="application/yaml; charset=utf-8",
    )


@login_required
def plan_format(request):
    """How a plan file is written (docs/evaluations.md), linked from the plans' pages and from a
    refused upload."""
    _manages(request.user)
    html = format_doc_html(FORMAT_DOC)
    if html is None:
        raise Http404
    return render(request, "evaluations/plans_format.html", {"doc": html})
