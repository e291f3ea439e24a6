"""Checks of a scheme's meaning: what a structurally valid scheme file may still get wrong.

`check_scheme` finds every problem (unique codes, limits, sections, grades, intervals, roll-ups,
lists, consequences, variants, precision) with the data path of the offending key; the loader
turns each path into a file line, and `SchemeSpec` runs the checks when it is built from data.
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .scoring import value_range
from .spec import (
    INF,
    ONE,
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
    QuantityItem,
    RankingScope,
    RatingItem,
    Rollup,
    RollupMethod,
    SchemeSpec,
    Section,
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
        return f"{what} ({number_text(points)}) must be ≥ 0 in a bonus section"
    if section is Section.DEDUCTION and points > 0:
        return f"{what} ({number_text(points)}) must be ≤ 0 in a deduction section"
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
                (*at, "floor"), f"floor ({number_text(floor)}) must be ≤ cap ({number_text(cap)})"
            )
        )
    if cap is not None and ceiling is not None and ceiling < -cap:
        findings.append(
            Finding(
                (*at, "max"), f"max ({number_text(ceiling)}) must be ≥ −cap ({number_text(-cap)})"
            )
        )
    if ceiling is not None and base is not None and ceiling < base:
        findings.append(
            Finding(
                (*at, "max"), f"max ({number_text(ceiling)}) must be ≥ base ({number_text(base)})"
            )
        )
    if floor is not None and ceiling is not None and floor > ceiling:
        findings.append(
            Finding(
                (*at, "floor"),
                f"floor ({number_text(floor)}) must be ≤ max ({number_text(ceiling)})",
            )
        )
    if floor is not None and base is not None and floor > base:
        findings.append(
            Finding(
                (*at, "floor"),
                f"floor ({number_text(floor)}) is above base ({number_text(base)}): the group can never score "
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


def _share_cadence(a: Interval, b: Interval) -> bool:
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
                    f"children can reach {number_text(reach)}, above max {number_text(node.max)}; "
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
                        f"grade '{grade.code}' starts at {number_text(grade.min)} but the maximum "
                        f"total is {number_text(high)}: no subject can reach it",
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
    pool: BonusPoolRule, path: tuple, grades: set[str], findings: list[Finding]
) -> None:
    if (pool.by_grade is None) == (pool.by_rank is None):
        findings.append(Finding(path, "give exactly one split: by_grade or by_rank"))
    if _places(pool.amount) > 2:
        findings.append(
            Finding(
                (*path, "amount"),
                f"amount {number_text(pool.amount)} has more than 2 decimal places (yuan and fen)",
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
                    f"weight {number_text(weight)} has more than {WEIGHT_PLACES} decimal places",
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
                    f"weight {number_text(band.weight)} has more than {WEIGHT_PLACES} decimal places",
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
                        f"weights add up to {number_text(total)}, not 1",
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
        for code, (reach, ceiling) in _overreaches(apply_variant(root, variant)).items():
            if base_reach.get(code) != (reach, ceiling):
                findings.append(
                    Finding(
                        path,
                        f"with this variant the children of '{code}' can reach {number_text(reach)}, "
                        f"above its max {number_text(ceiling)}; the excess is cut",
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
                    f"{at[-1]} {number_text(value)} has more than {places} decimal places ({why})",
                )
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
