"""Typed scheme definitions (考评方案): the rules one county writes for one mechanism.

A scheme file (YAML, see docs/schemes.md) is parsed into these frozen pydantic models. The
models check shape (unknown keys are errors, numbers are Decimal); `checks.check_scheme` checks
meaning (unique codes, bounds, sections, grades, variants, roll-ups) and reports every problem
with the data path of the offending key, which the loader turns into a file line. What a
subject scores under the rules is `scoring`'s business; this module is the format and its
structure (walking, finding, flattening, variants).

Everything numeric is Decimal: scores are money-like (they buy goods in the points store and
decide who is interviewed), so binary floats are never allowed anywhere near them.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from django.utils.translation import gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kaoping.core.limits import SCHEME_NUMBER_MAX, WHOLE_NUMBER_MAX, name_problem

ROOT_CODE = "__root__"
# The pseudo item of a roll-up period's ± adjustments (a roll-up with `adjust: true`): its entries
# carry points, not a quantity of anything; no item of a file can have this code.
ADJUST_CODE = "__adjust__"

# Passed as pydantic validation context by the loader, which runs `check_scheme` itself so it
# can attach file lines to each problem.
DEFER_CHECKS = "kaoping.schemes.defer_checks"

INF = Decimal("Infinity")
ZERO = Decimal(0)
ONE = Decimal(1)

# Every number of a file is bounded by what its columns hold (kaoping.core.limits): 1e39 points
# would pass the checks and fail at upload, 9e999999 after seconds of arithmetic.
_MAX = SCHEME_NUMBER_MAX
Num = Annotated[Decimal, Field(allow_inf_nan=False, ge=-_MAX, le=_MAX)]
NonNegative = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=_MAX)]
Positive = Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=_MAX)]
Factor = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=1)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
SchemeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Owner = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=100)]


def _plain_name(value: str) -> str:
    if problem := name_problem(value):
        raise ValueError(problem)
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_plain_name),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32),
    AfterValidator(_plain_name),
]


def number_text(value: Decimal) -> str:
    """A number as a county writes it: no trailing zeros, ∞ for Infinity."""
    if value == INF:
        return "∞"
    if value == -INF:
        return "-∞"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class SubjectKind(StrEnum):
    VILLAGE = "village"  # 村 and 社区 alike (村社)
    TEAM = "team"  # 村“两委”班子
    CADRE = "cadre"
    PARTY_MEMBER = "party_member"
    HOUSEHOLD = "household"
    GRID = "grid"  # 网格, scored for its grid members' work
    NATURAL_VILLAGE = "natural_village"  # 自然村 / 村民小组 inside a village


class Cadence(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[self.value]


class Section(StrEnum):
    NORMAL = "normal"
    BONUS = "bonus"  # 加分项: items ≥ 0, the section's max is the cap on the bonus
    DEDUCTION = "deduction"  # 扣分项: items ≤ 0, the section's floor is minus the cap


class Rule(StrEnum):
    COUNT = "count"
    QUANTITY = "quantity"
    RATING = "rating"
    METRIC = "metric"
    VETO = "veto"


class Aggregate(StrEnum):
    """How entries of one item in one period become the item's value."""

    SUM = "sum"
    MEAN = "mean"
    METRIC = "metric"
    VETO = "veto"


RULE_AGGREGATE = {
    Rule.COUNT: Aggregate.SUM,
    Rule.QUANTITY: Aggregate.SUM,
    Rule.RATING: Aggregate.MEAN,
    Rule.METRIC: Aggregate.METRIC,
    Rule.VETO: Aggregate.VETO,
}


class VetoEffect(StrEnum):
    ZERO = "zero"  # total set to 0
    GRADE = "grade"  # grade forced to `grade`
    BAR = "bar"  # barred from red lists and honours


