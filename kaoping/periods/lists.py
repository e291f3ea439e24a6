"""Lists, flags, streaks and awards of a period, computed from its results at the close.

One INSERT … SELECT per list rule, with window functions over the period's results, so who is
on a list never depends on row order: a tie at the cut-off is either wholly in or wholly out,
or, where a list says `at_cutoff: break`, ordered by the scheme's `ranking.tie_break` keys (a
node's value, the previous period's rank, and last a lot replayable from the period's seed).
Order matters between rules: black lists (and their carry-over) first, because nobody is on a
red list and a black list at once; streaks after the lists they count; awards last.

A list or award with `node` ranks by that item's or group's value in the period, read from the
breakdown the close packed into each result (a subject without a member has the node's empty
value), instead of the total; cut-offs, bounds, ties and allocation are the same statements on
that value. A list with `value: ytd` does the same on the year-to-date total the close kept on each result.
"""

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.regions.selectors import rank_group_labels
from kaoping.schemes.calendar import previous_label
from kaoping.schemes.sampling import draw_key
from kaoping.schemes.spec import (
    AwardRule,
    AwardTier,
    ListKind,
    ListRule,
    Order,
    SchemeSpec,
    StreakRule,
    Ties,
)

from .breakdown import node_value_sql
from .engine import natural_village_group
from .models import ListMembership, Period, PeriodStatus

INSERT = (
    "INSERT INTO periods_listmembership "
    "(period_id, subject_id, list_code, kind, position, value, carried, tier) "
)

GROUPS = {
    "county": "''",
    "township": "SUBSTR(rg.code, 1, 9)",
    "village": "SUBSTR(rg.code, 1, 12)",
    "track": "s.track",
    "class": "s.track",
    "natural_village": natural_village_group("rg", "s"),
}


def _scaled(value: Decimal, scale: int) -> int:
    return int(value * scale)


def _bounds_sql(rule: ListRule, scale: int, column: str) -> tuple[str, list]:
    parts, params = [], []
    if rule.min is not None:
        parts.append(f"{column} {'>=' if rule.min_inclusive else '>'} %s")
        params.append(_scaled(rule.min, scale))
    if rule.max is not None:
        parts.append(f"{column} {'<=' if rule.max_inclusive else '<'} %s")
        params.append(_scaled(rule.max, scale))
    return " AND ".join(parts), params


def _cut_sql(rule: ListRule) -> tuple[str, list]:
    """The rank condition: within the first `count` (or `percent` %) of the ordering."""
    column = "t.pos" if rule.at_cutoff == "include" else "t.upto"
    if rule.count is not None:
        return f"{column} <= %s", [rule.count]
    if rule.percent is not None:
        # ⌊size × percent / 100⌋ places, at least one; percent kept exact as hundredths.
        hundredths = int(rule.percent * 100)
        return (
            f"{column} <= (CASE WHEN t.size * %s / 10000 < 1 THEN 1 ELSE t.size * %s / 10000 END)",
            [
                hundredths,
                hundredths,
            ],
        )
    return "", []


def _exclude_barred(rule: ListRule) -> bool:
    if rule.exclude_barred is not None:
        return rule.exclude_barred
    return rule.kind is ListKind.RED or (rule.kind is ListKind.FLAG and rule.pick == "top")


def _ranked_value(period: Period, node: str | None, ytd: bool = False) -> tuple[str, str, list]:
    """(joins, value, params): what a list or award ranks the result row `r` by.

    The total, or the value of `node`: its member of the breakdown, or the node's empty value (its
    clamped base) when nothing was recorded below it, as the close reads a sparse row. The
    node of the subject's own variant: every variant keeps it (the scheme checks say so).
    `ytd`: the year-to-date total the close kept beside the total (`value: ytd`).
    """
    if ytd:
        return "", "r.ytd", []
    if node is None:
        return "", "r.total", []
    joins = (
        "JOIN schemes_schemenode vn ON vn.version_id = %s AND vn.variant = r.variant "
        "AND vn.code = %s "
    )
    value = node_value_sql("r.breakdown", node)
    return joins, f"COALESCE({value}, vn.empty_value)", [period.version_id, node]


def _eligible(rule: ListRule) -> tuple[list[str], list]:
    """Conditions on the result row `r` for being ranked for a list at all: not barred where the
    list excludes barred subjects, and, for a red list, on no black list of the period."""
    conditions, params = [], []
    if _exclude_barred(rule):
        conditions.append("r.barred = %s")
        params.append(False)
    if rule.kind is ListKind.RED:
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM periods_listmembership b WHERE b.period_id = r.period_id "
            "AND b.subject_id = r.subject_id AND b.kind = 'black')"
        )
    return conditions, params


