"""Typed scheme definitions (考评方案): the rules one county writes for one mechanism.

A scheme file (YAML, see docs/schemes.md) is parsed into these frozen pydantic models. The
models check shape (unknown keys are errors, numbers are Decimal); `check_scheme` checks
meaning (unique codes, bounds, sections, grades, variants, roll-ups) and reports every problem
with the data path of the offending key, which the loader turns into a file line.

Everything numeric is Decimal: scores are money-like (they buy goods in the points store and
decide who is interviewed), so binary floats are never allowed anywhere near them.
"""

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
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

ROOT_CODE = "__root__"

# Passed as pydantic validation context by the loader, which runs `check_scheme` itself so it
# can attach file lines to each problem.
DEFER_CHECKS = "kaoping.schemes.defer_checks"

INF = Decimal("Infinity")
ZERO = Decimal(0)
ONE = Decimal(1)

Num = Annotated[Decimal, Field(allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(allow_inf_nan=False, ge=0)]
Positive = Annotated[Decimal, Field(allow_inf_nan=False, gt=0)]
Factor = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=1)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
SchemeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Owner = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class SubjectKind(StrEnum):
    VILLAGE = "village"  # 村 and 社区 alike (村社)
    TEAM = "team"  # 村“两委”班子
    CADRE = "cadre"
    PARTY_MEMBER = "party_member"
    HOUSEHOLD = "household"


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
    TRACK = "track"
    CLASS = "class"


class Ties(StrEnum):
    COMPETITION = "competition"  # 1, 2, 2, 4
    DENSE = "dense"  # 1, 2, 2, 3


class Order(StrEnum):
    DESC = "desc"
    ASC = "asc"


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
        left = "(-∞" if lo == -INF else ("[" if lo_in else "(") + _fmt(lo)
        right = "+∞)" if hi == INF else _fmt(hi) + ("]" if hi_in else ")")
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

    def applies_to(self, cadence: Cadence | None) -> bool:
        return cadence is None or self.cadences is None or cadence in self.cadences


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

    is_item: ClassVar[bool] = True


class _ScoredItem(_ItemBase):
    cap: NonNegative | None = None  # per period, on the absolute value
    max: Num | None = None
    floor: Num | None = None


class MetricCondition(_Bounded):
    """When the system records an occurrence itself: the subject's metric lies in this interval."""

    metric: MetricName


class CountItem(_ScoredItem):
    """Points per occurrence (每次加/扣 N 分)."""

    rule: Literal["count"]
    points: Num
    # Recorded by the system, not by people: one occurrence per period for every subject whose
    # metric lies in the interval (e.g. visited every month → +1).
    from_metric: MetricCondition | None = None


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


class MetricItem(_ScoredItem):
    """A metric computed by another module, scored by bands."""

    rule: Literal["metric"]
    metric: MetricName
    bands: tuple[Band, ...] = Field(min_length=1)


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
    `exclude` takes none of them.
    """

    code: Code
    name: Name
    kind: ListKind = ListKind.MARK
    pick: Literal["top", "bottom"] = "top"
    count: StrictInt | None = Field(None, ge=1)
    percent: Num | None = Field(None, gt=0, le=100)
    min: Num | None = None
    min_inclusive: StrictBool | None = None
    max: Num | None = None
    max_inclusive: StrictBool | None = None
    require: Literal["all", "any"] = "all"
    at_cutoff: Literal["include", "exclude"] = "include"
    within: RankingScope | None = None  # default: the scheme's ranking group
    by: Literal["rank_gain", "score_gain"] = "rank_gain"  # progress lists only
    exclude_barred: StrictBool | None = None  # default: true for red lists and flags
    carry_over: StrictBool | None = None  # default: true for black lists
    cadences: tuple[Cadence, ...] | None = None  # periods it is made on (default: every period)


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
    quota: StrictInt = Field(ge=1)
    min: Num | None = None  # a subject below it cannot hold this tier
    min_inclusive: StrictBool = True


class AwardRule(_Model):
    """Award quotas by rank: `fill_down` gives each tier's places to the best still unplaced who
    meet its minimum; `slots` gives rank slots in order and downgrades a subject who misses its
    tier's minimum to the first lower tier it meets."""

    code: Code
    name: Name
    allocation: Literal["fill_down", "slots"] = "fill_down"
    tiers: tuple[AwardTier, ...] = Field(min_length=1)
    # Only subjects on one of these lists (尽职好村官: red or progress).
    from_lists: tuple[Code, ...] = ()
    cadences: tuple[Cadence, ...] | None = None


class Ranking(_Model):
    within: RankingScope = RankingScope.COUNTY
    ties: Ties = Ties.COMPETITION
    order: Order = Order.DESC
    lists: tuple[ListRule, ...] = ()
    streaks: tuple[StreakRule, ...] = ()
    awards: tuple[AwardRule, ...] = ()


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

    from_rank: StrictInt = Field(ge=1)
    to_rank: StrictInt = Field(ge=1)
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


class Consequences(_Model):
    """What a close triggers (结果运用); each block is optional."""

    share: ShareRule | None = None
    interviews: InterviewRule | None = None
    pledges: PledgeRule | None = None
    pairing: PairingRule | None = None
    bonus_pool: BonusPoolRule | None = None
    honours: HonourRule | None = None
    key_villages: KeyVillageRule | None = None


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

    @field_validator("clear_on")
    @classmethod
    def _check_clear_on(cls, value: str | None) -> str | None:
        if value is not None:
            month, day = (int(part) for part in value.split("-"))
            # 2025 is not a leap year: a clearing day must exist every year.
            try:
                date(2025, month, day)
            except ValueError:
                raise ValueError(f"{value} is not a day of every year") from None
        return value


