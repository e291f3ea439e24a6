"""Properties of the sampling rule (kaoping/schemes/sampling.py): the sample size follows the
stated rounding and bounds for any N, share, min and max, and a draw is the replay of its seed."""

import hashlib
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.schemes.sampling import draw_members, sample_figure, sample_size
from kaoping.schemes.spec import Sample

LEVELS = {"合格": Decimal(1), "基本合格": Decimal("0.5"), "不合格": Decimal(0)}


@st.composite
def samples(draw):
    by_share = draw(st.booleans())
    low = draw(st.none() | st.integers(1, 60))
    high = draw(st.none() | st.integers(low or 1, 80))
    if by_share:
        share = Decimal(draw(st.integers(1, 10000))) / 10000
        rule = {"share": share, "rounding": draw(st.sampled_from(["up", "down", "nearest"]))}
    else:
        rule = {"count": draw(st.integers(1, 50))}
    return Sample(
        of="household",
        min=low,
        max=high,
        levels=LEVELS,
        **{"pass": ["合格"]},
        **rule,
    )


def _expected(sample: Sample, total: int) -> int:
    if total == 0:
        return 0
    if sample.count is not None:
        n = sample.count
    else:
        exact = Fraction(sample.share) * total
        n = {
            "up": math.ceil(exact),
            "down": math.floor(exact),
            "nearest": math.floor(exact + Fraction(1, 2)),
        }[sample.rounding.value]
    if sample.min is not None:
        n = max(n, sample.min)
    if sample.max is not None:
        n = min(n, sample.max)
    return max(1, min(n, total))


@settings(max_examples=400, deadline=None)
@given(samples(), st.integers(0, 5000))
def test_the_size_follows_the_stated_rule(sample, total):
    size = sample_size(sample, total)
    assert size == _expected(sample, total)
    assert 0 <= size <= total
    if total and sample.min is not None:
        assert size >= min(sample.min, total)
    if sample.max is not None:
        assert size <= sample.max or size == 1


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=1, max_size=40),
    st.sets(st.from_regex(r"\A[0-9]{12,16}\Z"), min_size=1, max_size=80),
    st.data(),
)
def test_a_draw_is_the_replay_of_its_seed(seed, numbers, data):
    numbers = sorted(numbers)
    size = data.draw(st.integers(1, len(numbers)))
    drawn = draw_members(seed, data.draw(st.permutations(numbers)), size)
    # What an auditor computes from the rule the page states, whatever order the list came in.
    key = {n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest() for n in numbers}
    assert drawn == sorted(numbers, key=key.__getitem__)[:size]
    assert len(set(drawn)) == size and set(drawn) <= set(numbers)
    # Drawing one more keeps the ones drawn, in order.
    if size < len(numbers):
        assert draw_members(seed, numbers, size + 1)[:size] == drawn


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(LEVELS)), min_size=1, max_size=200))
def test_the_figure_is_the_share_passed_or_the_mean_factor(labels):
    rate = Sample(of="household", count=1, levels=LEVELS, **{"pass": ["合格"]})
    mean = Sample(of="household", count=1, levels=LEVELS, measure="mean")
    passed = Fraction(100 * labels.count("合格"), len(labels))
    factors = Fraction(sum(Fraction(LEVELS[label]) for label in labels) * 100, len(labels))

    def four(value: Fraction) -> Decimal:
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    assert sample_figure(rate, labels) == four(passed)
    assert sample_figure(mean, labels) == four(factors)
    assert sample_figure(rate, []) is None