class RollupMethod(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    COMPOSITE = "composite"


class PartSource(StrEnum):
    SELF = "self"
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


class PartAggregate(StrEnum):
    VALUE = "value"
    MEAN = "mean"
    SUM = "sum"


class RankingScope(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"  # households and party members compared inside their own village
    # Households compared inside their 自然村/村民小组 (one without: inside its village).
    NATURAL_VILLAGE = "natural_village"
    TRACK = "track"
    CLASS = "class"


class Ties(StrEnum):
    COMPETITION = "competition"  # 1, 2, 2, 4
    DENSE = "dense"  # 1, 2, 2, 3


class Order(StrEnum):
    DESC = "desc"
    ASC = "asc"


class NoData(StrEnum):
    """What the close does with a subject that has no data in the period (无数据对象).

    No data: no approved entry of the scheme dated in the period (computed ones aside) and no
    reported metric value for it; for a roll-up, no result in any period it is computed from and
    no entry of its own.
    """

    ZERO = "zero"  # scored as if nothing were recorded: the base (today's behaviour)
    EXCLUDE = "exclude"  # no result: not ranked, on no list, nothing triggered
    BLOCK = "block"  # the close refuses and names them


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Bounded(_Model):
    """An interval whose ends must say whether they are included (以上/以下 is ambiguous)."""

    min: Num | None = None
    min_inclusive: StrictBool | None = None
    max: Num | None = None
    max_inclusive: StrictBool | None = None

    def lower(self) -> tuple[Decimal, bool]:
        return (-INF, True) if self.min is None else (self.min, bool(self.min_inclusive))

    def upper(self) -> tuple[Decimal, bool]:
        return (INF, True) if self.max is None else (self.max, bool(self.max_inclusive))

    def contains(self, value: Decimal) -> bool:
        lo, lo_in = self.lower()
        hi, hi_in = self.upper()
        above = value > lo or (lo_in and value == lo)
        below = value < hi or (hi_in and value == hi)
        return above and below

    def is_empty(self) -> bool:
        lo, lo_in = self.lower()
        hi, hi_in = self.upper()
        return lo > hi or (lo == hi and not (lo_in and hi_in))

    def overlaps(self, other: "_Bounded") -> bool:
        lo = max(self.lower(), other.lower(), key=lambda b: (b[0], not b[1]))
        hi = min(self.upper(), other.upper(), key=lambda b: (b[0], b[1]))
        return lo[0] < hi[0] or (lo[0] == hi[0] and lo[1] and hi[1])

    def describe(self) -> str:
        lo, lo_in = self.lower()
        hi, hi_in = self.upper()
        left = "(-∞" if lo == -INF else ("[" if lo_in else "(") + number_text(lo)
        right = "+∞)" if hi == INF else number_text(hi) + ("]" if hi_in else ")")
        return f"{left}, {right}"


class Band(_Bounded):
    """One band of a metric item: metric values inside it earn `points`."""

    points: Num


class Grade(_Bounded):
    """A grade (等次) given to totals inside its interval."""

    code: Code
    name: Name
    honour: StrictBool = False  # 荣誉 (星级文明户…): vetoes with effect bar withhold it
    # Periods this grade is given on (default: the scheme cadence and every roll-up), so that
    # an annual honour is not handed out on a monthly total.
    cadences: tuple[Cadence, ...] | None = None
    # `ytd`: the interval holds the year-to-date total (累计), not the period's total.
    value: Literal["total", "ytd"] = "total"
    # Only subjects of these variants (tracks, classes: 预备党员…) get it; None: every subject.
    variants: tuple[Label, ...] | None = None

    def applies_to(self, cadence: Cadence | None) -> bool:
        return cadence is None or self.cadences is None or cadence in self.cadences

    def given_to(self, variant: str | None) -> bool:
        """Whether a subject scored with the tree `variant` (a key of `variant_keys()`) may get
        this grade."""
        return self.variants is None or variant_label(variant) in self.variants


class Node(_Model):
    """A group of the tree (指数/指标/清单): base + children, clamped to [floor, max]."""

    code: Code
    name: Name
    description: str = ""
    section: Section | None = None  # None: same as the parent's (root: normal)
    base: Num = ZERO
    max: Num | None = None
    floor: Num | None = None
    owner: Owner | None = None  # default owner of the items below
    children: tuple["Child", ...] = Field(min_length=1)

    is_item: ClassVar[bool] = False


class _ItemBase(_Model):
    code: Code
    name: Name
    description: str = ""
    declarable: StrictBool | None = None  # None: scheme `defaults`
    evidence_required: StrictBool | None = None
    owner: Owner | None = None
    # The levels the item is recorded at: the scheme's cadence and/or roll-up levels assessed in
    # their own right (a year-end assessment's own items: [year]). None: every such level.
    cadences: tuple[Cadence, ...] | None = None

    is_item: ClassVar[bool] = True


class _ScoredItem(_ItemBase):
    cap: NonNegative | None = None  # per period, on the absolute value
    max: Num | None = None
    floor: Num | None = None


class MetricCondition(_Bounded):
    """When the system records an occurrence itself: the subject's metric lies in this interval."""

    metric: MetricName


class LinkVia(StrEnum):
    """How a subject of one scheme is linked to subjects of another (`LinkedFrom.via`)."""

    LINKED_HOUSEHOLDS = "linked_households"  # a household → the party members who link it (一联)
    OWN_HOUSEHOLD = "own_household"  # a household → its own members (party members, cadres)
    VILLAGE_TEAM = "village_team"  # a village ↔ its two-committee team


class LinkedFrom(_Model):
    """An item carried from another scheme's entries (联系户扣分, 党员连带扣分): every entry of
    `items` that counts there gives each subject linked to its subject by `via` one occurrence
    of this item, written by the system (`ledger.links`). `items` is a list of codes, or
    `deductions` / `bonuses`: every entry worth less / more than zero."""

    scheme: SchemeCode
    items: tuple[Code, ...] | Literal["deductions", "bonuses"]
    via: LinkVia


class CountItem(_ScoredItem):
    """Points per occurrence (每次加/扣 N 分)."""

    rule: Literal["count"]
    points: Num
    # Recorded by the system, not by people: one occurrence per period for every subject whose
    # metric lies in the interval (e.g. visited every month → +1).
    from_metric: MetricCondition | None = None
    # Recorded by the system from another scheme's entries on linked subjects (see LinkedFrom).
    linked: LinkedFrom | None = None


class QuantityItem(_ScoredItem):
    """Points per unit (每亩/每元/每次 N 分)."""

    rule: Literal["quantity"]
    points: Num
    unit: Name


class RatingItem(_ScoredItem):
    """Qualitative rating (定性评议): mean level factor × weight."""

    rule: Literal["rating"]
    weight: Positive
    levels: dict[Label, Factor] = Field(min_length=1)


class Linear(_Model):
    """Points linear in a metric (每高/低 1 个百分点加/减 5 分): `base` at the `target`, plus
    `step` for every `unit` the value lies above it (minus below; a negative step reverses
    that), held to [floor, max]. Target and unit are metric numbers, the rest points."""

    base: Num = ZERO
    target: Num
    step: Num
    unit: Positive = ONE
    floor: Num | None = None
    max: Num | None = None


class SampleOf(StrEnum):
    """What an inspection draws inside a unit (抽查的对象): the unit's households or grids."""

    HOUSEHOLD = "household"
    GRID = "grid"


class SampleRounding(StrEnum):
    """How share × N becomes a whole number of sub-units (不足 1 户按 1 户 is `up`)."""

    UP = "up"
    DOWN = "down"
    NEAREST = "nearest"  # half up: 4.5 → 5


class SampleMeasure(StrEnum):
    """The figure an inspection gives its unit, in % (0–100)."""

    PASS_RATE = "pass_rate"  # share of the inspected sub-units rated one of `pass` (合格率)
    MEAN = "mean"  # mean level factor × 100 (平均分)


class Sample(_Model):
    """A metric filled by a random inspection (随机抽查): `share` (or `count`) of the unit's
    sub-units, rounded by `rounding` and held to [min, max] and to how many there are, drawn
    from a recorded seed (kaoping.inspections), each rated one of `levels`; the unit's figure
    is `measure` over the results recorded."""

    of: SampleOf
    share: Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=1)] | None = None
    count: Annotated[StrictInt, Field(ge=1, le=WHOLE_NUMBER_MAX)] | None = None
    rounding: SampleRounding | None = None
    min: Annotated[StrictInt, Field(ge=1, le=WHOLE_NUMBER_MAX)] | None = None
    max: Annotated[StrictInt, Field(ge=1, le=WHOLE_NUMBER_MAX)] | None = None
    measure: SampleMeasure = SampleMeasure.PASS_RATE
    levels: dict[Label, Factor] = Field(min_length=1)
    passing: tuple[Label, ...] = Field(default=(), alias="pass")


