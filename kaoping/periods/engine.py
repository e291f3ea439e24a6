"""The period close as set-based SQL: one statement for a period's tree, a few for a roll-up.

The scoring rules are written twice, on purpose. This set-based SQL close is the hot path and
the only writer of results; `kaoping.schemes.scoring` is the one Python statement of the same
rules (the reference evaluation, the points store's running tally, what an entry is worth). The
property tests hold the two equal: `kaoping/periods/tests/test_close_properties.py` (a period's
tree: every rule, caps, floors, base, vetoes, grades) and `kaoping/periods/tests/test_rollups.py`
(roll-ups), both through `close_harness.py`. A new rule is written in both and covered there.

No Python loop over subjects or entries. The same statements run on SQLite (3.35+) and
PostgreSQL: all arithmetic is on scaled integers (see kaoping.schemes.models), so both engines
give bit-identical totals, and every division rounds half away from zero, as
`scoring.round_half_away` does.

Every statement that picks subjects selects with the CTE `u(subject_id, variant, rank_group)`:
the subjects the scheme scores, the variant of the tree each one is scored with, and its ranking
group. Statements are written `INSERT INTO … WITH u AS (…) SELECT …`, the INSERT first, so that
both drivers report the rows each one wrote (Python's sqlite3 gives no row count for a
statement that begins with WITH).

A period of the scheme's own cadence is closed by one statement (`result_statement`): the items
with data, grouped once by subject, then each depth of the tree from the deepest up as columns of
that one row, then the results with grade and rank, each carrying its breakdown
(`kaoping.periods.breakdown`): the value of every node the subject has data under, packed into its result row by the same
grouping that adds the values up. Nothing but the results is written. Nodes are sparse: an item
is a member when it has entries (or a metric value), a group when something below it is. A node
without a member is worth its `empty_value` (its clamped base), so a group's raw value is
`base + children_empty + Σ(child.value − child.empty_value)` over the members it has. Results are
dense: every subject of the scheme gets one, ranked inside its group.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection

from kaoping.schemes.models import FACTOR_SCALE, QTY_SCALE
from kaoping.schemes.spec import ADJUST_CODE, OVERLAY_MARK, ROOT_CODE

from .breakdown import CODE, PART_PREFIX, concat_agg, pack_sql, unpacked

WEIGHT_SCALE = 10000  # composite part weights (0.4 → 4000)


def rdiv(numerator: str, denominator: str) -> str:
    """SQL integer division rounding half away from zero; `denominator` must be positive."""
    return (
        f"(CASE WHEN ({numerator}) >= 0 THEN (({numerator}) + ({denominator}) / 2) / ({denominator}) "
        f"ELSE -((({denominator}) / 2 - ({numerator})) / ({denominator})) END)"
    )


def text_literal(text: str) -> str:
    """`text` as an SQL string literal inside a statement executed with parameters: a variant's
    name is a county's free text (`spec.Label`), so a quote is doubled and so is a percent sign
    (both drivers read `%` as the start of a placeholder)."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def clamp(value: str, lo: str, hi: str) -> str:
    return (
        f"(CASE WHEN {hi} IS NOT NULL AND {value} > {hi} THEN {hi} "
        f"WHEN {lo} IS NOT NULL AND {value} < {lo} THEN {lo} ELSE {value} END)"
    )


@dataclass
class Scope:
    """What a close of one period scores: its ids, its subjects, its entries' date range."""

    period_id: int
    version_id: int
    scheme_id: int
    subject_kind: str
    region_prefix: str
    start: str
    end: str
    cadence: str
    variants: list[str] = field(default_factory=list)
    # Townships and villages with overlays (`SchemeSpec.overlay_regions`): their subjects are
    # scored with the tree keyed `<variant>@<region>`, the most specific region they lie in.
    overlay_regions: list[str] = field(default_factory=list)
    rank_within: str = "county"
    rank_dense: bool = False
    rank_ascending: bool = False
    period_label: str = ""  # metric values are keyed by (scheme, label)
    # `no_data: exclude`: a condition on the subject row `s` that keeps only subjects with data
    # (see data_filter); None scores every subject.
    data_filter: tuple[str, list] | None = None

    def variant_sql(self, alias: str, region: str = "r") -> tuple[str, list]:
        """The variant of the tree the subject row `alias` (in the region row `region`) is
        scored with, and its params: `SchemeSpec.variant_for` in SQL."""
        if not self.variants and not self.overlay_regions:
            return "''", []
        parts, params = [], []
        if self.variants:
            marks = ", ".join(["%s"] * len(self.variants))
            parts.append(f"CASE WHEN {alias}.track IN ({marks}) THEN {alias}.track ELSE '' END")
            params += self.variants
        if self.overlay_regions:
            # The longest code first: a village's overlays include its township's.
            whens = []
            for code in sorted(self.overlay_regions, key=len, reverse=True):
                whens.append(f"WHEN SUBSTR({region}.code, 1, {len(code)}) = %s THEN %s")
                params += [code, OVERLAY_MARK + code]
            parts.append(f"CASE {' '.join(whens)} ELSE '' END")
        return "(" + " || ".join(parts) + ")", params

    @property
    def keyed(self) -> bool:
        """Whether subjects are scored with more than one tree (variants or overlays)."""
        return bool(self.variants or self.overlay_regions)

    def subject_join(self, on: str) -> str:
        """The joins `variant_sql("s")` needs for the subject id `on`, when it needs any."""
        if not self.keyed:
            return ""
        region = "JOIN regions_region r ON r.id = s.region_id " if self.overlay_regions else ""
        return f"JOIN people_subject s ON s.id = {on} {region}"

    def cte(self) -> tuple[str, list]:
        variant, variant_params = self.variant_sql("s")
        group = {
            "county": "''",
            "township": "SUBSTR(r.code, 1, 9)",
            "village": "SUBSTR(r.code, 1, 12)",
            "track": "s.track",
            "class": "s.track",
            "natural_village": natural_village_group("r", "s"),
        }[self.rank_within]
        only, only_params = self.data_filter or ("", [])
        sql = (
            f"WITH u AS NOT MATERIALIZED (SELECT s.id AS subject_id, {variant} AS variant, {group} AS rank_group "
            "FROM people_subject s JOIN regions_region r ON r.id = s.region_id "
            "WHERE s.kind = %s AND s.active = %s AND r.code >= %s AND r.code < %s"
            f"{' AND ' + only if only else ''}) "
        )
        return sql, [
            *variant_params,
            self.subject_kind,
            True,
            self.region_prefix,
            self.region_prefix + ":",
            *only_params,
        ]