def lot_key(seed: str, subject_id: int) -> str:
    """The lot of `ranking.tie_break`: sha256 of the period's seed, a colon and the subject's
    number, in hex; the smaller is drawn first. What an auditor replays (docs/schemes.md §11):
    the inspection draw's formula (`schemes.sampling.draw_key`) on the subject's number."""
    return draw_key(seed, str(subject_id))


def _lot_sql() -> str:
    """`lot_key` in SQL on the seed (a parameter) and `r.subject_id`: Django registers SHA256
    on SQLite; PostgreSQL has sha256 on bytes. Compared byte-wise (hex digits, lower case)."""
    if connection.vendor == "postgresql":
        return (
            "encode(sha256(convert_to(%s || ':' || CAST(r.subject_id AS TEXT), 'UTF8')), 'hex') "
            'COLLATE "C"'
        )
    return "SHA256(%s || ':' || CAST(r.subject_id AS TEXT))"


def tie_key_label(key) -> str:
    """What `ListMembership.tie_break` records for a key of `ranking.tie_break`."""
    if key.node is not None:
        return f"node:{key.node}"
    return "previous_rank" if key.previous_rank else "lot"


def _tie_keys(period: Period, spec: SchemeSpec, rule: ListRule) -> tuple[str, list, list, list]:
    """(joins, join params, [(order-by terms, label)], order params) of `ranking.tie_break`
    for the result row `r`, best first for `pick: top` (and for an award) and worst first for
    `pick: bottom`."""
    joins, join_params, keys, params = [], [], [], []
    flip = getattr(rule, "pick", "top") == "bottom"

    def way(desc: bool) -> str:
        return "DESC" if desc != flip else "ASC"

    for i, key in enumerate(spec.ranking.tie_break):
        if key.node is not None:
            joins.append(
                f"JOIN schemes_schemenode tn{i} ON tn{i}.version_id = %s "
                f"AND tn{i}.variant = r.variant AND tn{i}.code = %s "
            )
            join_params += [period.version_id, key.node]
            value = node_value_sql("r.breakdown", key.node)
            terms = [f"COALESCE({value}, tn{i}.empty_value) {way(str(key.order) == 'desc')}"]
        elif key.previous_rank:
            previous = next(iter(_previous(period)), None)
            joins.append(
                f"LEFT JOIN periods_result tp{i} ON tp{i}.period_id = %s "
                f"AND tp{i}.subject_id = r.subject_id "
            )
            join_params.append(previous.pk if previous is not None else 0)
            # No result in the previous period: after everybody who has one.
            terms = [
                f"CASE WHEN tp{i}.total IS NULL THEN 1 ELSE 0 END {way(False)}",
                f"COALESCE(tp{i}.total, 0) {way(str(spec.ranking.order) == 'desc')}",
            ]
        else:
            terms = [f"{_lot_sql()} {way(False)}"]
            params.append(period.tie_seed)
        keys.append((terms, tie_key_label(key)))
    return "".join(joins), join_params, keys, params


def _broken_parts(period: Period, spec: SchemeSpec, rule: ListRule, scale: int) -> dict:
    """The pieces of a list with `at_cutoff: break`, each SQL with its parameters: `inner`
    ranks the group's candidates `t` on the value (`pos`, `upto`, as `include`/`exclude` read
    them) and on the value and every `ranking.tie_break` key (`bpos`, a RANK, so a tie no key
    tells apart stays all in); `where` is who is on the list; `settled_in` the key that put a
    listed subject of a tie across the cut-off in, `settled_out` the one that kept one out."""
    group = GROUPS[str(rule.within)] if rule.within else "r.rank_group"
    order = "DESC" if rule.pick == "top" else "ASC"
    joins, value, params = _ranked_value(period, rule.node, rule.value == "ytd")
    tie_joins, tie_join_params, keys, key_params = _tie_keys(period, spec, rule)
    eligible, eligible_params = _eligible(rule)
    window = f"PARTITION BY {group} ORDER BY {value} {order}"
    columns, column_params, terms = [], [], []
    for i, (key_terms, _label) in enumerate(keys, start=1):
        terms += key_terms
        # Only the lot's term has a parameter (its seed), and the lot is the last key.
        seeds = key_params[: sum(1 for t in terms if "%s" in t)]
        # Settled by the keys up to this one: in when at most `places` come with it or before
        # (upto), out when `places` or more come strictly before it (rk).
        columns.append(f"COUNT(*) OVER ({window}, {', '.join(terms)}) AS upto{i}, ")
        columns.append(f"RANK() OVER ({window}, {', '.join(terms)}) AS rk{i}, ")
        column_params += seeds + seeds
    inner = (
        f"SELECT r.subject_id, {value} AS value, RANK() OVER ({window}) AS pos, "
        f"COUNT(*) OVER ({window}) AS upto, "
        f"RANK() OVER ({window}, {', '.join(terms)}) AS bpos, "
        + "".join(columns)
        + f"COUNT(*) OVER (PARTITION BY {group}) AS size "
        "FROM periods_result r JOIN people_subject s ON s.id = r.subject_id "
        f"JOIN regions_region rg ON rg.id = s.region_id {joins}{tie_joins}WHERE "
        + " AND ".join(["r.period_id = %s", *eligible])
    )
    inner_params = [
        *key_params,
        *column_params,
        *params,
        *tie_join_params,
        period.pk,
        *eligible_params,
    ]
    places, places_params = _places_sql(rule)
    cut = f"t.bpos <= {places}"
    bounds, bound_params = _bounds_sql(rule, scale, "t.value")
    if bounds:
        joiner = " AND " if rule.require == "all" else " OR "
        where, where_params = f"({cut}){joiner}({bounds})", places_params + bound_params
    else:
        where, where_params = cut, places_params
    settled_in = [f"WHEN NOT ({cut}) THEN ''", f"WHEN t.upto <= {places} THEN ''"]
    in_params = places_params * 2
    settled_out = [f"WHEN t.pos > {places} THEN ''"]
    out_params = list(places_params)
    for i, (_terms, label) in enumerate(keys, start=1):
        settled_in.append(f"WHEN t.upto{i} <= {places} THEN %s")
        in_params += [*places_params, label]
        settled_out.append(f"WHEN t.rk{i} > {places} THEN %s")
        out_params += [*places_params, label]
    return {
        "inner": (inner, inner_params),
        "where": (where, where_params),
        "straddles": (f"t.pos <= {places} AND t.upto > {places}", places_params * 2),
        "settled_in": ("CASE " + " ".join(settled_in) + " ELSE 'tie' END", in_params),
        "settled_out": ("CASE " + " ".join(settled_out) + " ELSE '' END", out_params),
    }