class SourceTake(StrEnum):
    """What a metric item reads of a subject's result in another scheme (see `SchemeSource`)."""

    TOTAL = "total"  # the total (总分)
    RANK = "rank"  # the rank (名次) in the source's ranking group
    GRADE = "grade"  # the grade (等次), turned into a number by `grades`
    LIST = "list"  # on the list `list` (红黑榜): 1, else 0


class SourceAggregate(StrEnum):
    """How the figures of several source periods inside the reading period become one."""

    MEAN = "mean"
    SUM = "sum"
    MIN = "min"
    MAX = "max"


class SchemeSource(_Model):
    """A metric item's figure taken from the results of another scheme (一个方案的结果作为另一个
    方案的输入): the close of the reading period fills it from the source's results of the same
    label, or of the source periods of `cadence` inside it, combined by `aggregate`."""

    scheme: SchemeCode
    take: SourceTake
    list: Code | None = None  # take: list
    grades: dict[Code, Num] | None = None  # take: grade — every source grade → a number
    cadence: Cadence | None = None  # None: the reading period's own cadence
    aggregate: SourceAggregate | None = None  # None: sum for take list, mean otherwise

    @property
    def combine(self) -> SourceAggregate:
        if self.aggregate is not None:
            return self.aggregate
        return SourceAggregate.SUM if self.take is SourceTake.LIST else SourceAggregate.MEAN


class MetricItem(_ScoredItem):
    """A metric computed by another module, scored by bands or linearly (exactly one of them;
    `checks` says which is missing or doubled, at the item's line). With `source`, the metric is
    another scheme's result (`SchemeSource`), filled by the close."""

    rule: Literal["metric"]
    metric: MetricName
    bands: tuple[Band, ...] = ()
    linear: Linear | None = None
    source: SchemeSource | None = None
    sample: Sample | None = None  # filled by a random inspection (kaoping.inspections)


class VetoItem(_ItemBase):
    """一票否决: contributes no points; when it fires, `effect` applies to the result."""

    rule: Literal["veto"]
    effect: VetoEffect
    grade: Code | None = None


Item = CountItem | QuantityItem | RatingItem | MetricItem | VetoItem
ITEM_MODELS: dict[str, type[_ItemBase]] = {
    "count": CountItem,
    "quantity": QuantityItem,
    "rating": RatingItem,
    "metric": MetricItem,
    "veto": VetoItem,
}
CHILD_TAGS = frozenset({"node", *ITEM_MODELS})


def _child_tag(value: Any) -> str:
    # A mapping with `rule` is an item, without it a group; the tag is the rule so that each
    # rule has its own allowed keys (a `levels` on a count item is a typo, not data).
    if isinstance(value, Mapping):
        return str(value["rule"]) if "rule" in value else "node"
    return "node" if isinstance(value, Node) else str(getattr(value, "rule", "node"))


Child = Annotated[
    Annotated[Node, Tag("node")]
    | Annotated[CountItem, Tag("count")]
    | Annotated[QuantityItem, Tag("quantity")]
    | Annotated[RatingItem, Tag("rating")]
    | Annotated[MetricItem, Tag("metric")]
    | Annotated[VetoItem, Tag("veto")],
    Discriminator(_child_tag),
]
Node.model_rebuild()


class Defaults(_Model):
    """Defaults for items that do not say otherwise."""

    declarable: StrictBool = False
    evidence_required: StrictBool = False
    owner: Owner | None = None


class RollupPart(_Model):
    source: PartSource
    aggregate: PartAggregate
    weight: Positive


class Rollup(_Model):
    """How results of a coarser period are made from finer ones."""

    cadence: Cadence
    method: RollupMethod
    source: Cadence | None = None  # sum/mean over these periods; default: the scheme cadence
    parts: tuple[RollupPart, ...] = ()
    adjust: StrictBool = False  # manual ± adjustment entries allowed on this period


class ListKind(StrEnum):
    RED = "red"  # 红榜: barred subjects never on it; never on red and black at once
    BLACK = "black"  # 黑榜: carried over until the subject's rectification is accepted
    PROGRESS = "progress"  # 进步榜 / 黑马: biggest gain on the previous period
    FLAG = "flag"  # 红旗 / 黄旗
    MARK = "mark"  # any other named list (e.g. 重点关注)


class ListRule(_Model):
    """One list made at every close: who is on it is decided by rank, share and/or threshold.

    `count`/`percent` pick from the top (`pick: top`) or bottom of each ranking group; `min`/`max`
    bound the total; with both, `require: all` needs both (红榜: ≥ 90 *and* top 3), `any` either.
    Ties at the cut-off never depend on row order: `at_cutoff: include` takes every tied subject,
    `exclude` takes none of them, `break` orders them by `ranking.tie_break`. `node` ranks by one item's or group's value in the period (an
    evaluation item: 互评优秀) instead of the total; everything else works the same.
    """

    code: Code
    name: Name
    kind: ListKind = ListKind.MARK
    pick: Literal["top", "bottom"] = "top"
    count: StrictInt | None = Field(None, ge=1, le=WHOLE_NUMBER_MAX)
    percent: Num | None = Field(None, gt=0, le=100)
    min: Num | None = None
    min_inclusive: StrictBool | None = None
    max: Num | None = None
    max_inclusive: StrictBool | None = None
    require: Literal["all", "any"] = "all"
    # break: a tie across the cut-off is ordered by `ranking.tie_break` (what it cannot order
    # stays all in)
    at_cutoff: Literal["include", "exclude", "break"] = "include"
    within: RankingScope | None = None  # default: the scheme's ranking group
    by: Literal["rank_gain", "score_gain"] = "rank_gain"  # progress lists only
    exclude_barred: StrictBool | None = None  # default: true for red lists and flags
    carry_over: StrictBool | None = None  # default: true for black lists
    cadences: tuple[Cadence, ...] | None = None  # periods it is made on (default: every period)
    node: Code | None = None  # rank by this node's value instead of the total
    # `ytd`: rank and bound by the year-to-date total (累计) instead of the period's total.
    value: Literal["total", "ytd"] = "total"


