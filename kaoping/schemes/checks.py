"""Checks of a scheme's meaning: what a structurally valid scheme file may still get wrong.

`check_scheme` finds every problem (unique codes, limits, sections, grades, intervals, roll-ups,
lists, consequences, variants, precision) with the data path of the offending key; the loader
turns each path into a file line, and `SchemeSpec` runs the checks when it is built from data.
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from kaoping.core.limits import METRIC_VALUE_MAX

from .account_checks import check_account
from .class_checks import check_classes
from .labels import cadence_label, subject_kind_label
from .links import linked_file_problems
from .sampling import check_samples
from .scoring import assessed_cadences, linear_reach, value_range
from .spec import (
    ADJUST_CODE,
    INF,
    ONE,
    OVERLAY_MARK,
    RATE_PLACES,
    ROOT_CODE,
    WEIGHT_PLACES,
    ZERO,
    Band,
    BonusPoolRule,
    Cadence,
    CountItem,
    Grade,
    Item,
    ListKind,
    MetricCondition,
    MetricItem,
    Node,
    PartAggregate,
    PartSource,
    PayoutRule,
    QuantityItem,
    RankingScope,
    RatingItem,
    Rollup,
    RollupMethod,
    SchemeSpec,
    Section,
    Variant,
    VariantItem,
    VariantNode,
    VetoEffect,
    VetoItem,
    apply_variant,
    number_text,
)

Interval = Band | Grade | MetricCondition


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found by `check_scheme`, located by the data path of the offending key."""

    path: tuple[str | int, ...]
    message: str
    warning: bool = False
    related: tuple[str | int, ...] | None = None  # e.g. where a duplicate code was first used


_CADENCE_ORDER = [Cadence.MONTH, Cadence.QUARTER, Cadence.HALF_YEAR, Cadence.YEAR]


def _cadence(cadence: Cadence | str) -> str:
    """A cadence as written in the file, with its label: quarter（季度）."""
    return f"{cadence}（{cadence_label(cadence)}）"


def _cadences(cadences) -> str:
    return "、".join(_cadence(c) for c in _CADENCE_ORDER if c in cadences)


def _known(codes, none: str | None = None) -> str:
    """The codes a reference may name, for a message; `none` when there are none."""
    return "、".join(sorted(codes)) or (none if none is not None else _("none defined"))


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
    related = (
        _(" (first at %(path)s)") % {"path": path_text(finding.related)} if finding.related else ""
    )
    where = path_text(finding.path)
    return f"{where}: {finding.message}{related}" if where else finding.message + related


def _sign_problem(section: Section, points: Decimal, what: str) -> str | None:
    if section is Section.BONUS and points < 0:
        return _("%(what)s (%(n)s) must be ≥ 0 in a bonus section") % {
            "what": what,
            "n": number_text(points),
        }
    if section is Section.DEDUCTION and points > 0:
        return _("%(what)s (%(n)s) must be ≤ 0 in a deduction section") % {
            "what": what,
            "n": number_text(points),
        }
    return None


