"""The bonus pool split: exact to the fen for any amount and weights, in Python and in SQL."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.periods.models import Period, Result
from kaoping.schemes.spec import BonusPoolRule

from ..bonus import Recipient, pool_split, split_fen
from ..models import BonusPayout
from .fixtures import build_villages, load, score, villages

RULES = ["largest_remainder", "first", "keep"]

amounts = st.integers(min_value=1, max_value=9_999_999_999)  # fen: up to 99 999 999.99 yuan
recipients = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=100_000_000),  # weight × 10^4: up to 10 000
        st.integers(min_value=-1000, max_value=1000),  # total
        st.integers(min_value=1, max_value=50),  # rank
    ),
    min_size=1,
    max_size=40,
)


def build(rows):
    return [Recipient(key=i, weight=w, total=t, rank=r) for i, (w, t, r) in enumerate(rows)]


@given(amounts, recipients, st.sampled_from(RULES))
def test_any_amount_and_weights_add_up_exactly(amount, rows, rule):
    people = build(rows)
    paid, extra, kept = split_fen(amount, people, rule)
    assert sum(paid) + kept == amount
    assert all(p >= 0 for p in paid) and kept >= 0
    total_weight = sum(r.weight for r in people)
    left = amount - sum(amount * r.weight // total_weight for r in people)
    assert 0 <= left < len(people)
    if rule == "keep":
        assert kept == left and not any(extra)
    elif rule == "first":
        assert kept == 0 and sorted(extra)[-1] == left and sum(extra) == left
    else:
        assert kept == 0 and set(extra) <= {0, 1} and sum(extra) == left
    # Nobody is paid out of proportion: each share is within one fen (first: within the
    # leftover) of the exact share.
    for person, amount_paid, bonus in zip(people, paid, extra, strict=True):
        exact = Decimal(amount) * person.weight / total_weight
        assert exact - 1 < amount_paid - bonus <= exact


@given(amounts, recipients)
def test_equal_weights_differ_by_at_most_a_fen(amount, rows):
    people = build([(7, t, r) for _w, t, r in rows])
    paid, _extra, _kept = split_fen(amount, people, "largest_remainder")
    assert max(paid) - min(paid) <= 1


def test_largest_remainder_goes_to_the_biggest_rounding_loss_then_the_better_result():
    # 100 fen over weights 1, 1, 1: 33 each, 1 left; equal losses → the best total gets it.
    people = [
        Recipient(key=1, weight=1, total=5, rank=2),
        Recipient(key=2, weight=1, total=9, rank=1),
        Recipient(key=3, weight=1, total=1, rank=3),
    ]
    assert split_fen(100, people, "largest_remainder") == ([33, 34, 33], [0, 1, 0], 0)
    assert split_fen(100, people, "first") == ([33, 34, 33], [0, 1, 0], 0)
    assert split_fen(100, people, "keep") == ([33, 33, 33], [0, 0, 0], 1)
    # Ranked ascending (lower is better): the lowest total is the best result.
    assert split_fen(100, people, "first", ascending=True)[0] == [33, 33, 34]
    # Unequal losses: 10 fen over 3 and 1 → 7.5 and 2.5 → 7 and 2, one fen left, equal losses.
    # 10 fen over 2, 1 → 6.67 and 3.33 → 6 and 3; the larger loss (0.67) gets the fen.
    two = [Recipient(key=1, weight=2, total=1, rank=2), Recipient(key=2, weight=1, total=9, rank=1)]
    assert split_fen(10, two, "largest_remainder") == ([7, 3], [1, 0], 0)


def test_nobody_qualifies_keeps_everything():
    assert split_fen(500, [], "largest_remainder") == ([], [], 500)


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.integers(min_value=1, max_value=9_999_999_999),
    good=st.decimals(min_value="0.0001", max_value="10000", places=4),
    fair=st.decimals(min_value="0.0001", max_value="10000", places=4),
    rule=st.sampled_from(RULES),
)
def test_the_sql_split_matches_the_reference(world_period, amount, good, fair, rule):
    period, ascending = world_period
    spec = BonusPoolRule(
        amount=Decimal(amount).scaleb(-2),
        by_grade={"good": good, "fair": fair},
        remainder=rule,
    )
    pool = pool_split(period, spec, ascending=ascending)
    weights = {"good": int(good * 10000), "fair": int(fair * 10000)}
    results = list(
        Result.objects.filter(period=period, barred=False, grade_code__in=weights).order_by(
            "subject_id"
        )
    )
    people = [
        Recipient(key=r.subject_id, weight=weights[r.grade_code], total=r.total, rank=r.rank)
        for r in results
    ]
    paid, extra, kept = split_fen(amount, people, rule, ascending=ascending)
    got = {
        p.subject_id: (p.amount_fen, p.remainder_fen) for p in BonusPayout.objects.filter(pool=pool)
    }
    assert got == {
        person.key: (amount_paid, bonus)
        for person, amount_paid, bonus in zip(people, paid, extra, strict=True)
    }
    assert sum(a for a, _b in got.values()) + pool.kept_fen == amount
    assert pool.kept_fen == kept


@pytest.fixture
def world_period(county) -> tuple[Period, bool]:
    build_villages(county)
    scheme = load(county)
    return score(scheme, villages(), [10, 9, 9, 7, 6, 5, 4, 3, 2, 1, 0], "2026-01"), False


@pytest.mark.django_db
def test_by_rank_bands_and_the_first_rule(world_period):
    period, _ascending = world_period
    rule = BonusPoolRule(
        amount=Decimal("100.00"),
        by_rank=[
            {"from_rank": 1, "to_rank": 1, "weight": 5},
            {"from_rank": 2, "to_rank": 3, "weight": 2},
        ],
        remainder="first",
    )
    pool = pool_split(period, rule, ascending=False)
    rows = sorted(
        BonusPayout.objects.filter(pool=pool).values_list(
            "rank", "basis", "amount_fen", "remainder_fen"
        )
    )
    # Ranks 1, 2, 2 (a tie): 10000 × 5/9 = 5555.6 → 5555 (+1 left over, to the best), 2222 each.
    assert rows == [(1, "1-1", 5556, 1), (2, "2-3", 2222, 0), (2, "2-3", 2222, 0)]
    assert pool.remainder_to_id == BonusPayout.objects.get(pool=pool, rank=1).subject_id