def _broken_list(period: Period, spec: SchemeSpec, rule: ListRule, scale: int) -> tuple[str, list]:
    """A rank list with `at_cutoff: break`: the places go down the order of the value and then
    the `ranking.tie_break` keys, and each row records the key that settled a tie across the
    cut-off (`tie_break`)."""
    parts = _broken_parts(period, spec, rule, scale)
    reason, reason_params = parts["settled_in"]
    inner, inner_params = parts["inner"]
    where, where_params = parts["where"]
    sql = (
        "INSERT INTO periods_listmembership "
        "(period_id, subject_id, list_code, kind, position, value, carried, tier, tie_break) "
        f"SELECT %s, t.subject_id, %s, %s, t.pos, t.value, %s, '', {reason} "
        f"FROM ({inner}) t WHERE {where}"
    )
    params = [period.pk, rule.code, str(rule.kind), False, *reason_params]
    return sql, [*params, *inner_params, *where_params]


def _tied_at_cutoff(period: Period, spec: SchemeSpec, rule: ListRule, scale: int) -> list[dict]:
    """The subjects of a list with `at_cutoff: break` whose tie on the value crossed the
    cut-off, in or out, with their place and the key that settled it (Period.tie_breaks)."""
    parts = _broken_parts(period, spec, rule, scale)
    inner, inner_params = parts["inner"]
    where, where_params = parts["where"]
    straddles, straddle_params = parts["straddles"]
    settled_in, in_params = parts["settled_in"]
    settled_out, out_params = parts["settled_out"]
    sql = (
        f"SELECT t.subject_id, t.pos, CASE WHEN {where} THEN 1 ELSE 0 END, "
        f"{settled_in}, {settled_out} FROM ({inner}) t WHERE {straddles} "
        "ORDER BY t.pos, t.bpos, t.subject_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*where_params, *in_params, *out_params, *inner_params, *straddle_params]
        )
        return [
            {
                "list": rule.code,
                "subject": subject,
                "position": position,
                "in": bool(listed),
                "by": by_in if listed else by_out,
            }
            for subject, position, listed, by_in, by_out in cursor.fetchall()
        ]


def _places_sql(rule: ListRule) -> tuple[str, list]:
    """How many places a list with `count` or `percent` has in its group of `t.size`."""
    if rule.count is not None:
        return "%s", [rule.count]
    hundredths = int(rule.percent * 100)
    return (
        "(CASE WHEN t.size * %s / 10000 < 1 THEN 1 ELSE t.size * %s / 10000 END)",
        [hundredths, hundredths],
    )