class StreakRule(_Model):
    """A mark for being on `list` for `periods` periods running (常胜将军, 连续两次黄旗)."""

    code: Code
    name: Name
    list: Code
    periods: StrictInt = Field(ge=2)
    cadences: tuple[Cadence, ...] | None = None


class AwardTier(_Model):
    code: Code
    name: Name
    # Places of this tier; None: no limit, everybody still unplaced who meets `min` gets it.
    quota: StrictInt | None = Field(None, ge=1, le=WHOLE_NUMBER_MAX)
    min: Num | None = None  # a subject below it cannot hold this tier
    min_inclusive: StrictBool = True


class AwardRule(_Model):
    """Award quotas by rank: `fill_down` gives each tier's places to the best still unplaced who
    meet its minimum; `slots` gives rank slots in order and downgrades a subject who misses its
    tier's minimum to the first lower tier it meets. `node` ranks by one item's or group's value
    instead of the total (the scheme's `order` and `ties` still apply)."""

    code: Code
    name: Name
    allocation: Literal["fill_down", "slots"] = "fill_down"
    tiers: tuple[AwardTier, ...] = Field(min_length=1)
    # Only subjects on one of these lists (尽职好村官: red or progress).
    from_lists: tuple[Code, ...] = ()
    cadences: tuple[Cadence, ...] | None = None
    node: Code | None = None  # rank by this node's value instead of the total
    # `ytd`: rank by the year-to-date total (累计) instead of the period's total.
    value: Literal["total", "ytd"] = "total"
    # `share`: subjects tied on the value share one fate at a tier's cut-off; `break`: the tie is
    # ordered by `ranking.tie_break` first (what no key orders still shares one fate).
    at_cutoff: Literal["share", "break"] = "share"


class TieBreakKey(_Model):
    """One key of `ranking.tie_break`, which orders the subjects tied at a list's cut-off
    (`at_cutoff: break`): a node's value in the period (`order: desc`, the higher first), the
    previous period's rank (its total in the scheme's `order`; no result there comes last), or a
    lot: sha256 of the period's recorded seed, a colon and the subject's number, the smaller
    first (`lists.lot_key`). Exactly one of `node`, `previous_rank`, `lot`; the lot last."""

    node: Code | None = None
    order: Order = Order.DESC  # node only
    previous_rank: StrictBool = False
    lot: StrictBool = False


class Ranking(_Model):
    within: RankingScope = RankingScope.COUNTY
    ties: Ties = Ties.COMPETITION
    order: Order = Order.DESC
    lists: tuple[ListRule, ...] = ()
    streaks: tuple[StreakRule, ...] = ()
    awards: tuple[AwardRule, ...] = ()
    # A list with `count` whose ranking group has fewer subjects it may take (12 villages, 5 on
    # the black list, a red list of 10): `warn` closes and names the list, group and numbers on
    # the period; `refuse` does not close.
    shortfall: Literal["warn", "refuse"] = "warn"
    # false: one award per subject per period, the first in file order; a subject holding one
    # is no candidate for the awards after it, whose places go to the next best.
    awards_stack: StrictBool = True
    # Keys, in order, that order a tie at a list's cut-off where the list says `at_cutoff: break`.
    tie_break: tuple[TieBreakKey, ...] = ()


# -- consequences (结果运用): what a close triggers, read from its results and lists ------------


class ShareRule(_Model):
    """经验分享: the subjects on any of `lists` present their experience (擂台 top 3 and the
    biggest climbers, 红榜 secretaries)."""

    lists: tuple[Code, ...] = Field(min_length=1)
    cadences: tuple[Cadence, ...] | None = None  # None: every period of the scheme


class InterviewLevel(_Model):
    """One rung of the interview ladder (约谈层级), mildest first."""

    code: Code
    name: Name  # e.g. 党委副书记约谈, 镇党委副书记和镇长约谈, 全镇大会表态发言
    cadences: tuple[Cadence, ...] = ()  # periods whose interviews start on this rung


class EscalateRule(_Model):
    """One rung up for the `repeats`-th listing within the last `within` periods (this one included)."""

    repeats: StrictInt = Field(ge=2, le=24)
    within: StrictInt = Field(ge=2, le=24)


class InterviewRule(_Model):
    """约谈: every subject listed anew on `list` is interviewed at the rung its cadence starts on,
    raised one rung by each escalation rule it meets."""

    list: Code
    levels: tuple[InterviewLevel, ...] = Field(min_length=1)
    escalate: tuple[EscalateRule, ...] = ()


class PledgeRule(_Model):
    """干事清单: a subject on `list` writes a pledge with items, owners and deadlines; when every item
    is done and the pledge is accepted, the listing is resolved and stops being carried over."""

    list: Code
    deadline_days: StrictInt = Field(30, ge=1, le=366)  # default deadline of the items
    items_min: StrictInt = Field(1, ge=1, le=50)  # items a pledge needs before it can be accepted
    cadences: tuple[Cadence, ...] | None = None


class PairingRule(_Model):
    """结对共建: the best of `strong_list` paired with the worst of `weak_list` in each ranking group;
    each pairing needs `min_exchanges_per_month` exchanges every month until the next round."""

    strong_list: Code
    weak_list: Code
    min_exchanges_per_month: StrictInt = Field(2, ge=1, le=31)
    count: Literal["offline", "all"] = "offline"  # which exchanges count towards the minimum
    cadences: tuple[Cadence, ...] | None = None


Weight = Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=10000)]
# Amounts in yuan; kept below 10^8 so that fen × scaled weight fits a 64-bit integer.
Yuan = Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=Decimal("99999999.99"))]
WEIGHT_PLACES = 4  # weights are stored as integers × 10^4


class RankBand(_Model):
    """Subjects ranked `from_rank`–`to_rank` (inclusive) in their ranking group get `weight`."""

    from_rank: StrictInt = Field(ge=1, le=WHOLE_NUMBER_MAX)
    to_rank: StrictInt = Field(ge=1, le=WHOLE_NUMBER_MAX)
    weight: Weight


