"""The event order of a points account (docs/schemes.md §16; the rules stated plainly in
`kaoping/schemes/accounts.py`): which balance a deduction takes first, the base balance granted
at each reset, suspension when a balance is used up (credits held meanwhile, lapsing at the
reset), and the entry that lowers the score when points are spent.

Called by `services` inside its transactions, on rows it has locked.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.schemes.spec import ADJUST_CODE, AccountPolicy

from .models import ZERO, Account, Movement, MovementKind


def not_credited(policy: AccountPolicy) -> set[str]:
    """Item codes whose entries are not credited: adjustments (a roll-up's ± adjustment corrects
    a period's total; it is not something the household did), and the spending itself."""
    return {ADJUST_CODE} | ({policy.spend_item} if policy.spend_item else set())


def keeps_resets(policy: AccountPolicy) -> bool:
    return bool(policy.base) or policy.exclude_when_empty is not None


def _reset_month_day(policy: AccountPolicy) -> tuple[int, int]:
    if policy.clear_on:
        month, day = (int(part) for part in policy.clear_on.split("-"))
        return month, day
    return 1, 1


def last_reset(policy: AccountPolicy, today: date) -> date:
    """The latest reset day on or before `today`: `clear_on` each year, else 1 January."""
    month, day = _reset_month_day(policy)
    this_year = date(today.year, month, day)
    return this_year if this_year <= today else date(today.year - 1, month, day)


def next_reset(policy: AccountPolicy, today: date) -> date:
    """The first reset day after `today`."""
    month, day = _reset_month_day(policy)
    this_year = date(today.year, month, day)
    return this_year if this_year > today else date(today.year + 1, month, day)


@dataclass
class Change:
    """What one event does to an account's columns."""

    amount: Decimal = ZERO  # spendable balance
    debt: Decimal = ZERO
    earned: Decimal = ZERO  # honour total
    base: Decimal = ZERO
    held: Decimal = ZERO
    excluded_until: date | None = None  # set by the deduction that suspends the account


@dataclass
class State:
    balance: Decimal
    debt: Decimal
    base: Decimal
    excluded_until: date | None

    def apply(self, change: Change) -> None:
        self.balance += change.amount
        self.debt += change.debt
        self.base += change.base
        self.excluded_until = self.excluded_until or change.excluded_until


def apply_delta(delta, state: State, policy: AccountPolicy, day: date) -> tuple[str, Change]:
    """How a change of earned points (what an entry adds to the score) moves the account."""
    if delta >= 0:
        kind = MovementKind.CREDIT
        if not policy.spendable:
            return kind, Change(earned=delta)
        if state.excluded_until is not None:
            return kind, Change(held=delta, earned=delta)
        pay = min(state.debt, delta)
        return kind, Change(amount=delta - pay, debt=-pay, earned=delta)
    kind = MovementKind.DEDUCT
    if not policy.spendable:
        return kind, Change(earned=delta)
    change = Change(earned=delta)
    rest = -delta
    left = {"earned": state.balance, "base": state.base}
    for name in policy.deduct_from:
        if name == "debt":
            change.debt, rest = rest, ZERO
            break
        take = min(left[name], rest)
        left[name] -= take
        rest -= take
        if name == "earned":
            change.amount = -take
        else:
            change.base = -take
    empty = policy.exclude_when_empty
    if empty is not None and state.excluded_until is None and left[empty] == 0:
        change.excluded_until = next_reset(policy, day)
    return kind, change


def resets_apply(policy: AccountPolicy, account_ids, today: date) -> int:
    """Apply the reset due on or before `today` to accounts (locked by the caller) that have not
    had it: grant the base, end a suspension, let held credits lapse. An account without a reset
    yet (just opened) gets its base now. Returns how many accounts were reset."""
    if not keeps_resets(policy):
        return 0
    due_day = last_reset(policy, today)
    rows = list(
        Account.objects.filter(pk__in=list(account_ids))
        .exclude(reset_on__gte=due_day)
        .values_list("pk", "base", "held", "reset_on")
    )
    movements = []
    for pk, base, held, reset_on in rows:
        grant = policy.base - base
        movements.append(
            Movement(
                account_id=pk,
                kind=MovementKind.RESET,
                amount=ZERO,
                base_change=grant,
                held_change=-held,
                # An opening counts from today; a reset from its day (its note).
                effective_on=due_day if reset_on is not None else today,
                note=due_day.isoformat() if reset_on is not None else "",
            )
        )
        Account.objects.filter(pk=pk).update(
            base=F("base") + grant, held=F("held") - held, excluded_until=None, reset_on=due_day
        )
    Movement.objects.bulk_create(movements)
    return len(movements)


def refuse_if_suspended(account: Account, policy: AccountPolicy) -> None:
    """Refuse a redemption of a suspended account, naming the day it ends."""
    if account.excluded_until is not None:
        message = (
            _(
                "Redemption is suspended until %(day)s: deductions used up this household's base"
                " points. Points earned meanwhile are held and lapse on that day."
            )
            if policy.exclude_when_empty == "base"
            else _(
                "Redemption is suspended until %(day)s: deductions used up this household's"
                " points. Points earned meanwhile are held and lapse on that day."
            )
        )
        raise KaopingError(message % {"day": account.excluded_until.isoformat()})


def spend_entry_write(*, account: Account, policy: AccountPolicy, points, day: date, note, user):
    """Record the points spent as an entry of the scheme's `spend_item` (the ledger's one
    write), so that the next close scores the household lower; returns the entry."""
    from kaoping.ledger.models import EntrySource, EntryStatus
    from kaoping.ledger.services import EntryDraft, Recorder, entries_write

    recorder = Recorder(scheme=account.scheme, acting_user=user, source=EntrySource.CONSOLE)
    draft = EntryDraft(
        subject=account.subject,
        item_code=policy.spend_item,
        occurred_on=day,
        quantity=points,
        note=note,
    )
    problems = recorder.problems(draft)
    if problems:
        raise KaopingError(
            _("The points spent cannot be recorded against the score: %(problem)s")
            % {"problem": "；".join(problems.values())}
        )
    entry = recorder.build(draft)
    entry.status = EntryStatus.APPROVED  # the redemption is its evidence
    (entry,) = entries_write(entries=[entry], acting_user=user, recorder=recorder)
    return entry


def spend_entry_reverse(*, redemption, reason: str, user) -> None:
    """Reverse the entry a cancelled redemption wrote (the ledger's one write)."""
    from kaoping.ledger.models import Entry
    from kaoping.ledger.services import day_sealed, entries_write, reversal_of

    entry = Entry.objects.select_related("subject__region").get(pk=redemption.spend_entry_id)
    if day_sealed(entry.scheme_id, entry.occurred_on):
        raise KaopingError(
            _(
                "The points of this redemption were deducted from the score of a finalised "
                "period (%(day)s); it can no longer be cancelled."
            )
            % {"day": entry.occurred_on.isoformat()}
        )
    entries_write(entries=[reversal_of(entry, reason=reason, acting_user=user)], acting_user=user)