def _check_limits(
    element: Node | Item | VariantItem | VariantNode,
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
            Finding(
                (*at, "floor"),
                _("floor (%(floor)s) must be ≤ cap (%(cap)s)")
                % {"floor": number_text(floor), "cap": number_text(cap)},
            )
        )
    if cap is not None and ceiling is not None and ceiling < -cap:
        findings.append(
            Finding(
                (*at, "max"),
                _("max (%(max)s) must be ≥ −cap (%(cap)s)")
                % {"max": number_text(ceiling), "cap": number_text(-cap)},
            )
        )
    if ceiling is not None and base is not None and ceiling < base:
        findings.append(
            Finding(
                (*at, "max"),
                _("max (%(max)s) must be ≥ base (%(base)s)")
                % {"max": number_text(ceiling), "base": number_text(base)},
            )
        )
    if floor is not None and ceiling is not None and floor > ceiling:
        findings.append(
            Finding(
                (*at, "floor"),
                _("floor (%(floor)s) must be ≤ max (%(max)s)")
                % {"floor": number_text(floor), "max": number_text(ceiling)},
            )
        )
    if floor is not None and base is not None and floor > base:
        findings.append(
            Finding(
                (*at, "floor"),
                _(
                    "floor (%(floor)s) is above base (%(base)s): the group can never score "
                    "below its floor, so base has no effect"
                )
                % {"floor": number_text(floor), "base": number_text(base)},
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
            value_range(child)[1]
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
                findings.append(
                    Finding((*path, "grade"), _("grade is required when effect is grade"))
                )
            elif item.grade not in grade_codes:
                findings.append(
                    Finding(
                        (*path, "grade"),
                        _("grade “%(code)s” is not a grade code (%(known)s)")
                        % {"code": item.grade, "known": _known(grade_codes)},
                    )
                )
        elif item.grade is not None:
            findings.append(
                Finding(
                    (*path, "grade"),
                    _("grade is only used with effect: grade (effect is %(effect)s)")
                    % {"effect": item.effect},
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
                _("a rating item scores ≥ 0 and cannot sit in a deduction section"),
            )
        )
    if isinstance(item, CountItem) and item.from_metric is not None:
        _check_intervals((item.from_metric,), (*path, "from_metric"), _("interval"), findings)
    if isinstance(item, MetricItem):
        _check_intervals(item.bands, (*path, "bands"), _("band"), findings)
        for i, band in enumerate(item.bands):
            problem = _sign_problem(section, band.points, "points")
            if problem:
                findings.append(Finding((*path, "bands", i, "points"), problem))
        _check_linear(item, path, section, findings)


# What the close's integers hold (BIGINT).
_BIGINT_MAX = 2**63 - 1


def _check_linear(item: MetricItem, path: tuple, section: Section, findings: list[Finding]) -> None:
    """A metric item is scored by `bands` or by `linear`, never both, never neither; a linear
    line has a step, a floor below its max, and stays on the side of zero its section keeps."""
    if item.linear is None:
        if not item.bands:
            message = _(
                "a metric item needs bands (分档) or linear (线性计分): say how its value scores"
            )
            findings.append(Finding(path, message))
        return
    at = (*path, "linear")
    if item.bands:
        message = _("write either bands or linear, not both: which one scores the item?")
        findings.append(Finding(at, message))
    linear = item.linear
    if linear.step == 0:
        message = _("step is 0: every value would score the base; write the points per unit")
        findings.append(Finding((*at, "step"), message))
    if linear.floor is not None and linear.max is not None and linear.floor > linear.max:
        findings.append(
            Finding(
                (*at, "floor"),
                _("floor (%(floor)s) must be ≤ max (%(max)s)")
                % {"floor": number_text(linear.floor), "max": number_text(linear.max)},
            )
        )
    if section is Section.BONUS and (linear.floor is None or linear.floor < 0):
        message = _("in a bonus section a linear item needs floor ≥ 0 (it must not go below 0)")
        findings.append(Finding((*at, "floor"), message))
    if section is Section.DEDUCTION and (linear.max is None or linear.max > 0):
        message = _("in a deduction section a linear item needs max ≤ 0 (it must not go above 0)")
        findings.append(Finding((*at, "max"), message))


def _check_linear_size(spec: SchemeSpec, findings: list[Finding]) -> None:
    """The close computes base × unit + step × (value − target) in 64-bit integers (points ×
    10^decimals, metric numbers × 10^4), the deviation first held to where floor and max stop
    the line (scoring.linear_reach). A line that could leave those integers is refused here,
    not by an overflow at the close."""
    points_scale, metric_scale = 10**spec.decimals, 10**METRIC_PLACES
    for path, element, _depth in spec.walk():
        linear = getattr(element, "linear", None)
        if linear is None or linear.step == 0:
            continue
        widest = Fraction((METRIC_VALUE_MAX + abs(linear.target)) * metric_scale)
        reach = [
            widest if end is None else min(widest, abs(end) * metric_scale + 1)
            for end in linear_reach(linear)
        ]
        biggest = Fraction(abs(linear.base) * points_scale * linear.unit * metric_scale) + Fraction(
            abs(linear.step) * points_scale
        ) * max(reach)
        if biggest > _BIGINT_MAX:
            message = _(
                "step %(step)s per %(unit)s is too steep for metric values up to %(most)s: "
                "the close could not compute it exactly; give floor and max (or a smaller step "
                "or unit)"
            ) % {
                "step": number_text(linear.step),
                "unit": number_text(linear.unit),
                "most": f"{METRIC_VALUE_MAX:,}",
            }
            findings.append(Finding((*path, "linear", "step"), message))


def _check_intervals(
    intervals: Sequence[Interval], path: tuple, what: str, findings: list[Finding]
) -> None:
    usable: list[tuple[int, Interval]] = []
    for i, interval in enumerate(intervals):
        at = (*path, i)
        ok = True
        for end in ("min", "max"):
            flag = f"{end}_inclusive"
            if getattr(interval, end) is not None and getattr(interval, flag) is None:
                bound = number_text(getattr(interval, end))
                findings.append(
                    Finding(
                        (*at, flag),
                        _(
                            "%(flag)s is required when %(end)s is given: is %(bound)s itself in "
                            "the %(what)s? (true = 含 %(bound)s, false = 不含 %(bound)s; "
                            "以上/以下 alone is ambiguous)"
                        )
                        % {"flag": flag, "end": end, "bound": bound, "what": what},
                    )
                )
                ok = False
            if getattr(interval, end) is None and getattr(interval, flag) is not None:
                message = _("%(flag)s is given without %(end)s") % {"flag": flag, "end": end}
                findings.append(Finding((*at, flag), message))
                ok = False
        if ok and interval.is_empty():
            message = _("%(what)s %(interval)s is empty: no value lies in it")
            findings.append(Finding(at, message % {"what": what, "interval": interval.describe()}))
            ok = False
        if ok:
            usable.append((i, interval))
    for n, (i, a) in enumerate(usable):
        for j, b in usable[:n]:
            if a.overlaps(b) and _share_cadence(a, b):
                other = (
                    f"“{b.code}”"
                    if isinstance(b, Grade)
                    else _("%(key)s item %(n)d") % {"key": path[-1], "n": j + 1}
                )
                message = _("%(what)s %(a)s overlaps %(what)s %(other)s %(b)s") % {
                    "what": what,
                    "a": a.describe(),
                    "other": other,
                    "b": b.describe(),
                }
                findings.append(Finding((*path, i), message))


def _share_cadence(a: Interval, b: Interval) -> bool:
    if not (isinstance(a, Grade) and isinstance(b, Grade)):
        return True
    if a.value != b.value:
        return False  # one holds the year-to-date total, the other the period's: no overlap
    if b.variants is not None and (a.variants is None or not set(a.variants) & set(b.variants)):
        # `b`, listed first, is given to some variants (classes) only: for their subjects it
        # comes first, the others pass it over (a class's own 不合格 line above the general one).
        return False
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
    for path, element, _depth in spec.walk():
        if element.code in (ROOT_CODE, ADJUST_CODE):
            message = _("the code %(code)s is reserved") % {"code": element.code}
            findings.append(Finding((*path, "code"), message))
        elif element.code in seen:
            findings.append(
                Finding(
                    (*path, "code"),
                    _("the code “%(code)s” is used twice") % {"code": element.code},
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
                Finding(
                    (*path, "section"),
                    _("a %(own)s section cannot sit inside a %(section)s section")
                    % {"own": own, "section": section},
                )
            )
        section = own or section
        _check_limits(node, path, findings, base=node.base, floor=node.floor, ceiling=node.max)
        reach = _overreach(node, section)
        if reach is not None:
            findings.append(
                Finding(
                    (*path, "max"),
                    _("children can reach %(reach)s, above max %(max)s; the excess is cut")
                    % {"reach": number_text(reach), "max": number_text(node.max)},
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
    _check_intervals(spec.grades, ("grades",), _("grade"), findings)
    grade_seen: dict[str, int] = {}
    for i, grade in enumerate(spec.grades):
        if grade.code in grade_seen:
            findings.append(
                Finding(
                    ("grades", i, "code"),
                    _("the grade code “%(code)s” is used twice") % {"code": grade.code},
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
                        _("the scheme has no %(cadence)s results (it has %(has)s)")
                        % {"cadence": _cadence(cadence), "has": _cadences(periods)},
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
                        _(
                            "grade “%(code)s” starts at %(min)s but the maximum total is "
                            "%(high)s: no subject can reach it"
                        )
                        % {
                            "code": grade.code,
                            "min": number_text(grade.min),
                            "high": number_text(high),
                        },
                        warning=True,
                    )
                )

    _check_rollups(spec, findings)
    _check_item_cadences(spec, findings)
    _check_scheme_sources(spec, findings)
    check_samples(spec, findings, Finding)
    findings.extend(Finding(path, message) for path, message in linked_file_problems(spec))
    _check_lists(spec, findings)
    _check_tie_break(spec, findings)
    _check_ytd(spec, findings)
    _check_consequences(spec, findings)
    _check_variants(spec, kinds, findings)
    _check_overlays(spec, kinds, seen, grade_codes, findings)
    _check_precision(spec, findings)
    _check_linear_size(spec, findings)
    check_account(spec, kinds, findings)
    check_classes(spec, findings)
    if spec.no_data == "block" and spec.subject_kind.value == "household":
        findings.append(
            Finding(
                ("no_data",),
                _(
                    "no_data: block refuses the close while any household has no entry in the "
                    "period, which is usual for households; consider no_data: exclude"
                ),
                warning=True,
            )
        )
    if spec.ranking.within in (RankingScope.TRACK, RankingScope.CLASS) and not spec.variants:
        findings.append(
            Finding(
                ("ranking", "within"),
                _(
                    "ranking within %(within)s but the scheme defines no variants: subjects are "
                    "grouped by the track or class recorded on each subject"
                )
                % {"within": spec.ranking.within},
                warning=True,
            )
        )
    _check_natural_village_within(spec, findings)
    return findings


def _check_natural_village_within(spec: SchemeSpec, findings: list[Finding]) -> None:
    """`within: natural_village` groups households by their 自然村/村民小组: households only."""
    if spec.subject_kind.value == "household":
        return
    wheres = [(("ranking", "within"), spec.ranking.within)]
    wheres += [
        (("ranking", "lists", i, "within"), r.within) for i, r in enumerate(spec.ranking.lists)
    ]
    for path, within in wheres:
        if within == RankingScope.NATURAL_VILLAGE:
            findings.append(
                Finding(
                    path,
                    _(
                        "within: natural_village ranks households within their natural village "
                        "or villagers' group; this scheme scores %(kind)s"
                    )
                    % {"kind": subject_kind_label(spec.subject_kind)},
                )
            )


def _check_lists(spec: SchemeSpec, findings: list[Finding]) -> None:
    codes: dict[str, int] = {}
    for i, rule in enumerate(spec.ranking.lists):
        path = ("ranking", "lists", i)
        if rule.code in codes:
            message = _("the list code “%(code)s” is used twice") % {"code": rule.code}
            findings.append(Finding((*path, "code"), message))
        codes[rule.code] = i
        has_bounds = rule.min is not None or rule.max is not None
        if rule.kind is ListKind.PROGRESS:
            if rule.count is None and rule.percent is None:
                findings.append(Finding(path, _("a progress list needs count or percent")))
        elif rule.count is None and rule.percent is None and not has_bounds:
            message = _("say who is on the list: count, percent, min or max")
            findings.append(Finding(path, message))
        if rule.count is not None and rule.percent is not None:
            findings.append(Finding((*path, "percent"), _("give count or percent, not both")))
        if rule.min is not None and rule.min_inclusive is None:
            findings.append(
                Finding(
                    (*path, "min_inclusive"),
                    _("say whether min itself is on the list (min_inclusive: true/false)"),
                )
            )
        if rule.max is not None and rule.max_inclusive is None:
            findings.append(
                Finding(
                    (*path, "max_inclusive"),
                    _("say whether max itself is on the list (max_inclusive: true/false)"),
                )
            )
    for i, streak in enumerate(spec.ranking.streaks):
        if streak.list not in codes:
            findings.append(
                Finding(
                    ("ranking", "streaks", i, "list"),
                    _("there is no list “%(code)s” (lists: %(known)s)")
                    % {"code": streak.list, "known": _known(codes)},
                )
            )
        if streak.code in codes:
            findings.append(
                Finding(
                    ("ranking", "streaks", i, "code"),
                    _("the code “%(code)s” is already a list's") % {"code": streak.code},
                )
            )
    for i, rule in enumerate(spec.ranking.lists):
        if rule.node is not None:
            if rule.kind is ListKind.PROGRESS:
                findings.append(
                    Finding(
                        ("ranking", "lists", i, "node"),
                        _(
                            "a progress list compares totals with the previous period; node "
                            "cannot be used on it"
                        ),
                    )
                )
            else:
                _check_node(spec, rule, ("ranking", "lists", i), findings)
    for i, award in enumerate(spec.ranking.awards):
        if award.node is not None:
            _check_node(spec, award, ("ranking", "awards", i), findings)
        # A tier without a quota and without a minimum takes everybody still unplaced: no
        # tier after it can ever be given.
        open_tier = next((t for t in award.tiers if t.quota is None and t.min is None), None)
        if open_tier is not None and open_tier is not award.tiers[-1]:
            findings.append(
                Finding(
                    ("ranking", "awards", i, "tiers", award.tiers.index(open_tier)),
                    _(
                        "tier “%(tier)s” has neither quota nor min, so everybody not placed above "
                        "gets it and the tiers after it are never given: give it a quota or a "
                        "min, or make it the last tier"
                    )
                    % {"tier": open_tier.code},
                )
            )
        for j, name in enumerate(award.from_lists):
            if name not in codes:
                findings.append(
                    Finding(
                        ("ranking", "awards", i, "from_lists", j),
                        _("there is no list “%(code)s” (lists: %(known)s)")
                        % {"code": name, "known": _known(codes)},
                    )
                )


def _check_ytd(spec: SchemeSpec, findings: list[Finding]) -> None:
    """Lists and grades on the year-to-date total (`value: ytd`): the year's roll-up says how the
    periods so far add up, so there must be one, a `sum` or `mean` of the scheme's own periods
    (a composite's year-end assessment and weights mean nothing before the year ends)."""
    rollup = spec.ytd_rollup()
    ranked = [(("ranking", "lists", i), rule) for i, rule in enumerate(spec.ranking.lists)]
    awarded = [(("ranking", "awards", i), rule) for i, rule in enumerate(spec.ranking.awards)]
    graded = [(("grades", i), grade) for i, grade in enumerate(spec.grades)]
    for path, rule in ranked + awarded + graded:
        if rule.value != "ytd":
            continue
        at = (*path, "value")
        if getattr(rule, "node", None) is not None:
            message = _(
                "value: ytd ranks by the year-to-date total, node by one node's value: give one "
                "of them"
            )
            findings.append(Finding(at, message))
        if getattr(rule, "kind", None) is ListKind.PROGRESS:
            message = _(
                "a progress list compares totals with the previous period; value: ytd cannot "
                "be used on it"
            )
            findings.append(Finding(at, message))
        if rollup is None:
            message = _(
                "value: ytd adds up the periods of the year as the year's roll-up does, and "
                "this scheme has none: add a roll-up with cadence: year (method sum or mean)"
            )
            findings.append(Finding(at, message))
        elif rollup.method is RollupMethod.COMPOSITE:
            message = _(
                "value: ytd follows the year's roll-up, and a composite's year-end assessment "
                "and weights mean nothing before the year ends: give the year method sum or mean"
            )
            findings.append(Finding(at, message))
        elif rollup.source is not None and rollup.source is not spec.cadence:
            message = _(
                "value: ytd adds up the scheme's own periods (%(own)s), but the year's roll-up "
                "adds up %(source)s results: let the year's roll-up use the scheme's periods"
            ) % {"source": _cadence(rollup.source), "own": _cadence(spec.cadence)}
            findings.append(Finding(at, message))


def _check_tie_break(spec: SchemeSpec, findings: list[Finding]) -> None:
    """`ranking.tie_break` keys say one thing each, the lot comes last, a node key names a node
    every variant keeps; a list breaking ties at its cut-off has keys and a cut-off to break."""
    keys = spec.ranking.tie_break
    for i, key in enumerate(keys):
        at = ("ranking", "tie_break", i)
        said = [key.node is not None, key.previous_rank, key.lot]
        if sum(said) != 1:
            message = _("a tie-break key is one of node: <code>, previous_rank: true, lot: true")
            findings.append(Finding(at, message))
            continue
        if key.lot and i != len(keys) - 1:
            message = _("the lot orders every tie, so no key after it is ever used: put it last")
            findings.append(Finding((*at, "lot"), message))
        if key.node is not None:
            code = key.node
            element = next((e for _p, e, _d in spec.walk() if e.code == code), None)
            if element is None:
                message = _("there is no item or group “%(code)s” in the tree")
                findings.append(Finding((*at, "node"), message % {"code": code}))
            elif isinstance(element, VetoItem):
                message = _(
                    "“%(code)s” is a veto item; its value is always 0, so nothing ranks by it"
                )
                findings.append(Finding((*at, "node"), message % {"code": code}))
            else:
                for label in spec.variants:
                    if all(row.code != code for row in spec.flatten(label)):
                        message = _(
                            "variant “%(variant)s” excludes “%(code)s”: its subjects would have "
                            "no value to rank by"
                        )
                        findings.append(
                            Finding((*at, "node"), message % {"variant": label, "code": code})
                        )
    for i, rule in enumerate(spec.ranking.lists):
        if rule.at_cutoff != "break":
            continue
        at = ("ranking", "lists", i, "at_cutoff")
        if rule.kind is ListKind.PROGRESS:
            message = _("a progress list takes every tie at its cut-off (include or exclude)")
            findings.append(Finding(at, message))
        elif rule.count is None and rule.percent is None:
            message = _("at_cutoff: break needs a cut-off to break: count or percent")
            findings.append(Finding(at, message))
        elif not keys:
            message = _(
                "at_cutoff: break orders a tie by ranking.tie_break, which is not given "
                "(e.g. tie_break: [{previous_rank: true}, {lot: true}])"
            )
            findings.append(Finding(at, message))
    for i, award in enumerate(spec.ranking.awards):
        if award.at_cutoff == "break" and not keys:
            message = _(
                "at_cutoff: break orders a tie by ranking.tie_break, which is not given "
                "(e.g. tie_break: [{previous_rank: true}, {lot: true}])"
            )
            findings.append(Finding(("ranking", "awards", i, "at_cutoff"), message))


def _tree_cadences(spec: SchemeSpec) -> set[Cadence]:
    """The periods whose results are scored on the tree, so that each node has a value in them:
    the scheme's own and every composite roll-up with a `self` part. A `sum` or `mean` roll-up
    and a composite of shorter periods only are worked out from the totals of those periods."""
    found = {spec.cadence}
    for rollup in spec.rollups:
        if rollup.method is RollupMethod.COMPOSITE and any(
            part.source is PartSource.SELF for part in rollup.parts
        ):
            found.add(rollup.cadence)
    return found


def _check_node(spec: SchemeSpec, rule, path: tuple, findings: list[Finding]) -> None:
    """A list or award ranked by `rule.node`: a node every variant keeps, with a value in every
    period the rule is made on."""
    at = (*path, "node")
    code = rule.node
    element = next((e for _p, e, _d in spec.walk() if e.code == code), None)
    if element is None:
        findings.append(
            Finding(at, _("there is no item or group “%(code)s” in the tree") % {"code": code})
        )
        return
    if isinstance(element, VetoItem):
        message = _("“%(code)s” is a veto item; its value is always 0, so nothing ranks by it")
        findings.append(Finding(at, message % {"code": code}))
        return
    for label in spec.variants:
        if all(row.code != code for row in spec.flatten(label)):
            findings.append(
                Finding(
                    at,
                    _(
                        "variant “%(variant)s” excludes “%(code)s”: its subjects would have no "
                        "value to rank by"
                    )
                    % {"variant": label, "code": code},
                )
            )
    scored = _tree_cadences(spec)
    available = {spec.cadence} | {r.cadence for r in spec.rollups}
    if rule.cadences is None:
        missing = sorted(available - scored, key=_CADENCE_ORDER.index)
        if missing:
            findings.append(
                Finding(
                    at,
                    _(
                        "ranked by “%(code)s” and made on every period, but %(missing)s results "
                        "are computed from the totals of shorter periods and give “%(code)s” no "
                        "value; name the periods with cadences (those that score the tree: "
                        "%(has)s)"
                    )
                    % {"code": code, "missing": _cadences(missing), "has": _cadences(scored)},
                )
            )
        return
    for j, cadence in enumerate(rule.cadences):
        if cadence in available and cadence not in scored:
            findings.append(
                Finding(
                    (*path, "cadences", j),
                    _(
                        "ranked by “%(code)s”, but %(cadence)s results are computed from the "
                        "totals of shorter periods and give “%(code)s” no value (periods that "
                        "score the tree: %(has)s)"
                    )
                    % {"code": code, "cadence": _cadence(cadence), "has": _cadences(scored)},
                )
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
    has = _cadences(available)
    places_kind = ("village", "team")

    def known_list(code: str, path: tuple, *, streak_ok: bool = False) -> bool:
        if code in lists or (streak_ok and code in streaks):
            return True
        names = [*lists, *(streaks if streak_ok else ())]
        known = _known(names, _("none defined under ranking.lists"))
        message = _("there is no list “%(code)s” (lists: %(known)s)")
        findings.append(Finding(path, message % {"code": code, "known": known}))
        return False

    def check_cadences(cadences: Sequence[Cadence] | None, path: tuple) -> None:
        for i, cadence in enumerate(cadences or ()):
            if cadence not in available:
                findings.append(
                    Finding(
                        (*path, i),
                        _("the scheme has no %(cadence)s results (it has %(has)s)")
                        % {"cadence": _cadence(cadence), "has": has},
                    )
                )

    def villages_only(path: tuple, what: str) -> None:
        if spec.subject_kind.value not in places_kind:
            findings.append(
                Finding(
                    path,
                    _("%(what)s need village or team subjects (this scheme scores %(kind)s)")
                    % {"what": what, "kind": subject_kind_label(spec.subject_kind)},
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
                message = _("the level code “%(code)s” is used twice") % {"code": level.code}
                findings.append(Finding((*here, "code"), message))
            seen_codes.add(level.code)
            check_cadences(level.cadences, (*here, "cadences"))
            for j, cadence in enumerate(level.cadences):
                if cadence in claimed:
                    findings.append(
                        Finding(
                            (*here, "cadences", j),
                            _("%(cadence)s interviews already start on level “%(level)s”")
                            % {"cadence": _cadence(cadence), "level": claimed[cadence]},
                        )
                    )
                claimed.setdefault(cadence, level.code)
        if not claimed:
            findings.append(
                Finding(
                    (*path, "levels"),
                    _("no level says which periods start on it: give a level cadences: [month]…"),
                )
            )
        for i, rule in enumerate(rules.interviews.escalate):
            if rule.within < rule.repeats:
                findings.append(
                    Finding(
                        (*path, "escalate", i, "within"),
                        _(
                            "within (%(within)s) must be ≥ repeats (%(repeats)s): %(repeats)s "
                            "listings cannot fit in %(within)s periods"
                        )
                        % {"within": rule.within, "repeats": rule.repeats},
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
                        _(
                            "list “%(code)s” is not carried over, so accepting a pledge changes "
                            "no later list"
                        )
                        % {"code": rule.code},
                        warning=True,
                    )
                )
        check_cadences(rules.pledges.cadences, (*path, "cadences"))

    if rules.pairing is not None:
        path = (*at, "pairing")
        villages_only(path, _("pairings"))
        known_list(rules.pairing.strong_list, (*path, "strong_list"))
        known_list(rules.pairing.weak_list, (*path, "weak_list"))
        if rules.pairing.strong_list == rules.pairing.weak_list:
            message = _("weak_list must differ from strong_list")
            findings.append(Finding((*path, "weak_list"), message))
        check_cadences(rules.pairing.cadences, (*path, "cadences"))

    if rules.bonus_pool is not None:
        _check_bonus_pool(rules.bonus_pool, (*at, "bonus_pool"), grades, findings)
        check_cadences(rules.bonus_pool.cadences, (*at, "bonus_pool", "cadences"))

    if rules.payout is not None:
        _check_payout(spec, rules.payout, (*at, "payout"), findings)
        check_cadences(rules.payout.cadences, (*at, "payout", "cadences"))

    if rules.honours is not None:
        path = (*at, "honours")
        honour_grades = [g.code for g in spec.grades if g.honour]
        if rules.honours.grades is None and not honour_grades and not rules.honours.awards:
            findings.append(
                Finding(
                    path,
                    _(
                        "no grade is marked honour: true: list the grades (grades: [code…]) or "
                        "awards that are honours"
                    ),
                )
            )
        for i, code in enumerate(rules.honours.grades or ()):
            if code not in grades:
                findings.append(
                    Finding(
                        (*path, "grades", i),
                        _("“%(code)s” is not a grade code (%(known)s)")
                        % {"code": code, "known": _known(grades)},
                    )
                )
        for i, code in enumerate(rules.honours.awards):
            if code not in awards:
                known = _known(awards, _("none defined under ranking.awards"))
                message = _("there is no award “%(code)s” (%(known)s)")
                findings.append(
                    Finding((*path, "awards", i), message % {"code": code, "known": known})
                )
        check_cadences(rules.honours.cadences, (*path, "cadences"))

    seen_grade_rules: set[str] = set()
    for i, rule in enumerate(rules.by_grade):
        path = (*at, "by_grade", i)
        if rule.code in lists or rule.code in streaks or rule.code in seen_grade_rules:
            findings.append(
                Finding(
                    (*path, "code"),
                    _("code “%(code)s” is already used by a list or another rule")
                    % {"code": rule.code},
                )
            )
        seen_grade_rules.add(rule.code)
        for j, code in enumerate(rule.grades):
            if code not in grades:
                findings.append(
                    Finding(
                        (*path, "grades", j),
                        _("“%(code)s” is not a grade code (%(known)s)")
                        % {"code": code, "known": _known(grades)},
                    )
                )
        if not rule.rectification and rule.interview is None:
            findings.append(
                Finding(
                    path,
                    _(
                        "say what the grades set off: rectification: true, an interview "
                        "level (interview: …), or both"
                    ),
                )
            )
        check_cadences(rule.cadences, (*path, "cadences"))

    if rules.key_villages is not None:
        path = (*at, "key_villages")
        villages_only(path, _("key villages"))
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
                        _(
                            "say which lists a key village must stay off (lists: [code…]): "
                            "there is no designating list"
                        ),
                    )
                )


def _check_bonus_pool(
    pool: BonusPoolRule, path: tuple, grades: set[str], findings: list[Finding]
) -> None:
    if (pool.by_grade is None) == (pool.by_rank is None):
        findings.append(Finding(path, _("give exactly one split: by_grade or by_rank")))
    if _places(pool.amount) > 2:
        findings.append(
            Finding(
                (*path, "amount"),
                _("amount %(n)s has more than 2 decimal places (yuan and fen)")
                % {"n": number_text(pool.amount)},
            )
        )
    for code, weight in (pool.by_grade or {}).items():
        if code not in grades:
            findings.append(
                Finding(
                    (*path, "by_grade", code),
                    _("“%(code)s” is not a grade code (%(known)s)")
                    % {"code": code, "known": _known(grades)},
                )
            )
        if _places(weight) > WEIGHT_PLACES:
            findings.append(
                Finding(
                    (*path, "by_grade", code),
                    _("weight %(n)s has more than %(places)d decimal places")
                    % {"n": number_text(weight), "places": WEIGHT_PLACES},
                )
            )
    bands = pool.by_rank or ()
    for i, band in enumerate(bands):
        here = (*path, "by_rank", i)
        if band.to_rank < band.from_rank:
            findings.append(
                Finding(
                    (*here, "to_rank"),
                    _("to_rank (%(to)s) must be ≥ from_rank (%(from)s)")
                    % {"to": band.to_rank, "from": band.from_rank},
                )
            )
            continue
        if _places(band.weight) > WEIGHT_PLACES:
            findings.append(
                Finding(
                    (*here, "weight"),
                    _("weight %(n)s has more than %(places)d decimal places")
                    % {"n": number_text(band.weight), "places": WEIGHT_PLACES},
                )
            )
        for j, other in enumerate(bands[:i]):
            if other.from_rank <= band.to_rank and band.from_rank <= other.to_rank:
                findings.append(
                    Finding(
                        here,
                        _("ranks %(a)s–%(b)s overlap by_rank item %(n)d (%(c)s–%(d)s)")
                        % {
                            "a": band.from_rank,
                            "b": band.to_rank,
                            "n": j + 1,
                            "c": other.from_rank,
                            "d": other.to_rank,
                        },
                    )
                )


PAYOUT_KINDS = ("cadre", "village", "team")  # subjects whose cadres a payout can name


def _check_payout(spec: SchemeSpec, rule: PayoutRule, path: tuple, findings: list[Finding]) -> None:
    # The posts are the people register's; `people` sits below `schemes`, and its models are
    # imported here, when a scheme is checked, not when this module is.
    from kaoping.people.models import CadrePost

    if spec.subject_kind.value not in PAYOUT_KINDS:
        findings.append(
            Finding(
                path,
                _(
                    "a payout by post needs cadre, village or team subjects (this scheme "
                    "scores %(kind)s)"
                )
                % {"kind": subject_kind_label(spec.subject_kind)},
            )
        )
    if _places(rule.denominator) > spec.decimals:
        findings.append(
            Finding(
                (*path, "denominator"),
                _("denominator %(n)s has more decimal places than the scheme's totals (%(d)d)")
                % {"n": number_text(rule.denominator), "d": spec.decimals},
            )
        )
    posts = {post.value: post.label for post in CadrePost}
    known = "、".join(f"{code}（{label}）" for code, label in posts.items())
    for code, base in rule.by_post.items():
        if code not in posts:
            findings.append(
                Finding(
                    (*path, "by_post", code),
                    _("“%(code)s” is not a cadre post (posts: %(known)s)")
                    % {"code": code, "known": known},
                )
            )
        if _places(base) > 2:
            findings.append(
                Finding(
                    (*path, "by_post", code),
                    _("base %(n)s has more than 2 decimal places (yuan and fen)")
                    % {"n": number_text(base)},
                )
            )
    if rule.cap_rate is not None and _places(rule.cap_rate) > RATE_PLACES:
        findings.append(
            Finding(
                (*path, "cap_rate"),
                _("cap_rate %(n)s has more than 4 decimal places (the rate is kept to 0.01%%)")
                % {"n": number_text(rule.cap_rate)},
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
                Finding(
                    (*path, "cadence"),
                    _("a %(cadence)s roll-up is already defined")
                    % {"cadence": _cadence(rollup.cadence)},
                )
            )
        seen.add(rollup.cadence)
        if rank <= base_rank:
            findings.append(
                Finding(
                    (*path, "cadence"),
                    _("cadence %(cadence)s must be longer than the scheme cadence %(scheme)s")
                    % {"cadence": _cadence(rollup.cadence), "scheme": _cadence(spec.cadence)},
                )
            )
            continue

        if rollup.method is RollupMethod.COMPOSITE:
            if not rollup.parts:
                message = _("parts is required for method composite")
                findings.append(Finding((*path, "parts"), message))
            if rollup.source is not None:
                findings.append(
                    Finding(
                        (*path, "source"),
                        _("source is not used by composite (each part has one)"),
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
                                _("aggregate must be value for source self (it is %(got)s)")
                                % {"got": part.aggregate},
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
                                _("aggregate must be mean or sum for source %(source)s")
                                % {"source": part.source},
                            )
                        )
            if rollup.parts and total != ONE:
                findings.append(
                    Finding(
                        (*path, "parts"),
                        _("weights add up to %(n)s, not 1") % {"n": number_text(total)},
                        warning=True,
                    )
                )
        else:
            if rollup.parts:
                findings.append(
                    Finding(
                        (*path, "parts"),
                        _("parts is only used by composite (method is %(method)s)")
                        % {"method": rollup.method},
                    )
                )
            if rollup.source is not None:
                _check_source(spec, rollup, rollup.source, (*path, "source"), findings)


def _check_scheme_sources(spec: SchemeSpec, findings: list[Finding]) -> None:
    """A metric item's `source:` (another scheme's result) says what it needs and nothing else;
    its source periods lie inside the reading period; its metric is its own. What needs the
    database (the source exists, has that list, grades, cadence; no cycle) is
    `schemes.sources.sources_check`, run at upload."""
    levels = [Cadence(spec.cadence), *(Cadence(c) for c in assessed_cadences(spec))]
    used: dict[str, list[tuple]] = {}
    for path, element, _depth in spec.walk():
        if isinstance(element, MetricItem):
            used.setdefault(element.metric, []).append(path)
    for path, element, _depth in spec.walk():
        if not isinstance(element, MetricItem) or element.source is None:
            continue
        source, at = element.source, (*path, "source")
        take = str(source.take)
        if source.scheme == spec.code:
            findings.append(Finding((*at, "scheme"), _("a scheme cannot read its own results")))
        if take == "list" and source.list is None:
            message = _("take: list needs list: (the code of the list to read)")
            findings.append(Finding(at, message))
        if take != "list" and source.list is not None:
            findings.append(Finding((*at, "list"), _("list: is written with take: list only")))
        if take == "grade" and not source.grades:
            message = _(
                "take: grade needs grades: (what each grade code of the source scheme counts as)"
            )
            findings.append(Finding(at, message))
        if take != "grade" and source.grades is not None:
            message = _("grades: is written with take: grade only")
            findings.append(Finding((*at, "grades"), message))
        for code, number in (source.grades or {}).items():
            if _places(number) > METRIC_PLACES:
                findings.append(
                    Finding(
                        (*at, "grades", code),
                        _("a grade's value has at most %(n)s decimal places")
                        % {"n": METRIC_PLACES},
                    )
                )
        if source.cadence is not None:
            item_levels = [c for c in levels if element.cadences is None or c in element.cadences]
            longer = [c for c in item_levels if source.cadence.months > c.months]
            if longer:
                findings.append(
                    Finding(
                        (*at, "cadence"),
                        _(
                            "the source cadence %(source)s cannot be longer than the periods "
                            "this item is scored in (%(levels)s): when such a period closes, "
                            "the source period covering it has not ended"
                        )
                        % {"source": _cadence(source.cadence), "levels": _cadences(longer)},
                    )
                )
        others = [p for p in used[element.metric] if p != path]
        if others:
            findings.append(
                Finding(
                    (*path, "metric"),
                    _(
                        "metric %(metric)s is filled by this item from another scheme's "
                        "results, so no other metric item may use it: give each source item "
                        "its own metric name"
                    )
                    % {"metric": element.metric},
                    related=others[0],
                )
            )


def _check_item_cadences(spec: SchemeSpec, findings: list[Finding]) -> None:
    """An item's `cadences` name levels entries can be recorded at: the scheme's own cadence and
    the roll-up levels assessed in their own right (a composite with a `self` part)."""
    levels = {Cadence(spec.cadence), *(Cadence(c) for c in assessed_cadences(spec))}
    for path, element, _depth in spec.walk():
        if not element.is_item or element.cadences is None:
            continue
        for index, cadence in enumerate(element.cadences):
            if cadence not in levels:
                findings.append(
                    Finding(
                        (*path, "cadences", index),
                        _(
                            "%(cadence)s holds no assessment of its own in this scheme, so no "
                            "item is recorded at it (levels that take entries: %(levels)s; a "
                            "roll-up takes them when its composite has a `self` part)"
                        )
                        % {"cadence": _cadence(cadence), "levels": _cadences(levels)},
                    )
                )


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
                _(
                    "source %(source)s must be shorter than %(rollup)s and not shorter than the "
                    "scheme cadence %(scheme)s"
                )
                % {
                    "source": _cadence(source),
                    "rollup": _cadence(rollup.cadence),
                    "scheme": _cadence(spec.cadence),
                },
            )
        )
    elif source not in available:
        message = _("source %(source)s: the scheme has no such results (add a roll-up)")
        findings.append(Finding(at, message % {"source": _cadence(source)}))


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
                message = _("exclude: there is no item “%(code)s”") % {"code": code}
                findings.append(Finding((*path, "exclude", i), message))
            elif isinstance(element, Node):
                findings.append(
                    Finding(
                        (*path, "exclude", i),
                        _("exclude: “%(code)s” is a group; list its items") % {"code": code},
                    )
                )
        for code, override in variant.items.items():
            at = (*path, "items", code)
            element = kinds.get(code)
            if element is None:
                findings.append(Finding(at, _("there is no item “%(code)s”") % {"code": code}))
                continue
            if isinstance(element, Node):
                message = _("“%(code)s” is a group; override it under nodes") % {"code": code}
                findings.append(Finding(at, message))
                continue
            if code in variant.exclude:
                message = _("“%(code)s” is both excluded and overridden") % {"code": code}
                findings.append(Finding(at, message))
            rule = element.rule
            if override.points is not None:
                if rule not in ("count", "quantity"):
                    findings.append(
                        Finding(
                            (*at, "points"),
                            _("points cannot be set on a %(rule)s item") % {"rule": rule},
                        )
                    )
                else:
                    problem = _sign_problem(sections[code], override.points, "points")
                    if problem:
                        findings.append(Finding((*at, "points"), problem))
            if override.weight is not None and rule != "rating":
                message = _("weight cannot be set on a %(rule)s item") % {"rule": rule}
                findings.append(Finding((*at, "weight"), message))
            if rule == "veto":
                for key in ("cap", "max", "floor"):
                    if getattr(override, key) is not None:
                        message = _("%(key)s cannot be set on a veto item") % {"key": key}
                        findings.append(Finding((*at, key), message))
                continue
            merged = element.model_copy(update=override.model_dump(exclude_none=True))
            _check_limits(
                merged, at, findings, floor=merged.floor, ceiling=merged.max, cap=merged.cap
            )
        for code, override in variant.nodes.items():
            at = (*path, "nodes", code)
            element = root if code == ROOT_CODE else kinds.get(code)
            if element is None:
                findings.append(Finding(at, _("there is no group “%(code)s”") % {"code": code}))
                continue
            if not isinstance(element, Node):
                message = _("“%(code)s” is an item; override it under items") % {"code": code}
                findings.append(Finding(at, message))
                continue
            merged = element.model_copy(update=override.model_dump(exclude_none=True))
            collected: list[Finding] = []
            _check_limits(
                merged, at, collected, base=merged.base, floor=merged.floor, ceiling=merged.max
            )
            findings.extend(f for f in collected if not f.warning)
        base_reach = _overreaches(root)
        for code, (reach, ceiling) in _overreaches(apply_variant(root, variant)).items():
            if base_reach.get(code) != (reach, ceiling):
                findings.append(
                    Finding(
                        path,
                        _(
                            "with this variant the children of “%(code)s” can reach %(reach)s, "
                            "above its max %(max)s; the excess is cut"
                        )
                        % {
                            "code": code,
                            "reach": number_text(reach),
                            "max": number_text(ceiling),
                        },
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
                Finding(
                    at,
                    _("%(key)s %(n)s has more than %(places)d decimal places (%(why)s)")
                    % {"key": at[-1], "n": number_text(value), "places": places, "why": why},
                )
            )

    keep = spec.decimals
    why = f"decimals: {keep}"
    points_keys = ("base", "max", "floor", "cap", "points", "weight")
    for key in ("base", "max", "floor"):
        check(getattr(spec, key), (key,), keep, why)
    for path, element, _depth in spec.walk():
        for key in points_keys:
            check(getattr(element, key, None), (*path, key), keep, why)
        for label, factor in getattr(element, "levels", {}).items():
            check(factor, (*path, "levels", label), FACTOR_PLACES, _("rating factors"))
        if linear := getattr(element, "linear", None):
            for key in ("base", "step", "floor", "max"):
                check(getattr(linear, key), (*path, "linear", key), keep, why)
            for key in ("target", "unit"):
                check(
                    getattr(linear, key), (*path, "linear", key), METRIC_PLACES, _("metric values")
                )
        for i, band in enumerate(getattr(element, "bands", ())):
            check(band.points, (*path, "bands", i, "points"), keep, why)
            check(band.min, (*path, "bands", i, "min"), METRIC_PLACES, _("metric bounds"))
            check(band.max, (*path, "bands", i, "max"), METRIC_PLACES, _("metric bounds"))
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


# A tree's key is the variant's label, OVERLAY_MARK and a village code (12 digits), stored in
# the 32 characters of SchemeNode.variant and Result.variant.
_VARIANT_KEY_LENGTH = 32
_REGION_DIGITS = 12


def _moved(found: list[Finding], old: tuple, new: tuple) -> list[Finding]:
    """Findings under the data path `old` placed under `new` (others dropped): the checks of
    the county's tree run on an overlay's part and report at the overlay's lines."""
    moved = []
    for f in found:
        if f.path[: len(old)] == old:
            related = f.related
            if related is not None and related[: len(old)] == old:
                related = (*new, *related[len(old) :])
            moved.append(Finding((*new, *f.path[len(old) :]), f.message, f.warning, related))
    return moved


def _check_overlays(
    spec: SchemeSpec,
    kinds: dict[str, Node | Item],
    seen: dict[str, tuple],
    grade_codes: set[str],
    findings: list[Finding],
) -> None:
    """Overlays (本乡镇/本村增加的评分项): a group of the county's tree to add under, codes of
    their own (an entry's item code names one item for every subject), the rules of the tree
    for what they add, a variant's rules for what they change, and nothing a ranking needs.
    That each region exists is checked when the file is loaded (`services.scheme_load`)."""
    if not spec.overlays:
        return
    for label in spec.variants:
        if OVERLAY_MARK in label or len(label) + 1 + _REGION_DIGITS > _VARIANT_KEY_LENGTH:
            message = _(
                "with overlays a variant name is at most %(n)d characters and has no “%(mark)s”"
            ) % {"n": _VARIANT_KEY_LENGTH - 1 - _REGION_DIGITS, "mark": OVERLAY_MARK}
            findings.append(Finding(("variants", label), message))
    sections = {row.code: row.section for row in spec.flatten()}
    added: dict[str, tuple] = {}
    for o, overlay in enumerate(spec.overlays):
        path = ("overlays", o)
        if not (overlay.add or overlay.exclude or overlay.items or overlay.nodes):
            message = _("an overlay must add or change something (add, exclude, items, nodes)")
            findings.append(Finding(path, message))
        parent = kinds.get(overlay.under) if overlay.under else spec.root
        if parent is None:
            message = _("under: there is no group “%(code)s” in the county's tree")
            findings.append(Finding((*path, "under"), message % {"code": overlay.under}))
        elif not isinstance(parent, Node):
            message = _("under: “%(code)s” is an item; add under a group")
            findings.append(Finding((*path, "under"), message % {"code": overlay.under}))
        for at, element, _depth in overlay.walk():
            at = (*path, *at)
            if element.code in (ROOT_CODE, ADJUST_CODE):
                message = _("the code %(code)s is reserved") % {"code": element.code}
                findings.append(Finding((*at, "code"), message))
            elif element.code in seen:
                message = _("the code “%(code)s” is already used by the county's tree")
                findings.append(
                    Finding(
                        (*at, "code"),
                        message % {"code": element.code},
                        related=seen[element.code],
                    )
                )
            elif element.code in added:
                findings.append(
                    Finding(
                        (*at, "code"),
                        _("the code “%(code)s” is used twice") % {"code": element.code},
                        related=added[element.code],
                    )
                )
            else:
                added[element.code] = at
        if isinstance(parent, Node):
            section = sections.get(parent.code, Section.NORMAL)
            _check_added(overlay.add, (*path, "add"), section, grade_codes, findings)
        if overlay.add:
            tree = spec.model_copy(update={"tree": overlay.add, "variants": {}, "overlays": ()})
            found: list[Finding] = []
            _check_item_cadences(tree, found)
            _check_linear_size(tree, found)
            _check_precision(tree, found)
            findings.extend(_moved(found, ("tree",), (*path, "add")))
        change = Variant(exclude=overlay.exclude, items=overlay.items, nodes=overlay.nodes)
        changed = spec.model_copy(update={"variants": {OVERLAY_MARK: change}, "overlays": ()})
        found = []
        _check_variants(changed, kinds, found)
        _check_precision(changed, found)
        findings.extend(_moved(found, ("variants", OVERLAY_MARK), path))
    # A list or award ranked by one node compares every subject's value of it.
    ranked = [
        (("ranking", "lists", i), rule) for i, rule in enumerate(spec.ranking.lists) if rule.node
    ] + [
        (("ranking", "awards", i), award)
        for i, award in enumerate(spec.ranking.awards)
        if award.node
    ]
    # (An overlay's own item is not in the county's tree, which `_check_node` already refuses.)
    for at, rule in ranked:
        for o, overlay in enumerate(spec.overlays):
            if rule.node in overlay.exclude:
                message = _(
                    "overlay %(n)d excludes “%(code)s”: its subjects would have no value to rank by"
                )
                findings.append(Finding((*at, "node"), message % {"n": o + 1, "code": rule.node}))


def _check_added(
    children: tuple, path: tuple, section: Section, grade_codes: set[str], findings: list[Finding]
) -> None:
    """The tree's rules (sections, limits, items) for elements an overlay adds under a group of
    `section`."""
    for i, child in enumerate(children):
        at = (*path, i)
        if isinstance(child, Node):
            own = child.section
            if own is not None and section is not Section.NORMAL and own is not section:
                findings.append(
                    Finding(
                        (*at, "section"),
                        _("a %(own)s section cannot sit inside a %(section)s section")
                        % {"own": own, "section": section},
                    )
                )
            _check_limits(
                child, at, findings, base=child.base, floor=child.floor, ceiling=child.max
            )
            _check_added(child.children, (*at, "children"), own or section, grade_codes, findings)
        else:
            _check_item(child, at, section, grade_codes, findings)