class BonusPoolRule(_Model):
    """梯度绩效奖金池: `amount` yuan split in proportion to each recipient's weight, exact to the fen.

    Each recipient first gets ⌊amount × weight / Σ weights⌋ fen; the fen left over (fewer than the
    recipients) go by `remainder`: `largest_remainder` one fen each to those whose share lost the
    most in rounding, `first` all to the best result, `keep` none (they stay in the pool).
    """

    amount: Yuan
    by_grade: dict[Code, Weight] | None = None  # grade code → weight of each subject given it
    by_rank: tuple[RankBand, ...] | None = None  # rank range → weight of each subject in it
    remainder: Literal["largest_remainder", "first", "keep"]
    cadences: tuple[Cadence, ...] | None = None


# A base per person is at most 1 000 000 yuan and a denominator at most 1 000 000 points, so that
# the close's integer arithmetic (fen × rate in 0.01 %, total × 10^4) stays inside 64 bits.
PayoutNumber = Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=1_000_000)]
RATE_PLACES = 4  # 得分率 is kept to 0.01 %: four places of the fraction
RATE_CEILING = Decimal(100)  # the highest rate ever paid (10 000 %), with or without cap_rate


class PayoutRule(_Model):
    """岗位绩效报酬: each cadre is paid base(post) × 得分率, where 得分率 = total ÷ `denominator`.

    The rate is rounded half up to 0.01 % (never below 0, at most `cap_rate`), the amount half
    up to the fen; `kaoping.outcomes.payouts` states it in Python and in SQL. `by_post` names
    the posts paid (CadrePost codes) and the base of each in yuan.
    """

    denominator: PayoutNumber  # points
    by_post: dict[Code, PayoutNumber] = Field(min_length=1)  # post → yuan
    cap_rate: Annotated[Decimal, Field(allow_inf_nan=False, gt=0, le=RATE_CEILING)] | None = None
    cadences: tuple[Cadence, ...] | None = None


class HonourRule(_Model):
    """Honours (荣誉) given at the close: subjects holding one of `grades`, or a tier of `awards`."""

    grades: tuple[Code, ...] | None = None  # None: every grade marked honour: true
    awards: tuple[Code, ...] = ()
    cadences: tuple[Cadence, ...] | None = None


class KeyVillageDesignate(_Model):
    list: Code
    cadences: tuple[Cadence, ...] | None = None


class KeyVillageExit(_Model):
    """整转晋位: off every list in `lists` for `periods` closed periods of `cadence` in a row."""

    periods: StrictInt = Field(ge=1, le=12)
    cadence: Cadence | None = None  # None: the scheme cadence
    lists: tuple[Code, ...] | None = None  # None: the designating list
    automatic: StrictBool = True  # false: the close only notes that the criteria are met


class KeyVillageRule(_Model):
    """重点村: designated from `designate` (or by hand), helped by a support team until they exit."""

    designate: KeyVillageDesignate | None = None  # None: designated by hand only
    exit: KeyVillageExit | None = None  # None: a person records the exit
    criteria: str = ""  # exit criteria in words, shown beside the rule


class GradeConsequence(_Model):
    """What a grade sets off (结果运用 by grade), e.g. 基本合格 and 不合格 → 整改 (a rectification
    pledge list with a deadline), optionally with an interview at a named level."""

    code: Code  # names the rectification; unique among the scheme's list codes
    name: Name  # e.g. 软弱涣散整顿
    grades: tuple[Code, ...] = Field(min_length=1)
    rectification: StrictBool = True
    deadline_days: StrictInt = Field(60, ge=1, le=366)  # default deadline of its items
    items_min: StrictInt = Field(1, ge=1, le=50)  # items it needs before it can be accepted
    interview: Name | None = None  # an interview at this level, e.g. 乡镇党委书记约谈
    cadences: tuple[Cadence, ...] | None = None  # None: every period with grades
    variants: tuple[Label, ...] | None = None  # only subjects of these variants; None: all


class DecisionOption(_Model):
    code: Code
    name: Name  # e.g. 取消预备党员资格


class DecisionRule(_Model):
    """A decision to take on each subject given one of `grades` (e.g. a 预备党员 graded 不合格:
    取消资格, 延长预备期 or 按期转正): the close opens it, someone with the authority records the
    option chosen, with a reason."""

    code: Code  # unique among the scheme's decision rules
    name: Name  # e.g. 预备党员考察不合格的处理
    grades: tuple[Code, ...] = Field(min_length=1)
    options: tuple[DecisionOption, ...] = Field(min_length=2)
    variants: tuple[Label, ...] | None = None  # only subjects of these variants; None: all
    cadences: tuple[Cadence, ...] | None = None  # None: every period with grades


class Consequences(_Model):
    """What a close triggers (结果运用); each block is optional."""

    share: ShareRule | None = None
    interviews: InterviewRule | None = None
    pledges: PledgeRule | None = None
    pairing: PairingRule | None = None
    bonus_pool: BonusPoolRule | None = None
    payout: PayoutRule | None = None
    honours: HonourRule | None = None
    key_villages: KeyVillageRule | None = None
    by_grade: tuple[GradeConsequence, ...] = ()
    decisions: tuple[DecisionRule, ...] = ()


class Posting(_Model):
    """Public posting (公示) after a close: how long objections are taken."""

    window_days: StrictInt = Field(7, ge=1, le=60)


class Review(_Model):
    """Who approves entries of this scheme, and which sources need no review.

    Empty `by` means the default for the subject kind (see `reviewers`): the review group for
    households, township staff for villages, teams and cadres, the village secretary for party
    members. County admins may always review; nobody approves an entry they recorded.
    """

    by: tuple[
        Literal["review_member", "township_staff", "village_secretary", "county_admin"], ...
    ] = ()
    auto_approve: tuple[
        Literal["department", "computed", "imported", "console", "collected", "declared"], ...
    ] = ()