def natural_village_group(region: str, subject: str) -> str:
    """The ranking group of `within: natural_village` of the subject row `subject` (a household)
    in the region row `region`: `<village code>/<natural village code>` when its household
    belongs to one, else the village's code (`regions.models.natural_village_group`)."""
    return (
        "COALESCE((SELECT nv_v.code || '/' || nv_n.code FROM people_household nv_h "
        "JOIN regions_naturalvillage nv_n ON nv_n.id = nv_h.natural_village_id "
        "JOIN regions_region nv_v ON nv_v.id = nv_n.village_id "
        f"WHERE nv_h.id = {subject}.household_id), SUBSTR({region}.code, 1, 12))"
    )


def data_filter(
    scope: Scope, *, entry_cadence: str, child_ids: list[int], computed_metrics: list[str]
) -> tuple[str, list]:
    """Has the subject row `s` any data for the close of `scope`? (`scoring.no_data_outcome`)

    An approved entry of the scheme dated in the period and of `entry_cadence` that the close
    did not compute itself, or a reported metric value of the period; for a roll-up
    (`child_ids`), also a result in one of the periods it is computed from.
    """
    parts = [
        "EXISTS (SELECT 1 FROM ledger_entry e WHERE e.subject_id = s.id AND "
        f"{PERIOD_ENTRIES} AND e.source <> %s)",
    ]
    params: list = [scope.scheme_id, entry_cadence, scope.start, scope.end, "computed"]
    computed = ", ".join(["%s"] * len(computed_metrics))
    parts.append(
        "EXISTS (SELECT 1 FROM ledger_metricvalue m WHERE m.subject_id = s.id "
        "AND m.scheme_id = %s AND m.period_label = %s"
        + (f" AND m.metric NOT IN ({computed}))" if computed_metrics else ")")
    )
    params += [scope.scheme_id, scope.period_label, *computed_metrics]
    if child_ids:
        marks = ", ".join(["%s"] * len(child_ids))
        parts.append(
            "EXISTS (SELECT 1 FROM periods_result c WHERE c.subject_id = s.id "
            f"AND c.period_id IN ({marks}))"
        )
        params += child_ids
    return "(" + " OR ".join(parts) + ")", params


def without_data_statement(scope: Scope, condition: tuple[str, list]) -> tuple[str, list]:
    """The subjects the close of `scope` scores that fail `condition` (see data_filter): id, name."""
    sql, params = condition
    return (
        "SELECT s.id, s.name FROM people_subject s JOIN regions_region r ON r.id = s.region_id "
        "WHERE s.kind = %s AND s.active = %s AND r.code >= %s AND r.code < %s "
        f"AND NOT {sql} ORDER BY r.code, s.name, s.id",
        [scope.subject_kind, True, scope.region_prefix, scope.region_prefix + ":", *params],
    )


# The approved entries of a close's period (params: scheme, cadence, start, end).
PERIOD_ENTRIES = (
    "e.scheme_id = %s AND e.status = 'approved' AND e.cadence = %s "
    "AND e.occurred_on >= %s AND e.occurred_on <= %s"
)
CLAMPED = clamp("y.raw", "y.lo", "y.hi")
# The columns of an item row (`it`) and of a level's rows: the node's values, its veto effects
# carried up (zero and bar as 0/1, forced the highest position of a grade a veto forces), and,
# for a level, its members of the breakdown.
ITEM_COLUMNS = (
    "subject_id, variant, code, parent_code, depth, raw, value, empty_value, cnt, fired, "
    "zero, bar, forced"
)


@dataclass(frozen=True)
class GroupNode:
    """A group of the version's tree (the root included), with what the close reads of it in
    each variant that has it: (base + children's empty values, lo, hi, empty_value)."""

    code: str
    parent_code: str | None
    depth: int
    constants: dict[str, tuple[int, int | None, int | None, int]]


@dataclass
class TreeShape:
    """What the tree close of a version needs to know of its nodes: the item aggregates it has
    (a statement for a kind it lacks would still read every entry) and its groups."""

    aggregates: set[str]
    groups: list[GroupNode]


