"""The ledger's bulk insert (`ledger.insert.entries_insert`): the ids it gives are the rows'
ids, every column arrives as the model would have written it, and a broken batch writes
nothing. On PostgreSQL the ids are drawn from the sequence and the rows copied; on SQLite the
rows are inserted with RETURNING: both engines run this file."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.services import EntryDraft, Recorder, entries_write
from kaoping.ledger.testing import HOUSEHOLD_SCHEME
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder(county):
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="scheme.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return Recorder(
        scheme=version.scheme, acting_user=county.users["carol"], source=EntrySource.IMPORTED
    )


def drafts(county, **overrides):
    households = Subject.objects.filter(
        household__number__in=["3303040010010001", "3303040010010002"]
    ).order_by("pk")
    rows = [
        ("GY02", Decimal("2.5"), "", date(2026, 3, 6), "捐款 “一百元”"),
        ("HW01", Decimal(1), "", date(2026, 3, 7), ""),
        ("PY01", Decimal(1), "良好", date(2026, 3, 8), "评议\n第二行"),
    ]
    return [
        EntryDraft(
            subject=households[n % 2],
            item_code=code,
            occurred_on=day,
            quantity=quantity,
            label=label,
            note=note,
            idempotency_key=f"test:{n}",
            **overrides,
        )
        for n, (code, quantity, label, day, note) in enumerate(rows)
    ]


def write(recorder, drafts):
    with transaction.atomic():
        return entries_write(
            entries=[recorder.build(d) for d in drafts],
            acting_user=recorder.acting_user,
            recorder=recorder,
        )


def test_each_entry_gets_the_id_of_its_own_row_and_its_values_round_trip(county, recorder):
    written = write(recorder, drafts(county))
    assert len({e.pk for e in written}) == 3
    for entry in written:
        stored = Entry.objects.get(pk=entry.pk)
        assert (stored.item_code, stored.occurred_on, stored.note, stored.label) == (
            entry.item_code,
            entry.occurred_on,
            entry.note,
            entry.label,
        )
        assert (stored.points, stored.quantity, stored.flags) == (
            entry.points,
            entry.quantity,
            entry.flags,
        )
        assert (stored.status, stored.source) == (EntryStatus.SUBMITTED, EntrySource.IMPORTED)
        assert (stored.chain_region, stored.chain_seq, stored.chain_hash) == (
            entry.chain_region,
            entry.chain_seq,
            entry.chain_hash,
        )
        assert stored.created_at is not None and stored.created_at.tzinfo is not None
    assert Entry.objects.get(pk=written[0].pk).note == "捐款 “一百元”"
    assert Entry.objects.get(pk=written[2].pk).note == "评议\n第二行"
    assert list(chain_verify()) == []


def test_an_entry_saved_one_by_one_afterwards_takes_a_new_id(county, recorder):
    written = write(recorder, drafts(county))
    (later,) = write(
        recorder,
        [
            EntryDraft(
                subject=written[0].subject,
                item_code="HW01",
                occurred_on=date(2026, 3, 9),
                quantity=Decimal(1),
            )
        ],
    )
    assert later.pk not in {e.pk for e in written}
    assert Entry.objects.filter(pk__in=[e.pk for e in [*written, later]]).count() == 4


def test_a_duplicate_key_refuses_the_whole_batch(county, recorder):
    write(recorder, drafts(county)[:1])
    before = Entry.objects.count()
    with pytest.raises(IntegrityError):
        write(recorder, drafts(county))  # its first row repeats the key written above
    assert Entry.objects.count() == before
