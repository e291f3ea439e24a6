"""Tamper evidence for review decisions: a status changed by hand in the database is found."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import EntryDecision, LedgerChain
from kaoping.ledger.services import entries_review
from kaoping.ledger.tests.test_ledger import hh, record  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def sql(statement, *params):
    with connection.cursor() as cursor:  # someone edits the database by hand
        cursor.execute(statement, list(params))


def test_a_rejected_entry_flipped_to_approved_by_hand_is_reported(county, hh):  # noqa: F811
    kept, flipped = record(county, hh, subject="0001"), record(county, hh, subject="0002")
    for entry in (kept, flipped):
        entries_review(
            entry_ids=[entry.pk],
            decision="reject",
            reason="照片不清",
            acting_user=county.users["alice"],
        )
    decision = EntryDecision.objects.get(entry=flipped)
    assert (decision.before_status, decision.status, decision.reason) == (
        "submitted",
        "rejected",
        "照片不清",
    )
    assert decision.actor_id == county.users["alice"].pk
    assert list(chain_verify()) == []
    call_command("ledger", "verify")

    sql("UPDATE ledger_entry SET status = 'approved' WHERE id = %s", flipped.pk)
    problems = list(chain_verify())
    assert [p.entry_id for p in problems] == [flipped.pk]
    assert "decisions record" in problems[0].message
    with pytest.raises(CommandError, match=f"entry {flipped.pk}"):
        call_command("ledger", "verify")

    # Flipped back, and the reason or reviewer edited instead: found as well.
    sql("UPDATE ledger_entry SET status = 'rejected', review_reason = '' WHERE id = %s", flipped.pk)
    assert [p.entry_id for p in chain_verify()] == [flipped.pk]
    sql(
        "UPDATE ledger_entry SET review_reason = '照片不清', reviewed_by_id = %s WHERE id = %s",
        county.users["bob"].pk,
        flipped.pk,
    )
    assert [p.entry_id for p in chain_verify()] == [flipped.pk]


def test_an_undecided_entry_approved_by_hand_is_reported(county, hh):  # noqa: F811
    entry = record(county, hh)
    sql("UPDATE ledger_entry SET status = 'approved' WHERE id = %s", entry.pk)
    problems = list(chain_verify())
    assert [p.entry_id for p in problems] == [entry.pk]
    assert "status" in problems[0].message


def test_a_decision_edited_or_deleted_by_hand_is_reported(county, hh):  # noqa: F811
    first, second = record(county, hh, subject="0001"), record(county, hh, subject="0002")
    entries_review(
        entry_ids=[first.pk, second.pk],
        decision="reject",
        reason="重复",
        acting_user=county.users["alice"],
    )
    assert LedgerChain.objects.get(region_code="330304001001").decisions == 2
    assert list(chain_verify()) == []
    # The status and its decision both edited to say approved: the decision's hash breaks.
    sql("UPDATE ledger_entry SET status = 'approved' WHERE id = %s", first.pk)
    sql("UPDATE ledger_entrydecision SET status = 'approved' WHERE entry_id = %s", first.pk)
    assert [p.entry_id for p in chain_verify()] == [first.pk]
    sql("UPDATE ledger_entrydecision SET status = 'rejected' WHERE entry_id = %s", first.pk)
    sql("UPDATE ledger_entry SET status = 'rejected' WHERE id = %s", first.pk)
    assert list(chain_verify()) == []
    # The last decision deleted (its entry set back to submitted): the head no longer matches.
    sql("DELETE FROM ledger_entrydecision WHERE entry_id = %s", second.pk)
    sql(
        "UPDATE ledger_entry SET status = 'submitted', review_reason = '', reviewed_by_id = NULL "
        "WHERE id = %s",
        second.pk,
    )
    problems = [str(p) for p in chain_verify()]
    assert any("the head does not match the last decision" in p for p in problems), problems


def test_the_migration_relinks_chains_as_the_ledger_links_them(county, hh):  # noqa: F811
    from importlib import import_module

    from django.apps import apps

    from kaoping.ledger.models import Entry

    migration = import_module("kaoping.ledger.migrations.0008_review_decision_chain")
    entries = [record(county, hh, user="alice", subject=s) for s in ("0001", "0002", "0005")]
    before = dict(Entry.objects.values_list("id", "chain_hash"))
    migration.relink(apps, None)
    assert dict(Entry.objects.values_list("id", "chain_hash")) == before
    # A chain of hashes made before the review fields were in them: relinked, it verifies.
    sql(
        "UPDATE ledger_entry SET chain_hash = 'old', status = 'approved' WHERE id = %s",
        entries[1].pk,
    )
    assert list(chain_verify())
    migration.relink(apps, None)
    assert list(chain_verify()) == []


def test_the_digest_of_an_entry_is_the_one_chains_already_hold():
    """Links written by earlier releases are verified by this release: the digest of a fixed
    entry, recorded and as reviewed, must never change (a faster digest must hash the same)."""
    from datetime import date

    from kaoping.ledger.chain import Chained, entry_digest
    from kaoping.ledger.models import EntrySource, EntryStatus

    row = Chained(
        scheme_id=3,
        subject_id=12345,
        item_code="GY01",
        quantity_scaled=2500,
        label="",
        sign=1,
        occurred_on=date(2026, 9, 1),
        cadence="",
        source=EntrySource.IMPORTED,
        note="第1条",
        idempotency_key="import:ab:2",
        created_by_id=7,
        import_job_id=5,
        status=EntryStatus.SUBMITTED,
    )
    assert entry_digest("0" * 64, "330304001001", 42, row) == (
        "5366f8c1b2cc2cff17547c5f79d070f4aa51c179b14f24b430e6c50be8f15fd2"
    )
    reviewed = entry_digest("0" * 64, "330304001001", 42, row, review=("approved", 9, ""))
    assert reviewed == "1b2ab7ce31d5a56513afdb28be8f5715ed887516d191980ccd1e2fb375515d5f"
