"""Scoring (计分): what one subject scores under one version of a scheme.

The set-based SQL close (`kaoping.periods.engine`) is the hot path: it scores every subject of a
period in a few statements on scaled integers, and only it writes results. This module is the one
Python statement of the same rules: an item's value by its rule (count, quantity, rating, metric,
veto), caps, floors and maxima, the base, veto effects, roll-ups, rounding half away from zero,
and what a single entry is worth. The reference evaluation, the points store's running tally,
the ledger's per-entry points and the limits and empty values of a loaded tree all come from
here. The property tests hold the SQL and this module equal:
`kaoping/periods/tests/test_close_properties.py` (a period's tree, every rule) and
`kaoping/periods/tests/test_rollups.py` (roll-ups); `kaoping/store/tests/test_credits.py` holds
the running tally to `evaluate`. A new rule is written in both places and covered there.

Pure: no database and no Django. Numbers are Decimal (exact Fractions inside a roll-up), never
binary floats; each value is rounded once, where the engine rounds it.
"""

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from .spec import (
    INF,
    ONE,
    ROOT_CODE,
    ZERO,
    Cadence,
    CountItem,
    Grade,
    Item,
    Linear,
    MetricItem,
    NoData,
    Node,
    PartSource,
    QuantityItem,
    RatingItem,
    RollupMethod,
    Rule,
    SchemeSpec,
    VetoEffect,
    VetoItem,
)

# An entry's points are kept to four places (the ledger's column), whatever the scheme keeps.
ENTRY_PLACES = 4

Number = TypeVar("Number", int, Decimal, Fraction)


# -- arithmetic ---------------------------------------------------------------------------------


def clamp(value: Number, floor: Number | None, ceiling: Number | None) -> Number:
    """`value` held to [floor, ceiling]; None is no limit.

    As in the engine's SQL `clamp`, the ceiling is applied first, so a floor above the ceiling
    would win; the scheme checks reject such limits.
    """
    if ceiling is not None and value > ceiling:
        value = ceiling
    if floor is not None and value < floor:
        value = floor
    return value


def item_limits(
    cap: Number | None, floor: Number | None, ceiling: Number | None
) -> tuple[Number | None, Number | None]:
    """The limits an item's value is held to: the tighter of ±cap and [floor, max].

    The checks guarantee floor ≤ cap and max ≥ −cap, so this is the same as capping first and
    applying floor and max after. The close stores these as the node's `lo` and `hi`.
    """
    low, high = floor, ceiling
    if cap is not None:
        low = -cap if low is None else max(low, -cap)
        high = cap if high is None else min(high, cap)
    return low, high


def round_half_away(value: Decimal | Fraction | int, places: int) -> Decimal:
    """`value` rounded half away from zero to `places` decimals, exactly; never -0.

    The engine's `rdiv` rounds every division the same way.
    """
    if isinstance(value, float):
        raise TypeError("scores are never binary floats")
    numerator, denominator = value.as_integer_ratio()
    numerator *= 10**places
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return Decimal(-magnitude if numerator < 0 else magnitude).scaleb(-places)


# -- one entry ----------------------------------------------------------------------------------


def entry_points(
    rule: Rule | str,
    *,
    quantity: Decimal = ONE,
    points: Decimal | None = None,
    weight: Decimal | None = None,
    factor: Decimal | None = None,
) -> Decimal:
    """What one entry is worth on its own, before caps and group limits, to ENTRY_PLACES.

    count and quantity: `points` × `quantity`; rating: `weight` × the given level's `factor`;
    metric and veto: 0 (a metric is scored from its value, a veto changes the result instead).
    """
    rule = Rule(rule)
    if rule is Rule.RATING:
        raw = weight * factor
    elif rule in (Rule.COUNT, Rule.QUANTITY):
        raw = points * quantity
    else:
        raw = ZERO
    return round_half_away(raw, ENTRY_PLACES)


# -- one period ---------------------------------------------------------------------------------


