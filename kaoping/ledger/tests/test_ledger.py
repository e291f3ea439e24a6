"""The ledger's write paths: review, reversal, flags, idempotency, the hash chain."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kaoping.accounts.models import Profile
from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, LedgerChain
from kaoping.ledger.services import (
    EntryDraft,
    entries_record_batch,
    entries_review,
    entry_record,
    entry_reverse,
)
from kaoping.ledger.tests.ledger_fixture import load_household_scheme
from kaoping.people.models import Subject
from kaoping.periods.services import period_open
from kaoping.testing import period_make_final

pytestmark = pytest.mark.django_db


@pytest.fixture
def hh(county):
    return load_household_scheme(county)


def subject_of(county, number_suffix):
    return Subject.objects.get(kind="household", household__number__endswith=number_suffix)


def record(
    county, scheme, user="dave", subject="0001", item="CLEAN", day=date(2026, 3, 5), **extra
):
    entry, _created = entry_record(
        scheme=scheme,
        subject=subject_of(county, subject),
        item_code=item,
        occurred_on=day,
        acting_user=county.users[user],
        source="collected",
        **extra,
    )
    return entry


def test_entries_start_submitted_and_only_reviewers_decide(county, hh):
    entry = record(county, hh)
    assert entry.status == "submitted"
    # dave recorded it and reviews nothing; the scheme's reviewers are the review group (none
    # here), township staff is not one.
    with pytest.raises(Refused):
        entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["dave"])
    outcomes = entries_review(
        entry_ids=[entry.pk], decision="approve", acting_user=county.users["bob"]
    )
    assert outcomes[0].outcome == "not_reviewer"
    outcomes = entries_review(
        entry_ids=[entry.pk], decision="approve", acting_user=county.users["alice"]
    )
    assert outcomes[0].outcome == "approved"
    entry.refresh_from_db()
    assert (entry.status, entry.reviewed_by) == ("approved", county.users["alice"])
    again = entries_review(
        entry_ids=[entry.pk], decision="reject", reason="x", acting_user=county.users["alice"]
    )
    assert again[0].outcome == "already_reviewed"
    assert AuditLog.objects.filter(action="ledger.entry.approved").count() == 1


def test_nobody_approves_their_own_entry(county, hh):
    entry = record(county, hh, user="alice")
    assert (
        entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["alice"])[
            0
        ].outcome
        == "own_entry"
    )
    entry.refresh_from_db()
    assert entry.status == "submitted"


def test_rejection_needs_a_reason(county, hh):
    entry = record(county, hh)
    with pytest.raises(KaopingError):
        entries_review(
            entry_ids=[entry.pk], decision="reject", reason="  ", acting_user=county.users["alice"]
        )
    entries_review(
        entry_ids=[entry.pk],
        decision="reject",
        reason="照片不是本户",
        acting_user=county.users["alice"],
    )
    entry.refresh_from_db()
    assert (entry.status, entry.review_reason) == ("rejected", "照片不是本户")


def test_reversal_cancels_once_with_a_reason(county, hh):
    entry = record(county, hh)
    entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["alice"])
    entry.refresh_from_db()
    with pytest.raises(KaopingError):
        entry_reverse(entry=entry, reason="", acting_user=county.users["alice"])
    reversal = entry_reverse(entry=entry, reason="重复录入", acting_user=county.users["alice"])
    assert (reversal.sign, reversal.reverses, reversal.points, reversal.status) == (
        -1,
        entry,
        Decimal("-1.0000"),
        "approved",
    )
    with pytest.raises(KaopingError):
        entry_reverse(entry=entry, reason="再来一次", acting_user=county.users["alice"])
    assert Entry.objects.filter(reverses=entry).count() == 1


def test_idempotency_key_records_once(county, hh):
    first = record(county, hh, idempotency_key="form-1")
    second = record(county, hh, idempotency_key="form-1")
    assert first.pk == second.pk and Entry.objects.count() == 1


def test_flags_own_household_burst_and_over_cap(county, hh):
    dave = county.users["dave"]
    Profile.objects.create(user=dave, person=county.persons["王建国"])  # head of household …0001
    own = record(county, hh)
    assert "own_household" in own.flags
    for _ in range(3):
        entry = record(county, hh, subject="0002", item="HELP")  # 3 × 2 = 6: at the cap
    assert "over_cap" not in entry.flags
    entry = record(county, hh, subject="0002", item="HELP")  # 8 > 6
    assert "over_cap" in entry.flags
    for _ in range(2):
        entry = record(county, hh, subject="0002")
    assert "burst" in entry.flags  # 6 entries for one household within a day


def test_recording_for_a_registered_close_relative_is_flagged(county, hh):
    carol = county.users["carol"]  # records for every household of 东岭村
    me, brother = county.persons["王建国"], county.persons["张伟"]  # households …0001 and …0003
    Profile.objects.create(user=carol, person=me)
    me.relatives.add(brother)
    assert "relatives" in record(county, hh, user="carol", subject="0003").flags
    assert "relatives" not in record(county, hh, user="carol", subject="0004").flags


def test_entries_in_a_finalised_period_are_refused(county, hh):
    period = period_open(scheme=hh, label="2026-02", acting_user=system_actor())
    period_make_final(period)
    with pytest.raises(KaopingError) as caught:
        record(county, hh, day=date(2026, 2, 10))
    assert "occurred_on" in caught.value.message_dict


def test_batch_is_all_or_nothing_and_names_bad_rows(county, hh):
    subjects = [subject_of(county, s) for s in ("0001", "0002")]
    drafts = [
        EntryDraft(
            subject=subjects[0],
            item_code="CLEAN",
            occurred_on=date(2026, 3, 1),
            idempotency_key="b1",
        ),
        EntryDraft(
            subject=subjects[1],
            item_code="NOPE",
            occurred_on=date(2026, 3, 1),
            idempotency_key="b2",
        ),
    ]
    with pytest.raises(ImportFailed) as caught:
        entries_record_batch(
            scheme=hh, drafts=drafts, acting_user=county.users["dave"], source="collected"
        )
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "item_code")]
    assert not Entry.objects.exists()
    drafts[1].item_code = "CLEAN"
    assert (
        len(
            entries_record_batch(
                scheme=hh, drafts=drafts, acting_user=county.users["dave"], source="collected"
            )
        )
        == 2
    )
    assert (
        entries_record_batch(
            scheme=hh, drafts=drafts, acting_user=county.users["dave"], source="collected"
        )
        == []
    )
    assert Entry.objects.count() == 2


def test_chain_verifies_and_names_a_hand_edited_entry(county, hh, capsys):
    entries = [
        record(county, hh, user="alice", subject=s) for s in ("0001", "0002", "0005", "0007")
    ]
    assert list(chain_verify()) == []
    call_command("ledger", "verify")
    heads = dict(LedgerChain.objects.values_list("region_code", "length"))
    assert heads == {"330304001001": 2, "330304001002": 1, "330304002001": 1}
    target = entries[1]
    with connection.cursor() as cursor:  # someone edits the database by hand
        cursor.execute("UPDATE ledger_entry SET quantity_scaled = 5000 WHERE id = %s", [target.pk])
    problems = list(chain_verify())
    assert [(p.region, p.entry_id) for p in problems] == [("330304001001", target.pk)]
    with pytest.raises(CommandError, match=f"entry {target.pk}"):
        call_command("ledger", "verify")


def test_review_status_changes_do_not_break_the_chain(county, hh):
    entry = record(county, hh)
    entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["alice"])
    entry.refresh_from_db()
    entry_reverse(entry=entry, reason="错录", acting_user=county.users["alice"])
    assert list(chain_verify()) == []