def _item_selects(scope: Scope, entry_cadence: str, aggregates: set[str]) -> list[tuple[str, list]]:
    """SELECTs of ITEM_COLUMNS for the items with data, one per kind of item the version has."""
    entry_params = [scope.scheme_id, entry_cadence, scope.start, scope.end]
    item_join = (
        "JOIN schemes_schemenode n ON n.version_id = %s AND n.variant = x.variant "
        "AND n.code = x.item_code AND n.is_item = %s "
    )
    no_veto = "0 AS fired, 0 AS zero, 0 AS bar, CAST(NULL AS INTEGER) AS forced"
    selects = []

    # Count and quantity items (net quantity × points per unit) and veto items (fired while any
    # approved entry stands, net of reversals; worth no points) in one pass over the entries:
    # both group them by subject and item alike, and the entries are the largest table read.
    # They are grouped before they meet the subjects, so a subject is looked up once per item,
    # not once per entry.
    if aggregates & {"sum", "veto"}:
        entries = (
            "SELECT g.subject_id, g.item_code, u.variant, g.q, g.cnt FROM (SELECT e.subject_id, "
            "e.item_code, CAST(SUM(e.sign * e.quantity_scaled) AS BIGINT) AS q, "
            f"CAST(SUM(e.sign) AS BIGINT) AS cnt FROM ledger_entry e WHERE {PERIOD_ENTRIES} "
            "GROUP BY e.subject_id, e.item_code) g JOIN u ON u.subject_id = g.subject_id"
        )
        scored = rdiv("x.q * n.points", str(QTY_SCALE))
        forced = (
            "(SELECT g.position FROM schemes_schemegrade g WHERE g.version_id = %s "
            "AND g.code = y.veto_grade)"
        )
        selects.append(
            (
                "SELECT y.subject_id, y.variant, y.code, y.parent_code, y.depth, y.raw, "
                f"CASE WHEN y.veto = 1 THEN 0 ELSE {CLAMPED} END, y.empty_value, y.cnt, y.fired, "
                "CASE WHEN y.fired = 1 AND y.veto_effect = 'zero' THEN 1 ELSE 0 END, "
                "CASE WHEN y.fired = 1 AND y.veto_effect = 'bar' THEN 1 ELSE 0 END, "
                f"CASE WHEN y.fired = 1 AND y.veto_effect = 'grade' THEN {forced} END "
                "FROM (SELECT x.subject_id, x.variant, n.code, n.parent_code, n.depth, n.lo, n.hi, "
                "n.veto_effect, n.veto_grade, x.cnt, "
                "CASE WHEN n.aggregate = 'veto' THEN 1 ELSE 0 END AS veto, "
                "CASE WHEN n.aggregate = 'veto' AND x.cnt > 0 THEN 1 ELSE 0 END AS fired, "
                "CASE WHEN n.aggregate = 'veto' THEN 0 ELSE n.empty_value END AS empty_value, "
                f"CASE WHEN n.aggregate = 'veto' THEN 0 ELSE {scored} END AS raw "
                f"FROM ({entries}) x {item_join} AND n.aggregate IN ('sum', 'veto')) y",
                [scope.version_id, *entry_params, scope.version_id, True],
            )
        )

    # Rating items: the mean of the level factors given in the period, × weight.
    if "mean" in aggregates:
        entries = (
            "SELECT e.subject_id, e.item_code, u.variant, "
            "CAST(SUM(e.sign * l.factor) AS BIGINT) AS fs, CAST(SUM(e.sign) AS BIGINT) AS cnt "
            "FROM ledger_entry e JOIN u ON u.subject_id = e.subject_id "
            "JOIN schemes_schemelevel l ON l.version_id = %s AND l.variant = u.variant "
            "AND l.item_code = e.item_code AND l.label = e.label "
            f"WHERE {PERIOD_ENTRIES} GROUP BY e.subject_id, e.item_code, u.variant"
        )
        selects.append(
            (
                "SELECT y.subject_id, y.variant, y.code, y.parent_code, y.depth, y.raw, "
                f"{CLAMPED}, y.empty_value, y.cnt, {no_veto} "
                "FROM (SELECT x.subject_id, x.variant, n.code, n.parent_code, n.depth, n.lo, n.hi, "
                "n.empty_value, x.cnt, CASE WHEN x.cnt > 0 THEN "
                f"{rdiv('x.fs * n.weight', f'x.cnt * {FACTOR_SCALE}')} ELSE 0 END AS raw "
                f"FROM ({entries}) x {item_join} AND n.aggregate = 'mean') y",
                [scope.version_id, *entry_params, scope.version_id, True],
            )
        )

    if "metric" in aggregates:
        sql, params = _metric_select(scope)
        selects.append((sql, params))
    return selects


def _metric_select(scope: Scope) -> tuple[str, list]:
    """Metric items: the points of the band holding the subject's metric value for the period,
    or, for a linear item, base + step × (value − target) ÷ unit held to its floor and max.

    Linear, scaled: points × S, metric numbers × M, so (step × S) × (d × M) ÷ (unit × M) is
    the points × S of step × d ÷ unit; base × unit joins the numerator so that the one rdiv
    rounds the whole sum half away from zero, as `scoring.item_value` does (rounding the
    fraction alone and adding the base would give 10 + round(−2.5) = 7, not round(7.5) = 8).
    Floor and max are whole in S, so holding after rounding is holding before. The deviation
    d is held to the node's reach first (in the inner layer, so that the clamps and the
    division repeat a column, not an expression): beyond it floor or max decide anyway, and
    the product stays inside 64 bits (the scheme checks refuse a line that could leave them).
    """
    deviation = clamp(
        "(m.value_scaled - n.linear_target)", "n.linear_reach_lo", "n.linear_reach_hi"
    )
    line = rdiv("z.linear_base * z.linear_unit + z.linear_step * z.d", "z.linear_unit")
    linear = clamp(line, "z.linear_floor", "z.linear_max")
    band = (
        "(SELECT b.points FROM schemes_schemeband b WHERE b.version_id = z.version_id "
        "AND b.variant = z.variant AND b.item_code = z.code "
        "AND (b.lo IS NULL OR z.value_scaled > b.lo OR (b.lo_inclusive AND z.value_scaled = b.lo)) "
        "AND (b.hi IS NULL OR z.value_scaled < b.hi OR (b.hi_inclusive AND z.value_scaled = b.hi)) "
        "ORDER BY b.id LIMIT 1)"
    )
    matched = (
        "SELECT m.subject_id, u.variant, m.value_scaled, n.version_id, n.code, n.parent_code, "
        "n.depth, n.lo, n.hi, n.empty_value, n.linear_base, n.linear_step, n.linear_unit, "
        f"n.linear_floor, n.linear_max, {deviation} AS d "
        "FROM ledger_metricvalue m JOIN u ON u.subject_id = m.subject_id "
        "JOIN schemes_schemenode n ON n.version_id = %s AND n.variant = u.variant AND n.is_item = %s "
        "AND n.aggregate = 'metric' AND n.metric = m.metric "
        "WHERE m.scheme_id = %s AND m.period_label = %s"
    )
    return (
        "SELECT y.subject_id, y.variant, y.code, y.parent_code, y.depth, y.raw, "
        f"{CLAMPED}, y.empty_value, 0, 0, 0, 0, CAST(NULL AS INTEGER) "
        "FROM (SELECT z.subject_id, z.variant, z.code, z.parent_code, z.depth, z.lo, z.hi, "
        "z.empty_value, "
        f"CASE WHEN z.linear_unit IS NULL THEN COALESCE({band}, 0) ELSE {linear} END AS raw "
        f"FROM ({matched}) z) y",
        [scope.version_id, True, scope.scheme_id, scope.period_label],
    )