def item_value(item: Item, given: Any, *, decimals: int) -> Decimal:
    """An item's value in one period from its input (as `evaluate` takes it), held to its cap,
    floor and max and rounded to `decimals`. Vetoes are worth 0."""
    if isinstance(item, CountItem | QuantityItem):
        raw = Decimal(given or 0) * item.points
    elif isinstance(item, RatingItem):
        # No rating in the period scores 0, which the item's cap, floor and max then bound like
        # any other value (docs/schemes.md §7): a rating item with floor 4 is worth 4 unrated.
        labels = list(given or ())
        raw = ZERO
        if labels:
            # Divided last: then the one inexact step cannot turn an exact tie into a value just
            # below it, as mean × weight does ((0.85 + 0.5 + 0.4) / 3 × 16.2 is 9.45 → 9.5, but
            # 0.58333…3 × 16.2 = 9.4499…9 → 9.4).
            factors = sum((item.levels[label] for label in labels), ZERO)
            raw = factors * item.weight / len(labels)
    elif isinstance(item, MetricItem):
        # No value, or a value in no band, scores 0 — bounded by the item's limits all the same.
        # A linear item without a value scores 0 too, not its base: the base is what the target
        # earns, and a missing figure has not reached it.
        raw = ZERO
        if given is not None and item.linear is not None:
            raw = linear_points(item.linear, Decimal(given))
        elif given is not None:
            raw = next((b.points for b in item.bands if b.contains(Decimal(given))), ZERO)
    else:
        return ZERO
    low, high = item_limits(item.cap, item.floor, item.max)
    return round_half_away(clamp(raw, low, high), decimals)


def linear_points(linear: Linear, value: Decimal) -> Fraction:
    """base + step × (value − target) ÷ unit, held to the linear's [floor, max], exactly (the
    item's value rounds it once, after its own limits)."""
    raw = Fraction(linear.base) + Fraction(linear.step) * (
        Fraction(value) - Fraction(linear.target)
    ) / Fraction(linear.unit)
    return clamp(
        raw,
        None if linear.floor is None else Fraction(linear.floor),
        None if linear.max is None else Fraction(linear.max),
    )


def linear_reach(linear: Linear) -> tuple[Fraction | None, Fraction | None]:
    """The deviations (value − target) beyond which a linear item is held at its floor or max:
    (lowest, highest) that still matters, None on a side it is not held. The close clamps the
    deviation to these first, so that a huge metric value cannot overflow its integers."""
    if linear.step == 0:
        return None, None
    per_point = Fraction(linear.unit) / Fraction(linear.step)
    at_floor = None if linear.floor is None else Fraction(linear.floor - linear.base) * per_point
    at_max = None if linear.max is None else Fraction(linear.max - linear.base) * per_point
    return (at_floor, at_max) if linear.step > 0 else (at_max, at_floor)


def group_value(node: Node, children: Decimal) -> Decimal:
    """A group's value: its base plus the sum of its children's values, held to [floor, max]."""
    return clamp(node.base + children, node.floor, node.max)