class AccountPolicy(_Model):
    """The points account kept beside the score (积分超市): what can be spent, and for how long.

    Approved entries credit what they add to the period's score; the base score is never
    spendable. `clear_on` (MM-DD) empties the spendable balance of what was credited before that
    day each year; `expire_months` lets credits lapse that many months after they were made.
    """

    spendable: StrictBool = True  # false: an honour total only, nothing to spend
    clear_on: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")] | None = None
    expire_months: StrictInt | None = Field(None, ge=1, le=120)
    # Event order (docs/schemes.md §16, kaoping/schemes/accounts.py): a base balance granted at
    # each reset (`clear_on`, else 1 January) and when the account opens; which balances a
    # deduction takes from, in order ("debt" last: what is left is owed); the balance whose
    # emptying by a deduction suspends the account until the next reset; and the item a
    # redemption is recorded under so that spending lowers the score.
    base: NonNegative = Decimal(0)
    deduct_from: tuple[Literal["earned", "base", "debt"], ...] = ("earned", "debt")
    exclude_when_empty: Literal["base", "earned"] | None = None
    spend_item: Code | None = None

    @field_validator("clear_on")
    @classmethod
    def _check_clear_on(cls, value: str | None) -> str | None:
        if value is not None:
            month, day = (int(part) for part in value.split("-"))
            # 2025 is not a leap year: a clearing day must exist every year.
            try:
                date(2025, month, day)
            except ValueError:
                message = gettext("%(day)s is not a day of every year (MM-DD)")
                raise ValueError(message % {"day": value}) from None
        return value


DEFAULT_REVIEWERS = {
    "household": ("review_member",),
    "party_member": ("village_secretary", "township_staff"),
    "village": ("township_staff",),
    "team": ("township_staff",),
    "cadre": ("township_staff",),
    "grid": ("village_secretary", "township_staff"),
    "natural_village": ("village_secretary", "township_staff"),
}


class VariantItem(_Model):
    points: Num | None = None
    cap: NonNegative | None = None
    max: Num | None = None
    floor: Num | None = None
    weight: Positive | None = None


class VariantNode(_Model):
    base: Num | None = None
    max: Num | None = None
    floor: Num | None = None


class Variant(_Model):
    """Overrides for one track or class (示范村, 党员 D 类…)."""

    name: str = ""
    items: dict[Code, VariantItem] = Field(default_factory=dict)
    exclude: tuple[Code, ...] = ()
    nodes: dict[Code, VariantNode] = Field(default_factory=dict)


def _region_text(value: Any) -> Any:
    # 330304001001 unquoted is a YAML integer; a division code is text either way.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A township (9 significant digits) or a village (12): see kaoping.regions.codes.
OverlayRegion = Annotated[
    str, BeforeValidator(_region_text), StringConstraints(pattern=r"^(\d{9}|\d{12})$")
]
# Separates a variant's label from the overlay region in the key of a materialised tree
# (`D@330304001001`); a variant label cannot contain it once a file has overlays (checks).
OVERLAY_MARK = "@"


def variant_label(key: str | None) -> str:
    """The variant (track, class) part of a tree's key: `D@330304001001` → `D`; '' for none."""
    return (key or "").split(OVERLAY_MARK, 1)[0]


class Overlay(_Model):
    """What one township or village adds to the county's tree in the same file (N+X: the county's
    N items plus the place's own X, e.g. a village's 村规民约), and what it changes there.

    Its items exist in the trees of the subjects of its region only: a subject is scored with
    the overlays of its township, then of its village (`SchemeSpec.variant_for`), each applied
    like a variant (`exclude`, `items`, `nodes` name items and groups of the county's tree) and
    then adding `add` under the group `under` (default: the top level)."""

    region: OverlayRegion
    name: Name
    under: Code | None = None
    add: tuple[Child, ...] = ()
    exclude: tuple[Code, ...] = ()
    items: dict[Code, VariantItem] = Field(default_factory=dict)
    nodes: dict[Code, VariantNode] = Field(default_factory=dict)

    def walk(self) -> Iterator[tuple[tuple[str | int, ...], "Node | Item", int]]:
        """(path inside the overlay, element, depth below `under`) of every added element."""

        def visit(children: tuple, prefix: tuple, depth: int) -> Iterator:
            for i, child in enumerate(children):
                path = (*prefix, i)
                yield path, child, depth
                if isinstance(child, Node):
                    yield from visit(child.children, (*path, "children"), depth + 1)

        yield from visit(self.add, ("add",), 1)


@dataclass(frozen=True, slots=True)
class FlatNode:
    """One row of the flattened tree, in depth-first order, with a variant applied."""

    code: str
    parent_code: str | None
    depth: int
    name: str
    is_item: bool
    section: Section
    base: Decimal
    max: Decimal | None
    floor: Decimal | None
    rule: Rule | None
    points: Decimal | None
    unit: str | None
    cap: Decimal | None
    weight: Decimal | None
    levels: tuple[tuple[str, Decimal], ...]
    metric: str | None
    bands: tuple[Band, ...]
    linear: Linear | None
    veto_effect: VetoEffect | None
    veto_grade: str | None
    declarable: bool
    evidence_required: bool
    owner: str | None
    aggregate: Aggregate | None
    description: str = ""


@dataclass(frozen=True, slots=True)
class SchemeProblem:
    """One problem in a scheme file; str() is `file 第 N 行，place by codes and names：message`.

    `path` is the data path (tree[0].children[1]) for tools; `where` names the same place by
    the codes and names the county wrote (A 党建 › A2 开会), which is what people read.
    """

    file: str
    line: int | None
    path: str
    message: str
    label: str = ""
    where: str = ""

    def __str__(self) -> str:
        place = (
            gettext("%(file)s, line %(line)d") % {"file": self.file, "line": self.line}
            if self.line
            else self.file
        )
        what = self.where or self.path
        return f"{place}，{what}：{self.message}" if what else f"{place}：{self.message}"


