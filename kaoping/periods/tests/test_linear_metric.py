"""Linear metric items (`linear:` on `rule: metric`), as docs/schemes.md §5 states them: the
worked example closes to its stated numbers, the rule reads in words on the explain page's tag,
misuse is refused at the item's line, and the SQL close equals `scoring` on random lines and
values: rising and falling, on rounding ties, far out and held by floor, max and the item's own
limits (test_close_properties also meets linear items among every other rule)."""

import os
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.limits import METRIC_VALUE_MAX
from kaoping.core.templatetags.scoring import node_rule
from kaoping.periods.models import Result
from kaoping.periods.services import metrics_report, period_close, period_open
from kaoping.periods.testing import result_nodes
from kaoping.schemes.loader import SchemeError, load_scheme_text
from kaoping.schemes.models import SchemeNode
from kaoping.schemes.scoring import evaluate, value_range
from kaoping.schemes.services import scheme_load
from kaoping.testing import build_small_county

from .close_harness import (
    build_world,
    check_close,
    linear_ties,
    metric_values_for,
    rolled_back,
    write_metrics,
)
from .generated_schemes import dump
from .scheme_fixture import docs_example, village_subjects

LINE = "    linear: {base: 10, target: 20, step: 5, unit: 1, floor: 0, max: 20}\n"


def _load(county, text: str):
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version


@pytest.mark.django_db
def test_the_linear_example_in_the_docs_closes_as_stated(county):
    version = _load(county, docs_example("linear-example"))
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    period = period_open(scheme=scheme, label="2026", acting_user=system_actor())
    metrics_report(
        period=period,
        values=[
            (jia, "collective_income_growth", Decimal("23.5")),
            (yi, "collective_income_growth", Decimal("18.37")),
            (bing, "collective_income_growth", Decimal("15")),
        ],
        acting_user=system_actor(),
    )
    period_close(period=period, acting_user=system_actor())
    totals = {
        r.subject_id: version.to_points(r.total) for r in Result.objects.filter(period=period)
    }
    # 甲 27.5 held at max 20; 乙 1.85 rounds half away from zero to 1.9; 丙 −15 held at floor 0.
    assert totals == {jia.pk: Decimal(20), yi.pk: Decimal("1.9"), bing.pk: Decimal(0)}
    raw = {s: n.raw for (s, code), n in result_nodes(period).items() if code == "GR"}
    # The breakdown keeps the line held to its own floor and max (before the item's limits).
    assert raw == {jia.pk: 200, yi.pk: 19, bing.pk: 0}
    node = SchemeNode.objects.get(version=version, code="GR")
    with_label = "“村集体经营性收入增长率”以 20 为基准得 10 分"
    words = node_rule(version, node)
    assert words.startswith(with_label) or words.startswith("村集体经营性收入增长率: 10 at 20")
    assert "20" in words and "5" in words


@pytest.mark.django_db
def test_a_subject_without_a_value_scores_zero_not_the_base(county):
    version = _load(county, docs_example("linear-example"))
    jia, yi, _bing = village_subjects(county).values()
    period = period_open(scheme=version.scheme, label="2026", acting_user=system_actor())
    metrics_report(
        period=period,
        values=[(jia, "collective_income_growth", Decimal("19.99"))],
        acting_user=system_actor(),
    )
    period_close(period=period, acting_user=system_actor())
    totals = {
        r.subject_id: version.to_points(r.total) for r in Result.objects.filter(period=period)
    }
    # 19.99: 10 − 0.05 = 9.95 → 10.0 (half away from zero); 乙 reported nothing: 0.
    assert totals[jia.pk] == Decimal(10)
    assert totals[yi.pk] == Decimal(0)


def _spec(line: str, *, extra: str = ""):
    return load_scheme_text(
        docs_example("linear-example").replace(LINE, line + extra), filename="linear.yaml"
    )


def _in_section(section: str, line: str):
    text = docs_example("linear-example").split("tree:\n")[0] + (
        f"tree:\n  - code: S\n    name: 分组\n    section: {section}\n    children:\n"
        "      - code: GR\n        name: 集体经济增长\n        rule: metric\n"
        f"        metric: collective_income_growth\n        {line}\n"
    )
    return load_scheme_text(text, filename="linear.yaml")


@pytest.mark.parametrize(
    ("section", "line", "refused"),
    [
        ("bonus", "linear: {target: 20, step: 5}", "floor"),
        ("bonus", "linear: {target: 20, step: 5, floor: -1}", "floor"),
        ("deduction", "linear: {target: 20, step: -5}", "max"),
        ("deduction", "linear: {target: 20, step: -5, max: 1}", "max"),
        ("bonus", "linear: {target: 20, step: 5, floor: 0}", ""),
        ("deduction", "linear: {target: 20, step: -5, max: 0}", ""),
    ],
)
def test_sections_keep_their_sign(section, line, refused):
    if not refused:
        assert _in_section(section, line).find("GR").linear is not None
        return
    with pytest.raises(SchemeError) as error:
        _in_section(section, line)
    assert f"linear.{refused}" in str(error.value) or refused in str(error.value)


@pytest.mark.parametrize(
    ("line", "extra", "words"),
    [
        (LINE, "    bands: [{points: 1}]\n", "bands"),
        ("", "", "bands"),
        ("    linear: {target: 20, step: 0}\n", "", "step"),
        ("    linear: {target: 20, step: 5, floor: 5, max: 1}\n", "", "floor"),
        ("    linear: {target: 20, step: 5, unit: 0}\n", "", "unit"),
        ("    linear: {target: 20, step: 5, slope: 1}\n", "", "slope"),
        ("    linear: {target: 20, step: 5.55}\n", "", "step"),
        ("    linear: {target: 20.00001, step: 5}\n", "", "target"),
        ("    linear: {target: 20, step: 1000}\n", "", "step"),
    ],
)
def test_misuse_is_refused_at_the_item(line, extra, words):
    with pytest.raises(SchemeError) as refused:
        _spec(line, extra=extra)
    message = str(refused.value)
    assert "linear.yaml" in message and words in message


