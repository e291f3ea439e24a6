"""The evaluations' home (the rounds to rate, the open and closed rounds, the plans to open a
round of) and a round's pages: the round with its table and honesty signals, opening one,
closing one.

Reading a round takes `evaluation.view` on it (a county's round is seen from every village of
the county, each reader seeing the subjects of their own area); opening and closing take
`evaluation.manage`, or for closing a panel round being its chair."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import action_submit, form_submit
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import SchemeNode

from .forms_rounds import RoundOpenForm
from .labels import aggregate_label, combine_label, pool_label
from .models import Ballot, Plan, Round, RoundStatus
from .pools import campaign_of
from .round_selectors import round_report, rounds_for, rounds_to_rate, user_label
from .rounds import may_close, round_close, round_open
from .spec import CODE_POOLS, RaterPool

CLOSED_SHOWN = 20
OPEN_SHOWN = 100
PANEL_FIELDS = ("judges", "chair", "contestants")


def _ballots_seen(user, rounds) -> dict[int, int]:
    """Ballots cast so far in each round, for the subjects `user` may see (one query)."""
    return dict(
        Ballot.objects.for_user(user, "evaluation.view")
        .filter(round__in=[r.pk for r in rounds])
        .values_list("round_id")
        .annotate(n=Count("id"))
        .values_list("round_id", "n")
    )


@login_required
@require_GET
def home(request):
    user = request.user
    today = timezone.localdate()
    to_rate = rounds_to_rate(user, today=today)
    if not user_can(user, "evaluation.view") and not to_rate:
        raise PermissionDenied
    rounds = rounds_for(user)
    open_rounds = list(
        rounds.filter(status=RoundStatus.OPEN).order_by("closes_on", "pk")[:OPEN_SHOWN]
    )
    seen = _ballots_seen(user, open_rounds)
    for round_ in open_rounds:
        round_.ballots_seen = seen.get(round_.pk, 0)
        round_.days_left = (round_.closes_on - today).days
    closed_rounds = list(
        rounds.filter(status=RoundStatus.CLOSED).order_by("-closed_at", "-pk")[:CLOSED_SHOWN]
    )
    manages = user_can(user, "evaluation.manage")
    plans = (
        list(Plan.objects.for_user(user, "evaluation.manage").select_related("region"))
        if manages
        else []
    )
    return render(
        request,
        "evaluations/home.html",
        {
            "to_rate": [t for t in to_rate if t.left],
            "rated": [t for t in to_rate if not t.left],
            "open_rounds": open_rounds,
            "closed_rounds": closed_rounds,
            "plans": plans,
            "manages": manages,
        },
    )


@login_required
@require_GET
def round_detail(request, pk: int):
    user = request.user
    round_ = get_scoped_or_404(
        Round.objects.select_related(
            "plan__scheme", "plan__region", "chair", "opened_by", "closed_by"
        ),
        user,
        "evaluation.view",
        pk=pk,
    )
    campaign = campaign_of(round_)
    report = round_report(round_, user=user)
    item = (
        SchemeNode.objects.filter(version__scheme=round_.plan.scheme, code=campaign.item)
        .order_by("-version__number")
        .values_list("name", flat=True)
        .first()
    )
    today = timezone.localdate()
    is_open = round_.status == RoundStatus.OPEN
    pool = campaign.raters
    return render(
        request,
        "evaluations/round_detail.html",
        {
            "round": round_,
            "campaign": campaign,
            "item_name": item or campaign.item,
            "cadence": cadence_label(round_.cadence),
            "pool": pool_label(pool),
            "aggregate": aggregate_label(campaign.aggregate),
            "combine": combine_label(campaign.combine),
            "rows": report.rows,
            "signals": report.signals,
            "is_open": is_open,
            "days_left": (round_.closes_on - today).days,
            "can_close": is_open and may_close(user, round_),
            "chair": user_label(round_.chair),
            "judges": [user_label(u) for u in round_.judges.all()]
            if pool is RaterPool.PANEL
            else [],
            "code_pool": pool in CODE_POOLS,
            "panel": pool is RaterPool.PANEL,
            # The chair's page of the session is for who may close it; a judge scores on theirs.
            "chairs": pool is RaterPool.PANEL and may_close(user, round_),
            "judging": pool is RaterPool.PANEL and round_.judges.filter(pk=user.pk).exists(),
            "manages": user_can(user, "evaluation.manage"),
            "types_paper": user_can(user, "evaluation.paper"),
            "reads_ballots": may(user, "evaluation.ballots", round_),
            "eligible": sum(r.eligible for r in report.rows),
        },
    )


@login_required
def round_open_view(request, pk: int):
    user = request.user
    plan = get_scoped_or_404(
        Plan.objects.select_related("region", "scheme"), user, "evaluation.manage", pk=pk
    )
    form = RoundOpenForm(plan, request.POST or None)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: round_open(plan=plan, acting_user=user, **form.service_kwargs()),
            redirect_to=lambda r: reverse("evaluations:round", args=[r.pk]),
            message=lambda r: _("Opened: %(round)s") % {"round": str(r)},
            fields={"subjects": "contestants"},
        )
        if done:
            return done
    return render(
        request,
        "evaluations/round_open.html",
        {"plan": plan, "form": form, "panel_fields": PANEL_FIELDS},
    )


@login_required
@require_POST
def round_close_view(request, pk: int):
    user = request.user
    round_ = get_scoped_or_404(Round.objects.select_related("plan"), user, "evaluation.view", pk=pk)
    if not may_close(user, round_):
        raise PermissionDenied
    here = reverse("evaluations:round", args=[round_.pk])
    return action_submit(
        request,
        lambda: round_close(round=round_, acting_user=user),
        redirect_to=here + "#results",
        failed_to=here,
        success=lambda results: (
            _(
                "The round is closed: %(entries)d results written into the score, %(short)d short "
                "of ballots."
            )
            % {
                "entries": sum(1 for r in results if r.entry_id),
                "short": sum(1 for r in results if not r.valid),
            }
        ),
    )