def _constant(group: GroupNode, index: int, variant: str) -> str:
    """One of the group's constants as SQL on the variant column `variant`: a literal when every
    variant that has the group agrees, else a CASE over the variants."""
    values = {v: c[index] for v, c in group.constants.items()}

    def literal(x: int | None) -> str:
        # A bare NULL in a derived column is text to PostgreSQL.
        return "CAST(NULL AS BIGINT)" if x is None else str(int(x))

    if len(set(values.values())) == 1:
        return literal(next(iter(values.values())))
    whens = " ".join(f"WHEN {text_literal(v)} THEN {literal(x)}" for v, x in sorted(values.items()))
    return f"(CASE {variant} {whens} END)"


def _tree_layers(shape: TreeShape, pack: bool = True) -> tuple[str, str]:
    """(CTEs, name of the last) computing every group of the tree for one subject from its item
    rows `it`: `t0` groups the items by subject, then `t1`, `t2`, … add one depth each, deepest
    first, as columns of the same row. CTEs rather than nested subqueries: SQLite's parser has
    a fixed stack that a deep tree's nesting overflows; each is read once, so both engines
    inline it.

    Per group k: x{k} 1 when something below it has data (else the group has no member), r{k} its raw value (base + children's empty values + Σ(child − child's empty)
    over the children with members), v{k} clamped. The items' members of the breakdown are
    joined in the grouping; each group with members adds its own in the last layer.
    """
    index = {g.code: k for k, g in enumerate(shape.groups)}
    for code in index:  # inlined below
        if not CODE.fullmatch(code) and code != ROOT_CODE:
            raise ValueError(code)
    aggregates = [
        "it.subject_id, it.variant, MAX(it.zero) AS zero, MAX(it.bar) AS bar, "
        f"MAX(it.forced) AS forced, "
        f"{concat_agg(pack_sql('it', 'it.fired')) if pack else 'NULL'} AS items"
    ]
    for g in shape.groups:
        k = index[g.code]
        aggregates.append(
            # NULL when no item of the subject is under the group (SUM of nothing).
            f"CAST(SUM(CASE WHEN it.parent_code = '{g.code}' THEN it.value - it.empty_value END) AS BIGINT) AS id{k}"
        )
    ctes = f", t0 AS (SELECT {', '.join(aggregates)} FROM it GROUP BY it.subject_id, it.variant)"
    last = 0
    for depth in sorted({g.depth for g in shape.groups}, reverse=True):
        columns = []
        for g in (g for g in shape.groups if g.depth == depth):
            k = index[g.code]
            children = [index[c.code] for c in shape.groups if c.parent_code == g.code]
            x = " OR ".join([f"p.id{k} IS NOT NULL", *(f"p.x{c} = 1" for c in children)])
            delta = " + ".join(
                [
                    f"COALESCE(p.id{k}, 0)",
                    *(f"CASE WHEN p.x{c} = 1 THEN p.v{c} - p.e{c} ELSE 0 END" for c in children),
                ]
            )
            start, lo, hi, empty = (_constant(g, i, "p.variant") for i in range(4))
            columns.append(
                f"CASE WHEN {x} THEN 1 ELSE 0 END AS x{k}, {start} + {delta} AS r{k}, "
                f"{empty} AS e{k}, "
                f"{lo} AS lo{k}, {hi} AS hi{k}"
            )
        clamped = ", ".join(
            f"{clamp(f'q.r{index[g.code]}', f'q.lo{index[g.code]}', f'q.hi{index[g.code]}')} AS v{index[g.code]}"
            for g in shape.groups
            if g.depth == depth
        )
        ctes += (
            f", t{last + 1} AS (SELECT q.*, {clamped} FROM "
            f"(SELECT p.*, {', '.join(columns)} FROM t{last} p) q)"
        )
        last += 1
    return ctes, f"t{last}"


