"""The account's event order (docs/schemes.md §16): random events written through the store's
services leave the balances the pure reference `schemes.accounts.account_replay` states, for
each deduction order and exclusion option."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.services import entry_record
from kaoping.periods.tests.close_harness import rolled_back
from kaoping.schemes.accounts import Balances, account_replay
from kaoping.store import services
from kaoping.store.models import Account, Movement, MovementKind

from .fixture import add_keepers, erin_subject, load_scheme, open_store

pytestmark = pytest.mark.django_db

SCHEME = """
code: hh-order
version: 1
name: 扣分顺序
subject_kind: household
cadence: month
review:
  auto_approve: [department]
account:
{account}
tree:
  - {{code: PLUS, name: 加分, rule: count, points: 1}}
  - {{code: MINUS, name: 扣分, rule: count, points: -1}}
"""

OPTIONS = {
    "default": {},
    "earned-base": {"base": 20, "deduct_from": ["earned", "base"], "exclude_when_empty": "base"},
    "base-earned-debt": {
        "base": 20,
        "deduct_from": ["base", "earned", "debt"],
        "exclude_when_empty": "base",
    },
    "debt-only": {"deduct_from": ["debt"]},
    "earned-excluded": {"exclude_when_empty": "earned"},
    "base-no-exclusion": {"base": 10, "deduct_from": ["base", "earned"]},
}

amounts = st.integers(min_value=1, max_value=30)
events = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["credit", "deduct", "redeem"]), amounts),
        st.tuples(st.just("refund"), st.integers(min_value=0, max_value=11)),
        st.tuples(st.just("reset"), st.none()),
    ),
    max_size=12,
)


def account_block(option: dict) -> str:
    lines = []
    for key, value in option.items():
        text = "[" + ", ".join(value) + "]" if isinstance(value, list) else value
        lines.append(f"  {key}: {text}")
    return "\n".join(lines) or "  spendable: true"


def write(scheme, subject, rice, sequence) -> tuple[Account, list[int]]:
    """Write `sequence` through the services households and keepers use; the refused
    redemptions' event numbers."""
    actor = system_actor()
    services.accounts_open(scheme=scheme, acting_user=actor, subject_ids=[subject.pk])
    account = Account.objects.get(scheme=scheme, subject=subject)
    redemptions, refused, year = {}, [], 2031
    for number, (kind, amount) in enumerate(sequence):
        if kind in ("credit", "deduct"):
            entry, _new = entry_record(
                scheme=scheme,
                subject=subject,
                item_code="PLUS" if kind == "credit" else "MINUS",
                occurred_on=date.today(),
                quantity=str(amount),
                acting_user=actor,
                source="department",
            )
            services.accounts_credit(entry_ids=[entry.pk], acting_user=actor)
        elif kind == "redeem":
            try:
                redemptions[number], _new = services.redemption_make(
                    account=account, goods=rice, quantity=amount, acting_user=actor, hand_over=True
                )
            except KaopingError:
                refused.append(number)
        elif kind == "refund":
            if amount in redemptions:
                services.redemption_cancel(
                    redemption=redemptions[amount], acting_user=actor, reason="退货"
                )
        else:
            services.accounts_reset(today=date(year, 1, 1), acting_user=actor)
            year += 1
    account.refresh_from_db()
    return account, refused


def reference_events(sequence) -> list:
    replay = [("open", None)]
    for kind, amount in sequence:
        if kind == "refund":
            replay.append((kind, amount + 1))  # numbered after the opening
        else:
            replay.append((kind, None if amount is None else Decimal(amount)))
    return replay


@pytest.mark.parametrize("name", OPTIONS)
def test_store_balances_follow_the_reference(county, name):
    option = OPTIONS[name]
    add_keepers(county)
    scheme = load_scheme(county, SCHEME.format(account=account_block(option)))
    _store, rice, _oil = open_store(county, stock=10_000, price="1")
    subject = erin_subject(county)

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(sequence=events)
    def example(sequence):
        with rolled_back():
            account, refused = write(scheme, subject, rice, sequence)
            expected = account_replay(
                reference_events(sequence),
                base=Decimal(option.get("base", 0)),
                deduct_from=tuple(option.get("deduct_from", ("earned", "debt"))),
                exclude_when_empty=option.get("exclude_when_empty"),
            )
            got = Balances(
                earned=account.balance,
                base=account.base,
                debt=account.debt,
                held=account.held,
                excluded=account.excluded_until is not None,
            )
            assert got == expected.balances, sequence
            assert [n + 1 for n in refused] == expected.refused
            # The columns are the sums of the movements, and the history can replay them.
            moves = Movement.objects.filter(account=account)
            assert sum(m.amount for m in moves) == account.balance
            assert sum(m.base_change for m in moves) == account.base
            assert sum(m.held_change for m in moves) == account.held
            assert sum(m.debt_change for m in moves) == account.debt
            resets = moves.filter(kind=MovementKind.RESET).count()
            assert resets == (1 + sum(k == "reset" for k, _a in sequence)) * bool(
                option.get("base") or option.get("exclude_when_empty")
            )

    example()