def _rank_list(period: Period, spec: SchemeSpec, rule: ListRule, scale: int) -> tuple[str, list]:
    if rule.at_cutoff == "break":
        return _broken_list(period, spec, rule, scale)
    group = GROUPS[str(rule.within)] if rule.within else "r.rank_group"
    order = "DESC" if rule.pick == "top" else "ASC"
    joins, value, params = _ranked_value(period, rule.node, rule.value == "ytd")
    eligible, eligible_params = _eligible(rule)
    filters = ["r.period_id = %s", *eligible]
    params += [period.pk, *eligible_params]
    inner = (
        f"SELECT r.subject_id, {value} AS value, RANK() OVER (PARTITION BY {group} ORDER BY {value} {order}) AS pos, "
        f"COUNT(*) OVER (PARTITION BY {group} ORDER BY {value} {order} "
        "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto, "
        f"COUNT(*) OVER (PARTITION BY {group}) AS size "
        "FROM periods_result r JOIN people_subject s ON s.id = r.subject_id "
        f"JOIN regions_region rg ON rg.id = s.region_id {joins}WHERE " + " AND ".join(filters)
    )
    cut, cut_params = _cut_sql(rule)
    bounds, bound_params = _bounds_sql(rule, scale, "t.value")
    if cut and bounds:
        joiner = " AND " if rule.require == "all" else " OR "
        where, where_params = f"({cut}){joiner}({bounds})", cut_params + bound_params
    else:
        where, where_params = cut or bounds, cut_params + bound_params
    sql = (
        INSERT
        + f"SELECT %s, t.subject_id, %s, %s, t.pos, t.value, %s, '' FROM ({inner}) t WHERE {where}"
    )
    return sql, [period.pk, rule.code, str(rule.kind), False, *params, *where_params]