def value_range(element: Node | Item) -> tuple[Decimal, Decimal]:
    """Lowest and highest value an element can take; ±Infinity when unbounded."""
    if isinstance(element, Node):
        low = high = element.base
        for child in element.children:
            child_low, child_high = value_range(child)
            low += child_low
            high += child_high
        return clamp(low, element.floor, element.max), clamp(high, element.floor, element.max)
    if isinstance(element, VetoItem):
        return ZERO, ZERO
    if isinstance(element, CountItem | QuantityItem):
        # The net quantity of a period is ≥ 0 (reversals only cancel earlier entries).
        low, high = (ZERO, INF) if element.points > 0 else (-INF, ZERO)
        if element.points == 0:
            low = high = ZERO
    elif isinstance(element, RatingItem):
        low, high = ZERO, max(element.levels.values()) * element.weight
    elif element.linear is not None:
        # Without floor or max the line runs on (a step up or down with every unit); 0 is in
        # range because a subject without a value scores 0.
        linear = element.linear
        if linear.step == 0:
            low = high = clamp(linear.base, linear.floor, linear.max)
        else:
            low = -INF if linear.floor is None else linear.floor
            high = INF if linear.max is None else linear.max
        low, high = min(ZERO, low), max(ZERO, high)
    else:
        points = [b.points for b in element.bands]
        low, high = min([ZERO, *points]), max([ZERO, *points])
    lo, hi = item_limits(element.cap, element.floor, element.max)
    return clamp(low, lo, hi), clamp(high, lo, hi)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Reference result of `evaluate`: what the period close must reproduce."""

    total: Decimal
    values: dict[str, Decimal]  # every code (root included) → value before veto effects
    grade: Grade | None
    vetoes: tuple[str, ...]  # codes of the veto items that fired
    zeroed: bool
    barred: bool


def evaluate(
    spec: SchemeSpec, inputs: Mapping[str, Any], *, variant: str | None = None
) -> Evaluation:
    """Score one subject for one period from per-item inputs (the reference the close equals).

    inputs per item code: count/quantity → net quantity (Decimal), rating → the level labels
    given in the period, metric → the metric value (None: not available), veto → True when it
    fired. Missing items score 0.
    """
    values: dict[str, Decimal] = {}
    fired: list[VetoItem] = []

    def visit(element: Node | Item) -> Decimal:
        if isinstance(element, Node):
            value = group_value(element, sum((visit(c) for c in element.children), ZERO))
        elif isinstance(element, VetoItem):
            if inputs.get(element.code):
                fired.append(element)
            value = ZERO
        else:
            value = item_value(element, inputs.get(element.code), decimals=spec.decimals)
        values[element.code] = value
        return value

    total = visit(spec.effective_root(variant))
    zeroed = any(v.effect is VetoEffect.ZERO for v in fired)
    if zeroed:
        total = ZERO
    barred = any(v.effect is VetoEffect.BAR for v in fired)
    grade = spec.grade_for(total, cadence=spec.cadence, variant=variant)
    if barred and grade is not None and grade.honour:
        grade = None  # a barred subject is not given an honour, nor demoted to another grade
    forced = [spec.grade(v.grade) for v in fired if v.effect is VetoEffect.GRADE and v.grade]
    if forced:
        # Several grade vetoes: the one listed last in `grades` (grades go best first).
        grade = max(forced, key=spec.grades.index)
    return Evaluation(
        total=total,
        values=values,
        grade=grade,
        vetoes=tuple(v.code for v in fired),
        zeroed=zeroed,
        barred=barred,
    )


def no_data_outcome(spec: SchemeSpec, has_data: bool) -> str:
    """What the close does with one subject: "score" it, "exclude" it (no result, not ranked,
    on no list), or "refuse" the whole close because of it (`no_data: block`).

    `has_data`: an approved entry of the scheme dated in the period (computed entries aside) or
    a reported metric value; for a roll-up, a result in a period it is computed from or an
    entry of its own. The SQL close states the same test in `engine.Scope.data_filter`.
    """
    if has_data or spec.no_data is NoData.ZERO:
        return "score"
    return "exclude" if spec.no_data is NoData.EXCLUDE else "refuse"


def assessed_cadences(spec: SchemeSpec) -> list[str]:
    """The roll-up levels assessed in their own right, in the file's order: those whose composite
    has a `self` part (a year-end assessment). Entries may be recorded at these levels besides the
    scheme's own periods; nowhere else."""
    return [
        str(rollup.cadence)
        for rollup in spec.rollups
        if any(str(part.source) == "self" for part in rollup.parts)
    ]


def item_levels(spec: SchemeSpec) -> dict[str, tuple[str, ...]]:
    """The items recorded at some levels only (an item's `cadences`, e.g. the year-end
    assessment's own items): item code → those levels. Items absent are recorded at every level."""
    walks = [spec.walk(), *(overlay.walk() for overlay in spec.overlays)]
    return {
        element.code: tuple(str(c) for c in element.cadences)
        for walk in walks
        for _path, element, _depth in walk
        if element.is_item and element.cadences is not None
    }


