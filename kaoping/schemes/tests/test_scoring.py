"""Scoring rules in Python (kaoping.schemes.scoring): clamping, rounding, what an entry is worth,
an item's and a group's value, the reference evaluation, roll-ups and the running tally.

The SQL close must equal these; the property tests in kaoping/periods/tests hold it to them.
Pure Python, no DB.
"""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.scoring import (
    ENTRY_PLACES,
    TallyTree,
    clamp,
    entry_points,
    evaluate,
    item_limits,
    item_value,
    rollup_total,
    round_half_away,
    value_range,
)
from kaoping.schemes.spec import ROOT_CODE, CountItem, MetricItem, RatingItem, Rule, VetoItem

from .test_spec import BASE, FILE, load

D = Decimal


# -- clamp and item limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "floor", "ceiling", "expected"),
    [
        (D(5), None, None, D(5)),
        (D(5), D(0), D(10), D(5)),
        (D(-1), D(0), D(10), D(0)),
        (D(11), D(0), D(10), D(10)),
        (D(10), D(0), D(10), D(10)),  # on the limit: kept
        (D(0), D(0), D(10), D(0)),
        (D(-50), None, D(10), D(-50)),
        (D(50), D(0), None, D(50)),
        (D(5), D(7), D(3), D(7)),  # crossed limits (the checks reject them): the floor wins
    ],
)
def test_clamp_holds_a_value_to_its_limits(value, floor, ceiling, expected):
    assert clamp(value, floor, ceiling) == expected


def test_clamp_works_on_the_close_integers_and_roll_up_fractions_alike():
    assert clamp(-3, 0, None) == 0 and isinstance(clamp(-3, 0, None), int)
    assert clamp(250, None, 200) == 200
    assert clamp(Fraction(7, 3), Fraction(0), Fraction(2)) == 2
    assert clamp(Fraction(1, 3), None, Fraction(2)) == Fraction(1, 3)


@pytest.mark.parametrize(
    ("cap", "floor", "ceiling", "expected"),
    [
        (None, None, None, (None, None)),
        (D(20), None, None, (D(-20), D(20))),
        (D(20), D(-5), None, (D(-5), D(20))),  # the tighter of −cap and floor
        (D(20), D(-30), D(10), (D(-20), D(10))),
        (None, D(-30), D(10), (D(-30), D(10))),
        (5, None, 3, (-5, 3)),  # scaled integers, as the close stores lo and hi
    ],
)
def test_item_limits_are_the_tighter_of_cap_and_floor_max(cap, floor, ceiling, expected):
    assert item_limits(cap, floor, ceiling) == expected


# -- rounding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (D("0.125"), 2, "0.13"),  # half away from zero, not to even
        (D("-0.125"), 2, "-0.13"),
        (D("0.135"), 2, "0.14"),
        (D("0.1249999"), 2, "0.12"),
        (D("-0.1250001"), 2, "-0.13"),
        (D("2.5"), 0, "3"),
        (D("-2.5"), 0, "-3"),
        (D("-0.001"), 2, "0.00"),  # never -0
        (D("-0"), 1, "0.0"),
        (D(5), 2, "5.00"),  # always `places` places
        (7, 1, "7.0"),
        (Fraction(7, 8), 2, "0.88"),  # 0.875: an exact tie
        (Fraction(-7, 8), 2, "-0.88"),
        (Fraction(1, 3), 2, "0.33"),
        (Fraction(-2, 3), 2, "-0.67"),
        (Fraction(35, 2) * Fraction(6, 10) / 12, 2, "0.88"),  # 0.6 × 17.5 / 12, exactly
    ],
)
def test_round_half_away_from_zero(value, places, expected):
    assert str(round_half_away(value, places)) == expected


def test_binary_floats_are_refused():
    with pytest.raises(TypeError):
        round_half_away(0.125, 2)


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=7, allow_nan=False),
    st.integers(0, 6),
)
def test_round_half_away_is_decimal_round_half_up(value, places):
    expected = value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)
    result = round_half_away(value, places)
    assert result == expected and result.as_tuple().exponent == -places
    assert not result.is_signed() or result != 0


