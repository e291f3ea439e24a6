"""The points account's event order, stated as a pure function (docs/schemes.md §16).

As `scoring.py` states the close beside the set-based SQL of `periods/engine.py`, this states
what `kaoping.store` does to an account's balances, event by event, without a database: the
property tests (`kaoping/store/tests/test_event_order.py`) write random events through the
store's services and compare its balances with `account_replay` of the same events. It lives
with the scheme rules rather than in the store because it is the meaning of the `account:` keys
a county writes; the store is one implementation of it.

Events are applied in the order the store records them (time, then id):

* `open`: the account opens with the base granted.
* `credit a` (a > 0, what an entry adds to the score): while the account is excluded the credit
  is held; otherwise it pays off debt first and the rest becomes spendable (earned).
* `deduct a` (a > 0): taken from the balances of `deduct_from` in order, each down to 0;
  `debt` (always last) takes whatever is left; without `debt` what is left is not taken. After
  it, if the balance `exclude_when_empty` names is 0, the account is excluded until the next
  reset.
* `redeem c`: refused while excluded or when the spendable balance is below c; else spends it.
* `refund i` (redemption number i cancelled): its points pay off debt first, the rest comes back
  as spendable points (never held: they were the household's already).
* `reset`: the base is granted again (set to `base`, not added), the exclusion ends and held
  credits lapse.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balances:
    earned: Decimal = ZERO  # spendable
    base: Decimal = ZERO
    debt: Decimal = ZERO
    held: Decimal = ZERO
    excluded: bool = False


@dataclass
class Replay:
    balances: Balances = field(default_factory=Balances)
    refused: list[int] = field(default_factory=list)  # event numbers of refused redemptions


def deduct(state: Balances, amount: Decimal, order, exclude_when_empty) -> Balances:
    """`state` after a deduction of `amount` (> 0)."""
    rest = amount
    values = {"earned": state.earned, "base": state.base, "debt": state.debt}
    for name in order:
        if name == "debt":
            values["debt"] += rest
            rest = ZERO
            break
        take = min(values[name], rest)
        values[name] -= take
        rest -= take
    excluded = state.excluded or (
        exclude_when_empty is not None and values[exclude_when_empty] == 0
    )
    return replace(state, **values, excluded=excluded)


def account_replay(events, *, base=ZERO, deduct_from=("earned", "debt"), exclude_when_empty=None):
    """The balances after `events`: (kind, amount) pairs, amount a Decimal (or the number of the
    redeem event for a refund, None for open and reset)."""
    result = Replay()
    state = result.balances
    redeemed: dict[int, Decimal] = {}
    for number, (kind, amount) in enumerate(events):
        if kind == "open":
            state = replace(state, base=Decimal(base))
        elif kind == "credit":
            if state.excluded:
                state = replace(state, held=state.held + amount)
            else:
                pay = min(state.debt, amount)
                state = replace(state, debt=state.debt - pay, earned=state.earned + amount - pay)
        elif kind == "deduct":
            state = deduct(state, amount, deduct_from, exclude_when_empty)
        elif kind == "redeem":
            if state.excluded or state.earned < amount:
                result.refused.append(number)
            else:
                state = replace(state, earned=state.earned - amount)
                redeemed[number] = amount
        elif kind == "refund":
            points = redeemed.pop(amount, None)
            if points is not None:
                pay = min(state.debt, points)
                state = replace(state, debt=state.debt - pay, earned=state.earned + points - pay)
        elif kind == "reset":
            state = replace(state, base=Decimal(base), held=ZERO, excluded=False)
        else:
            raise ValueError(kind)
    result.balances = state
    return result