class SchemeError(ValueError):
    """A scheme file that cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[SchemeProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SchemeSpec(_Model):
    """A whole scheme file."""

    code: SchemeCode
    version: StrictInt = Field(ge=1, le=WHOLE_NUMBER_MAX)
    name: Name
    description: str = ""
    subject_kind: SubjectKind
    cadence: Cadence
    decimals: StrictInt = Field(2, ge=0, le=6)
    base: Num = ZERO
    max: Num | None = None
    floor: Num | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    tree: tuple[Child, ...] = Field(min_length=1)
    grades: tuple[Grade, ...] = ()
    rollups: tuple[Rollup, ...] = ()
    variants: dict[Label, Variant] = Field(default_factory=dict)
    ranking: Ranking = Field(default_factory=Ranking)
    consequences: Consequences | None = None  # 结果运用; None: nothing is triggered
    no_data: NoData = NoData.ZERO  # subjects without any data in a period (see NoData)
    review: Review = Field(default_factory=Review)
    posting: Posting = Field(default_factory=Posting)
    account: AccountPolicy | None = None  # points account for the store; None: no account
    # What users read for a metric name (visit_coverage: 走访覆盖率); optional, a page falls back
    # to the item's own name.
    metrics: dict[MetricName, Name] = Field(default_factory=dict)
    # Additions (and changes) of one township or village: see Overlay.
    overlays: tuple[Overlay, ...] = ()

    # Warnings rendered with file lines by the loader; None when built without one.
    _warnings: list[str] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # Fields only: the private warnings depend on whether a file (with lines) was read.
        if not isinstance(other, SchemeSpec):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((self.code, self.version))

    @model_validator(mode="after")
    def _check_meaning(self, info: ValidationInfo) -> "SchemeSpec":
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        # `checks` and `scoring` are built on this module; importing them here, when a spec is
        # validated or summed up, keeps the import graph one-way.
        from .checks import check_scheme, render_finding

        errors = [f for f in check_scheme(self) if not f.warning]
        if errors:
            raise ValueError("; ".join(render_finding(self, f) for f in errors))
        return self

    # -- lookups -----------------------------------------------------------------------------

    @property
    def root(self) -> Node:
        """The implicit group above `tree`, carrying the top-level base/max/floor."""
        return Node.model_construct(
            code=ROOT_CODE,
            name=self.name,
            description=self.description,
            section=Section.NORMAL,
            base=self.base,
            max=self.max,
            floor=self.floor,
            owner=self.defaults.owner,
            children=self.tree,
        )

    def walk(self) -> Iterator[tuple[tuple[str | int, ...], Node | Item, int]]:
        """(data path, element, depth) for every group and item, depth first, root excluded."""

        def visit(children: tuple, prefix: tuple, depth: int) -> Iterator:
            for i, child in enumerate(children):
                path = (*prefix, i)
                yield path, child, depth
                if isinstance(child, Node):
                    yield from visit(child.children, (*path, "children"), depth + 1)

        yield from visit(self.tree, ("tree",), 1)

    def find(self, code: str) -> Node | Item:
        """The group or item `code`, of the county's tree or added by an overlay."""
        for _, element, _ in self.walk():
            if element.code == code:
                return element
        for overlay in self.overlays:
            for _, element, _ in overlay.walk():
                if element.code == code:
                    return element
        raise KeyError(code)

    def item(self, code: str) -> Item:
        element = self.find(code)
        if isinstance(element, Node):
            raise KeyError(f"{code} is a group, not an item")
        return element

    def grade(self, code: str) -> Grade:
        for grade in self.grades:
            if grade.code == code:
                return grade
        raise KeyError(code)

    def grade_for(
        self,
        total: Decimal,
        *,
        cadence: Cadence | None = None,
        ytd: Decimal | None = None,
        variant: str | None = None,
    ) -> Grade | None:
        """The first grade containing `total` (given on `cadence`, if named, and to subjects of
        the tree `variant`); no veto effects. A grade with `value: ytd` holds the year-to-date
        total `ytd` instead (none given: it is passed over)."""
        for grade in self.grades:
            value = ytd if grade.value == "ytd" else total
            if (
                grade.applies_to(cadence)
                and grade.given_to(variant)
                and value is not None
                and grade.contains(value)
            ):
                return grade
        return None

    def uses_ytd(self) -> bool:
        """Whether a list ranks, or a grade is given, by the year-to-date total (累计), which
        the close then keeps beside every total of the scheme (docs/schemes.md “按累计排名”)."""
        return any(
            rule.value == "ytd"
            for rule in (*self.ranking.lists, *self.ranking.awards, *self.grades)
        )

    def ytd_rollup(self) -> "Rollup | None":
        """The roll-up a year-to-date total follows: the year's."""
        return next((r for r in self.rollups if r.cadence is Cadence.YEAR), None)

    # -- derived -----------------------------------------------------------------------------

    def flatten(self, variant: str | None = None) -> list[FlatNode]:
        """Depth-first rows, root first, with `variant`'s overrides and exclusions applied."""
        root = self.effective_root(variant)
        rows: list[FlatNode] = []

        def visit(
            element: Node | Item, parent: str | None, depth: int, section: Section, owner
        ) -> None:
            if isinstance(element, Node):
                section = element.section or section
                owner = element.owner or owner
                rows.append(_flat_node(element, parent, depth, section))
                for child in element.children:
                    visit(child, element.code, depth + 1, section, owner)
            else:
                rows.append(_flat_item(element, parent, depth, section, owner, self.defaults))

        visit(root, None, 0, Section.NORMAL, self.defaults.owner)
        return rows

    def effective_root(self, variant: str | None = None) -> Node:
        """The root group with a variant's overrides applied and its exclusions removed.

        `variant` is a key of `variant_keys()`: a variant's label, and after OVERLAY_MARK the
        region whose overlays (and those of the regions above it) apply."""
        if variant and OVERLAY_MARK in variant:
            label, region = variant.split(OVERLAY_MARK, 1)
            root = self.effective_root(label or None)
            for overlay in self.overlays_of(region):
                root = apply_overlay(root, overlay)
            return root
        if variant is None or variant == "":
            return self.root
        if variant not in self.variants:
            known = ", ".join(self.variants) or "none"
            raise ValueError(f"unknown variant {variant!r} of scheme {self.code} (known: {known})")
        return apply_variant(self.root, self.variants[variant])

    # -- overlays ----------------------------------------------------------------------------

    def overlay_regions(self) -> list[str]:
        """The regions that have overlays, each once, in code order."""
        return sorted({o.region for o in self.overlays})

    def overlays_of(self, region_code: str) -> list[Overlay]:
        """The overlays a subject of `region_code` takes: its township's, then its village's
        (a township is a prefix of its villages), each region's in file order."""
        found = [o for o in self.overlays if region_code.startswith(o.region)]
        return sorted(found, key=lambda o: len(o.region))  # stable: file order within a region

    def variant_for(self, track: str, region_code: str) -> str:
        """The key of the tree a subject of `track` in `region_code` is scored with: its track
        when the scheme has that variant, and the most specific region with overlays it lies
        in (what `engine.Scope.variant_sql` computes in SQL)."""
        label = track if track in self.variants else ""
        regions = [r for r in self.overlay_regions() if region_code.startswith(r)]
        return f"{label}{OVERLAY_MARK}{max(regions, key=len)}" if regions else label

    def variant_keys(self) -> list[str]:
        """Every tree the scheme materialises: the default, each variant, and each of those with
        each overlay region's additions."""
        labels = ["", *self.variants]
        regions = self.overlay_regions()
        return [*labels, *(f"{label}{OVERLAY_MARK}{r}" for label in labels for r in regions)]

    def overlay_of_item(self, code: str) -> Overlay | None:
        """The overlay that adds the item or group `code`, or None for the county's own."""
        for overlay in self.overlays:
            if any(element.code == code for _p, element, _d in overlay.walk()):
                return overlay
        return None

    def bounds(self, variant: str | None = None) -> tuple[Decimal, Decimal]:
        """(lowest, highest) reachable total; ±Infinity when unbounded."""
        from .scoring import value_range

        return value_range(self.effective_root(variant))

    def max_total(self, variant: str | None = None) -> Decimal | None:
        high = self.bounds(variant)[1]
        return None if high == INF else high

    def summary(self) -> dict[str, Any]:
        indices = indicators = items = 0
        for _, element, depth in self.walk():
            if depth == 1:
                indices += 1
            elif isinstance(element, Node) or depth == 2:
                # Groups below the top level are indicators; so is an item held directly
                # by an index (the index then has no separate indicator level).
                indicators += 1
            if not isinstance(element, Node):
                items += 1
        warnings = self._warnings
        if warnings is None:
            from .checks import check_scheme, render_finding

            warnings = [render_finding(self, f) for f in check_scheme(self) if f.warning]
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "subject_kind": str(self.subject_kind),
            "cadence": str(self.cadence),
            "indices": indices,
            "indicators": indicators,
            "items": items,
            "max_total": self.max_total(),
            "variants": list(self.variants),
            "warnings": list(warnings),
        }

    def metric_label(self, metric: str) -> str | None:
        """The label the file gives `metric`, or None."""
        return self.metrics.get(metric)

    def reviewers(self) -> tuple[str, ...]:
        """Roles that approve entries of this scheme (county admins always may)."""
        return (*(self.review.by or DEFAULT_REVIEWERS[self.subject_kind.value]), "county_admin")