def tree_select(
    scope: Scope, entry_cadence: str, shape: TreeShape, pack: bool = True
) -> tuple[str, list, str, list]:
    """(WITH clause, its params, SELECT, its params) of a tree close: one row per subject of the
    scope with subject_id, variant, rank_group, raw_total, total, zero, bar (0/1), forced_code
    (a grade a veto forced) and pack (the breakdown's members, NULL without data; always NULL
    with `pack` False, the results alone, which `kaoping bench close` measures beside it).

    The items with data (`it`) are grouped once, by subject; the groups of the tree are then
    columns of that one row, computed depth by depth (`_tree_layers`). One GROUP BY over the
    items, as a hand-written total would have, and nothing written but the results.
    """
    cte, cte_params = scope.cte()
    selects = _item_selects(scope, entry_cadence, shape.aggregates)
    root = next(g for g in shape.groups if g.code == ROOT_CODE)
    k = shape.groups.index(root)
    members = (
        "NULL"
        if not pack
        else " || ".join(
            [
                "p.items",
                *(
                    f"CASE WHEN p.x{i} = 1 THEN ',\"{g.code}\":[' || p.v{i} || ',' || p.r{i} || ',' "
                    f"|| p.e{i} || ',0,0]' ELSE '' END"
                    for i, g in enumerate(shape.groups)
                ),
            ]
        )
    )
    # Every subject of `u`, with its tree's row when it has data.
    rows = (
        "SELECT u.subject_id, u.variant, u.rank_group, CAST(NULL AS BIGINT) AS value, "
        "CAST(NULL AS INTEGER) AS zero, CAST(NULL AS INTEGER) AS bar, "
        "CAST(NULL AS INTEGER) AS forced, CAST(NULL AS TEXT) AS pack FROM u"
    )
    if selects:
        cte += (
            f", it ({ITEM_COLUMNS}) AS ("
            + " UNION ALL ".join(sql for sql, _params in selects)
            + ") "
        )
        cte_params += [p for _sql, item_params in selects for p in item_params]
        layers, tree = _tree_layers(shape, pack)
        cte += layers + " "
        rows += (
            f" UNION ALL SELECT p.subject_id, NULL, NULL, p.v{k}, p.zero, p.bar, p.forced, "
            f"{members} FROM {tree} p"
        )
    # Not `u LEFT JOIN` the tree's rows: SQLite may take a grouped subquery for a small table
    # and scan it once per subject.
    grouped_rows = (
        "SELECT x.subject_id, MAX(x.variant) AS variant, MAX(x.rank_group) AS rank_group, "
        "MAX(x.value) AS value, MAX(x.zero) AS zero, MAX(x.bar) AS bar, "
        f"MAX(x.forced) AS forced, MAX(x.pack) AS pack FROM ({rows}) x GROUP BY x.subject_id"
    )
    select = (
        "SELECT r.subject_id, r.variant, r.rank_group, "
        "COALESCE(r.value, rootnode.empty_value) AS raw_total, "
        "CASE WHEN r.zero = 1 THEN 0 ELSE COALESCE(r.value, rootnode.empty_value) END AS total, "
        "COALESCE(r.zero, 0) AS zero, COALESCE(r.bar, 0) AS bar, fg.code AS forced_code, "
        "r.pack AS pack "
        f"FROM ({grouped_rows}) r JOIN schemes_schemenode rootnode ON rootnode.version_id = %s "
        "AND rootnode.variant = r.variant AND rootnode.code = %s "
        "LEFT JOIN schemes_schemegrade fg ON fg.version_id = %s AND fg.position = r.forced"
    )
    return cte, cte_params, select, [scope.version_id, ROOT_CODE, scope.version_id]


def _grade_sql(total: str) -> str:
    """The first grade (in file order) whose interval holds `total`; honours withheld when barred.

    Params: version id, ',<cadence>,'.
    """
    return (
        "(SELECT g.code FROM schemes_schemegrade g WHERE g.version_id = %s "
        "AND (g.cadences = '' OR (',' || g.cadences || ',') LIKE %s) "
        f"AND (g.lo IS NULL OR {total} > g.lo OR (g.lo_inclusive AND {total} = g.lo)) "
        f"AND (g.hi IS NULL OR {total} < g.hi OR (g.hi_inclusive AND {total} = g.hi)) "
        "AND (g.honour = %s OR t.barred = %s) "
        f"AND {_grade_given('t.variant')} "
        "ORDER BY g.position LIMIT 1)"
    )


def _grade_given(variant: str) -> str:
    """The grade `g` is given to a subject scored with the tree `variant`: it is limited to no
    variant, or to one whose trees include it (`SchemeGrade.variants`, `Grade.given_to`)."""
    return (
        "(NOT EXISTS (SELECT 1 FROM schemes_schemegradevariant gv WHERE gv.grade_id = g.id) "
        "OR EXISTS (SELECT 1 FROM schemes_schemegradevariant gv WHERE gv.grade_id = g.id "
        f"AND gv.variant = {variant}))"
    )


def _rank_sql(scope: Scope) -> str:
    function = "DENSE_RANK()" if scope.rank_dense else "RANK()"
    order = "ASC" if scope.rank_ascending else "DESC"
    return f"{function} OVER (PARTITION BY t.rank_group ORDER BY t.total {order})"


INSERT_RESULT = (
    "INSERT INTO periods_result (period_id, subject_id, variant, raw_total, total, grade_code, "
    "grade_forced, zeroed, barred, rank_group, rank, breakdown) "
)


def _graded(scope: Scope) -> tuple[str, list]:
    """The SELECT list of a result row from the row `t` (subject_id, variant, raw_total, total,
    zeroed, barred, forced_code, rank_group, breakdown), and its params: the grade (the forced
    one, else the first whose interval holds the total) and the rank within its group."""
    return (
        "SELECT %s, t.subject_id, t.variant, t.raw_total, t.total, "
        f"COALESCE(t.forced_code, {_grade_sql('t.total')}, ''), t.forced_code IS NOT NULL, "
        f"t.zeroed, t.barred, t.rank_group, {_rank_sql(scope)}, t.breakdown ",
        [scope.period_id, scope.version_id, f"%,{scope.cadence},%", False, False],
    )


def _packed(select: str) -> str:
    """The rows of a tree_select `select` as `_graded` reads them: flags as booleans and the
    breakdown as a JSON object."""
    return (
        "FROM (SELECT s.subject_id, s.variant, s.rank_group, s.raw_total, s.total, "
        "s.zero = 1 AS zeroed, s.bar = 1 AS barred, s.forced_code, "
        "CASE WHEN s.pack IS NULL THEN '{}' ELSE '{' || s.pack || '}' END AS breakdown "
        f"FROM ({select}) s) t"
    )


def result_statement(
    scope: Scope, entry_cadence: str, shape: TreeShape, pack: bool = True
) -> tuple[str, list]:
    """Dense results of a tree close, with their breakdowns: root value, veto effects, grade,
    rank within group. The one statement a period of the scheme's own cadence is closed by."""
    cte, cte_params, select, select_params = tree_select(scope, entry_cadence, shape, pack)
    graded, graded_params = _graded(scope)
    return (
        INSERT_RESULT + cte + graded + _packed(select),
        [*cte_params, *graded_params, *select_params],
    )