# -- one entry ------------------------------------------------------------------------------------


def test_entry_points_by_rule():
    assert entry_points("count", points=D(10)) == D("10.0000")
    assert entry_points(Rule.COUNT, points=D(-2), quantity=D(3)) == D(-6)
    assert entry_points("quantity", points=D("0.1"), quantity=D(15)) == D("1.5")
    assert entry_points("rating", weight=D(10), factor=D("0.85")) == D("8.5")
    assert entry_points("rating", weight=D("16.2"), factor=D("0.7"), quantity=D(3)) == D("11.34")
    assert entry_points("metric", points=D(5)) == 0
    assert entry_points("veto") == 0
    assert entry_points("quantity", points=D("0.1"), quantity=D(15)).as_tuple().exponent == (
        -ENTRY_PLACES
    )


def test_entry_points_round_half_away_at_four_places():
    assert entry_points("quantity", points=D("0.25"), quantity=D("0.001")) == D("0.0003")
    assert entry_points("quantity", points=D("-0.25"), quantity=D("0.001")) == D("-0.0003")
    assert entry_points("rating", weight=D("0.5"), factor=D("0.0001")) == D("0.0001")


# -- an item, a group, a tree ---------------------------------------------------------------------


def test_item_value_by_rule_with_cap_floor_and_max():
    count = CountItem(code="C", name="次", rule="count", points=D(10), cap=D(20))
    assert item_value(count, D(3), decimals=2) == 20
    assert item_value(count, None, decimals=2) == D("0.00")
    deduction = CountItem(code="N", name="扣", rule="count", points=D(-2), floor=D(-5))
    assert item_value(deduction, D(4), decimals=2) == -5
    rating = RatingItem(
        code="R",
        name="评",
        rule="rating",
        weight=D("16.2"),
        levels={"好": D("0.85"), "中": D("0.5"), "差": D("0.4")},
    )
    # (0.85 + 0.5 + 0.4) × 16.2 / 3 = 9.45 exactly: a tie, rounded up (mean × weight is 9.4499…)
    assert item_value(rating, ["好", "中", "差"], decimals=1) == D("9.5")
    floored = rating.model_copy(update={"floor": D(4)})
    assert item_value(floored, [], decimals=1) == 4  # unrated is 0, then held to the floor
    metric = MetricItem(
        code="M",
        name="率",
        rule="metric",
        metric="coverage",
        bands=(
            {"min": D(90), "min_inclusive": True, "points": D(10)},
            {
                "min": D(60),
                "min_inclusive": True,
                "max": D(90),
                "max_inclusive": False,
                "points": 5,
            },
        ),
    )
    assert item_value(metric, D(90), decimals=0) == 10
    assert item_value(metric, D("89.99"), decimals=0) == 5
    assert item_value(metric, D(10), decimals=0) == 0  # in no band
    assert item_value(metric, None, decimals=0) == 0  # not reported
    veto = VetoItem(code="V", name="否", rule="veto", effect="bar")
    assert item_value(veto, True, decimals=2) == 0


def test_value_range_of_a_tree_and_of_items():
    spec = load_scheme_text(BASE, filename=FILE)
    assert value_range(spec.find("P01")) == (0, 20)
    assert value_range(spec.find("FM")) == (-30, 0)
    assert spec.bounds() == value_range(spec.effective_root())


def test_evaluate_follows_cap_clamp_veto_grade():
    spec = load_scheme_text(BASE, filename=FILE)
    result = evaluate(
        spec, {"P01": D(3), "P02": D(15), "N01": D(20), "R01": ["好", "一般"], "M01": D(75)}
    )
    values = result.values
    assert values["P01"] == 20  # 3 × 10 capped at 20
    assert values["P02"] == D("1.50")
    assert values["ZM"] == D("21.50")
    assert values["FM"] == -30  # 20 × -2 = -40, floor -30
    assert values["R01"] == D("8.50")  # mean(1, 0.7) × 10
    assert values["M01"] == 5
    assert result.total == D("105.00") and result.grade.code == "mid"
    vetoed = evaluate(spec, {"P01": D(1), "V01": True})
    assert vetoed.vetoes == ("V01",) and vetoed.grade.code == "low" and vetoed.total == 110


