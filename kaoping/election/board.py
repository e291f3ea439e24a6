"""The board's numbers (云端作战图, 三色管理): each village's indicators and their aggregates per
township and county, the same for the board page (`views_board`) and the weekly report.

Set-based: one query for the files, then one grouped query each for the stages reached, the
talks, the sheets and the overdue issues, whatever the number of villages.

Per village (a `VillageFile` of the round), with `today` a local date:

- `stage_progress` (换届工作进度): the stages of the round due by `today` (their `due` on or
  before it) that the village has reached (a `StageReached` row) / the stages due by `today`;
  not applicable before the first deadline.
- `talk_coverage` (谈心谈话): Σ min(talked, required) / Σ required over the three groups (party
  members, villager representatives, key persons), required = ⌈total × rule % / 100⌉ of the
  group's total on the file (`file_selectors.talk_progress`, as the village's file shows it); a
  talk beyond what is required does not make up for another group.
  Not applicable while nothing is required.
- `qualification_progress` (资格联审进度): the village's sheets in the round not 待核 / its
  sheets; not applicable before the first sheet.
- `intent_rate` (组织意图实现率), `first_success_rate` (一次选举成功率): 1 / 1 when the result is
  recorded true, 0 / 1 when false, not applicable before the result is recorded.
- `one_shoulder_rate` (一肩挑比例): once the village's result is recorded (after its election
  day), achieved / 1; before it, intended (`one_shoulder_intended`) / 1.
- `open_issues`: the open items of its lists (清 campaigns, petitions, finance flags) whose
  deadline is before `today` — a count (numerator; the denominator counts the village once).

A township's or the county's indicator sums the numerators and the denominators of its villages
and then divides (so a village with more people weighs more in talk coverage); `open_issues`
is the sum. A per cent is rounded to one decimal (ROUND_HALF_UP) and coloured from the rounded
value with the round's thresholds (`spec_of(round_).threshold(code)`): green at or beyond
`green`, amber at or beyond `amber`, red otherwise (`better: lower` the other way round:
green at or below `green`). A row's colour is the worst of its indicators (red > amber > green
> none); `red_villages` and `amber_villages` count the villages whose own colour is that.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from kaoping.core.fields import subtree_q
from kaoping.regions.models import Region

from .file_selectors import files_visible, talk_progress
from .models import (
    ElectionRound,
    IssueStatus,
    PersonSheet,
    Qualification,
    RoundStatus,
    StageReached,
    Talk,
    VillageFile,
    VillageIssue,
)
from .selectors import rounds_for
from .spec import INDICATORS, Better, RoundSpec, spec_of

GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
_SEVERITY = {NONE: 0, GREEN: 1, AMBER: 2, RED: 3}
COUNT_INDICATORS = frozenset({"open_issues"})
_ONE_DECIMAL = Decimal("0.1")

# The indicators' names, for the board and the weekly report.
INDICATOR_LABELS = {
    "stage_progress": _("Stage progress"),  # 换届工作进度
    "intent_rate": _("Organisation's intention realised"),  # 组织意图实现率
    "first_success_rate": _("Elected at the first vote"),  # 一次选举成功率
    "one_shoulder_rate": _("One person for both posts"),  # 一肩挑比例
    "qualification_progress": _("Qualification check done"),  # 资格联审进度
    "talk_coverage": _("Talk coverage"),  # 谈心谈话
    "open_issues": _("Issues past deadline"),  # 逾期问题
}


@dataclass(frozen=True)
class Indicator:
    code: str  # one of kaoping.election.spec.INDICATORS
    # Per cent (0–100, one decimal) or a count for open_issues; None = not applicable yet.
    value: Decimal | None
    colour: str  # "green" | "amber" | "red" | "none" (none when value is None)
    numerator: int
    denominator: int


@dataclass(frozen=True)
class BoardRow:
    region: Region  # a township or a village (or the county for a total)
    indicators: dict[str, Indicator] = field(hash=False)
    colour: str  # the worst colour of its indicators
    villages: int  # files counted
    red_villages: int  # villages whose own colour is red
    amber_villages: int
    stage_name: str = ""  # a village row: its furthest stage's name ("" before the first)
    file_id: int | None = None  # a village row: its VillageFile pk

    @property
    def green_villages(self) -> int:
        """Villages neither red nor amber (a village always has open_issues, so never none)."""
        return self.villages - self.red_villages - self.amber_villages


def colour_of(value: Decimal | None, code: str, spec: RoundSpec) -> str:
    if value is None:
        return NONE
    threshold = spec.threshold(code)
    if threshold.better == Better.LOWER:
        if value <= threshold.green:
            return GREEN
        return AMBER if value <= threshold.amber else RED
    if value >= threshold.green:
        return GREEN
    return AMBER if value >= threshold.amber else RED


def worst(colours) -> str:
    return max(colours, key=_SEVERITY.__getitem__, default=NONE)


def indicator(code: str, numerator: int, denominator: int, spec: RoundSpec) -> Indicator:
    if code in COUNT_INDICATORS:
        value = Decimal(numerator) if denominator else None
    elif denominator:
        value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
            _ONE_DECIMAL, rounding=ROUND_HALF_UP
        )
    else:
        value = None
    return Indicator(code, value, colour_of(value, code, spec), numerator, denominator)


def _talk_fraction(f: VillageFile, spec: RoundSpec, talked: dict[str, int]) -> tuple[int, int]:
    """(Σ min(talked, required), Σ required) over the three groups of the talk rule, from the
    village file's own arithmetic (`file_selectors.talk_progress`)."""
    groups = talk_progress(f, spec, talked)
    return sum(min(g.talked, g.required) for g in groups), sum(g.required for g in groups)