# --- roll-ups ------------------------------------------------------------------------------
#
# A roll-up's nodes are each node's sum or mean over its child periods' breakdowns, and a
# composite's parts are rows of their own. They are staged in two temporary tables for the
# length of the close (no log, no index but what the reads need) and packed into the results'
# breakdowns by the result statement: NODES holds the node and part rows, TREE a composite's
# own assessment (its tree closed as a month is).
NODES = "kaoping_close_nodes"
TREE = "kaoping_close_tree"


def staging_statements() -> list[tuple[str, list]]:
    """Create the staging tables of a roll-up close, empty (temporary: this connection's)."""
    return [
        *drop_staging_statements(),
        (
            f"CREATE TEMPORARY TABLE {NODES} (subject_id BIGINT NOT NULL, code VARCHAR(80) NOT NULL, "
            "raw BIGINT NOT NULL, value BIGINT NOT NULL, empty_value BIGINT NOT NULL, "
            "cnt BIGINT NOT NULL, fired INTEGER NOT NULL)",
            [],
        ),
        (f"CREATE INDEX {NODES}_subject ON {NODES} (subject_id, code)", []),
        (
            f"CREATE TEMPORARY TABLE {TREE} (subject_id BIGINT PRIMARY KEY, total BIGINT NOT NULL, "
            "bar INTEGER NOT NULL, forced_code VARCHAR(64), pack TEXT)",
            [],
        ),
    ]


def drop_staging_statements() -> list[tuple[str, list]]:
    return [(f"DROP TABLE IF EXISTS {NODES}", []), (f"DROP TABLE IF EXISTS {TREE}", [])]


INSERT_STAGED = f"INSERT INTO {NODES} (subject_id, code, raw, value, empty_value, cnt, fired) "


def tree_stage_statement(scope: Scope, entry_cadence: str, shape: TreeShape) -> tuple[str, list]:
    """A composite's own assessment: its tree closed into TREE (total 0 where a zero veto fired)."""
    cte, cte_params, select, select_params = tree_select(scope, entry_cadence, shape)
    return (
        f"INSERT INTO {TREE} (subject_id, total, bar, forced_code, pack) "
        + cte
        + f"SELECT t.subject_id, t.total, t.bar, t.forced_code, t.pack FROM ({select}) t",
        [*cte_params, *select_params],
    )


def rollup_node_statement(scope: Scope, child_ids: list[int], mean: bool) -> tuple[str, list]:
    """A roll-up's nodes, staged: the sum or mean over the child periods' breakdowns of each
    node's value."""
    cte, cte_params = scope.cte()
    k = len(child_ids)
    marks = ", ".join(["%s"] * k)
    total = f"(c.delta + {k} * c.empty_value)"
    raw = rdiv(total, str(k)) if mean else total
    join, key, (value, _raw, empty, count, _fired) = unpacked("r")
    members = (
        f"SELECT r.subject_id, {key} AS code, {value} AS value, {empty} AS empty_value, "
        f"{count} AS cnt FROM periods_result r {join} JOIN u ON u.subject_id = r.subject_id "
        f"WHERE r.period_id IN ({marks}) AND SUBSTR({key}, 1, {len(PART_PREFIX)}) <> %s"
    )
    return (
        INSERT_STAGED + cte + f"SELECT c.subject_id, c.code, {raw}, {raw}, c.empty_value, c.cnt, 0 "
        "FROM (SELECT x.subject_id, x.code, x.empty_value, "
        "CAST(SUM(x.value - x.empty_value) AS BIGINT) AS delta, CAST(SUM(x.cnt) AS BIGINT) AS cnt "
        f"FROM ({members}) x GROUP BY x.subject_id, x.code, x.empty_value) c",
        [*cte_params, *child_ids, PART_PREFIX],
    )


def part_statement(scope: Scope, code: str, child_ids: list[int], mean: bool) -> tuple[str, list]:
    """One composite part from the child periods' totals, as a staged row.

    The row keeps the exact sum in `raw` and the number of periods in `cnt`, so that the
    composite weighs the unrounded mean; `value` is the rounded part for display. A `sum` part
    counts the root base once: base + Σ(total − base).
    """
    cte, cte_params = scope.cte()
    marks = ", ".join(["%s"] * len(child_ids))
    summed = "CAST(COALESCE(SUM(res.total), 0) AS BIGINT)"
    count = "COUNT(res.id)"
    if mean:
        raw, periods, value = (
            summed,
            count,
            f"CASE WHEN {count} = 0 THEN 0 ELSE {rdiv(summed, count)} END",
        )
    else:
        raw = value = f"(rootnode.base + {summed} - {count} * rootnode.base)"
        periods = "1"
    return (
        INSERT_STAGED + cte + f"SELECT u.subject_id, %s, {raw}, {value}, 0, {periods}, 0 "
        "FROM u JOIN schemes_schemenode rootnode ON rootnode.version_id = %s AND rootnode.variant = u.variant "
        "AND rootnode.code = %s "
        f"LEFT JOIN periods_result res ON res.subject_id = u.subject_id AND res.period_id IN ({marks}) "
        "GROUP BY u.subject_id, rootnode.base",
        [*cte_params, PART_PREFIX + code, scope.version_id, ROOT_CODE, *child_ids],
    )


def self_part_statement(scope: Scope) -> tuple[str, list]:
    """The composite's own assessment as a part: its tree's total (0 if a zero veto fired)."""
    return (
        INSERT_STAGED + f"SELECT t.subject_id, %s, t.total, t.total, 0, 1, 0 FROM {TREE} t",
        [PART_PREFIX + "self"],
    )