def rollup_total(
    spec: SchemeSpec,
    cadence: Cadence | str,
    *,
    results: Mapping[str, Sequence[Decimal]],
    own: Decimal | None = None,
    adjustment: Decimal = ZERO,
) -> Decimal:
    """Reference total of a roll-up period (rules in docs/schemes.md, “汇总”).

    results: the totals of the finer periods inside it, by cadence (e.g. {"month": [...]});
    own: the total of the tree scored on the roll-up period itself (parts with source self).
    """
    rollup = next((r for r in spec.rollups if r.cadence == cadence), None)
    if rollup is None:
        raise KeyError(f"scheme {spec.code} has no {cadence} roll-up")
    if adjustment and not rollup.adjust:
        raise ValueError(f"the {cadence} roll-up of {spec.code} takes no adjustments")

    # Exact fractions until the one rounding at the end: the mean of twelve months is no finite
    # decimal, and 0.6 × 17.5 / 12 = 0.875 must round to 0.88, not to the 0.87 of
    # 0.6 × 1.458333…3 in 28-digit Decimal arithmetic.
    base = Fraction(spec.base)

    def aggregate(how: str, source: str) -> Fraction:
        values = [Fraction(v) for v in results.get(source, ())]
        if not values:
            return Fraction(0) if how != "sum" else base
        if how == "mean":
            return sum(values, Fraction(0)) / len(values)
        # The base is a starting score, not a monthly gift: it counts once per roll-up.
        return base + sum((v - base for v in values), Fraction(0))

    if rollup.method is RollupMethod.COMPOSITE:
        total = Fraction(0)
        for part in rollup.parts:
            if part.source is PartSource.SELF:
                value = Fraction(own) if own is not None else Fraction(0)
            else:
                value = aggregate(part.aggregate.value, part.source.value)
            total += Fraction(part.weight) * value
    else:
        total = aggregate(rollup.method.value, (rollup.source or spec.cadence).value)
    floor = None if spec.floor is None else Fraction(spec.floor)
    ceiling = None if spec.max is None else Fraction(spec.max)
    return round_half_away(clamp(total + Fraction(adjustment), floor, ceiling), spec.decimals)


def ytd_total(
    spec: SchemeSpec, totals: Sequence[Decimal], *, variant: str | None = None
) -> Decimal:
    """Reference year-to-date total (累计, docs/schemes.md “按累计排名”) at any period of the year.

    totals: the subject's totals in the periods of the scheme's own cadence that belong to the
    year and end on or before the period (those it has a result in). The year's roll-up rule
    applied to them, without the year's ± adjustments: `sum` counts the base once (base +
    Σ(total − base)), `mean` is the mean so far (0 with none); held to the root's floor and max
    and rounded once. Base, floor and max are those of the subject's variant, as the close
    reads them from its root node.
    """
    rollup = spec.ytd_rollup()
    if rollup is None or rollup.method is RollupMethod.COMPOSITE:
        raise ValueError(f"scheme {spec.code} has no sum or mean year roll-up to follow")
    root = spec.effective_root(variant)
    values = [Fraction(v) for v in totals]
    if rollup.method is RollupMethod.MEAN:
        total = sum(values, Fraction(0)) / len(values) if values else Fraction(0)
    else:
        base = Fraction(root.base)
        total = base + sum((v - base for v in values), Fraction(0))
    floor = None if root.floor is None else Fraction(root.floor)
    ceiling = None if root.max is None else Fraction(root.max)
    return round_half_away(clamp(total, floor, ceiling), spec.decimals)


def result_grade(
    spec: SchemeSpec,
    total: Decimal,
    *,
    cadence: Cadence | str,
    ytd: Decimal | None = None,
    barred: bool = False,
    forced: Grade | None = None,
    variant: str | None = None,
) -> Grade | None:
    """A result's grade once its year-to-date total is known: the grade a veto forced, else the
    first grade (given on `cadence`) holding its value — the total, or for `value: ytd` the
    year-to-date total — that is no honour when the subject is barred.

    Grades on one value never overlap, so a barred subject inside an honour's interval gets no
    grade from the others on that value (as `evaluate` says); a grade on the other value may
    still hold it (累计之星 withheld, 本期良好 given).
    """
    if forced is not None:
        return forced
    for grade in spec.grades:
        value = ytd if grade.value == "ytd" else total
        if (
            grade.applies_to(Cadence(cadence))
            and grade.given_to(variant)
            and value is not None
            and grade.contains(value)
            and not (barred and grade.honour)
        ):
            return grade
    return None


# -- a running tally ----------------------------------------------------------------------------


class TallyTree:
    """One version's tree for one variant, prepared for running tallies of many subjects."""

    def __init__(self, spec: SchemeSpec, variant: str | None = None):
        self.decimals = spec.decimals
        self.elements: dict[str, Node | Item] = {}
        self.parent: dict[str, str] = {}

        def visit(element: Node | Item, parent: str | None) -> None:
            self.elements[element.code] = element
            if parent is not None:
                self.parent[element.code] = parent
            if isinstance(element, Node):
                for child in element.children:
                    visit(child, element.code)

        visit(spec.effective_root(variant), None)
        self.empty_values = dict(evaluate(spec, {}, variant=variant).values)
        self.empty_sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for code, parent in self.parent.items():
            self.empty_sums[parent] += self.empty_values[code]
        self.item_values: dict[tuple, Decimal] = {}

    def tally(self) -> "SubjectTally":
        return SubjectTally(self)

    def item_value(self, element: Item, given: Any, key: tuple) -> Decimal:
        """`item_value` of one of the tree's items, worked out once per `key` (the item and
        what determines its input): the same quantities and levels recur across the tallies of
        many subjects, and a large reconcile re-scores an item for every entry."""
        value = self.item_values.get(key)
        if value is None:
            value = self.item_values[key] = item_value(element, given, decimals=self.decimals)
        return value