def _row(region, spec, fractions: dict[str, tuple[int, int]], **extra) -> BoardRow:
    indicators = {code: indicator(code, *fractions[code], spec) for code in INDICATORS}
    colour = worst(i.colour for i in indicators.values())
    return BoardRow(
        region=region,
        indicators=indicators,
        colour=colour,
        villages=1,
        red_villages=int(colour == RED),
        amber_villages=int(colour == AMBER),
        **extra,
    )


def village_rows(round_: ElectionRound, files, *, today: date) -> list[BoardRow]:
    """One row per file of `files` (a VillageFile queryset, already scoped by the caller), in
    the order of the village codes. Five queries, however many files."""
    spec = spec_of(round_)
    due = [s.code for s in spec.stages if s.due <= today]
    names = spec.stage_names()
    files = list(
        files.filter(round=round_).select_related("village__parent").order_by("village__code")
    )
    if not files:
        return []
    ids = [f.pk for f in files]

    reached = (
        dict(
            StageReached.objects.filter(file_id__in=ids, stage__in=due)
            .values("file_id")
            .annotate(n=Count("id"))
            .values_list("file_id", "n")
        )
        if due
        else {}
    )
    talked: dict[int, dict[str, int]] = defaultdict(dict)
    for file_id, category, n in (
        Talk.objects.filter(file_id__in=ids)
        .values("file_id", "category")
        .annotate(n=Count("id"))
        .values_list("file_id", "category", "n")
    ):
        talked[file_id][category] = n
    sheets = {
        village_id: (checked, total)
        for village_id, checked, total in PersonSheet.objects.filter(
            round=round_, village_id__in=[f.village_id for f in files]
        )
        .values("village_id")
        .annotate(
            checked=Count("id", filter=~Q(qualification=Qualification.PENDING)),
            total=Count("id"),
        )
        .values_list("village_id", "checked", "total")
    }
    overdue = dict(
        VillageIssue.objects.filter(file_id__in=ids, status=IssueStatus.OPEN, deadline__lt=today)
        .values("file_id")
        .annotate(n=Count("id"))
        .values_list("file_id", "n")
    )

    rows = []
    for f in files:
        if f.one_shoulder_done is not None:
            one_shoulder = (int(f.one_shoulder_done), 1)
        else:
            one_shoulder = (int(f.one_shoulder_intended), 1)
        fractions = {
            "stage_progress": (reached.get(f.pk, 0), len(due)),
            "talk_coverage": _talk_fraction(f, spec, talked[f.pk]),
            "qualification_progress": sheets.get(f.village_id, (0, 0)),
            "intent_rate": _result(f.intent_realised),
            "first_success_rate": _result(f.first_time_success),
            "one_shoulder_rate": one_shoulder,
            "open_issues": (overdue.get(f.pk, 0), 1),
        }
        rows.append(
            _row(f.village, spec, fractions, stage_name=names.get(f.stage, ""), file_id=f.pk)
        )
    return rows


def _result(recorded: bool | None) -> tuple[int, int]:
    return (0, 0) if recorded is None else (int(recorded), 1)


def aggregate(rows: list[BoardRow], *, region: Region, spec: RoundSpec) -> BoardRow:
    """The row of `region` summing `rows` (villages, or townships that sum villages)."""
    indicators = {}
    for code in INDICATORS:
        numerator = sum(r.indicators[code].numerator for r in rows)
        denominator = sum(r.indicators[code].denominator for r in rows)
        indicators[code] = indicator(code, numerator, denominator, spec)
    return BoardRow(
        region=region,
        indicators=indicators,
        colour=worst(i.colour for i in indicators.values()),
        villages=sum(r.villages for r in rows),
        red_villages=sum(r.red_villages for r in rows),
        amber_villages=sum(r.amber_villages for r in rows),
    )


def scoped_files(round_: ElectionRound, *, user, region: Region):
    """The files of `round_` under `region` that `user` may see on the board: those of the
    villages in their region, and a department scorer's department's villages
    (`access.department_files`: covered or paired), the same as the files list shows."""
    return files_visible(user).filter(round=round_).filter(subtree_q("village__code", region.code))


def board(
    round_: ElectionRound, *, user, region: Region, today: date
) -> tuple[list[BoardRow], BoardRow]:
    """The rows one level below `region` that hold files `user` may see (the townships of a
    county, each the aggregate of its villages; the villages of a township), in code order, and
    the total row of `region`. At a village there is no row below: ([], the village's row)."""
    spec = spec_of(round_)
    villages = village_rows(round_, scoped_files(round_, user=user, region=region), today=today)
    if region.level == "village":
        if villages:
            return [], villages[0]
        return [], aggregate([], region=region, spec=spec)
    if region.level == "township":
        return villages, aggregate(villages, region=region, spec=spec)
    # Above a township: group the villages by the child of `region` whose subtree holds them.
    groups: dict[str, list[BoardRow]] = defaultdict(list)
    children = {}
    for row in villages:
        child = _child_of(row.region, region)
        children[child.code] = child
        groups[child.code].append(row)
    rows = [aggregate(groups[code], region=children[code], spec=spec) for code in sorted(groups)]
    return rows, aggregate(villages, region=region, spec=spec)


def _child_of(village: Region, region: Region) -> Region:
    """The region one level below `region` on the way down to `village` (its township for a
    county; loaded with the village, so no query)."""
    node = village
    while node.parent_id is not None and node.parent_id != region.pk:
        node = node.parent
    return node


def open_rounds(user):
    """The open rounds `user` may see the board of (those of the county they work in)."""
    return rounds_for(user).filter(status=RoundStatus.OPEN)
