"""The county dashboard (县级驾驶舱): a region's children side by side for one scheme and period.

Every figure is a grouped query over the region-code prefix (`Substr(code, 1, width)`: a county's
townships are the 9-digit prefixes of its rows' codes, a township's villages the 12-digit ones),
starting from the scoped chokepoint (`for_user`), so the number of queries depends on the number
of sections and schemes, never on the number of villages. The figures are those of the period
pages: results and lists as the close wrote them (`periods`), payouts as the close split them
(`outcomes`), balances and stock as the store keeps them (`store`); nothing is recomputed.

This module holds the results sections (lists, results over time, distribution, profile, bonus)
and `dashboard_context`, the one entry point; the breadth sections over the ledger, people and
store (completeness, participation, concentration, liability) are in `dashboard_breadth`.

Who sees it: users whose `period.view` reaches a township or more (county admins, township
staff, the superuser). A village's own people have their village's pages instead.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    Sum,
)
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import is_unrestricted, scope_signature
from kaoping.core.fields import ancestor_codes, subtree_q
from kaoping.core.pagecache import cached_value
from kaoping.outcomes.models import BonusPayout, BonusPool, yuan
from kaoping.people.models import SubjectKind
from kaoping.periods.breakdown import BreakdownValue
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Region
from kaoping.schemes.models import Scheme, SchemeGrade, SchemeNode

from .dashboard_base import VIEW, VILLAGE, Choice, grouped, num
from .dashboard_breadth import breadth_chart, breadth_sections

# Levels a dashboard groups by: a root or drilled-down region shows its children at the next one.
WIDTHS = (2, 4, 6, 9, 12)
TOWNSHIP = LEVEL_DIGITS["township"]
LIST_KINDS = ("red", "black", "progress")
TREND_PERIODS = 12  # periods of the chosen cadence in the trend and the lists over time
BINS = 10  # bars of the score distribution


def _mean(total, count, to_points) -> Decimal | None:
    """The mean of `count` scaled totals summing to `total`, in points with two places."""
    if not count:
        return None
    return (to_points(total) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- who sees what -------------------------------------------------------------------------


def _dashboard_scopes(user) -> set[str]:
    return {
        scope.prefix
        for scope in scopes_for(user, VIEW)
        if scope.household_id is None and len(scope.prefix) <= TOWNSHIP
    }


def has_dashboard(user) -> bool:
    """Whether `user` has a dashboard (for the menu: no query beyond the user's roles)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return is_unrestricted(user) or bool(_dashboard_scopes(user))


def dashboard_roots(user) -> list[Region]:
    """The regions a user's dashboard starts from: the tops of their township-or-wider scopes."""
    if not has_dashboard(user):
        return []
    if is_unrestricted(user):
        return list(Region.objects.filter(parent__isnull=True).order_by("code"))
    codes = _dashboard_scopes(user)
    tops = {c for c in codes if not any(c != o and c.startswith(o) for o in codes)}
    return list(Region.objects.filter(code__in=tops).order_by("code"))


def child_width(code: str) -> int:
    """The code length of the level below `code` (a village groups by itself)."""
    return next((w for w in WIDTHS if w > len(code)), VILLAGE)


# --- the parts -----------------------------------------------------------------------------


def _choose(user, params) -> Choice | None:
    """The region, scheme and period the parameters name, within the user's dashboard; None when
    the user has no dashboard; Region.DoesNotExist when the region is outside it."""
    roots = dashboard_roots(user)
    if not roots:
        return None
    code = (params.get("region") or "").strip()
    if code:
        if not any(code.startswith(r.code) for r in roots) or len(code) > VILLAGE:
            raise Region.DoesNotExist
        region = Region.objects.for_user(user, "region.view").get(code=code)
    else:
        region = roots[0]
    crumbs = list(
        Region.objects.filter(code__in=ancestor_codes(region.code))
        .filter(Q(*[Q(code__startswith=r.code) for r in roots], _connector=Q.OR))
        .order_by("code")
    )
    width = child_width(region.code)
    if len(region.code) >= VILLAGE:
        groups = [region]
    else:
        groups = list(
            Region.objects.for_user(user, "region.view").filter(parent=region).order_by("code")
        )
    schemes = list(
        Scheme.objects.for_user(user, "scheme.view")
        .filter(
            Q(region__code__in=[*ancestor_codes(region.code), region.code])
            | subtree_q("region__code", region.code)
        )
        .select_related("region")
        .annotate(
            closed=Count("periods", filter=~Q(periods__status=PeriodStatus.OPEN), distinct=True)
        )
        .order_by("code")
    )
    # The village schemes first: the dashboard compares places.
    schemes.sort(key=lambda s: (s.subject_kind != SubjectKind.VILLAGE, not s.closed, s.code))
    wanted = (params.get("scheme") or "").strip()
    scheme = next((s for s in schemes if s.code == wanted), schemes[0] if schemes else None)
    periods: list[Period] = []
    period = None
    if scheme is not None:
        periods = list(
            Period.objects.for_user(user, VIEW)
            .filter(scheme=scheme)
            .exclude(status=PeriodStatus.OPEN)
            .select_related("version", "scheme")
            .order_by("-start", "cadence")
        )
        label = (params.get("period") or "").strip()
        period = next((p for p in periods if p.label == label), periods[0] if periods else None)
    return Choice(region, roots, crumbs, groups, width, schemes, scheme, periods, period)


def _lists(user, choice: Choice, trend: list[Period]) -> dict:
    """Red, black and progress listings per group and period (as the period page lists them)."""
    rows = (
        ListMembership.objects.for_user(user, VIEW)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .filter(period__in=trend, kind__in=LIST_KINDS)
        .annotate(group=grouped("subject__region__code", choice.width))
        .values("period_id", "group", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[int, str, str], int] = {}
    for row in rows:
        counts[(row["period_id"], row["group"], row["kind"])] = row["n"]
    current = choice.period.pk if choice.period else None
    table = []
    for group in choice.groups:
        cells = [
            {
                "label": p.label,
                **{k: counts.get((p.pk, group.code, k), 0) for k in LIST_KINDS},
            }
            for p in trend
        ]
        now = {k: counts.get((current, group.code, k), 0) for k in LIST_KINDS}
        table.append({"region": group, "cells": cells, **now})
    totals = {k: sum(r[k] for r in table) for k in LIST_KINDS}
    over_time = [
        {
            "label": p.label,
            **{k: sum(counts.get((p.pk, g.code, k), 0) for g in choice.groups) for k in LIST_KINDS},
        }
        for p in trend
    ]
    return {"rows": table, "totals": totals, "over_time": over_time}


def _results(user, choice: Choice, trend: list[Period]) -> dict:
    """Mean score per group and period (the trend), and the chosen period's per-group figures."""
    rows = (
        Result.objects.for_user(user, VIEW)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .filter(period__in=trend)
        .annotate(group=grouped("subject__region__code", choice.width))
        .values("period_id", "group")
        .annotate(n=Count("pk"), points=Sum("total"), lo=Min("total"), hi=Max("total"))
        .order_by()
    )
    found = {(r["period_id"], r["group"]): r for r in rows}
    versions = {p.pk: p.version for p in trend}
    series = []
    for p in trend:
        to_points = versions[p.pk].to_points
        cells = [found.get((p.pk, g.code)) for g in choice.groups]
        n = sum(c["n"] for c in cells if c)
        total = sum(c["points"] for c in cells if c)
        series.append(
            {
                "label": p.label,
                "count": n,
                "mean": _mean(total, n, to_points),
                "groups": [_mean(c["points"], c["n"], to_points) if c else None for c in cells],
            }
        )
    table = [
        {"region": g, "means": [s["groups"][i] for s in series]}
        for i, g in enumerate(choice.groups)
    ]
    return {"series": series, "rows": table, "found": found}


def _distribution(user, choice: Choice, found: dict) -> dict:
    """The chosen period's totals in BINS bars between its lowest and highest, and its grades."""
    period = choice.period
    cells = [found[(period.pk, g.code)] for g in choice.groups if (period.pk, g.code) in found]
    count = sum(c["n"] for c in cells)
    to_points = period.version.to_points
    if not count:
        return {"count": 0, "bins": [], "grades": []}
    lo = min(c["lo"] for c in cells)
    hi = max(c["hi"] for c in cells)
    step = max(1, -(-(hi - lo + 1) // BINS))
    results = (
        Result.objects.for_user(user, VIEW)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .filter(period=period)
    )
    binned = dict(
        results.annotate(
            bin=ExpressionWrapper((F("total") - lo) / step, output_field=BigIntegerField())
        )
        .values("bin")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("bin", "n")
    )
    bins = []
    for index in range((hi - lo) // step + 1):
        start = lo + index * step
        bins.append(
            {
                "from": to_points(start),
                "to": to_points(min(hi, start + step - 1)),
                "count": binned.get(index, 0),
            }
        )
    graded = dict(
        results.values("grade_code")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("grade_code", "n")
    )
    grades = [
        {"code": g.code, "name": g.name, "count": graded.pop(g.code, 0)}
        for g in SchemeGrade.objects.filter(version=period.version).order_by("position")
    ]
    grades += [{"code": code, "name": code or "—", "count": n} for code, n in graded.items()]
    total = sum(c["points"] for c in cells)
    return {
        "count": count,
        "mean": _mean(total, count, to_points),
        "lo": to_points(lo),
        "hi": to_points(hi),
        "bins": bins,
        "grades": grades,
    }


def _profile(user, choice: Choice, found: dict) -> dict:
    """Each top-level index's mean per group, over the whole region and over the user's root
    (the county mean a township or village is held against), from the close's rows.

    A subject has a row for a node only when something was recorded below it; otherwise the node
    is worth its empty value (its base), which the means count in. Empty values are the default
    tree's: a variant with another base for an index shifts that index's mean a little."""
    period = choice.period
    nodes = list(
        SchemeNode.objects.filter(version=period.version, variant="", depth=1).order_by("position")
    )
    if not nodes:
        return {"nodes": [], "rows": [], "mean": [], "reference": None}
    to_points = period.version.to_points

    def sums(prefix: str, width: int) -> dict:
        # Per group, each index's count of members and their sum (Count skips NULL).
        values = {f"v{i}": BreakdownValue(node.code) for i, node in enumerate(nodes)}
        rows = (
            Result.objects.for_user(user, VIEW)
            .filter(period=period)
            .filter(subtree_q("subject__region__code", prefix))
            .annotate(group=grouped("subject__region__code", width))
            .values("group")
            .annotate(
                **{f"n{key}": Count(value) for key, value in values.items()},
                **{f"s{key}": Sum(value) for key, value in values.items()},
            )
            .order_by()
        )
        return {
            (r["group"], node.code): {"n": r[f"nv{i}"], "value": r[f"sv{i}"] or 0}
            for r in rows
            for i, node in enumerate(nodes)
        }

    def means(got: dict, counts: dict, codes: list[str]) -> list[Decimal | None]:
        n = sum(counts.get(c, 0) for c in codes)
        out = []
        for node in nodes:
            rows = [got[(c, node.code)] for c in codes if (c, node.code) in got]
            missing = n - sum(r["n"] for r in rows)
            out.append(
                _mean(sum(r["value"] for r in rows) + missing * node.empty_value, n, to_points)
            )
        return out

    got = sums(choice.region.code, choice.width)
    counts = {g: cell["n"] for (p, g), cell in found.items() if p == period.pk}
    codes = [g.code for g in choice.groups]
    root = next(r for r in choice.roots if choice.region.code.startswith(r.code))
    reference = None
    if root.code != choice.region.code:
        n = (
            Result.objects.for_user(user, VIEW)
            .filter(period=period)
            .filter(subtree_q("subject__region__code", root.code))
            .count()
        )
        reference = {
            "region": root,
            "values": means(sums(root.code, len(root.code)), {root.code: n}, [root.code]),
        }
    return {
        "nodes": [{"code": n.code, "name": n.name} for n in nodes],
        "rows": [{"region": g, "values": means(got, counts, [g.code])} for g in choice.groups],
        "mean": means(got, counts, codes),
        "reference": reference,
    }


def _bonus(user, choice: Choice) -> dict | None:
    """The chosen period's bonus pool and what it paid into each group."""
    period = choice.period
    pool = BonusPool.objects.for_user(user, "outcome.view").filter(period=period).first()
    if pool is None:
        return None
    paid = {
        r["group"]: r
        for r in BonusPayout.objects.for_user(user, "outcome.view")
        .filter(pool=pool)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .annotate(group=grouped("subject__region__code", choice.width))
        .values("group")
        .annotate(n=Count("pk"), fen=Sum("amount_fen"))
        .order_by()
    }
    rows = [
        {
            "region": g,
            "recipients": paid.get(g.code, {}).get("n", 0),
            "amount": yuan(paid.get(g.code, {}).get("fen") or 0),
        }
        for g in choice.groups
    ]
    return {
        "pool": pool,
        "rows": rows,
        "recipients": sum(r["recipients"] for r in rows),
        "amount": yuan(sum(paid.get(g.code, {}).get("fen") or 0 for g in choice.groups)),
    }


# --- the whole -----------------------------------------------------------------------------


def dashboard_url(region: str, scheme: Scheme | None, period: Period | None) -> str:
    query = {"region": region}
    if scheme is not None:
        query["scheme"] = scheme.code
    if period is not None:
        query["period"] = period.label
    return reverse("console:dashboard") + "?" + urlencode(query)


def _period_sections(user, choice: Choice, trend: list[Period]) -> dict:
    """The lists, the trend, the distribution and the profile of the chosen period and those
    before it: reads of every result of a province's periods (tenths of a second each at
    100,000 households), kept while none of those periods changes (pagecache.changed) when
    all are closed, as the posting is."""

    def sections() -> dict:
        results = _results(user, choice, trend)
        found: dict = {"trend": results}
        # Only a scheme that makes red, black or progress lists gets the section (红黄旗 grades
        # its villages instead: the grade table below shows them); an empty chart would read
        # as "nobody listed".
        if any(rule.kind in LIST_KINDS for rule in choice.period.version.spec().ranking.lists):
            found["lists"] = _lists(user, choice, trend)
        found["distribution"] = _distribution(user, choice, results["found"])
        found["profile"] = _profile(user, choice, results["found"])
        return found

    periods = {p.pk: p for p in [*trend, choice.period]}
    if any(p.status == PeriodStatus.OPEN for p in periods.values()):
        return sections()
    key = "|".join(
        [
            "dashboard",
            scope_signature(user, VIEW),
            choice.region.code,
            str(choice.period.pk),
            get_language() or "",
        ]
    )
    return cached_value("period", set(periods), key, sections)


def dashboard_context(user, params) -> dict:
    """`{"dashboard": …}` for console/_dashboard.html: None when the user has no dashboard.

    `params` is a QueryDict-like with optional `region` (a code inside the user's dashboard),
    `scheme` (a code) and `period` (a label of the scheme). Raises Region.DoesNotExist for a
    region outside the user's dashboard (the page answers 404)."""
    choice = _choose(user, params)
    if choice is None:
        return {"dashboard": None}
    period = choice.period
    trend = (
        sorted(
            [p for p in choice.periods if p.cadence == period.cadence and p.start <= period.start],
            key=lambda p: p.start,
        )[-TREND_PERIODS:]
        if period
        else []
    )
    data: dict = {
        "region": choice.region,
        "roots": choice.roots,
        "crumbs": choice.crumbs,
        "groups": choice.groups,
        "drill": len(choice.region.code) < VILLAGE,
        "group_heading": {TOWNSHIP: _("Township"), VILLAGE: _("Village or community")}.get(
            choice.width, _("Region")
        ),
        "schemes": choice.schemes,
        "scheme": choice.scheme,
        "periods": choice.periods,
        "period": period,
    }
    for g in choice.groups:
        g.dashboard_url = dashboard_url(g.code, choice.scheme, period)
    for r in choice.crumbs:
        r.dashboard_url = dashboard_url(r.code, choice.scheme, period)
    choice.region.dashboard_url = dashboard_url(choice.region.code, choice.scheme, period)
    if period is not None:
        data.update(_period_sections(user, choice, trend))
        data["bonus"] = _bonus(user, choice)
    data.update(breadth_sections(user, choice))
    data["chart"] = _chart_data(data)
    return {"dashboard": data}


def _chart_data(data: dict) -> dict:
    """What dashboard.js draws: plain numbers and names, no Decimals."""
    names = [g.name for g in data["groups"]]
    chart: dict = {"groups": names, "region": data["region"].name}
    labels = {
        "red": _("red list"),
        "black": _("black list"),
        "progress": _("progress list"),
        "mean": _("mean score"),
        "count": _("subjects"),
        "share": _("share, in percent"),
        "balance": _("points outstanding"),
        "stock_value": _("stock on hand (points)"),
        "declared": _("declared"),
        "collected": _("collected"),
        "amount": _("paid (yuan)"),
    }
    chart["labels"] = labels
    if "lists" in data:
        chart["lists"] = {
            "now": {k: [r[k] for r in data["lists"]["rows"]] for k in LIST_KINDS},
            "periods": [c["label"] for c in data["lists"]["over_time"]],
            "over_time": {k: [c[k] for c in data["lists"]["over_time"]] for k in LIST_KINDS},
        }
    if "trend" in data:  # every scheme with a period; lists only for those that list
        trend = data["trend"]["series"]
        chart["trend"] = {
            "periods": [s["label"] for s in trend],
            "mean": [num(s["mean"]) for s in trend],
            "groups": [
                {"name": r["region"].name, "values": [num(v) for v in r["means"]]}
                for r in data["trend"]["rows"]
                if data["drill"]
            ],
        }
        dist = data["distribution"]
        chart["distribution"] = {
            "bins": [f"{b['from']}–{b['to']}" for b in dist["bins"]],
            "counts": [b["count"] for b in dist["bins"]],
            "grades": [{"name": g["name"], "value": g["count"]} for g in dist["grades"]],
        }
        profile = data["profile"]
        chart["profile"] = {
            "nodes": [n["name"] for n in profile["nodes"]],
            "mean": [num(v) for v in profile["mean"]],
            "reference": {
                "name": profile["reference"]["region"].name,
                "values": [num(v) for v in profile["reference"]["values"]],
            }
            if profile["reference"]
            else None,
            "groups": [
                {"name": r["region"].name, "values": [num(v) for v in r["values"]]}
                for r in profile["rows"]
                if data["drill"]
            ],
        }
        if data.get("bonus"):
            chart["bonus"] = [num(r["amount"]) for r in data["bonus"]["rows"]]
    chart.update(breadth_chart(data))
    return chart