DEFAULT_REVIEWERS = {
    "household": ("review_member",),
    "party_member": ("village_secretary", "township_staff"),
    "village": ("township_staff",),
    "team": ("township_staff",),
    "cadre": ("township_staff",),
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
    veto_effect: VetoEffect | None
    veto_grade: str | None
    declarable: bool
    evidence_required: bool
    owner: str | None
    aggregate: Aggregate | None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Reference result of `SchemeSpec.evaluate`: what the period close must reproduce."""

    total: Decimal
    values: dict[str, Decimal]  # every code (root included) → value before veto effects
    grade: Grade | None
    vetoes: tuple[str, ...]  # codes of the veto items that fired
    zeroed: bool
    barred: bool


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found by `check_scheme`, located by the data path of the offending key."""

    path: tuple[str | int, ...]
    message: str
    warning: bool = False
    related: tuple[str | int, ...] | None = None  # e.g. where a duplicate code was first used


@dataclass(frozen=True, slots=True)
class SchemeProblem:
    """One problem in a scheme file; str() is `file:line: path (code name): message`."""

    file: str
    line: int | None
    path: str
    message: str
    label: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = self.path + (f" ({self.label})" if self.label else "")
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


class SchemeError(ValueError):
    """A scheme file that cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[SchemeProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SchemeSpec(_Model):
    """A whole scheme file."""

    code: SchemeCode
    version: StrictInt = Field(ge=1)
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
    review: Review = Field(default_factory=Review)
    posting: Posting = Field(default_factory=Posting)
    account: AccountPolicy | None = None  # points account for the store; None: no account

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
        for _, element, _ in self.walk():
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

    def grade_for(self, total: Decimal, *, cadence: Cadence | None = None) -> Grade | None:
        """The first grade containing `total` (given on `cadence`, if named); no veto effects."""
        for grade in self.grades:
            if grade.applies_to(cadence) and grade.contains(total):
                return grade
        return None

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
        """The root group with a variant's overrides applied and its exclusions removed."""
        if variant is None:
            return self.root
        if variant not in self.variants:
            known = ", ".join(self.variants) or "none"
            raise ValueError(f"unknown variant {variant!r} of scheme {self.code} (known: {known})")
        return _apply_variant(self.root, self.variants[variant])

    def bounds(self, variant: str | None = None) -> tuple[Decimal, Decimal]:
        """(lowest, highest) reachable total; ±Infinity when unbounded."""
        return _bounds(self.effective_root(variant), Section.NORMAL)

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

    def evaluate(self, inputs: Mapping[str, Any], *, variant: str | None = None) -> Evaluation:
        """Score one subject for one period from per-item inputs (reference implementation).

        inputs per item code: count/quantity → net quantity (Decimal), rating → the level
        labels given in the period, metric → the metric value (None: not available),
        veto → True when it fired. Missing items score 0.
        """
        values: dict[str, Decimal] = {}
        fired: list[VetoItem] = []

        def visit(element: Node | Item, section: Section) -> Decimal:
            if isinstance(element, Node):
                section = element.section or section
                total = element.base + sum(
                    (visit(child, section) for child in element.children), ZERO
                )
                value = _clamp(total, element.floor, element.max)
            elif isinstance(element, VetoItem):
                if inputs.get(element.code):
                    fired.append(element)
                value = ZERO
            else:
                value = self.quantize(_item_value(element, inputs.get(element.code)))
            values[element.code] = value
            return value

        total = visit(self.effective_root(variant), Section.NORMAL)
        zeroed = any(v.effect is VetoEffect.ZERO for v in fired)
        if zeroed:
            total = ZERO
        barred = any(v.effect is VetoEffect.BAR for v in fired)
        grade = self.grade_for(total, cadence=self.cadence)
        if barred and grade is not None and grade.honour:
            grade = None  # a barred subject is not given an honour, nor demoted to another grade
        forced = [self.grade(v.grade) for v in fired if v.effect is VetoEffect.GRADE and v.grade]
        if forced:
            # Several grade vetoes: the one listed last in `grades` (grades go best first).
            grade = max(forced, key=self.grades.index)
        return Evaluation(
            total=total,
            values=values,
            grade=grade,
            vetoes=tuple(v.code for v in fired),
            zeroed=zeroed,
            barred=barred,
        )

    def rollup_total(
        self,
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
        rollup = next((r for r in self.rollups if r.cadence == cadence), None)
        if rollup is None:
            raise KeyError(f"scheme {self.code} has no {cadence} roll-up")
        if adjustment and not rollup.adjust:
            raise ValueError(f"the {cadence} roll-up of {self.code} takes no adjustments")

        # Exact fractions until the one rounding at the end: the mean of twelve months is no
        # finite decimal, and 0.6 × 17.5 / 12 = 0.875 must round to 0.88, not to the 0.87 of
        # 0.6 × 1.458333…3 in 28-digit Decimal arithmetic.
        base = Fraction(self.base)

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
            total = aggregate(rollup.method.value, (rollup.source or self.cadence).value)
        floor = None if self.floor is None else Fraction(self.floor)
        ceiling = None if self.max is None else Fraction(self.max)
        clamped = _clamp(total + Fraction(adjustment), floor, ceiling)
        return self.quantize(_round_half_up(clamped, self.decimals))

    def reviewers(self) -> tuple[str, ...]:
        """Roles that approve entries of this scheme (county admins always may)."""
        return (*(self.review.by or DEFAULT_REVIEWERS[self.subject_kind.value]), "county_admin")

    def quantize(self, value: Decimal) -> Decimal:
        """`value` rounded half up to `decimals` places (and never shown as -0)."""
        result = value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)
        return result if result else abs(result)


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


def _apply_variant(root: Node, variant: Variant) -> Node:
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


# -- values and bounds --------------------------------------------------------------------------


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """An exact fraction rounded half away from zero to `places` decimals."""
    scaled = value * 10**places
    n = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(n if scaled >= 0 else -n).scaleb(-places)


def _clamp(value: Decimal, floor: Decimal | None, ceiling: Decimal | None) -> Decimal:
    if ceiling is not None and value > ceiling:
        value = ceiling
    if floor is not None and value < floor:
        value = floor
    return value


def _capped(value: Decimal, item: _ScoredItem) -> Decimal:
    if item.cap is not None:
        value = max(-item.cap, min(item.cap, value))
    return _clamp(value, item.floor, item.max)


def _item_value(item: Item, given: Any) -> Decimal:
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
        raw = ZERO
        if given is not None:
            raw = next((b.points for b in item.bands if b.contains(Decimal(given))), ZERO)
    else:
        return ZERO
    return _capped(raw, item)


def _bounds(element: Node | Item, section: Section) -> tuple[Decimal, Decimal]:
    """Lowest and highest value an element can take (rules in docs/schemes.md)."""
    if isinstance(element, Node):
        section = element.section or section
        low = high = element.base
        for child in element.children:
            child_low, child_high = _bounds(child, section)
            low += child_low
            high += child_high
        return _clamp(low, element.floor, element.max), _clamp(high, element.floor, element.max)
    if isinstance(element, VetoItem):
        return ZERO, ZERO
    if isinstance(element, CountItem | QuantityItem):
        # The net quantity of a period is ≥ 0 (reversals only cancel earlier entries).
        low, high = (ZERO, INF) if element.points > 0 else (-INF, ZERO)
        if element.points == 0:
            low = high = ZERO
    elif isinstance(element, RatingItem):
        low, high = ZERO, max(element.levels.values()) * element.weight
    else:
        points = [b.points for b in element.bands]
        low, high = min(ZERO, *points), max(ZERO, *points)
    if element.cap is not None:
        low, high = max(low, -element.cap), min(high, element.cap)
    return _clamp(low, element.floor, element.max), _clamp(high, element.floor, element.max)


# -- checks -------------------------------------------------------------------------------------

_CADENCE_ORDER = [Cadence.MONTH, Cadence.QUARTER, Cadence.HALF_YEAR, Cadence.YEAR]


def _fmt(value: Decimal) -> str:
    if value == INF:
        return "∞"
    if value == -INF:
        return "-∞"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def path_text(path: Sequence[str | int]) -> str:
    """('tree', 2, 'children', 0) → 'tree[2].children[0]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def render_finding(spec: SchemeSpec | None, finding: Finding) -> str:
    """A finding as text without file lines (used when a spec is built from data)."""
    related = f" (first at {path_text(finding.related)})" if finding.related else ""
    where = path_text(finding.path)
    return f"{where}: {finding.message}{related}" if where else finding.message + related


def _sign_problem(section: Section, points: Decimal, what: str) -> str | None:
    if section is Section.BONUS and points < 0:
        return f"{what} ({_fmt(points)}) must be ≥ 0 in a bonus section"
    if section is Section.DEDUCTION and points > 0:
        return f"{what} ({_fmt(points)}) must be ≤ 0 in a deduction section"
    return None


def _check_limits(
    element: Node | _ScoredItem | VariantItem | VariantNode,
    path: tuple,
    findings: list[Finding],
    *,
    base: Decimal | None = None,
    floor: Decimal | None = None,
    ceiling: Decimal | None = None,
    cap: Decimal | None = None,
    blame: tuple | None = None,
) -> None:
    """max ≥ base, floor ≤ max, floor ≤ cap, max ≥ −cap (errors) and floor ≤ base (warning) on
    merged values."""
    at = blame or path
    # An item's value is clamped to ±cap and then to [floor, max]: a floor above the cap (or a
    # max below −cap) would break the cap, whose meaning is |value| ≤ cap. Reject it like
    # floor > max rather than guess which limit the county meant.
    if cap is not None and floor is not None and floor > cap:
        findings.append(
            Finding((*at, "floor"), f"floor ({_fmt(floor)}) must be ≤ cap ({_fmt(cap)})")
        )
    if cap is not None and ceiling is not None and ceiling < -cap:
        findings.append(
            Finding((*at, "max"), f"max ({_fmt(ceiling)}) must be ≥ −cap ({_fmt(-cap)})")
        )
    if ceiling is not None and base is not None and ceiling < base:
        findings.append(
            Finding((*at, "max"), f"max ({_fmt(ceiling)}) must be ≥ base ({_fmt(base)})")
        )
    if floor is not None and ceiling is not None and floor > ceiling:
        findings.append(
            Finding((*at, "floor"), f"floor ({_fmt(floor)}) must be ≤ max ({_fmt(ceiling)})")
        )
    if floor is not None and base is not None and floor > base:
        findings.append(
            Finding(
                (*at, "floor"),
                f"floor ({_fmt(floor)}) is above base ({_fmt(base)}): the group can never score "
                "below its floor, so base has no effect",
                warning=True,
            )
        )


def _overreach(node: Node, section: Section) -> Decimal | None:
    """What a normal group's children can reach when that is finite and above its max."""
    if node.max is None or (node.section or section) is not Section.NORMAL:
        return None
    # Bonus sections are exempt: capping a bonus is their purpose, and a parent max that cuts a
    # bonus child is the usual 加分可抵扣分、总分不超过满分 rule.
    reach = node.base + sum(
        (
            _bounds(child, section)[1]
            for child in node.children
            if not (isinstance(child, Node) and child.section is Section.BONUS)
        ),
        ZERO,
    )
    return reach if INF > reach > node.max else None


def _overreaches(root: Node) -> dict[str, tuple[Decimal, Decimal]]:
    found: dict[str, tuple[Decimal, Decimal]] = {}

    def visit(node: Node, section: Section) -> None:
        section = node.section or section
        reach = _overreach(node, section)
        if reach is not None and node.max is not None:
            found[node.code] = (reach, node.max)
        for child in node.children:
            if isinstance(child, Node):
                visit(child, section)

    visit(root, Section.NORMAL)
    return found


def _check_item(
    item: Item, path: tuple, section: Section, grade_codes: set[str], findings: list[Finding]
) -> None:
    if isinstance(item, VetoItem):
        if item.effect is VetoEffect.GRADE:
            if item.grade is None:
                findings.append(Finding((*path, "grade"), "grade is required when effect is grade"))
            elif item.grade not in grade_codes:
                known = ", ".join(sorted(grade_codes)) or "none defined"
                findings.append(
                    Finding((*path, "grade"), f"grade '{item.grade}' is not a grade code ({known})")
                )
        elif item.grade is not None:
            findings.append(
                Finding(
                    (*path, "grade"),
                    f"grade is only used with effect: grade (effect is {item.effect})",
                )
            )
        return
    _check_limits(item, path, findings, floor=item.floor, ceiling=item.max, cap=item.cap)
    if isinstance(item, CountItem | QuantityItem):
        problem = _sign_problem(section, item.points, "points")
        if problem:
            findings.append(Finding((*path, "points"), problem))
    elif isinstance(item, RatingItem) and section is Section.DEDUCTION:
        findings.append(
            Finding(
                (*path, "rule"),
                "a rating item scores ≥ 0 and cannot sit in a deduction section",
            )
        )
    if isinstance(item, CountItem) and item.from_metric is not None:
        _check_intervals((item.from_metric,), (*path, "from_metric"), "interval", findings)
    if isinstance(item, MetricItem):
        _check_intervals(item.bands, (*path, "bands"), "band", findings)
        for i, band in enumerate(item.bands):
            problem = _sign_problem(section, band.points, "points")
            if problem:
                findings.append(Finding((*path, "bands", i, "points"), problem))


def _check_intervals(
    intervals: Sequence[_Bounded], path: tuple, what: str, findings: list[Finding]
) -> None:
    usable: list[tuple[int, _Bounded]] = []
    for i, interval in enumerate(intervals):
        at = (*path, i)
        ok = True
        for end in ("min", "max"):
            flag = f"{end}_inclusive"
            if getattr(interval, end) is not None and getattr(interval, flag) is None:
                bound = _fmt(getattr(interval, end))
                findings.append(
                    Finding(
                        (*at, flag),
                        f"{flag} is required when {end} is given: is {bound} itself in the "
                        f"{what}? (true = 含 {bound}, false = 不含 {bound}; 以上/以下 alone is "
                        "ambiguous)",
                    )
                )
                ok = False
            if getattr(interval, end) is None and getattr(interval, flag) is not None:
                findings.append(Finding((*at, flag), f"{flag} given without {end}"))
                ok = False
        if ok and interval.is_empty():
            findings.append(Finding(at, f"{what} {interval.describe()} is empty"))
            ok = False
        if ok:
            usable.append((i, interval))
    for n, (i, a) in enumerate(usable):
        for j, b in usable[:n]:
            if a.overlaps(b) and _share_cadence(a, b):
                other = f"'{b.code}'" if isinstance(b, Grade) else f"{path[-1]}[{j}]"
                findings.append(
                    Finding(
                        (*path, i), f"{what} {a.describe()} overlaps {what} {other} {b.describe()}"
                    )
                )


def _share_cadence(a: _Bounded, b: _Bounded) -> bool:
    if not (isinstance(a, Grade) and isinstance(b, Grade)):
        return True
    if a.cadences is None or b.cadences is None:
        return True
    return bool(set(a.cadences) & set(b.cadences))


def check_scheme(spec: SchemeSpec) -> list[Finding]:
    """Every meaning problem of a structurally valid scheme, errors and warnings."""
    findings: list[Finding] = []
    grade_codes = {g.code for g in spec.grades}

    # Codes are unique across groups and items: entries, results and variants refer to them.
    seen: dict[str, tuple] = {}
    kinds: dict[str, Node | Item] = {}
    for path, element, _ in spec.walk():
        if element.code == ROOT_CODE:
            findings.append(Finding((*path, "code"), f"code {ROOT_CODE} is reserved for the root"))
        elif element.code in seen:
            findings.append(
                Finding(
                    (*path, "code"),
                    f"duplicate code '{element.code}'",
                    related=seen[element.code],
                )
            )
        else:
            seen[element.code] = path
            kinds[element.code] = element

    def visit(node: Node, path: tuple, section: Section) -> None:
        own = node.section
        if own is not None and section is not Section.NORMAL and own is not section:
            findings.append(
                Finding((*path, "section"), f"section {own} inside a {section} section")
            )
        section = own or section
        _check_limits(node, path, findings, base=node.base, floor=node.floor, ceiling=node.max)
        reach = _overreach(node, section)
        if reach is not None:
            findings.append(
                Finding(
                    (*path, "max"),
                    f"children can reach {_fmt(reach)}, above max {_fmt(node.max)}; "
                    "the excess is cut",
                    warning=True,
                )
            )
        for i, child in enumerate(node.children):
            child_path = (*path, "children", i) if path else ("tree", i)
            if isinstance(child, Node):
                visit(child, child_path, section)
            else:
                _check_item(child, child_path, section, grade_codes, findings)

    visit(spec.root, (), Section.NORMAL)

    # Grades
    _check_intervals(spec.grades, ("grades",), "grade", findings)
    grade_seen: dict[str, int] = {}
    for i, grade in enumerate(spec.grades):
        if grade.code in grade_seen:
            findings.append(
                Finding(
                    ("grades", i, "code"),
                    f"duplicate grade code '{grade.code}'",
                    related=("grades", grade_seen[grade.code]),
                )
            )
        grade_seen.setdefault(grade.code, i)
        periods = {spec.cadence} | {r.cadence for r in spec.rollups}
        for j, cadence in enumerate(grade.cadences or ()):
            if cadence not in periods:
                findings.append(
                    Finding(
                        ("grades", i, "cadences", j),
                        f"cadences: the scheme has no {cadence} results "
                        f"(it has {', '.join(c for c in _CADENCE_ORDER if c in periods)})",
                    )
                )
    high = spec.max_total()
    if high is not None:
        for i, grade in enumerate(spec.grades):
            # Roll-ups that sum periods reach further; only per-period grades are checked.
            if not grade.applies_to(spec.cadence):
                continue
            if grade.min is not None and not grade.contains(high) and grade.lower()[0] >= high:
                findings.append(
                    Finding(
                        ("grades", i, "min"),
                        f"grade '{grade.code}' starts at {_fmt(grade.min)} but the maximum "
                        f"total is {_fmt(high)}: no subject can reach it",
                        warning=True,
                    )
                )

    _check_rollups(spec, findings)
    _check_lists(spec, findings)
    _check_consequences(spec, findings)
    _check_variants(spec, kinds, findings)
    _check_precision(spec, findings)
    if spec.ranking.within in (RankingScope.TRACK, RankingScope.CLASS) and not spec.variants:
        findings.append(
            Finding(
                ("ranking", "within"),
                f"ranking within {spec.ranking.within} but the scheme defines no variants: "
                "subjects are grouped by their track/class as recorded on the subject",
                warning=True,
            )
        )
    return findings


def _check_lists(spec: SchemeSpec, findings: list[Finding]) -> None:
    codes: dict[str, int] = {}
    for i, rule in enumerate(spec.ranking.lists):
        path = ("ranking", "lists", i)
        if rule.code in codes:
            findings.append(Finding((*path, "code"), f"duplicate list code '{rule.code}'"))
        codes[rule.code] = i
        has_bounds = rule.min is not None or rule.max is not None
        if rule.kind is ListKind.PROGRESS:
            if rule.count is None and rule.percent is None:
                findings.append(Finding(path, "a progress list needs count or percent"))
        elif rule.count is None and rule.percent is None and not has_bounds:
            findings.append(Finding(path, "say who is on the list: count, percent, min or max"))
        if rule.count is not None and rule.percent is not None:
            findings.append(Finding((*path, "percent"), "give count or percent, not both"))
        if rule.min is not None and rule.min_inclusive is None:
            findings.append(
                Finding(
                    (*path, "min_inclusive"),
                    "say whether min itself is on the list (min_inclusive: true/false)",
                )
            )
        if rule.max is not None and rule.max_inclusive is None:
            findings.append(
                Finding(
                    (*path, "max_inclusive"),
                    "say whether max itself is on the list (max_inclusive: true/false)",
                )
            )
    for i, streak in enumerate(spec.ranking.streaks):
        if streak.list not in codes:
            known = ", ".join(codes) or "none defined"
            findings.append(
                Finding(
                    ("ranking", "streaks", i, "list"),
                    f"unknown list '{streak.list}' (lists: {known})",
                )
            )
        if streak.code in codes:
            findings.append(
                Finding(
                    ("ranking", "streaks", i, "code"), f"code '{streak.code}' is already a list"
                )
            )
    for i, award in enumerate(spec.ranking.awards):
        for j, name in enumerate(award.from_lists):
            if name not in codes:
                findings.append(
                    Finding(("ranking", "awards", i, "from_lists", j), f"unknown list '{name}'")
                )


def _check_consequences(spec: SchemeSpec, findings: list[Finding]) -> None:
    """Consequences name lists, grades, awards and cadences the scheme has."""
    rules = spec.consequences
    if rules is None:
        return
    lists = {rule.code: rule for rule in spec.ranking.lists}
    streaks = {streak.code for streak in spec.ranking.streaks}
    awards = {award.code for award in spec.ranking.awards}
    grades = {grade.code for grade in spec.grades}
    available = {spec.cadence} | {r.cadence for r in spec.rollups}
    has = ", ".join(c for c in _CADENCE_ORDER if c in available)
    places_kind = ("village", "team")

    def known_list(code: str, path: tuple, *, streak_ok: bool = False) -> bool:
        if code in lists or (streak_ok and code in streaks):
            return True
        names = [*lists, *(streaks if streak_ok else ())]
        known = ", ".join(names) or "none defined under ranking.lists"
        findings.append(Finding(path, f"unknown list '{code}' (lists: {known})"))
        return False

    def check_cadences(cadences: Sequence[Cadence] | None, path: tuple) -> None:
        for i, cadence in enumerate(cadences or ()):
            if cadence not in available:
                findings.append(
                    Finding((*path, i), f"the scheme has no {cadence} results (it has {has})")
                )

    def villages_only(path: tuple, what: str) -> None:
        if spec.subject_kind.value not in places_kind:
            findings.append(
                Finding(
                    path,
                    f"{what} need village or team subjects (this scheme scores "
                    f"{spec.subject_kind})",
                )
            )

    at = ("consequences",)
    if rules.share is not None:
        path = (*at, "share")
        for i, code in enumerate(rules.share.lists):
            known_list(code, (*path, "lists", i), streak_ok=True)
        check_cadences(rules.share.cadences, (*path, "cadences"))

    if rules.interviews is not None:
        path = (*at, "interviews")
        known_list(rules.interviews.list, (*path, "list"))
        seen_codes: set[str] = set()
        claimed: dict[Cadence, str] = {}
        for i, level in enumerate(rules.interviews.levels):
            here = (*path, "levels", i)
            if level.code in seen_codes:
                findings.append(Finding((*here, "code"), f"duplicate level code '{level.code}'"))
            seen_codes.add(level.code)
            check_cadences(level.cadences, (*here, "cadences"))
            for j, cadence in enumerate(level.cadences):
                if cadence in claimed:
                    findings.append(
                        Finding(
                            (*here, "cadences", j),
                            f"{cadence} interviews already start on level '{claimed[cadence]}'",
                        )
                    )
                claimed.setdefault(cadence, level.code)
        if not claimed:
            findings.append(
                Finding(
                    (*path, "levels"),
                    "no level says which periods start on it: give a level cadences: [month]…",
                )
            )
        for i, rule in enumerate(rules.interviews.escalate):
            if rule.within < rule.repeats:
                findings.append(
                    Finding(
                        (*path, "escalate", i, "within"),
                        f"within ({rule.within}) must be ≥ repeats ({rule.repeats}): "
                        f"{rule.repeats} listings cannot fit in {rule.within} periods",
                    )
                )

    if rules.pledges is not None:
        path = (*at, "pledges")
        if known_list(rules.pledges.list, (*path, "list")):
            rule = lists[rules.pledges.list]
            carried = (
                rule.carry_over if rule.carry_over is not None else rule.kind is ListKind.BLACK
            )
            if not carried:
                findings.append(
                    Finding(
                        (*path, "list"),
                        f"list '{rule.code}' is not carried over, so accepting a pledge changes "
                        "no later list",
                        warning=True,
                    )
                )
        check_cadences(rules.pledges.cadences, (*path, "cadences"))

    if rules.pairing is not None:
        path = (*at, "pairing")
        villages_only(path, "pairings")
        known_list(rules.pairing.strong_list, (*path, "strong_list"))
        known_list(rules.pairing.weak_list, (*path, "weak_list"))
        if rules.pairing.strong_list == rules.pairing.weak_list:
            findings.append(Finding((*path, "weak_list"), "weak_list must differ from strong_list"))
        check_cadences(rules.pairing.cadences, (*path, "cadences"))

    if rules.bonus_pool is not None:
        _check_bonus_pool(rules.bonus_pool, (*at, "bonus_pool"), grades, findings)
        check_cadences(rules.bonus_pool.cadences, (*at, "bonus_pool", "cadences"))

    if rules.honours is not None:
        path = (*at, "honours")
        honour_grades = [g.code for g in spec.grades if g.honour]
        if rules.honours.grades is None and not honour_grades and not rules.honours.awards:
            findings.append(
                Finding(
                    path,
                    "no grade is marked honour: true: list the grades (grades: [code…]) or "
                    "awards that are honours",
                )
            )
        for i, code in enumerate(rules.honours.grades or ()):
            if code not in grades:
                known = ", ".join(sorted(grades)) or "none defined"
                findings.append(
                    Finding((*path, "grades", i), f"'{code}' is not a grade code ({known})")
                )
        for i, code in enumerate(rules.honours.awards):
            if code not in awards:
                known = ", ".join(sorted(awards)) or "none defined under ranking.awards"
                findings.append(Finding((*path, "awards", i), f"unknown award '{code}' ({known})"))
        check_cadences(rules.honours.cadences, (*path, "cadences"))

    if rules.key_villages is not None:
        path = (*at, "key_villages")
        villages_only(path, "key villages")
        designate, leave = rules.key_villages.designate, rules.key_villages.exit
        if designate is not None:
            known_list(designate.list, (*path, "designate", "list"))
            check_cadences(designate.cadences, (*path, "designate", "cadences"))
        if leave is not None:
            if leave.cadence is not None:
                check_cadences((leave.cadence,), (*path, "exit", "cadence"))
            for i, code in enumerate(leave.lists or ()):
                known_list(code, (*path, "exit", "lists", i))
            if leave.lists is None and designate is None:
                findings.append(
                    Finding(
                        (*path, "exit", "lists"),
                        "say which lists a key village must stay off (lists: [code…]): "
                        "there is no designating list",
                    )
                )


def _check_bonus_pool(
    pool: "BonusPoolRule", path: tuple, grades: set[str], findings: list[Finding]
) -> None:
    if (pool.by_grade is None) == (pool.by_rank is None):
        findings.append(Finding(path, "give exactly one split: by_grade or by_rank"))
    if _places(pool.amount) > 2:
        findings.append(
            Finding(
                (*path, "amount"),
                f"amount {_fmt(pool.amount)} has more than 2 decimal places (yuan and fen)",
            )
        )
    for code, weight in (pool.by_grade or {}).items():
        if code not in grades:
            known = ", ".join(sorted(grades)) or "none defined"
            findings.append(
                Finding((*path, "by_grade", code), f"'{code}' is not a grade code ({known})")
            )
        if _places(weight) > WEIGHT_PLACES:
            findings.append(
                Finding(
                    (*path, "by_grade", code),
                    f"weight {_fmt(weight)} has more than {WEIGHT_PLACES} decimal places",
                )
            )
    bands = pool.by_rank or ()
    for i, band in enumerate(bands):
        here = (*path, "by_rank", i)
        if band.to_rank < band.from_rank:
            findings.append(
                Finding(
                    (*here, "to_rank"),
                    f"to_rank ({band.to_rank}) must be ≥ from_rank ({band.from_rank})",
                )
            )
            continue
        if _places(band.weight) > WEIGHT_PLACES:
            findings.append(
                Finding(
                    (*here, "weight"),
                    f"weight {_fmt(band.weight)} has more than {WEIGHT_PLACES} decimal places",
                )
            )
        for j, other in enumerate(bands[:i]):
            if other.from_rank <= band.to_rank and band.from_rank <= other.to_rank:
                findings.append(
                    Finding(
                        here,
                        f"ranks {band.from_rank}–{band.to_rank} overlap by_rank[{j}] "
                        f"({other.from_rank}–{other.to_rank})",
                    )
                )


def _check_rollups(spec: SchemeSpec, findings: list[Finding]) -> None:
    base_rank = _CADENCE_ORDER.index(spec.cadence)
    seen: set[Cadence] = set()
    for i, rollup in enumerate(spec.rollups):
        path = ("rollups", i)
        rank = _CADENCE_ORDER.index(rollup.cadence)
        if rollup.cadence in seen:
            findings.append(
                Finding((*path, "cadence"), f"a {rollup.cadence} roll-up is already defined")
            )
        seen.add(rollup.cadence)
        if rank <= base_rank:
            findings.append(
                Finding(
                    (*path, "cadence"),
                    f"cadence {rollup.cadence} must be coarser than the scheme cadence "
                    f"{spec.cadence}",
                )
            )
            continue

        if rollup.method is RollupMethod.COMPOSITE:
            if not rollup.parts:
                findings.append(Finding((*path, "parts"), "parts is required for method composite"))
            if rollup.source is not None:
                findings.append(
                    Finding(
                        (*path, "source"), "source is not used by composite (each part has one)"
                    )
                )
            total = ZERO
            for j, part in enumerate(rollup.parts):
                at = (*path, "parts", j)
                total += part.weight
                if part.source is PartSource.SELF:
                    if part.aggregate is not PartAggregate.VALUE:
                        findings.append(
                            Finding(
                                (*at, "aggregate"),
                                f"aggregate must be value for source self (got {part.aggregate})",
                            )
                        )
                else:
                    _check_source(
                        spec, rollup, Cadence(part.source.value), (*at, "source"), findings
                    )
                    if part.aggregate is PartAggregate.VALUE:
                        findings.append(
                            Finding(
                                (*at, "aggregate"),
                                f"aggregate must be mean or sum for source {part.source}",
                            )
                        )
            if rollup.parts and total != ONE:
                findings.append(
                    Finding(
                        (*path, "parts"),
                        f"weights add up to {_fmt(total)}, not 1",
                        warning=True,
                    )
                )
        else:
            if rollup.parts:
                findings.append(
                    Finding(
                        (*path, "parts"),
                        f"parts is only used by composite (method is {rollup.method})",
                    )
                )
            if rollup.source is not None:
                _check_source(spec, rollup, rollup.source, (*path, "source"), findings)


def _check_source(
    spec: SchemeSpec, rollup: Rollup, source: Cadence, at: tuple, findings: list[Finding]
) -> None:
    """A roll-up reads `source` results: they must exist and be finer than the roll-up."""
    available = {spec.cadence} | {r.cadence for r in spec.rollups}
    rank = _CADENCE_ORDER.index(source)
    if not (_CADENCE_ORDER.index(spec.cadence) <= rank < _CADENCE_ORDER.index(rollup.cadence)):
        findings.append(
            Finding(
                at,
                f"source {source} must be finer than {rollup.cadence} and not finer "
                f"than the scheme cadence {spec.cadence}",
            )
        )
    elif source not in available:
        findings.append(Finding(at, f"source {source}: no {source} results (add a roll-up)"))


def _check_variants(
    spec: SchemeSpec, kinds: dict[str, Node | Item], findings: list[Finding]
) -> None:
    sections = {row.code: row.section for row in spec.flatten()}
    root = spec.root
    for label, variant in spec.variants.items():
        path = ("variants", label)
        for i, code in enumerate(variant.exclude):
            element = kinds.get(code)
            if element is None:
                findings.append(Finding((*path, "exclude", i), f"exclude: no item '{code}'"))
            elif isinstance(element, Node):
                findings.append(
                    Finding((*path, "exclude", i), f"exclude: '{code}' is a group; list its items")
                )
        for code, override in variant.items.items():
            at = (*path, "items", code)
            element = kinds.get(code)
            if element is None:
                findings.append(Finding(at, f"no item '{code}'"))
                continue
            if isinstance(element, Node):
                findings.append(Finding(at, f"'{code}' is a group; override it under nodes"))
                continue
            if code in variant.exclude:
                findings.append(Finding(at, f"'{code}' is both excluded and overridden"))
            rule = element.rule
            if override.points is not None:
                if rule not in ("count", "quantity"):
                    findings.append(
                        Finding((*at, "points"), f"points cannot be set on a {rule} item")
                    )
                else:
                    problem = _sign_problem(sections[code], override.points, "points")
                    if problem:
                        findings.append(Finding((*at, "points"), problem))
            if override.weight is not None and rule != "rating":
                findings.append(Finding((*at, "weight"), f"weight cannot be set on a {rule} item"))
            if rule == "veto":
                for key in ("cap", "max", "floor"):
                    if getattr(override, key) is not None:
                        findings.append(Finding((*at, key), f"{key} cannot be set on a veto item"))
                continue
            merged = element.model_copy(update=override.model_dump(exclude_none=True))
            _check_limits(
                merged, at, findings, floor=merged.floor, ceiling=merged.max, cap=merged.cap
            )
        for code, override in variant.nodes.items():
            at = (*path, "nodes", code)
            element = root if code == ROOT_CODE else kinds.get(code)
            if element is None:
                findings.append(Finding(at, f"no group '{code}'"))
                continue
            if not isinstance(element, Node):
                findings.append(Finding(at, f"'{code}' is an item; override it under items"))
                continue
            merged = element.model_copy(update=override.model_dump(exclude_none=True))
            collected: list[Finding] = []
            _check_limits(
                merged, at, collected, base=merged.base, floor=merged.floor, ceiling=merged.max
            )
            findings.extend(f for f in collected if not f.warning)
        base_reach = _overreaches(root)
        for code, (reach, ceiling) in _overreaches(_apply_variant(root, variant)).items():
            if base_reach.get(code) != (reach, ceiling):
                findings.append(
                    Finding(
                        path,
                        f"with this variant the children of '{code}' can reach {_fmt(reach)}, "
                        f"above its max {_fmt(ceiling)}; the excess is cut",
                        warning=True,
                    )
                )


# Rating factors and metric band bounds are stored as integers × 10^4 by the period close.
FACTOR_PLACES = 4
METRIC_PLACES = 4


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _check_precision(spec: SchemeSpec, findings: list[Finding]) -> None:
    """Points never carry more decimal places than the scheme keeps (`decimals`)."""

    def check(value: Decimal | None, at: tuple, places: int, why: str) -> None:
        if value is not None and _places(value) > places:
            findings.append(
                Finding(at, f"{at[-1]} {_fmt(value)} has more than {places} decimal places ({why})")
            )

    keep = spec.decimals
    why = f"decimals: {keep}"
    points_keys = ("base", "max", "floor", "cap", "points", "weight")
    for key in ("base", "max", "floor"):
        check(getattr(spec, key), (key,), keep, why)
    for path, element, _ in spec.walk():
        for key in points_keys:
            check(getattr(element, key, None), (*path, key), keep, why)
        for label, factor in getattr(element, "levels", {}).items():
            check(factor, (*path, "levels", label), FACTOR_PLACES, "rating factors")
        for i, band in enumerate(getattr(element, "bands", ())):
            check(band.points, (*path, "bands", i, "points"), keep, why)
            check(band.min, (*path, "bands", i, "min"), METRIC_PLACES, "metric bounds")
            check(band.max, (*path, "bands", i, "max"), METRIC_PLACES, "metric bounds")
    for i, grade in enumerate(spec.grades):
        check(grade.min, ("grades", i, "min"), keep, why)
        check(grade.max, ("grades", i, "max"), keep, why)
    for label, variant in spec.variants.items():
        for code, item in variant.items.items():
            for key in points_keys:
                check(getattr(item, key, None), ("variants", label, "items", code, key), keep, why)
        for code, node in variant.nodes.items():
            for key in ("base", "max", "floor"):
                check(getattr(node, key), ("variants", label, "nodes", code, key), keep, why)


def suggest_key(key: str, allowed: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return match[0] if match else None