def _shortfalls(period: Period, rule: ListRule) -> list[dict]:
    """The ranking groups where `rule.count` could not be met: fewer subjects may be ranked for
    the list (not barred where it excludes them, not on a black list for a red one) than it
    names, with how many it got. Ties and bounds leaving places empty are the rule, not this."""
    group = GROUPS[str(rule.within)] if rule.within else "r.rank_group"
    eligible, params = _eligible(rule)
    candidate = " AND ".join(eligible) or "1 = 1"
    sql = (
        f"SELECT {group} AS g, COUNT(m.subject_id) FROM periods_result r "
        "JOIN people_subject s ON s.id = r.subject_id JOIN regions_region rg ON rg.id = s.region_id "
        "LEFT JOIN periods_listmembership m ON m.period_id = r.period_id "
        "AND m.subject_id = r.subject_id AND m.list_code = %s AND m.carried = %s "
        f"WHERE r.period_id = %s GROUP BY {group} "
        f"HAVING SUM(CASE WHEN {candidate} THEN 1 ELSE 0 END) < %s ORDER BY {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rule.code, False, period.pk, *params, rule.count])
        return [
            {"list": rule.code, "name": rule.name, "group": g, "wanted": rule.count, "got": got}
            for g, got in cursor.fetchall()
        ]


def shortfall_messages(shortfalls: list[dict]) -> list[str]:
    """What a county reads about lists that a small group could not fill (Period.list_shortfalls)."""
    labels = rank_group_labels(item["group"] for item in shortfalls)
    return [
        _(
            "List “%(list)s”, %(group)s: the scheme asks for %(wanted)s, but only %(got)s could "
            "be listed (too few subjects in the group may be on it)"
        )
        % {
            "list": item["name"],
            "group": labels.get(item["group"]) or _("the whole county"),
            "wanted": item["wanted"],
            "got": item["got"],
        }
        for item in shortfalls
    ]


def _progress_list(period: Period, previous: Period, rule: ListRule) -> tuple[str, list]:
    group = GROUPS[str(rule.within)] if rule.within else "r.rank_group"
    gain = "(p.rank - r.rank)" if rule.by == "rank_gain" else "(r.total - p.total)"
    inner = (
        f"SELECT r.subject_id, {gain} AS value, "
        f"RANK() OVER (PARTITION BY {group} ORDER BY {gain} DESC) AS pos, "
        f"COUNT(*) OVER (PARTITION BY {group} ORDER BY {gain} DESC "
        "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto, "
        f"COUNT(*) OVER (PARTITION BY {group}) AS size "
        "FROM periods_result r JOIN periods_result p ON p.subject_id = r.subject_id AND p.period_id = %s "
        "JOIN people_subject s ON s.id = r.subject_id JOIN regions_region rg ON rg.id = s.region_id "
        f"WHERE r.period_id = %s AND {gain} > 0"
    )
    cut, cut_params = _cut_sql(rule)
    sql = (
        INSERT
        + f"SELECT %s, t.subject_id, %s, %s, t.pos, t.value, %s, '' FROM ({inner}) t WHERE {cut}"
    )
    return sql, [period.pk, rule.code, str(rule.kind), False, previous.pk, period.pk, *cut_params]


def _carry_over(period: Period, previous: Period, rule: ListRule) -> tuple[str, list]:
    """Each unresolved listing of the previous period, fresh or itself carried, stays as its own
    carried row naming the period it was made in (延续自 2026-03), also when the subject is
    listed anew: every earlier listing ends only with its own rectification."""
    joins, value, params = _ranked_value(period, rule.node, rule.value == "ytd")
    return (
        "INSERT INTO periods_listmembership "
        "(period_id, subject_id, list_code, kind, position, value, carried, tier, carried_from_id) "
        f"SELECT %s, m.subject_id, m.list_code, m.kind, 0, {value}, %s, '', "
        "COALESCE(m.carried_from_id, m.period_id) "
        "FROM periods_listmembership m JOIN periods_result r ON r.period_id = %s AND r.subject_id = m.subject_id "
        f"{joins}"
        "WHERE m.period_id = %s AND m.list_code = %s AND m.resolved_at IS NULL",
        [period.pk, True, period.pk, *params, previous.pk, rule.code],
    )


def _streak(period: Period, ids: list[int], rule: StreakRule) -> tuple[str, list]:
    marks = ", ".join(["%s"] * len(ids))
    return (
        INSERT + "SELECT %s, m.subject_id, %s, 'streak', 0, COUNT(DISTINCT m.period_id), %s, '' "
        f"FROM periods_listmembership m WHERE m.period_id IN ({marks}) AND m.list_code = %s "
        "GROUP BY m.subject_id HAVING COUNT(DISTINCT m.period_id) = %s",
        [period.pk, rule.code, False, *ids, rule.list, len(ids)],
    )


def _previous(period: Period, steps: int = 1) -> list[Period]:
    """The `steps` periods before `period` (same scheme and cadence), newest first; closed ones only."""
    labels, label = [], period.label
    for _step in range(steps):
        label = previous_label(period.cadence, label)
        labels.append(label)
    found = {
        p.label: p
        for p in Period.objects.filter(
            scheme=period.scheme_id, cadence=period.cadence, label__in=labels
        ).exclude(status=PeriodStatus.OPEN)
    }
    return [found[label] for label in labels if label in found]


def _ranked_candidates(
    period: Period, spec: SchemeSpec, rule: AwardRule, group: str
) -> Iterator[tuple[int, int, int]]:
    """One ranking group's candidates for an award ranked otherwise than by the close's rank,
    best first, as `_allocate` reads them: (subject, rank, value). Ranked on `rule.node`'s value
    or the year-to-date total as the close ranks totals (the scheme's `order` and `ties`, over
    the whole group, barred subjects included); with `at_cutoff: break` subjects tied on the
    value are ranked further by `ranking.tie_break`, so only a tie no key orders shares a rank."""
    joins, value, params = _ranked_value(period, rule.node, rule.value == "ytd")
    function = "DENSE_RANK()" if str(spec.ranking.ties) == "dense" else "RANK()"
    order = "ASC" if str(spec.ranking.order) == "asc" else "DESC"
    terms, key_params, tie_joins, tie_join_params = [f"{value} {order}"], [], "", []
    if rule.at_cutoff == "break":
        tie_joins, tie_join_params, keys, key_params = _tie_keys(period, spec, rule)
        terms += [term for key_terms, _label in keys for term in key_terms]
    listed, listed_params = "", []
    if rule.from_lists:
        marks = ", ".join(["%s"] * len(rule.from_lists))
        listed = (
            " AND EXISTS (SELECT 1 FROM periods_listmembership m WHERE m.period_id = %s "
            f"AND m.subject_id = t.subject_id AND m.list_code IN ({marks}))"
        )
        listed_params = [period.pk, *rule.from_lists]
    if not spec.ranking.awards_stack:
        listed += (
            " AND NOT EXISTS (SELECT 1 FROM periods_listmembership a WHERE a.period_id = %s "
            "AND a.subject_id = t.subject_id AND a.kind = 'award')"
        )
        listed_params.append(period.pk)
    sql = (
        "SELECT t.subject_id, t.pos, t.value FROM ("
        f"SELECT r.subject_id, r.barred, {value} AS value, "
        f"{function} OVER (ORDER BY {', '.join(terms)}) AS pos "
        f"FROM periods_result r {joins}{tie_joins}WHERE r.period_id = %s AND r.rank_group = %s) t "
        f"WHERE t.barred = %s{listed} ORDER BY t.pos, t.subject_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*key_params, *params, *tie_join_params, period.pk, group, False, *listed_params],
        )
        while chunk := cursor.fetchmany(200):
            yield from chunk


def _awards(period: Period, spec: SchemeSpec, rule: AwardRule, scale: int) -> None:
    """Award tiers by rank inside each ranking group.

    Each group's candidates are streamed best first and read only until every tier is settled,
    so a household scheme reads a few rows per group; a tie at a cut-off is read to its end
    (ties share the same fate), however many subjects it holds and whatever their ids. With
    `awards_stack: false` a subject already holding an award of the period (an earlier one in
    the file) is no candidate. An award by a node, by the year-to-date total or breaking ties
    ranks its candidates itself (`_ranked_candidates`); otherwise the close's rank is read.
    """
    from .models import Result

    candidates = Result.objects.filter(period=period, barred=False)
    if rule.from_lists:
        candidates = candidates.filter(
            subject__memberships__period=period, subject__memberships__list_code__in=rule.from_lists
        ).distinct()
    if not spec.ranking.awards_stack:
        candidates = candidates.filter(
            ~Exists(
                ListMembership.objects.filter(
                    period=period, kind="award", subject_id=OuterRef("subject_id")
                )
            )
        )
    rows = []
    for group in candidates.order_by("rank_group").values_list("rank_group", flat=True).distinct():
        if rule.node is not None or rule.value == "ytd" or rule.at_cutoff == "break":
            ordered = _ranked_candidates(period, spec, rule, group)
        else:
            ordered = (
                candidates.filter(rank_group=group)
                .order_by("rank", "subject_id")
                .values_list("subject_id", "rank", "total")
                .iterator(chunk_size=200)
            )
        try:
            rows += _allocate(rule, ordered, scale)
        finally:
            ordered.close()  # the rest of the group is not read
    ListMembership.objects.bulk_create(
        ListMembership(
            period=period,
            subject_id=subject_id,
            list_code=rule.code,
            kind="award",
            position=rank,
            value=total,
            tier=tier,
        )
        for subject_id, rank, total, tier in rows
    )


def _meets(tier: AwardTier, total: int, scale: int) -> bool:
    if tier.min is None:
        return True
    bound = _scaled(tier.min, scale)
    return total >= bound if tier.min_inclusive else total > bound


def _slot_tier(rule: AwardRule, slot: int) -> int | None:
    """The index of the tier whose quota holds rank slot `slot` (0 first), None past them all."""
    for index, tier in enumerate(rule.tiers):
        if tier.quota is None or slot < tier.quota:
            return index
        slot -= tier.quota
    return None


def _allocate(
    rule: AwardRule, ordered: Iterable[tuple[int, int, int]], scale: int
) -> list[tuple[int, int, int, str]]:
    """(subject, rank, total) best first → (subject, rank, total, tier). Ties share a fate.

    One pass, stopping as soon as the outcome of everybody further down is known. Subjects of
    one rank have the same total, so they meet the same tiers; every decision below depends on
    the rank and total only, never on a subject's place inside its tie.
    """
    awarded: list[tuple[int, int, int, str]] = []
    if rule.allocation == "slots":
        # Rank slots in tier order: a tie takes the slot of its first member (its place among
        # the candidates, who may rank below barred or unlisted subjects), so all of it shares
        # one tier; a subject below its slot's minimum drops to the first lower tier it meets.
        # A tier without a quota has every slot from its first on.
        slot, last_rank = 0, None
        for index, (subject_id, rank, total) in enumerate(ordered):
            if rank != last_rank:
                slot, last_rank = index, rank
            start = _slot_tier(rule, slot)
            if start is None:
                break
            tier = next((t for t in rule.tiers[start:] if _meets(t, total, scale)), None)
            if tier is not None:
                awarded.append((subject_id, rank, total, tier.code))
        return awarded
    # fill_down: each tier, in order, takes the best not yet placed who meet its minimum until
    # its quota is full, and then the rest of the tie it stopped in; a tier is closed by the
    # first eligible subject of a lower rank after that. A tier without a quota never closes:
    # the whole group is read.
    filled = [0] * len(rule.tiers)
    last: list[int | None] = [None] * len(rule.tiers)
    closed = [False] * len(rule.tiers)
    for subject_id, rank, total in ordered:
        if all(closed):
            break
        for i, tier in enumerate(rule.tiers):
            if closed[i] or not _meets(tier, total, scale):
                continue
            if tier.quota is not None and filled[i] >= tier.quota and rank != last[i]:
                closed[i] = True
                continue
            awarded.append((subject_id, rank, total, tier.code))
            filled[i] += 1
            last[i] = rank
            break
    return awarded


@dataclass(frozen=True)
class Ranked:
    """One result as `reference` reads it: the subject, its ranking group, its total (scaled)."""

    subject: int
    group: str
    total: int
    barred: bool = False
    # For `at_cutoff: break`: node values (code, scaled value) the tie-break keys name, and the
    # total of the previous period (None: no result there).
    nodes: tuple[tuple[str, int], ...] = ()
    previous: int | None = None
    ytd: int | None = None  # the year-to-date total, for lists with `value: ytd`


def _reference_order(spec: SchemeSpec, rule: ListRule, row: Ranked, seed: str) -> list[tuple]:
    """The keys `_broken_list` orders by, as prefixes: [value], [value, key 1], …; smaller is
    nearer the top of the list (best first for `pick: top`, worst first for `pick: bottom`)."""
    sign = 1 if getattr(rule, "pick", "top") == "bottom" else -1  # best first: higher first
    key: list = [sign * row.total]
    prefixes = [tuple(key)]
    for tie in spec.ranking.tie_break:
        if tie.node is not None:
            value = dict(row.nodes)[tie.node]
            key.append(sign * value if str(tie.order) == "desc" else -sign * value)
        elif tie.previous_rank:
            missing = 1 if row.previous is None else 0  # no previous result: after the rest
            total = row.previous or 0
            desc = str(spec.ranking.order) == "desc"
            key += [-sign * missing, sign * total if desc else -sign * total]
        else:
            key.append(-sign * int(lot_key(seed, row.subject), 16))
        prefixes.append(tuple(key))
    return prefixes


def _reference_list(
    rule: ListRule,
    rows: list[Ranked],
    black: set[int],
    scale: int,
    spec: SchemeSpec | None = None,
    seed: str = "",
    reasons: dict | None = None,
) -> tuple[set[int], list[dict]]:
    """One rank list in plain Python: (who is on it, the groups it fell short in). With
    `at_cutoff: break`, `reasons` gets the key that settled each listed subject's tie."""
    if rule.value == "ytd":
        rows = [replace(row, total=row.ytd) for row in rows]
    listed: set[int] = set()
    shortfalls = []
    top = rule.pick == "top"
    for group in sorted({row.group for row in rows}):
        candidates = [
            row
            for row in rows
            if row.group == group
            and not (_exclude_barred(rule) and row.barred)
            and not (rule.kind is ListKind.RED and row.subject in black)
        ]
        places = rule.count
        if rule.percent is not None:
            places = max(1, len(candidates) * int(rule.percent * 100) // 10000)
        got = 0
        for row in candidates:
            better = sum(
                1 for o in candidates if (o.total > row.total if top else o.total < row.total)
            )
            tied = sum(1 for o in candidates if o.total == row.total)  # itself included
            tests = []
            if places is not None and rule.at_cutoff == "break":
                # Ranked on the value and then every key: in when fewer than `places` come
                # before it; settled by the first key up to which at most `places` come with it.
                mine = _reference_order(spec, rule, row, seed)
                others = [_reference_order(spec, rule, o, seed) for o in candidates]
                full = sum(1 for o in others if o[-1] < mine[-1]) + 1 <= places
                tests.append(full)
                if full and reasons is not None:
                    settled = [
                        sum(1 for o in others if o[k] <= mine[k]) <= places
                        for k in range(len(mine))
                    ]
                    labels = ["", *(tie_key_label(key) for key in spec.ranking.tie_break)]
                    reasons[(rule.code, row.subject)] = next(
                        (label for ok, label in zip(settled, labels, strict=True) if ok), "tie"
                    )
            elif places is not None:
                # include: a tie reaching into the places is all in; exclude: only a tie that
                # ends inside them is.
                tests.append(
                    (better + 1 if rule.at_cutoff == "include" else better + tied) <= places
                )
            if rule.min is not None:
                bound = _scaled(rule.min, scale)
                tests.append(row.total >= bound if rule.min_inclusive else row.total > bound)
            if rule.max is not None:
                bound = _scaled(rule.max, scale)
                tests.append(row.total <= bound if rule.max_inclusive else row.total < bound)
            cut_and_bounds = places is not None and len(tests) > 1
            if any(tests) if cut_and_bounds and rule.require == "any" else all(tests):
                listed.add(row.subject)
                got += 1
        if rule.count is not None and len(candidates) < rule.count:
            shortfalls.append(
                {
                    "list": rule.code,
                    "name": rule.name,
                    "group": group,
                    "wanted": rule.count,
                    "got": got,
                }
            )
    return listed, shortfalls


def _reference_rank(rows: list[Ranked], row: Ranked, ties: Ties, order: Order) -> int:
    """The rank the close gives `row` in its group (barred subjects ranked too)."""
    group = [o for o in rows if o.group == row.group]
    better = [
        o.total
        for o in group
        if (o.total < row.total if order is Order.ASC else o.total > row.total)
    ]
    return 1 + (len(set(better)) if ties is Ties.DENSE else len(better))


def _reference_award_rank(
    spec: SchemeSpec, award: AwardRule, rows: list[Ranked], row: Ranked, seed: str
) -> int:
    """The rank `_awards` gives `row` in its group: the close's on the value, or with
    `at_cutoff: break` on the value and then the `ranking.tie_break` keys."""
    if award.at_cutoff != "break":
        return _reference_rank(rows, row, spec.ranking.ties, spec.ranking.order)

    def key(o: Ranked) -> tuple:
        value = o.total if spec.ranking.order is Order.ASC else -o.total
        return (value, *_reference_order(spec, award, o, seed)[-1][1:])

    mine = key(row)
    better = [key(o) for o in rows if o.group == row.group and key(o) < mine]
    return 1 + (len(set(better)) if spec.ranking.ties is Ties.DENSE else len(better))


def reference(
    spec: SchemeSpec, rows: list[Ranked], scale: int, seed: str = "", reasons: dict | None = None
) -> tuple[set[tuple[str, int, str]], list[dict]]:
    """What `lists_compute` writes for a period with no previous one, in plain Python, to test the
    SQL against: {(list or award, subject, tier)} and the shortfalls, in the order the close
    records them. Rank lists on the total in the scheme's ranking groups (no `within`, `node`,
    progress lists, carry-over or streaks), every rule made in the period."""
    on: set[tuple[str, int, str]] = set()
    black: set[int] = set()
    shortfalls: list[dict] = []
    for rule in sorted(spec.ranking.lists, key=lambda r: 0 if r.kind is ListKind.BLACK else 1):
        listed, short = _reference_list(rule, rows, black, scale, spec, seed, reasons)
        if rule.kind is ListKind.BLACK:
            black |= listed
        on |= {(rule.code, subject, "") for subject in listed}
        shortfalls += short
    awarded: set[int] = set()
    for award in spec.ranking.awards:
        ranked = [replace(row, total=row.ytd) for row in rows] if award.value == "ytd" else rows
        for group in sorted({row.group for row in ranked}):
            candidates = [
                (row.subject, _reference_award_rank(spec, award, ranked, row, seed), row.total)
                for row in ranked
                if row.group == group
                and not row.barred
                and (
                    not award.from_lists
                    or any((code, row.subject, "") in on for code in award.from_lists)
                )
                and (spec.ranking.awards_stack or row.subject not in awarded)
            ]
            for subject, _rank, _total, tier in _allocate(
                award, sorted(candidates, key=lambda c: (c[1], c[0])), scale
            ):
                on.add((award.code, subject, tier))
                awarded.add(subject)
    return on, shortfalls


def _draw_seed(period: Period, spec: SchemeSpec, rules: list[ListRule | AwardRule]) -> None:
    """The lot's seed, drawn at the first close whose lists may need it and kept after, so a
    re-close (an upheld objection) draws the same lot and an auditor can replay it."""
    drawn = any(key.lot for key in spec.ranking.tie_break) and any(
        rule.at_cutoff == "break" for rule in rules
    )
    if drawn and not period.tie_seed:
        period.tie_seed = secrets.token_hex(8)
        Period.objects.filter(pk=period.pk).update(tie_seed=period.tie_seed)


def lists_compute(period: Period, spec: SchemeSpec) -> None:
    """Write the period's list memberships; runs inside the close transaction, after results."""
    scale = period.version.scale

    def made_now(rule) -> bool:
        return rule.cadences is None or period.cadence in {str(c) for c in rule.cadences}

    rules = [rule for rule in spec.ranking.lists if made_now(rule)]
    previous = next(iter(_previous(period)), None)
    _draw_seed(period, spec, [*rules, *filter(made_now, spec.ranking.awards)])
    ordered = sorted(rules, key=lambda r: 0 if r.kind is ListKind.BLACK else 1)
    shortfalls: list[dict] = []
    tie_breaks: list[dict] = []
    with connection.cursor() as cursor:
        for rule in ordered:
            if rule.kind is ListKind.PROGRESS:
                if previous is not None:
                    cursor.execute(*_progress_list(period, previous, rule))
                continue
            cursor.execute(*_rank_list(period, spec, rule, scale))
            if rule.at_cutoff == "break":
                tie_breaks += _tied_at_cutoff(period, spec, rule, scale)
            if rule.count is not None:
                shortfalls += _shortfalls(period, rule)
            carry = rule.carry_over if rule.carry_over is not None else rule.kind is ListKind.BLACK
            if carry and previous is not None:
                cursor.execute(*_carry_over(period, previous, rule))
        for streak in filter(made_now, spec.ranking.streaks):
            earlier = _previous(period, streak.periods - 1)
            if len(earlier) == streak.periods - 1:
                cursor.execute(*_streak(period, [period.pk, *(p.pk for p in earlier)], streak))
    if shortfalls and spec.ranking.shortfall == "refuse":
        # The close's transaction is rolled back: nothing of this close is kept.
        raise KaopingError(
            _("The close is refused (ranking.shortfall: refuse): %(problems)s")
            % {"problems": "; ".join(shortfall_messages(shortfalls))}
        )
    if tie_breaks or period.tie_breaks:  # the last close's are replaced
        Period.objects.filter(pk=period.pk).update(tie_breaks=tie_breaks)
        period.tie_breaks = tie_breaks
    if shortfalls or period.list_shortfalls:  # the last close's warning is replaced
        Period.objects.filter(pk=period.pk).update(list_shortfalls=shortfalls)
        period.list_shortfalls = shortfalls
    for award in filter(made_now, spec.ranking.awards):
        _awards(period, spec, award, scale)