def adjust_part_statement(scope: Scope, scale: int) -> tuple[str, list]:
    """± adjustments of a roll-up: entries on ADJUST_CODE, their quantity read as points.

    `value` is the adjustment rounded (for display); `raw` keeps it exact, × QTY_SCALE, because
    the roll-up adds it to its unrounded total and rounds once (an adjustment may carry the
    ledger's three decimals in a scheme that keeps fewer).
    """
    cte, cte_params = scope.cte()
    entries = (
        "SELECT e.subject_id, CAST(SUM(e.sign * e.quantity_scaled) AS BIGINT) AS q, COUNT(*) AS cnt "
        "FROM ledger_entry e JOIN u ON u.subject_id = e.subject_id "
        f"WHERE {PERIOD_ENTRIES} AND e.item_code = %s GROUP BY e.subject_id"
    )
    value = rdiv(f"x.q * {scale}", str(QTY_SCALE))
    return (
        INSERT_STAGED
        + cte
        + f"SELECT x.subject_id, %s, x.q * {scale}, {value}, 0, x.cnt, 0 FROM ({entries}) x",
        [
            *cte_params,
            PART_PREFIX + "adjust",
            scope.scheme_id,
            scope.cadence,
            scope.start,
            scope.end,
            ADJUST_CODE,
        ],
    )


def rollup_result_statement(
    scope: Scope, *, child_ids: list[int], mean: bool, parts: list[tuple[str, int]] | None = None
) -> tuple[str, list]:
    """Dense results of a roll-up, as `scoring.rollup_total` defines them, with breakdowns.

    Sum: base + Σ(total − base); mean: Σ total / periods present; composite: Σ weight × part,
    from the part rows staged before. Each is kept as an exact fraction num / den (a common
    denominator for the composite), the exact adjustment is added, and the sum is rounded once
    and clamped to the root's floor and max. `bar` and `grade` vetoes of the child periods
    (and of the composite's own tree) carry up; `zero` does not. The breakdown packs the staged
    rows and the composite's own tree.

    Layered so that clamps and divisions, which repeat their operands, repeat column names only.
    """
    cte, cte_params = scope.cte()
    marks = ", ".join(["%s"] * len(child_ids)) or "NULL"
    if parts is None:
        summed = "CAST(COALESCE(SUM(res.total), 0) AS BIGINT)"
        count = "COUNT(res.id)"
        if mean:
            num, den = summed, f"(CASE WHEN {count} = 0 THEN 1 ELSE {count} END)"
        else:
            num, den = f"(rootnode.base + {summed} - {count} * rootnode.base)", "1"
        per_subject = (
            f"SELECT u.subject_id, u.variant, u.rank_group, rootnode.lo, rootnode.hi, {num} AS num, {den} AS den "
            "FROM u JOIN schemes_schemenode rootnode ON rootnode.version_id = %s AND rootnode.variant = u.variant "
            "AND rootnode.code = %s "
            f"LEFT JOIN periods_result res ON res.subject_id = u.subject_id AND res.period_id IN ({marks}) "
            "GROUP BY u.subject_id, u.variant, u.rank_group, rootnode.base, rootnode.lo, rootnode.hi"
        )
        per_subject_params = [scope.version_id, ROOT_CODE, *child_ids]
    else:
        codes = [code for code, _weight in parts]
        # Part codes come from the cadence enum, never from user text, so they are inlined.
        assert all(code.replace("_", "").isalpha() for code in codes), codes
        pivot = ", ".join(
            f"CAST(COALESCE(SUM(CASE WHEN p.code = '{PART_PREFIX}{c}' THEN p.raw END), 0) AS BIGINT) AS s_{c}, "
            f"CAST(COALESCE(SUM(CASE WHEN p.code = '{PART_PREFIX}{c}' THEN p.cnt END), 0) AS BIGINT) AS n_{c}"
            for c in codes
        )
        counts = {c: f"(CASE WHEN COALESCE(q.n_{c}, 0) = 0 THEN 1 ELSE q.n_{c} END)" for c in codes}
        terms = [
            " * ".join(
                [f"COALESCE(q.s_{c}, 0)", str(weight), *(counts[o] for o in codes if o != c)]
            )
            for c, weight in parts
        ]
        denominator = " * ".join([*counts.values(), str(WEIGHT_SCALE)])
        per_subject = (
            f"SELECT u.subject_id, u.variant, u.rank_group, rootnode.lo, rootnode.hi, "
            f"{' + '.join(terms)} AS num, {denominator} AS den "
            "FROM u JOIN schemes_schemenode rootnode ON rootnode.version_id = %s AND rootnode.variant = u.variant "
            "AND rootnode.code = %s "
            f"LEFT JOIN (SELECT p.subject_id, {pivot} FROM {NODES} p "
            f"WHERE SUBSTR(p.code, 1, {len(PART_PREFIX)}) = %s GROUP BY p.subject_id) q "
            "ON q.subject_id = u.subject_id"
        )
        per_subject_params = [scope.version_id, ROOT_CODE, PART_PREFIX]
    vetoes = (
        "SELECT x.subject_id, MAX(x.barred) AS barred, MAX(x.forced_position) AS forced_position FROM ("
        "SELECT res.subject_id, CASE WHEN res.barred THEN 1 ELSE 0 END AS barred, "
        "CASE WHEN res.grade_forced THEN g.position END AS forced_position "
        "FROM periods_result res LEFT JOIN schemes_schemegrade g ON g.version_id = %s AND g.code = res.grade_code "
        f"WHERE res.period_id IN ({marks}) "
        f"UNION ALL SELECT t.subject_id, t.bar, g.position FROM {TREE} t "
        "LEFT JOIN schemes_schemegrade g ON g.version_id = %s AND g.code = t.forced_code) x "
        "GROUP BY x.subject_id"
    )
    vetoes_params = [scope.version_id, *child_ids, scope.version_id]
    # One rounding: (num / den) + (adjustment × QTY_SCALE) / QTY_SCALE over a common denominator.
    adjusted = rdiv(f"i.num * {QTY_SCALE} + COALESCE(a.raw, 0) * i.den", f"i.den * {QTY_SCALE}")
    staged = (
        f"SELECT n.subject_id, {concat_agg(pack_sql('n', 'n.fired'))} AS pack "
        f"FROM {NODES} n GROUP BY n.subject_id"
    )
    inner = (
        f"SELECT i.subject_id, i.variant, i.rank_group, {clamp(adjusted, 'i.lo', 'i.hi')} AS total, "
        "COALESCE(v.barred, 0) = 1 AS barred, fg.code AS forced_code, '{' || "
        "COALESCE(own.pack, '') || CASE WHEN own.pack IS NOT NULL AND bp.pack IS NOT NULL "
        "THEN ',' ELSE '' END || COALESCE(bp.pack, '') || '}' AS breakdown "
        f"FROM ({per_subject}) i "
        f"LEFT JOIN {NODES} a ON a.subject_id = i.subject_id AND a.code = %s "
        f"LEFT JOIN ({vetoes}) v ON v.subject_id = i.subject_id "
        "LEFT JOIN schemes_schemegrade fg ON fg.version_id = %s AND fg.position = v.forced_position "
        f"LEFT JOIN {TREE} own ON own.subject_id = i.subject_id "
        f"LEFT JOIN ({staged}) bp ON bp.subject_id = i.subject_id"
    )
    inner_params = [
        *per_subject_params,
        PART_PREFIX + "adjust",
        *vetoes_params,
        scope.version_id,
    ]
    graded, graded_params = _graded(scope)
    sql = (
        INSERT_RESULT
        + cte
        + graded
        + "FROM (SELECT r.subject_id, r.variant, r.total AS raw_total, r.total, 1 = 0 AS zeroed, "
        f"r.barred, r.forced_code, r.rank_group, r.breakdown FROM ({inner}) r) t"
    )
    return sql, [*cte_params, *graded_params, *inner_params]