def test_a_steep_line_fits_once_floor_and_max_hold_it():
    # Refused above without limits (1000 × 10 × 10^16 leaves 64 bits); held to [0, 20] it fits.
    spec = _spec("    linear: {target: 20, step: 1000, floor: 0, max: 20}\n")
    assert spec.bounds() == (Decimal(0), Decimal(20))


def test_value_range_and_evaluate_follow_the_line():
    spec = _spec("    linear: {base: 10, target: 20, step: -2.5, unit: 0.5}\n")
    item = spec.find("GR")
    # No floor and no max: unbounded both ways (the full score is “不封顶”).
    assert value_range(item) == (Decimal("-Infinity"), Decimal("Infinity"))
    # Lower is better: 1 below the target is two units, + 5.
    assert evaluate(spec, {"GR": Decimal(19)}).total == Decimal(15)
    assert evaluate(spec, {"GR": Decimal("20.01")}).total == Decimal("10")  # 9.95 → 10.0
    assert evaluate(spec, {"GR": Decimal("20.03")}).total == Decimal("9.9")  # 9.85 → 9.9
    assert evaluate(spec, {}).total == Decimal(0)


# -- the close against the reference ------------------------------------------------------------

SCALE = int(os.environ.get("KAOPING_EXAMPLES", "1"))
LINES = settings(
    max_examples=25 * SCALE,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    database=None,
)


@st.composite
def linear_schemes(draw) -> str:
    """One or two linear items under a group with a base: steps odd in the last place (so
    that half units land on ties), bases of either sign, optional floor, max and item limits."""
    decimals = draw(st.integers(0, 3))

    def points(lo: int, hi: int) -> Decimal:
        return Decimal(draw(st.integers(lo * 10**decimals, hi * 10**decimals))).scaleb(-decimals)

    items = []
    for code in draw(st.sampled_from([["L1"], ["L1", "L2"]])):
        step = Decimal(0)
        while step == 0:
            step = points(-12, 12)
        line: dict = {
            "base": points(-15, 15),
            "target": Decimal(draw(st.integers(-500, 10_500))).scaleb(-2),
            "step": step,
            "unit": draw(
                st.sampled_from([Decimal(1), Decimal("0.5"), Decimal(3), Decimal("0.25")])
            ),
        }
        if draw(st.booleans()):
            line["floor"] = line["base"] - points(0, 20)
        if draw(st.booleans()):
            line["max"] = line["base"] + points(0, 20)
        if abs(step) * 10**decimals * 10**16 * 2 > 2**63:
            line.setdefault("floor", line["base"] - points(0, 20))
            line.setdefault("max", line["base"] + points(0, 20))
        item: dict = {
            "code": code,
            "name": f"线性{code}",
            "rule": "metric",
            "metric": draw(st.sampled_from(["m_a", "m_b"])),
            "linear": line,
        }
        if draw(st.integers(0, 3)) == 0:
            item["cap"] = points(0, 30)
        if draw(st.integers(0, 3)) == 0:
            item["max"] = points(-5, 30)
            if "cap" in item and item["max"] < -item["cap"]:
                item["max"] = -item["cap"]
        items.append(item)
    scheme = {
        "code": "linear-generated",
        "version": 1,
        "name": "线性计分",
        "subject_kind": "village",
        "cadence": "month",
        "decimals": decimals,
        "tree": [{"code": "G", "name": "分组", "base": points(0, 20), "children": items}],
    }
    return dump(scheme)


@st.composite
def linear_values(draw, spec) -> Decimal:
    """Ties (the step part an exact half of the last place), values as large as a department
    may report (10^12: the deviation must be held to its reach before it is multiplied), or
    the harness's values."""
    ties = set()
    for row in spec.flatten():
        if row.linear is not None:
            ties |= linear_ties(row.linear, spec.decimals)
    kind = draw(st.integers(0, 4))
    if ties and kind < 3:
        return draw(st.sampled_from(sorted(ties)))
    if kind == 3:
        return Decimal(draw(st.sampled_from([-1, 1]))) * METRIC_VALUE_MAX
    return draw(metric_values_for(spec))


@pytest.mark.django_db
def test_the_close_of_linear_items_equals_the_reference():
    county = build_small_county()

    @LINES
    @given(text=linear_schemes(), data=st.data())
    def example(text, data):
        with rolled_back():
            world = build_world(text, county=county)
            period = period_open(scheme=world.scheme, label="2026-03", acting_user=system_actor())
            reports = {
                (i, name): data.draw(linear_values(world.spec))
                for i in range(len(world.writers))
                for name in ("m_a", "m_b")
                if data.draw(st.integers(0, 5))
            }
            write_metrics(world, period, reports)
            period_close(period=period, acting_user=system_actor())
            check_close(world, period, [])

    example()


def test_ties_are_halves_of_the_last_place():
    spec = _spec("    linear: {base: 10, target: 20, step: 5, unit: 1}\n")
    ties = linear_ties(spec.find("GR").linear, spec.decimals)
    assert Decimal("19.99") in ties and Decimal("20.01") in ties  # ∓0.05 at one decimal
    for value in ties:
        part = Fraction(5) * (Fraction(value) - 20) * 10
        assert part.denominator == 2
