"""The breadth sections of the county dashboard: how far scoring reaches, over the ledger, the
people and the store rather than the results — completeness (subjects with an entry in the
period), participation (households earning points; declared against collected), scorer
concentration, and the store's liability (points outstanding against stock). Called by
`kaoping.console.dashboard.dashboard_context`, the one entry point; the same rule holds: grouped
queries over the region-code prefix from the scoped chokepoint, nothing recomputed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, F, IntegerField, Q, Sum
from django.db.models.functions import Coalesce

from kaoping.accounts.scoping import scope_signature
from kaoping.core.fields import subtree_q
from kaoping.core.pagecache import cached_value
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.people.models import Subject, SubjectKind
from kaoping.periods.models import Period, PeriodStatus
from kaoping.regions.models import Region
from kaoping.schemes.models import Scheme
from kaoping.store.models import Account, Goods

from .dashboard_base import VIEW, VILLAGE, Choice, grouped, num

TOP_SCORERS = 3  # scorer concentration: the share of a village's entries its top 3 made
NAMES_SHOWN = 30  # villages named in a list (not reported, most concentrated); the rest counted
COUNTED = [EntryStatus.SUBMITTED, EntryStatus.APPROVED, EntryStatus.AWAITING]
HUNDRED = Decimal(100)


def _share(part, whole) -> Decimal | None:
    """part/whole in per cent with one place, None for an empty whole."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def breadth_sections(user, choice: Choice) -> dict:
    """The completeness, participation, concentration (when there is a period to measure) and
    liability sections, villages named, for `choice`."""
    period = choice.period
    latest = _latest_periods(user, choice.schemes, period.label if period else None)
    span = period or (choice.scheme and latest.get(choice.scheme.pk))

    def over_the_ledger() -> dict:
        tally = _tally(user, choice, latest)
        data = {
            "completeness": _completeness(choice, latest, tally),
            "participation": _participation(user, choice, latest, tally),
        }
        if span:
            data["concentration"] = _concentration(user, choice, span.start, span.end)
        return data

    periods = [*latest.values(), *([span] if span else [])]
    if periods and all(p.status != PeriodStatus.OPEN for p in periods):
        # Reads of every entry dated in closed periods (seconds over a province's month): kept
        # until one of those periods changes (pagecache.changed), as the posting is.
        key = "|".join(
            [
                "breadth",
                scope_signature(user, VIEW),
                scope_signature(user, "entry.view"),
                choice.region.code,
                ",".join(str(s.pk) for s in choice.schemes),
                str(span.pk if span else ""),
            ]
        )
        data: dict = cached_value("period", {p.pk for p in periods}, key, over_the_ledger)
    else:
        data = over_the_ledger()
    data["liability"] = _liability(user, choice)
    _name_villages(data)
    return data


def _latest_periods(user, schemes: list[Scheme], label: str | None) -> dict[int, Period]:
    """Per scheme: its period of `label` if it has one, else its latest period (any status)."""
    chosen: dict[int, Period] = {}
    for period in (
        Period.objects.for_user(user, VIEW)
        .filter(scheme__in=schemes)
        .select_related("scheme")
        .order_by("scheme_id", "-start")
    ):
        current = chosen.get(period.scheme_id)
        if current is None or (period.label == label and current.label != label):
            chosen[period.scheme_id] = period
    return chosen


@dataclass
class Tally:
    """Subjects per (village, kind), and per (village, scheme) the subjects with an entry dated in
    the scheme's period (any counted status) and with an approved one: two linear reads for every
    scheme at once (the subjects, then the periods' entries), never a lookup per subject."""

    subjects: dict[tuple[str, str], int]
    entered: dict[tuple[str, int], int]
    approved: dict[tuple[str, int], int]


