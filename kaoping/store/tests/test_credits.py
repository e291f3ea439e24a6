"""Approved entries credit accounts by what they add to the score: once, after caps, with debt."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entries_review, entry_record, entry_reverse
from kaoping.ledger.signals import entries_approved
from kaoping.store import services
from kaoping.store.models import Account, Movement, MovementKind

from .fixture import SCHEME, account_of, add_keepers, earn, erin_subject, load_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(county):
    add_keepers(county)
    return load_scheme(county)


def totals(account):
    account.refresh_from_db()
    return account.balance, account.debt, account.earned


def test_an_approved_entry_credits_its_points_once(scheme, county):
    subject = erin_subject(county)
    (entry,) = earn(scheme, subject, "CLEAN")
    account = account_of(scheme, subject)
    assert totals(account) == (Decimal("10.00"), 0, Decimal("10.00"))
    # The base score (100) is never spendable; a re-sent announcement credits nothing more.
    services.entries_approved_receiver(None, entry_ids=[entry.pk])
    services.accounts_credit(entry_ids=[entry.pk], acting_user=system_actor())
    assert totals(account)[0] == Decimal("10.00")
    movement = Movement.objects.get(entry=entry)
    assert (movement.kind, movement.amount, movement.period_key) == (
        MovementKind.CREDIT,
        Decimal("10.00"),
        f"month:{timezone.localdate():%Y-%m}",
    )
    assert AuditLog.objects.filter(action="store.accounts.credited").exists()


def test_the_receiver_is_connected_and_runs_after_commit(
    scheme, county, django_capture_on_commit_callbacks
):
    subject = erin_subject(county)
    with django_capture_on_commit_callbacks(execute=True):
        entry, _ = entry_record(
            scheme=scheme,
            subject=subject,
            item_code="CLEAN",
            occurred_on=timezone.localdate(),
            acting_user=county.users["dave"],
            source="collected",
        )
    assert not Account.objects.exists()  # submitted: nothing yet
    with django_capture_on_commit_callbacks(execute=True):
        entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["rita"])
    assert account_of(scheme, subject).balance == Decimal("10.00")


def test_rejected_and_submitted_entries_credit_nothing(scheme, county):
    subject = erin_subject(county)
    entry, _ = entry_record(
        scheme=scheme,
        subject=subject,
        item_code="BIG",
        occurred_on=timezone.localdate(),
        acting_user=county.users["dave"],
        source="collected",
    )
    assert services.accounts_credit(entry_ids=[entry.pk], acting_user=system_actor()) == 0
    entries_review(
        entry_ids=[entry.pk], decision="reject", reason="不属实", acting_user=county.users["rita"]
    )
    assert services.accounts_credit(entry_ids=[entry.pk], acting_user=system_actor()) == 0
    assert not Movement.objects.exists()


def test_an_items_cap_limits_the_credit_as_it_limits_the_score(scheme, county):
    subject = erin_subject(county)
    entries = earn(scheme, subject, "HELP", times=4)  # 2 each, at most 6 a month
    amounts = [Movement.objects.get(entry=e).amount for e in entries]
    assert amounts == [Decimal(2), Decimal(2), Decimal(2), Decimal(0)]
    # Reversing one of the four leaves 3 × 2 = 6: still at the cap, nothing changes.
    reversal = entry_reverse(entry=entries[0], reason="重复", acting_user=county.users["alice"])
    services.accounts_credit(entry_ids=[reversal.pk], acting_user=system_actor())
    assert Movement.objects.get(entry=reversal).earned == 0
    second = entry_reverse(entry=entries[1], reason="重复", acting_user=county.users["alice"])
    services.accounts_credit(entry_ids=[second.pk], acting_user=system_actor())
    assert Movement.objects.get(entry=second).earned == Decimal(-2)
    assert totals(account_of(scheme, subject)) == (Decimal(4), 0, Decimal(4))


def test_a_month_of_another_period_has_its_own_cap(scheme, county):
    subject = erin_subject(county)
    earn(scheme, subject, "HELP", times=3, day=date(2026, 1, 5))
    earn(scheme, subject, "HELP", times=3, day=date(2026, 2, 5))
    assert account_of(scheme, subject).balance == Decimal(12)


def test_a_deduction_takes_what_is_there_and_owes_the_rest(scheme, county):
    subject = erin_subject(county)
    earn(scheme, subject, "CLEAN")  # +10
    (fight,) = earn(scheme, subject, "WASTE")  # −40: 10 taken, 30 owed
    account = account_of(scheme, subject)
    assert totals(account) == (Decimal(0), Decimal(30), Decimal(-30))
    movement = Movement.objects.get(entry=fight)
    assert (movement.kind, movement.amount, movement.debt_change) == (
        MovementKind.DEDUCT,
        Decimal(-10),
        Decimal(30),
    )
    earn(scheme, subject, "BIG")  # +50 pays the 30 first
    assert totals(account) == (Decimal(20), Decimal(0), Decimal(20))


def test_reversing_a_deduction_gives_back_exactly_what_it_took(scheme, county):
    subject = erin_subject(county)
    earn(scheme, subject, "CLEAN")
    (waste,) = earn(scheme, subject, "WASTE")
    reversal = entry_reverse(entry=waste, reason="认定有误", acting_user=county.users["alice"])
    services.accounts_credit(entry_ids=[reversal.pk], acting_user=system_actor())
    assert totals(account_of(scheme, subject)) == (Decimal(10), Decimal(0), Decimal(10))


def test_the_score_floor_bounds_what_a_month_can_take(county):
    add_keepers(county)
    scheme = load_scheme(county)
    subject = erin_subject(county)
    earn(scheme, subject, "WASTE", times=3)  # −120 on a base of 100 with floor 0: −100
    assert totals(account_of(scheme, subject)) == (Decimal(0), Decimal(100), Decimal(-100))


def test_a_scheme_without_an_account_block_keeps_no_accounts(county):
    scheme = load_scheme(county, SCHEME.replace("account:\n  spendable: true\n", ""))
    earn(scheme, erin_subject(county), "CLEAN")
    assert not Account.objects.exists()


def test_an_honour_only_account_keeps_the_total_but_nothing_to_spend(county):
    text = SCHEME.replace("spendable: true", "spendable: false")
    scheme = load_scheme(county, text)
    subject = erin_subject(county)
    earn(scheme, subject, "CLEAN", times=2)
    earn(scheme, subject, "FIGHT")
    assert totals(account_of(scheme, subject)) == (Decimal(0), Decimal(0), Decimal(15))


def test_reconcile_repairs_a_receiver_that_never_ran(scheme, county, caplog):
    subject = erin_subject(county)
    ids = []
    for item in ("CLEAN", "BIG", "HELP"):
        entry, _ = entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            occurred_on=timezone.localdate(),
            acting_user=system_actor(),
            source="department",
        )
        ids.append(entry.pk)
    # The announcement was lost (on_commit never ran in this test transaction).
    assert not Movement.objects.exists()
    assert services.accounts_reconcile(acting_user=system_actor()) == 3
    assert services.accounts_reconcile(acting_user=system_actor()) == 0
    assert account_of(scheme, subject).balance == Decimal(62)
    assert Movement.objects.filter(entry_id__in=ids).count() == 3


def test_a_failing_receiver_does_not_fail_the_ledger(scheme, county, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "accounts_credit", broken)
    entry = Entry.objects.create(
        scheme=scheme,
        subject=erin_subject(county),
        item_code="CLEAN",
        occurred_on=timezone.localdate(),
        status="approved",
    )
    entries_approved.send(sender=None, entry_ids=[entry.pk])  # does not raise
    assert "crediting entries" in caplog.text
    monkeypatch.undo()
    assert services.accounts_reconcile(acting_user=system_actor()) == 1


def test_reversal_and_original_credited_together_in_any_order(scheme, county):
    subject = erin_subject(county)
    entry, _ = entry_record(
        scheme=scheme,
        subject=subject,
        item_code="BIG",
        occurred_on=timezone.localdate(),
        acting_user=system_actor(),
        source="department",
    )
    reversal = entry_reverse(entry=entry, reason="错录", acting_user=county.users["alice"])
    services.accounts_credit(entry_ids=[reversal.pk, entry.pk], acting_user=system_actor())
    assert totals(account_of(scheme, subject)) == (Decimal(0), Decimal(0), Decimal(0))


RATED = """
code: rated
version: 1
name: 评议与封顶
subject_kind: party_member
cadence: month
decimals: 1
base: 60
max: 100
floor: 0
tree:
  - code: PY
    name: 评议
    max: 30
    children:
      - {code: PY1, name: 群众评议, rule: rating, weight: 20, levels: {好: 1, 较好: 0.8, 一般: 0.5}}
      - {code: PY2, name: 支部评议, rule: rating, weight: 15, levels: {好: 1, 一般: 0.6}}
  - code: JF
    name: 加分
    section: bonus
    max: 12.5
    children:
      - {code: JF1, name: 志愿服务, rule: count, points: 1.5, cap: 6}
      - {code: JF2, name: 带富, rule: quantity, unit: 户, points: 2.5}
  - code: KF
    name: 扣分
    section: deduction
    floor: -25
    children:
      - {code: KF1, name: 缺席, rule: count, points: -3}
