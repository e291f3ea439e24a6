"""The evaluations' home (the rounds to rate, the open and closed rounds, the plans to open a
round of) and a round's pages: the round with its table and honesty signals, opening one,
closing one.

Reading a round takes `evaluation.view` on it (a county's round is seen from every village of
the county, each reader seeing the subjects of their own area); opening and closing take
`evaluation.manage`, or for closing a panel round being its chair."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.errors import KaopingError
from kaoping.core.views import action_submit, form_submit
from kaoping.regions.models import Region
from kaoping.schemes.labels import cadence_label

from .forms_rounds import RoundOpenForm
from .labels import aggregate_label, combine_label, pool_label
from .models import Ballot, Plan, Round, RoundStatus
from .pools import campaign_of
from .round_selectors import fed_item, round_report, rounds_for, rounds_to_rate, user_label
from .rounds import may_close, round_close, round_open
from .spec import CODE_POOLS, RaterPool

CLOSED_SHOWN = 20
OPEN_SHOWN = 100
PANEL_FIELDS = ("judges", "chair", "contestants")
ROWS_PER_PAGE = 50


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
    plans, applying = [], []
    if manages:
        plans = list(Plan.objects.for_user(user, "evaluation.manage").select_related("region"))
        # A township under the county's plan has none of its own to open: it reads which plans
        # apply to it (those of the areas above), without a link to upload one.
        applying = list(
            Plan.objects.for_user(user, "evaluation.view")
            .exclude(pk__in=[p.pk for p in plans])
            .select_related("region")
            .order_by("region__code", "name")
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
            "applying": applying,
            "manages": manages,
        },
    )


def _links(round_, user, *, pool, is_open, chairs, judging) -> list[tuple[str, str, str]]:
    """The round's other pages the reader may use: (id, url, label), those of the areas whose
    URLs exist."""
    wanted = []
    code_pool = pool in CODE_POOLS
    panel = pool is RaterPool.PANEL
    if code_pool and user_can(user, "evaluation.paper"):
        wanted.append(
            ("codes-link", "evaluations:codes_villages", _("Print the codes of a village"))
        )
        if is_open:
            wanted.append(("paper-link", "evaluations:paper", _("Type paper ballots")))
    if panel and chairs:
        wanted.append(("panel-link", "evaluations:panel", _("Panel session")))
    if panel and judging and is_open:
        wanted.append(("judge-link", "evaluations:judge", _("Score as a judge")))
    if panel:
        wanted.append(("screen-link", "evaluations:screen", _("Screen for the room")))
    if may(user, "evaluation.ballots", round_):
        wanted.append(("ballots-link", "evaluations:ballots", _("Individual ballots (audit)")))
    links = []
    for id_, name, label in wanted:
        try:
            links.append((id_, reverse(name, args=[round_.pk]), label))
        except NoReverseMatch:
            continue
    return links


def _where(rows, params) -> tuple[list, dict]:
    """The rows of the township and village chosen in `params` (GET), and the filter's choices:
    the townships and villages of `rows` (the round's subjects in the reader's scope)."""
    villages = {r.village_code: r.village for r in rows}
    township_codes = sorted({code[:9] for code in villages if len(code) >= 9})
    names = dict(Region.objects.filter(code__in=township_codes).values_list("code", "name"))
    township = params.get("township", "")
    village = params.get("village", "")
    if township not in names:
        township = ""
    if village not in villages or (township and not village.startswith(township)):
        village = ""
    if village:
        rows = [r for r in rows if r.village_code == village]
    elif township:
        rows = [r for r in rows if r.village_code.startswith(township)]
    return rows, {
        "townships": [(code, names[code]) for code in township_codes if code in names],
        "villages": sorted(
            (code, name)
            for code, name in villages.items()
            if len(code) == 12 and (not township or code.startswith(township))
        ),
        "township": township,
        "village": village,
        "shown": len(township_codes) > 1 or len(villages) > 1,
    }


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
    item = fed_item(round_)
    today = timezone.localdate()
    is_open = round_.status == RoundStatus.OPEN
    pool = campaign.raters
    rows, where = _where(report.rows, request.GET)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    chairs = pool is RaterPool.PANEL and may_close(user, round_)
    judging = pool is RaterPool.PANEL and round_.judges.filter(pk=user.pk).exists()
    return render(
        request,
        "evaluations/round_detail.html",
        {
            "round": round_,
            "campaign": campaign,
            "item_name": item.name if item else campaign.item,
            # The result is stored as the period's figure and the item's bands score it.
            "banded": item is not None and item.rule == "metric",
            "cadence": cadence_label(round_.cadence),
            "pool": pool_label(pool),
            "aggregate": aggregate_label(campaign.aggregate),
            "combine": combine_label(campaign.combine),
            "rows": page.object_list,
            "page": page,
            "page_query": query.urlencode(),
            "where": where,
            "unratable": report.unratable,
            "signals": report.signals,
            "is_open": is_open,
            "days_left": (round_.closes_on - today).days,
            "early": is_open and round_.closes_on >= today,
            "can_close": is_open and may_close(user, round_),
            "chair": user_label(round_.chair),
            "judges": [user_label(u) for u in round_.judges.all()]
            if pool is RaterPool.PANEL
            else [],
            "code_pool": pool in CODE_POOLS,
            "panel": pool is RaterPool.PANEL,
            # The chair's page of the session is for who may close it; a judge scores on theirs.
            "chairs": chairs,
            "judging": judging,
            "links": _links(
                round_, user, pool=pool, is_open=is_open, chairs=chairs, judging=judging
            ),
            "manages": user_can(user, "evaluation.manage"),
            "eligible": sum(r.eligible for r in report.rows),
        },
    )


@login_required
def round_open_view(request, pk: int):
    user = request.user
    plan = get_scoped_or_404(
        Plan.objects.select_related("region", "scheme"), user, "evaluation.manage", pk=pk
    )
    form = RoundOpenForm(plan, request.POST or None, campaign=request.GET.get("campaign"))
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

    def close():
        # Before its last day has passed a round closes early only when asked to in so many
        # words: one tap must not end a round that still takes ballots for days.
        if round_.closes_on >= timezone.localdate() and not request.POST.get("early"):
            raise KaopingError(
                _(
                    "The round takes ballots until %(day)s: tick “close it early anyway” to "
                    "close it now."
                )
                % {"day": round_.closes_on.isoformat()}
            )
        return round_close(round=round_, acting_user=user)

    return action_submit(
        request,
        close,
        redirect_to=here + "#results",
        failed_to=here,
        success=lambda results: (
            _(
                "The round is closed: %(entries)d results written into the score, %(short)d short "
                "of ballots."
            )
            % {
                "entries": sum(1 for r in results if r.entry_id or r.metric),
                "short": sum(1 for r in results if not r.valid and r.eligible),
            }
        ),
    )
