"""Plain rows in bulk (kaoping.core.bulk) and the planner's statistics (kaoping.core.statistics),
on both engines: PostgreSQL takes the rows through COPY, SQLite through executemany. Also the
cycle collector's pause for bulk work."""

import gc
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from kaoping.core.bulk import collector_paused, page_cache, rows_insert
from kaoping.core.models import AuditChain, AuditLog
from kaoping.core.statistics import STALE_ROWS, tables_analyze

AT = datetime(2026, 3, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def prepared(model, name, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


@pytest.mark.django_db
def test_rows_go_in_as_the_model_reads_them_back():
    after = {"points": "2.50", "名": "金飞", "flags": ["late"]}
    columns = ("at", "action", "object_type", "object_id", "object_repr", "region_code")
    columns += ("after", "chain_key", "chain_seq", "chain_hash")
    at = prepared(AuditLog, "at", AT)
    rows_insert(
        AuditLog,
        columns,
        [
            (at, "entry.record", "entry", "1", "第一条", "330304", None, "", 0, ""),
            (at, "entry.review", "entry", "1", "第二条", "330304")
            + (prepared(AuditLog, "after", after), "", 0, ""),
        ],
    )
    first, second = AuditLog.objects.order_by("pk")
    assert (first.action, first.object_repr, first.after, first.at) == (
        "entry.record",
        "第一条",
        None,
        AT,
    )
    assert (second.object_repr, second.after, second.at) == ("第二条", after, AT)


@pytest.mark.django_db
def test_a_duplicate_is_refused_whole_or_skipped_when_asked():
    AuditChain.objects.create(key="330304", length=3, last_hash="a" * 64)
    rows = [("330305", 1, "b" * 64), ("330304", 9, "c" * 64)]
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(AuditChain, ("key", "length", "last_hash"), rows)
    assert list(AuditChain.objects.values_list("key", "length")) == [("330304", 3)]

    rows_insert(AuditChain, ("key", "length", "last_hash"), rows, ignore=True)
    assert sorted(AuditChain.objects.values_list("key", "length")) == [
        ("330304", 3),  # kept as it was
        ("330305", 1),
    ]


def _settle() -> None:
    """PostgreSQL counts a session's writes into its statistics views when the session next
    goes idle, at most once a second; this asks for it now."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")


def _chains(start: int, count: int) -> None:
    with transaction.atomic():
        rows_insert(
            AuditChain,
            ("key", "length", "last_hash"),
            [(f"{n:06d}", 0, "") for n in range(start, start + count)],
        )
    _settle()


@pytest.mark.django_db(transaction=True)
def test_statistics_are_refreshed_once_a_table_has_outgrown_them():
    table = AuditChain._meta.db_table
    _chains(0, 2 * STALE_ROWS)
    assert tables_analyze([AuditChain]) == [table]
    _settle()
    assert tables_analyze([AuditChain], only_stale=True) == []

    _chains(2 * STALE_ROWS, STALE_ROWS // 10)  # a small share of it: the plan would not change
    assert tables_analyze([AuditChain], only_stale=True) == []

    _chains(3 * STALE_ROWS, 3 * STALE_ROWS)  # more than doubled
    assert tables_analyze([AuditChain], only_stale=True) == [table]
    _settle()
    assert tables_analyze([AuditChain], only_stale=True) == []  # analysed: fresh again


def test_the_collector_is_paused_inside_the_block_and_on_again_after_it_even_on_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_the_collector_stays_off_until_the_last_of_overlapping_blocks_ends():
    inside, leave = threading.Event(), threading.Event()

    def other_import():
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_import)
    with collector_paused():
        thread.start()
        inside.wait(10)
    assert not gc.isenabled()  # the other thread's block is still running
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's buffers are the server's")
def test_the_page_cache_is_larger_inside_the_block_and_as_it_was_after():
    def cache_size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache_size()
    with pytest.raises(ValueError), page_cache(64):
        assert cache_size() == -64 * 1024
        raise ValueError
    assert cache_size() == before