variants:
  F:
    exclude: [PY2]
    items:
      JF1: {points: 3}
"""


@pytest.mark.parametrize("code", ["household-points", "party-member-points", "rated"])
def test_the_running_tally_scores_as_the_scheme_does(code):
    """The running tally behind credits agrees with `scoring.evaluate`, entry by entry."""
    import random
    from pathlib import Path

    from django.conf import settings

    from kaoping.schemes.loader import load_scheme_file, load_scheme_text
    from kaoping.schemes.models import QTY_SCALE
    from kaoping.schemes.scoring import TallyTree, evaluate
    from kaoping.schemes.spec import ROOT_CODE
    from kaoping.store.services import _tally_add

    if code == "rated":
        spec = load_scheme_text(RATED)
    else:
        spec = load_scheme_file(Path(settings.BASE_DIR) / "schemes" / f"{code}.yaml")
    rng = random.Random(code)
    for variant in [None, *list(spec.variants)[:2]]:
        rows = [
            r
            for r in spec.flatten(variant)
            if r.is_item and r.rule in ("count", "quantity", "rating")
        ]
        tally = TallyTree(spec, variant).tally()
        entries: list[Entry] = []
        reversible: list[Entry] = []
        for _n in range(60):
            if reversible and rng.random() < 0.15:
                original = reversible.pop(rng.randrange(len(reversible)))  # reversed at most once
                entry = Entry(
                    item_code=original.item_code,
                    quantity_scaled=original.quantity_scaled,
                    label=original.label,
                    sign=-1,
                )
            else:
                row = rng.choice(rows)
                levels = [label for label, _f in row.levels]
                entry = Entry(
                    item_code=row.code,
                    quantity_scaled=rng.randint(1, 3) * QTY_SCALE,
                    label=rng.choice(levels) if levels else "",
                )
                reversible.append(entry)
            entries.append(entry)
            _tally_add(tally, entry)
            quantities: dict = {}
            labels: dict = {}
            for e in entries:
                rule = next(r.rule for r in rows if r.code == e.item_code)
                if rule == "rating":
                    bag = labels.setdefault(e.item_code, [])
                    if e.sign > 0:
                        bag.append(e.label)
                    else:
                        bag.remove(e.label)
                else:
                    quantities[e.item_code] = (
                        quantities.get(e.item_code, 0) + e.sign * e.quantity_scaled
                    )
            inputs = {c: Decimal(q) / QTY_SCALE for c, q in quantities.items()} | labels
            expected = evaluate(spec, inputs, variant=variant).values[ROOT_CODE]
            assert tally.values[ROOT_CODE] == expected
