"""Mistakes in the `account:` event-order keys are refused, naming the file's line and key
(the message text itself is translated when the catalogue is merged, so it is not asserted)."""

import pytest

from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.spec import SchemeError

from .fixture import SCHEME


def load(lines: str):
    text = SCHEME.replace("spendable: true", "spendable: true\n  " + lines.replace("\n", "\n  "))
    return load_scheme_text(text, filename="x.yaml").account


def test_the_defaults_are_todays_behaviour():
    policy = load_scheme_text(SCHEME).account
    assert policy.deduct_from == ("earned", "debt")
    assert (policy.base, policy.exclude_when_empty, policy.spend_item) == (0, None, None)


def test_a_full_block():
    policy = load("base: 100\ndeduct_from: [base, earned]\nexclude_when_empty: base")
    assert (policy.base, policy.deduct_from) == (100, ("base", "earned"))


@pytest.mark.parametrize(
    ("lines", "key", "line"),
    [
        ("deduct_from: [debt, earned]", "deduct_from", 15),
        ("deduct_from: [earned, earned]", "deduct_from", 15),
        ("deduct_from: [earned, base]", "deduct_from", 15),  # no base granted
        ("deduct_from: [earned, savings]", "deduct_from", 15),
        ("base: -5", "base", 15),
        ("exclude_when_empty: base\nbase: 10", "exclude_when_empty", 15),  # base never taken
        ("spend_item: NOPE", "spend_item", 15),
        ("spend_item: CLEAN", "spend_item", 15),  # positive points
    ],
)
def test_mistakes_are_named_with_their_line(lines, key, line):
    with pytest.raises(SchemeError) as caught:
        load(lines)
    problem = str(caught.value)
    assert key in problem and f"x.yaml 第 {line} 行" in problem, problem


def test_a_spend_item_must_spend_points():
    policy = load("spend_item: FIGHT")
    assert policy.spend_item == "FIGHT"