def _tally(user, choice: Choice, periods: dict[int, Period]) -> Tally:
    schemes = [s for s in choice.schemes if s.pk in periods]
    if not schemes:
        return Tally({}, {}, {})
    subjects = {
        (r["village"], r["kind"]): r["n"]
        for r in Subject.objects.for_user(user, VIEW)
        .filter(subtree_q("region__code", choice.region.code))
        .filter(kind__in={s.subject_kind for s in schemes}, active=True)
        .annotate(village=grouped("region__code", VILLAGE))
        .values("village", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    }
    dated = Q()
    for scheme in schemes:
        period = periods[scheme.pk]
        dated |= Q(scheme=scheme, occurred_on__gte=period.start, occurred_on__lte=period.end)
    entered, approved = {}, {}
    for r in (
        Entry.objects.for_user(user, "entry.view")
        .filter(dated, status__in=COUNTED, subject__active=True)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .annotate(village=grouped("subject__region__code", VILLAGE))
        .values("village", "scheme_id")
        .annotate(
            done=Count("subject", distinct=True),
            earned=Count("subject", distinct=True, filter=Q(status=EntryStatus.APPROVED)),
        )
        .order_by()
    ):
        entered[(r["village"], r["scheme_id"])] = r["done"]
        approved[(r["village"], r["scheme_id"])] = r["earned"]
    return Tally(subjects, entered, approved)


def _completeness(choice: Choice, periods: dict[int, Period], tally: Tally) -> list[dict]:
    """Per scheme and group: the share of its subjects with an entry dated in the period, and the
    villages where none has one."""
    out = []
    for scheme in choice.schemes:
        period = periods.get(scheme.pk)
        if period is None:
            continue
        by_group: dict[str, list[int]] = {}
        silent = []
        for (village, kind), n in sorted(tally.subjects.items()):
            if kind != scheme.subject_kind:
                continue
            done = tally.entered.get((village, scheme.pk), 0)
            cell = by_group.setdefault(village[: choice.width], [0, 0])
            cell[0] += n
            cell[1] += done
            if not done:
                silent.append(village)
        subjects = sum(c[0] for c in by_group.values())
        done = sum(c[1] for c in by_group.values())
        out.append(
            {
                "scheme": scheme,
                "period": period,
                "subjects": subjects,
                "reported": done,
                "share": _share(done, subjects),
                "rows": [
                    {
                        "region": g,
                        "subjects": by_group.get(g.code, [0, 0])[0],
                        "reported": by_group.get(g.code, [0, 0])[1],
                        "share": _share(*reversed(by_group.get(g.code, [0, 0]))),
                    }
                    for g in choice.groups
                ],
                "silent": silent,  # village codes; names filled in once for every section
                "silent_count": len(silent),
            }
        )
    return out


def _participation(user, choice: Choice, periods: dict[int, Period], tally: Tally) -> dict | None:
    """Households with points in the household scheme's period (share), and its entries declared
    by households against those collected by grid members."""
    scheme = next(
        (s for s in choice.schemes if s.subject_kind == SubjectKind.HOUSEHOLD and s.pk in periods),
        None,
    )
    if scheme is None:
        return None
    period = periods[scheme.pk]
    dated = Q(scheme=scheme, occurred_on__gte=period.start, occurred_on__lte=period.end)
    households: dict[str, int] = {}
    for (village, kind), n in tally.subjects.items():
        if kind == SubjectKind.HOUSEHOLD:
            households[village[: choice.width]] = households.get(village[: choice.width], 0) + n
    earners: dict[str, int] = {}
    for (village, scheme_id), n in tally.approved.items():
        if scheme_id == scheme.pk:
            earners[village[: choice.width]] = earners.get(village[: choice.width], 0) + n
    sources: dict[tuple[str, str], int] = {}
    for r in (
        Entry.objects.for_user(user, "entry.view")
        .filter(dated, status__in=COUNTED)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .annotate(group=grouped("subject__region__code", choice.width))
        .values("group", "source")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        sources[(r["group"], r["source"])] = r["n"]
    rows = []
    for g in choice.groups:
        cell = {"n": households.get(g.code, 0), "earners": earners.get(g.code, 0)}
        declared = sources.get((g.code, EntrySource.DECLARED), 0)
        collected = sources.get((g.code, EntrySource.COLLECTED), 0)
        others = (
            sum(n for (code, _s), n in sources.items() if code == g.code) - declared - collected
        )
        rows.append(
            {
                "region": g,
                "households": cell["n"],
                "earners": cell["earners"],
                "share": _share(cell["earners"], cell["n"]),
                "declared": declared,
                "collected": collected,
                "others": others,
            }
        )
    households_total = sum(r["households"] for r in rows)
    earners_total = sum(r["earners"] for r in rows)
    return {
        "scheme": scheme,
        "period": period,
        "rows": rows,
        "households": households_total,
        "earners": earners_total,
        "share": _share(earners_total, households_total),
        "declared": sum(r["declared"] for r in rows),
        "collected": sum(r["collected"] for r in rows),
        "others": sum(r["others"] for r in rows),
    }


def _concentration(user, choice: Choice, start: date, end: date) -> dict:
    """Per village: the share of its entries dated in [start, end] (every scheme) recorded by its
    TOP_SCORERS busiest scorers; per group the mean over its villages, and the most concentrated."""
    rows = (
        Entry.objects.for_user(user, "entry.view")
        .filter(status__in=COUNTED, occurred_on__gte=start, occurred_on__lte=end)
        .filter(subtree_q("subject__region__code", choice.region.code))
        .annotate(village=grouped("subject__region__code", VILLAGE))
        .values("village", "created_by_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, list[int]] = {}
    for row in rows:
        counts.setdefault(row["village"], []).append(row["n"])
    villages = []
    for code, per_scorer in counts.items():
        per_scorer.sort(reverse=True)
        total = sum(per_scorer)
        villages.append(
            {
                "code": code,
                "entries": total,
                "scorers": len(per_scorer),
                "share": _share(sum(per_scorer[:TOP_SCORERS]), total),
            }
        )
    table = []
    for g in choice.groups:
        inside = [v for v in villages if v["code"].startswith(g.code)]
        shares = [v["share"] for v in inside]
        table.append(
            {
                "region": g,
                "villages": len(inside),
                "entries": sum(v["entries"] for v in inside),
                "mean": (sum(shares) / len(shares)).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if shares
                else None,
            }
        )
    villages.sort(key=lambda v: (-v["share"], -v["entries"], v["code"]))
    return {
        "top": TOP_SCORERS,
        "rows": table,
        "most": villages[:NAMES_SHOWN],
        "start": start,
        "end": end,
    }


def _liability(user, choice: Choice) -> dict:
    """Spendable points outstanding (and debts) per group, against the stock on the shelves and
    what it is priced at in points."""
    accounts = {
        r["group"]: r
        for r in Account.objects.for_user(user, "store.report")
        .filter(subtree_q("subject__region__code", choice.region.code))
        .annotate(group=grouped("subject__region__code", choice.width))
        .values("group")
        .annotate(accounts=Count("pk"), owed=Sum("balance"), debts=Sum("debt"))
        .order_by()
    }
    goods = {
        r["group"]: r
        for r in Goods.objects.for_user(user, "store.report")
        .filter(subtree_q("store__region__code", choice.region.code))
        .filter(active=True)
        .annotate(group=grouped("store__region__code", choice.width))
        .values("group")
        .annotate(
            items=Coalesce(Sum("stock"), 0, output_field=IntegerField()),
            worth=Sum(
                F("stock") * F("price"), output_field=DecimalField(max_digits=16, decimal_places=2)
            ),
        )
        .order_by()
    }
    zero = Decimal("0.00")
    rows = []
    for g in choice.groups:
        a = accounts.get(g.code, {})
        s = goods.get(g.code, {})
        balance = a.get("owed") or zero
        value = Decimal(s.get("worth") or 0).quantize(Decimal("0.01"))
        rows.append(
            {
                "region": g,
                "accounts": a.get("accounts", 0),
                "balance": balance,
                "debt": a.get("debts") or zero,
                "stock": s.get("items", 0),
                "stock_value": value,
                "cover": _share(value, balance),
            }
        )
    balance = sum((r["balance"] for r in rows), zero)
    value = sum((r["stock_value"] for r in rows), zero)
    return {
        "rows": rows,
        "accounts": sum(r["accounts"] for r in rows),
        "balance": balance,
        "debt": sum((r["debt"] for r in rows), zero),
        "stock": sum(r["stock"] for r in rows),
        "stock_value": value,
        "cover": _share(value, balance),
    }


def _name_villages(data: dict) -> None:
    """Names for the village codes the sections list, read once."""
    codes = set()
    for part in data["completeness"]:
        part["silent"] = part["silent"][:NAMES_SHOWN]
        codes.update(part["silent"])
    most = data.get("concentration", {}).get("most", [])
    codes.update(v["code"] for v in most)
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    for part in data["completeness"]:
        part["silent"] = [{"code": c, "name": names.get(c, c)} for c in part["silent"]]
    for v in most:
        v["name"] = names.get(v["code"], v["code"])


def breadth_chart(data: dict) -> dict:
    """What dashboard.js draws for the breadth sections: plain numbers, no Decimals."""
    chart: dict = {}
    chart["completeness"] = [
        {"scheme": p["scheme"].name, "shares": [num(r["share"]) for r in p["rows"]]}
        for p in data["completeness"]
    ]
    if data.get("participation"):
        part = data["participation"]
        chart["participation"] = {
            "share": [num(r["share"]) for r in part["rows"]],
            "declared": [r["declared"] for r in part["rows"]],
            "collected": [r["collected"] for r in part["rows"]],
        }
    if data.get("concentration"):
        chart["concentration"] = [num(r["mean"]) for r in data["concentration"]["rows"]]
    chart["liability"] = {
        "balance": [num(r["balance"]) for r in data["liability"]["rows"]],
        "stock_value": [num(r["stock_value"]) for r in data["liability"]["rows"]],
    }
    return chart