def test_bar_withholds_honours_and_zero_clears_the_total():
    spec = load("household-points")
    good = {"GY02": D(5), "GY08": D(2)}  # 100 + 50 + 20
    assert evaluate(spec, good).total == 170
    assert spec.grade_for(D(170), cadence="year").honour
    barred = evaluate(spec, {**good, "FJ02": True})
    assert barred.barred and barred.total == 170
    zeroed = evaluate(spec, {**good, "FJ01": True})
    assert zeroed.zeroed and zeroed.total == 0 and zeroed.values[ROOT_CODE] == 170
    flags = load("hong-huang-qi")
    middling = evaluate(flags, {"ZD01.1": ["好"], "ZL02.1": ["好"]})
    assert middling.total == 80 and middling.grade.name == "达标"  # 75–90: no flag
    assert str(middling.values["ZD02.1"]) == "0.0"  # never "-0.0"
    full = {
        "ZD01.1": ["好"],
        "DJ01.1": D(100),
        "ZL02.1": ["好"],
        "MS02.1": ["满意"],
    }
    assert evaluate(flags, full).total == 100 and evaluate(flags, full).grade.name == "红旗"
    assert evaluate(flags, {**full, "FJ01": True}).grade is None


def test_rollup_counts_the_base_once():
    spec = load("household-points")
    assert rollup_total(spec, "quarter", results={"month": [D(105), D(98), D(100)]}) == 103
    contest = load("leitai-biwu")
    year = rollup_total(contest, "year", results={"month": [D(80), D(90)]}, own=D(70))
    assert year == D("79.00")  # 0.4 × 70 + 0.6 × 85


# -- the running tally ----------------------------------------------------------------------------


def test_the_tally_matches_evaluate_entry_by_entry():
    spec = load_scheme_text(BASE, filename=FILE)
    tally = TallyTree(spec).tally()
    empty = evaluate(spec, {})
    assert tally.total == empty.values[ROOT_CODE] == 100 and tally.earned == 0
    entries = [
        ("P01", 1, D(1), ""),
        ("P01", 1, D(1), ""),
        ("P01", 1, D(1), ""),  # the third is cut by the cap of 20
        ("P02", 1, D("2.5"), ""),
        ("N01", 1, D(20), ""),  # −40, held to the section's floor of −30
        ("R01", 1, D(1), "好"),
        ("R01", 1, D(1), "一般"),
        ("R01", 1, D(1), "差"),  # not a level: ignored
        ("M01", 1, D(1), ""),  # metric items score from their value, not from entries
        ("V01", 1, D(1), ""),  # vetoes change the result, not the tree
        ("ZZ", 1, D(1), ""),  # unknown
        ("ZM", 1, D(1), ""),  # a group
        ("N01", -1, D(20), ""),  # reversals
        ("R01", -1, D(1), "好"),
        ("P01", -1, D(1), ""),
    ]
    quantities: dict[str, Decimal] = {}
    labels: dict[str, list[str]] = {}
    for code, sign, quantity, label in entries:
        tally.add(code, sign=sign, quantity=quantity, label=label)
        if code in ("P01", "P02", "N01"):
            quantities[code] = quantities.get(code, D(0)) + sign * quantity
        elif code == "R01" and label in ("好", "一般"):
            bag = labels.setdefault(code, [])
            if sign > 0:
                bag.append(label)
            else:
                bag.remove(label)
        expected = evaluate(spec, quantities | labels)
        assert tally.values == expected.values, (code, sign)
        assert tally.earned == expected.values[ROOT_CODE] - 100


def test_a_reversal_tallied_before_its_original_still_cancels_it():
    spec = load_scheme_text(BASE, filename=FILE)
    tally = TallyTree(spec).tally()
    tally.add("R01", sign=-1, label="好")
    tally.add("R01", label="好")
    tally.add("R01", label="一般")
    assert tally.values["R01"] == evaluate(spec, {"R01": ["一般"]}).values["R01"] == 7
