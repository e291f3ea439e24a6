"""A hypothesis strategy for small scheme files that pass validation.

Trees one to three levels deep of count, quantity, rating, metric and veto items; bases, caps,
floors and maxima on groups and items; bonus and deduction sections; metric bands and grades
with inclusive and exclusive bounds and gaps; linear metric items rising and falling, with and
without floor and max; variants that exclude items and override points, grades given to some variants only,
weights, caps and group limits; overlays of townships and villages adding items and groups
and changing the county's; every ranking scope, tie rule and order; every no_data setting. Numbers carry at most
the scheme's `decimals` places (rating factors and metric bounds at most four).
"""

from decimal import Decimal

import yaml
from hypothesis import strategies as st


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True  # a shared bound is written twice, not as &anchor / *alias


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    # Written as a plain YAML number (the loader reads numbers as exact Decimals).
    text = format(value, "f")
    tag = "int" if value == value.to_integral_value() and "." not in text else "float"
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", text)


_Dumper.add_representer(Decimal, _decimal)


def dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


@st.composite
def scheme_texts(draw) -> str:
    decimals = draw(st.integers(0, 3))
    numbers = iter(range(1, 10_000))
    groups: dict[str, dict] = {}
    items: dict[str, dict] = {}

    def points(lo: int, hi: int) -> Decimal:
        """Points in [lo, hi]: whole half the time, else with up to `decimals` places."""
        places = draw(st.sampled_from([0, decimals]))
        unit = 10**places
        return Decimal(draw(st.integers(lo * unit, hi * unit))).scaleb(-places).normalize() + 0

    def signed(section: str, size: int = 10) -> Decimal:
        if section == "bonus":
            return points(0, size)
        if section == "deduction":
            return points(-size, 0)
        return points(-size, size)

    def intervals(lo: int, hi: int, places: int) -> list[dict]:
        """Disjoint intervals with every bound's inclusion stated, possibly with gaps."""
        unit = 10**places
        cuts = draw(
            st.lists(st.integers(lo * unit, hi * unit), min_size=1, max_size=4, unique=True)
        )
        cuts = sorted(Decimal(c).scaleb(-places).normalize() + 0 for c in cuts)
        segments: list[tuple] = []
        if draw(st.booleans()):
            segments.append((None, cuts[0]))
        segments += list(zip(cuts, cuts[1:], strict=False))
        if draw(st.booleans()) or not segments:
            segments.append((cuts[-1], None))
        kept = [s for s in segments if draw(st.integers(0, 3))] or segments[:1]
        out, previous = [], None  # previous: (upper bound, inclusive) of the last kept interval
        for low, high in kept:
            interval: dict = {}
            if low is not None:
                touching = previous is not None and previous == (low, True)
                interval["min"] = low
                interval["min_inclusive"] = False if touching else draw(st.booleans())
            if high is not None:
                interval["max"] = high
                interval["max_inclusive"] = draw(st.booleans())
            previous = (high, interval.get("max_inclusive"))
            out.append(interval)
        return out

    def limits(element: dict, base: Decimal) -> None:
        if draw(st.booleans()):
            element["max"] = base + points(0, 25)
        if draw(st.booleans()):
            floor = base - points(0, 25) if draw(st.integers(0, 4)) else base + points(0, 5)
            if "max" in element and floor > element["max"]:
                floor = element["max"]
            element["floor"] = floor

    def fit_cap(element: dict) -> None:
        """The item's limits inside ±cap (a floor above the cap is an error)."""
        cap = element["cap"]
        if element.get("floor", -cap) > cap:
            element["floor"] = cap
        if element.get("max", cap) < -cap:
            element["max"] = -cap

    def linear(section: str) -> dict:
        """A line through (target, base) rising or falling by `step` per `unit`, sometimes held
        to a floor and a max (always when the close's integers need them, and on the side of
        zero a bonus or deduction section keeps)."""
        places = draw(st.sampled_from([0, 1, 4]))
        line: dict = {
            "target": Decimal(draw(st.integers(-5 * 10**places, 105 * 10**places)))
            .scaleb(-places)
            .normalize()
            + 0
        }
        base = points(-10, 20) if draw(st.integers(0, 3)) else None
        if base is not None:
            line["base"] = base
        step = Decimal(0)
        while step == 0:
            step = points(-10, 10)
        line["step"] = step
        unit = draw(st.sampled_from([None, Decimal(1), Decimal("0.5"), Decimal(2), Decimal("0.3")]))
        if unit is not None:
            line["unit"] = unit
        start = base or Decimal(0)
        floor = start - points(0, 20) if draw(st.booleans()) else None
        ceiling = start + points(0, 20) if draw(st.booleans()) else None
        # Without both, a steep line over metric values up to 10^12 leaves 64 bits (checks).
        if abs(step) * 10**decimals * 10**16 * 2 > 2**63:
            floor = start - points(0, 20) if floor is None else floor
            ceiling = start + points(0, 20) if ceiling is None else ceiling
        if section == "bonus":
            floor = max(floor or Decimal(0), Decimal(0))
        if section == "deduction":
            ceiling = min(ceiling if ceiling is not None else Decimal(0), Decimal(0))
        if floor is not None and ceiling is not None and floor > ceiling:
            floor = ceiling
        if floor is not None:
            line["floor"] = floor
        if ceiling is not None:
            line["max"] = ceiling
        return line

    # Grades first, so that grade vetoes can name one.
    grades = []
    if draw(st.integers(0, 4)):
        # Bounds among the small totals these trees reach, so that totals land on them.
        for i, interval in enumerate(reversed(intervals(-5, 40, decimals and 1))):
            grade = {"code": f"g{i}", "name": f"等次{i}", **interval}
            if draw(st.integers(0, 2)) == 0:
                grade["honour"] = True
            if draw(st.integers(0, 3)) == 0:
                grade["cadences"] = ["month"]
            grades.append(grade)

    def item(section: str) -> dict:
        code = f"I{next(numbers)}"
        rules = ["count", "count", "quantity", "rating", "metric", "veto"]
        if section == "deduction":
            rules.remove("rating")
        rule = draw(st.sampled_from(rules))
        element: dict = {"code": code, "name": f"评分项{code}", "rule": rule}
        if rule in ("count", "quantity"):
            element["points"] = signed(section)
            if rule == "quantity":
                element["unit"] = "亩"
        elif rule == "rating":
            element["weight"] = points(1, 30)
            labels = draw(
                st.lists(st.sampled_from("好较一差"), min_size=1, max_size=4, unique=True)
            )
            element["levels"] = {
                label: Decimal(draw(st.integers(0, 10_000))).scaleb(-4).normalize() + 0
                for label in labels
            }
        elif rule == "metric":
            element["metric"] = draw(st.sampled_from(["m_a", "m_b", "m_c"]))
            if draw(st.booleans()):
                element["linear"] = linear(section)
            else:
                element["bands"] = [
                    {**interval, "points": signed(section, 15)}
                    for interval in intervals(-5, 105, draw(st.sampled_from([0, 1, 4])))
                ]
        else:
            effects = ["zero", "bar", "grade"] if grades else ["zero", "bar"]
            element["effect"] = draw(st.sampled_from(effects))
            if element["effect"] == "grade":
                element["grade"] = draw(st.sampled_from([g["code"] for g in grades]))
        if rule != "veto":
            if draw(st.integers(0, 3)) == 0:
                limits(element, Decimal(0))
            if draw(st.integers(0, 2)) == 0:
                element["cap"] = points(0, 15)
                fit_cap(element)
        items[code] = {"rule": rule, "section": section, **element}
        return element

    def group(depth: int, section: str) -> dict:
        code = f"G{next(numbers)}"
        element: dict = {"code": code, "name": f"分组{code}"}
        own = None
        if section == "normal":
            own = draw(st.sampled_from([None, None, "bonus", "deduction"]))
        elif draw(st.integers(0, 3)) == 0:
            own = section  # restating the inherited section is allowed
        if own:
            element["section"] = own
        section = own or section
        base = points(0, 20) if draw(st.booleans()) else Decimal(0)
        if base:
            element["base"] = base
        limits(element, base)
        element["children"] = [child(depth + 1, section) for _ in range(draw(st.integers(1, 3)))]
        groups[code] = {"base": base, "section": section}
        return element

    def child(depth: int, section: str) -> dict:
        if depth < 3 and draw(st.integers(0, 2)) == 0:
            return group(depth, section)
        return item(section)

    tree = [child(1, "normal") for _ in range(draw(st.integers(1, 4)))]

    scheme: dict = {
        "code": "generated",
        "version": 1,
        "name": "生成的方案",
        "subject_kind": "village",
        "cadence": "month",
        "decimals": decimals,
    }
    root_base = points(0, 40) if draw(st.booleans()) else Decimal(0)
    if root_base:
        scheme["base"] = root_base
    limits(scheme, root_base)
    scheme["tree"] = tree
    if grades:
        scheme["grades"] = grades
    groups["__root__"] = {"base": root_base}

    variants = {}
    # A variant's name is free text that the close writes into its SQL: one carries a quote
    # and a percent sign.
    for name in draw(st.lists(st.sampled_from(["甲", "乙", "丙'5%"]), max_size=2, unique=True)):
        variant: dict = {"name": f"{name}类"}
        codes = sorted(items)
        excluded = draw(st.lists(st.sampled_from(codes), max_size=2, unique=True))
        if excluded:
            variant["exclude"] = excluded
        overrides = {}
        for code in draw(st.lists(st.sampled_from(codes), max_size=3, unique=True)):
            if code in excluded:
                continue
            rule, section = items[code]["rule"], items[code]["section"]
            override: dict = {}
            if rule in ("count", "quantity"):
                override["points"] = signed(section)
            elif rule == "rating":
                override["weight"] = points(1, 30)
            if rule != "veto" and draw(st.booleans()):
                floor, ceiling = items[code].get("floor"), items[code].get("max")
                least = max(floor or 0, -(ceiling if ceiling is not None else 0), 0)
                override["cap"] = least + points(0, 15)
            if override:
                overrides[code] = override
        if overrides:
            variant["items"] = overrides
        nodes = {}
        for code in draw(st.lists(st.sampled_from(sorted(groups)), max_size=2, unique=True)):
            base = points(0, 20) if draw(st.booleans()) else groups[code]["base"]
            override = {"max": base + points(0, 25), "floor": base - points(0, 25)}
            if base != groups[code]["base"]:
                override["base"] = base
            nodes[code] = override
        if nodes:
            variant["nodes"] = nodes
        variants[name] = variant
    if variants:
        scheme["variants"] = variants
        # Grades of some variants only (预备党员…): a limited grade is passed over for the
        # other subjects, who may get a grade further down the list instead.
        for grade in grades:
            if draw(st.integers(0, 2)) == 0:
                grade["variants"] = draw(
                    st.lists(st.sampled_from(sorted(variants)), min_size=1, unique=True)
                )
        # A class's own line above the general grades it overlaps (预备党员 below 70 before
        # 合格 from 60): its subjects are graded by it first.
        if grades and draw(st.integers(0, 2)) == 0:
            own = {"code": "gv", "name": "类别等次", "max": points(0, 40), "max_inclusive": False}
            label = draw(st.sampled_from(sorted(variants)))
            own["variants"] = [label]
            for grade in grades:  # a later grade of the same class would overlap it
                if label in grade.get("variants", ()):
                    grade["variants"].remove(label)
                    if not grade["variants"]:
                        del grade["variants"]
            grades.insert(0, own)
    # Overlays of the small county's townships and villages: items added under a group (or at
    # the top level) and a variant's kind of changes, stacked township then village.
    base_items, base_groups = sorted(items), sorted(c for c in groups if c != "__root__")
    overlays = []
    regions = ["330304001", "330304002", "330304001001", "330304001002"]
    for region in draw(st.lists(st.sampled_from(regions), max_size=3)):
        under = draw(st.sampled_from([None, *base_groups]))
        section = groups[under]["section"] if under else "normal"
        overlay: dict = {"region": region, "name": f"{region}增加"}
        if under:
            overlay["under"] = under
        overlay["add"] = [
            group(2, section) if draw(st.integers(0, 3)) == 0 else item(section)
            for _ in range(draw(st.integers(1, 2)))
        ]
        excluded = draw(st.lists(st.sampled_from(base_items), max_size=1))
        if excluded:
            overlay["exclude"] = excluded
        for code in draw(st.lists(st.sampled_from(base_items), max_size=1)):
            if code not in excluded and items[code]["rule"] in ("count", "quantity"):
                overlay["items"] = {code: {"points": signed(items[code]["section"])}}
        for code in draw(st.lists(st.sampled_from(base_groups), max_size=1)) if base_groups else ():
            base = groups[code]["base"]
            overlay["nodes"] = {code: {"max": base + points(0, 25), "floor": base - points(0, 25)}}
        overlays.append(overlay)
    if overlays:
        scheme["overlays"] = overlays
    # Households as often as villages: they may be ranked within their natural village too.
    scheme["subject_kind"] = draw(st.sampled_from(["village", "household"]))
    withins = ["county", "township", "village", "track", "class"]
    if scheme["subject_kind"] == "household":
        withins.append("natural_village")
    scheme["ranking"] = {
        "within": draw(st.sampled_from(withins)),
        "ties": draw(st.sampled_from(["competition", "dense"])),
        "order": draw(st.sampled_from(["desc", "asc"])),
    }
    # Subjects without data: scored from the base (the default), left out, or the close refused.
    no_data = draw(st.sampled_from([None, "zero", "exclude", "block"]))
    if no_data is not None:
        scheme["no_data"] = no_data
    return dump(scheme)