# -- flattening and variants --------------------------------------------------------------------


def _flat_node(node: Node, parent: str | None, depth: int, section: Section) -> FlatNode:
    return FlatNode(
        code=node.code,
        parent_code=parent,
        depth=depth,
        name=node.name,
        is_item=False,
        section=section,
        base=node.base,
        max=node.max,
        floor=node.floor,
        rule=None,
        points=None,
        unit=None,
        cap=None,
        weight=None,
        levels=(),
        metric=None,
        bands=(),
        linear=None,
        veto_effect=None,
        veto_grade=None,
        declarable=False,
        evidence_required=False,
        owner=node.owner,
        aggregate=None,
        description=node.description,
    )


def _flat_item(
    item: Item, parent: str | None, depth: int, section: Section, owner, defaults: Defaults
) -> FlatNode:
    rule = Rule(item.rule)
    return FlatNode(
        code=item.code,
        parent_code=parent,
        depth=depth,
        name=item.name,
        is_item=True,
        section=section,
        base=ZERO,
        max=getattr(item, "max", None),
        floor=getattr(item, "floor", None),
        rule=rule,
        points=getattr(item, "points", None),
        unit=getattr(item, "unit", None),
        cap=getattr(item, "cap", None),
        weight=getattr(item, "weight", None),
        levels=tuple(getattr(item, "levels", {}).items()),
        metric=getattr(item, "metric", None)
        or (item.from_metric.metric if getattr(item, "from_metric", None) else None),
        bands=getattr(item, "bands", ())
        or (
            (Band(**item.from_metric.model_dump(exclude={"metric"}), points=item.points),)
            if getattr(item, "from_metric", None)
            else ()
        ),
        linear=getattr(item, "linear", None),
        veto_effect=getattr(item, "effect", None),
        veto_grade=getattr(item, "grade", None),
        declarable=defaults.declarable if item.declarable is None else item.declarable,
        evidence_required=(
            defaults.evidence_required if item.evidence_required is None else item.evidence_required
        ),
        owner=item.owner or owner,
        aggregate=RULE_AGGREGATE[rule],
        description=item.description,
    )


def apply_variant(root: Node, variant: Variant) -> Node:
    """`root` with `variant`'s overrides applied and its exclusions removed."""
    excluded = set(variant.exclude)

    def apply(element: Node | Item) -> Node | Item:
        if isinstance(element, Node):
            children = tuple(apply(c) for c in element.children if c.code not in excluded)
            update: dict[str, Any] = {"children": children}
            override = variant.nodes.get(element.code)
            if override is not None:
                update |= override.model_dump(exclude_none=True)
            return element.model_copy(update=update)
        override = variant.items.get(element.code)
        if override is None:
            return element
        return element.model_copy(update=override.model_dump(exclude_none=True))

    return apply(root)  # type: ignore[return-value]


def apply_overlay(root: Node, overlay: Overlay) -> Node:
    """`root` with `overlay`'s changes applied (as a variant's) and its elements added."""
    changed = apply_variant(
        root, Variant(exclude=overlay.exclude, items=overlay.items, nodes=overlay.nodes)
    )
    parent = overlay.under or ROOT_CODE

    def add(element: Node | Item) -> Node | Item:
        if not isinstance(element, Node):
            return element
        children = tuple(add(c) for c in element.children)
        if element.code == parent:
            children += overlay.add
        return element.model_copy(update={"children": children})

    return add(changed)  # type: ignore[return-value]