class SubjectTally:
    """The score of one subject in one period as entries arrive, as `evaluate` would give it
    for the entries so far: each entry re-scores its item and the groups above it only."""

    def __init__(self, tree: TallyTree):
        self.tree = tree
        self.values = dict(tree.empty_values)
        self.sums: dict[str, Decimal] = dict(tree.empty_sums)  # every group has its sum
        self.quantities: dict[str, Decimal] = defaultdict(Decimal)  # Decimal() is 0
        self.labels: dict[str, Counter] = defaultdict(Counter)

    @property
    def total(self) -> Decimal:
        """The root's value (before veto effects, which entries here do not apply)."""
        return self.values[ROOT_CODE]

    @property
    def earned(self) -> Decimal:
        """The score above what an empty period scores (the base is never earned)."""
        return self.values[ROOT_CODE] - self.tree.empty_values[ROOT_CODE]

    def add(
        self, item_code: str, *, sign: int = 1, quantity: Decimal = ONE, label: str = ""
    ) -> None:
        """One entry (`sign` −1: a reversal). Entries on groups, unknown or excluded items,
        vetoes and metric items change no value."""
        element = self.tree.elements.get(item_code)
        if element is None or isinstance(element, Node):
            return
        if isinstance(element, RatingItem):
            if label not in element.levels:
                return
            # Counted with sign, so a reversal tallied before its original still cancels it.
            counts = self.labels[item_code]
            counts[label] += sign
            given: Any = sorted(level for level, n in counts.items() for _n in range(max(n, 0)))
            value = self.tree.item_value(element, given, (item_code, *given))
        elif isinstance(element, CountItem | QuantityItem):
            self.quantities[item_code] += sign * quantity
            given = self.quantities[item_code]
            value = self.tree.item_value(element, given, (item_code, given))
        else:
            return
        code = item_code
        delta = value - self.values[code]
        self.values[code] = value
        while delta and code in self.tree.parent:
            code = self.tree.parent[code]
            self.sums[code] += delta
            value = group_value(self.tree.elements[code], self.sums[code])
            delta = value - self.values[code]
            self.values[code] = value


# -- another scheme's result as a metric (source:) ------------------------------------------------

# A figure taken from another scheme is a metric value: kept to four places, like the ledger's.
SOURCE_PLACES = 4


@dataclass(frozen=True, slots=True)
class SourceResult:
    """A subject's result in one period of the source scheme, as the reading item sees it."""

    total: Decimal
    rank: int
    grade: str  # "" when no grade fits
    lists: frozenset[str] = frozenset()  # the list codes it is on in that period


def source_figure(source: Any, results: Sequence[SourceResult]) -> Decimal | None:
    """The metric value a `source:` item reads from the subject's results in the source periods
    it covers (one per period the subject has a result in); None when there is none to read.

    total → the total; rank → the rank; grade → `grades[grade]` (a result with no grade gives
    nothing); list → 1 when on `list`, else 0. Several periods combine by `source.combine`
    (sum, mean, min, max of the periods that gave a figure), rounded half away from zero to four
    places once, at the end — as the close's SQL does (`periods.crossscheme`).
    """
    take = str(source.take)
    figures: list[Fraction] = []
    for result in results:
        if take == "total":
            figures.append(Fraction(result.total))
        elif take == "rank":
            figures.append(Fraction(result.rank))
        elif take == "grade":
            if result.grade and source.grades and result.grade in source.grades:
                figures.append(Fraction(source.grades[result.grade]))
        else:
            figures.append(Fraction(1 if source.list in result.lists else 0))
    if not figures:
        return None
    combine = str(source.combine)
    if combine == "sum":
        value = sum(figures, Fraction(0))
    elif combine == "mean":
        value = sum(figures, Fraction(0)) / len(figures)
    elif combine == "min":
        value = min(figures)
    else:
        value = max(figures)
    return round_half_away(value, SOURCE_PLACES)