def ytd_statement(scope: Scope, period_ids: list[int], mean: bool) -> tuple[str, list]:
    """The year-to-date total (累计) of each result of the period, as `scoring.ytd_total`
    defines it: the year's roll-up rule over the subject's totals in `period_ids` (the year's
    periods of the scheme's cadence that end by this one, this one included when it is one),
    without the year's ± adjustments, rounded once and held to the root's floor and max.

    Runs after the period's results are written, one UPDATE over them. Sum: base + Σ(total −
    base); mean: Σ total / periods present, 0 with none.
    """
    marks = ", ".join(["%s"] * len(period_ids)) or "NULL"
    if mean:
        raw = f"CASE WHEN x.k = 0 THEN 0 ELSE {rdiv('x.s', 'x.k')} END"
    else:
        raw = "n.base + x.s - x.k * n.base"
    per_result = (
        "SELECT r.id, r.variant, CAST(COALESCE(SUM(c.total), 0) AS BIGINT) AS s, COUNT(c.id) AS k "
        "FROM periods_result r LEFT JOIN periods_result c ON c.subject_id = r.subject_id "
        f"AND c.period_id IN ({marks}) WHERE r.period_id = %s GROUP BY r.id, r.variant"
    )
    # Layered so that the clamp repeats column names only.
    computed = (
        f"SELECT z.id, {clamp('z.raw', 'z.lo', 'z.hi')} AS ytd FROM ("
        f"SELECT x.id, n.lo, n.hi, {raw} AS raw FROM ({per_result}) x "
        "JOIN schemes_schemenode n ON n.version_id = %s AND n.variant = x.variant AND n.code = %s) z"
    )
    return (
        f"UPDATE periods_result SET ytd = y.ytd FROM ({computed}) y WHERE periods_result.id = y.id",
        [*period_ids, scope.period_id, scope.version_id, ROOT_CODE],
    )


def ytd_grade_statement(scope: Scope, ytd_codes: list[str]) -> tuple[str, list]:
    """The grades of the period's results again, once their year-to-date totals are written:
    the first grade (in file order, given on the period's cadence) whose interval holds its
    value — the year-to-date total for the grades in `ytd_codes` (`value: ytd`), the total for
    the others — honours withheld when barred, as `scoring.result_grade`. A grade a veto forced
    stays."""
    marks = ", ".join(["%s"] * len(ytd_codes))
    value = f"(CASE WHEN g.code IN ({marks}) THEN periods_result.ytd ELSE periods_result.total END)"
    grade = (
        "SELECT g.code FROM schemes_schemegrade g WHERE g.version_id = %s "
        "AND (g.cadences = '' OR (',' || g.cadences || ',') LIKE %s) "
        f"AND (g.lo IS NULL OR {value} > g.lo OR (g.lo_inclusive AND {value} = g.lo)) "
        f"AND (g.hi IS NULL OR {value} < g.hi OR (g.hi_inclusive AND {value} = g.hi)) "
        "AND (g.honour = %s OR periods_result.barred = %s) "
        f"AND {_grade_given('periods_result.variant')} ORDER BY g.position LIMIT 1"
    )
    return (
        f"UPDATE periods_result SET grade_code = COALESCE(({grade}), '') "
        "WHERE period_id = %s AND grade_forced = %s",
        [
            scope.version_id,
            f"%,{scope.cadence},%",
            *ytd_codes * 4,
            False,
            False,
            scope.period_id,
            False,
        ],
    )


def run(statements: list[tuple[str, list]]) -> Counter:
    """Execute `statements` in order; the number of rows inserted, by table.

    The close reports its row counts from here rather than counting again what it just wrote.
    """
    inserted: Counter = Counter()
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if sql.startswith("INSERT INTO "):
                table = sql.split(None, 3)[2]
                inserted[table] += max(cursor.rowcount, 0)
    return inserted
