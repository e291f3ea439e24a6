"""Plain rows into a table, in bulk; Python's cycle collector paused for bulk work.

For writers of tens or hundreds of thousands of rows (a reconcile's credits, the demo's year),
where a model instance per row and `bulk_create`'s compiling of it cost several times the
insert itself. No signals, no `save()`: the caller gives database values.
"""

import gc
import threading
from contextlib import contextmanager

from django.db import connection
from django.db.models.constants import OnConflict

_pause_lock = threading.Lock()
_pauses = 0  # how many `collector_paused` blocks are running, in any thread
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def collector_paused():
    """Run the block with Python's cyclic garbage collector off; it is on again after.

    A 100,000-row import makes and drops millions of small objects (cells, drafts, entries,
    rows of values). Reference counting frees them as they go; the cycle collector, triggered
    by their number, also walks everything still alive over and over, and that walking took a
    third of the import (docs/performance.md). Cycles made inside the block are collected at
    the collector's next pass after it. The collector is one per process: blocks in several
    threads keep it off until the last ends.
    """
    global _pauses, _resume
    with _pause_lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


@contextmanager
def page_cache(mib: int):
    """SQLite: a page cache of `mib` MiB on this connection for the block, then the default
    again (PostgreSQL: nothing; its buffers are the server's).

    A bulk insert lands all over a large table's indexes; with SQLite's default cache of 2 MiB
    each landing reads its page again from the file: a fifth of an import's insert into two
    million entries (docs/performance.md). Only for the block: as the connection's default, a
    close's sorts also grew into the larger cache (2.7 times its peak memory).
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(mib) * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def rows_insert(model, columns: tuple[str, ...], rows, *, ignore: bool = False) -> None:
    """Insert `rows` into `model`'s table inside the current transaction.

    `columns` are field names or attnames (`subject` or `subject_id`); each row gives their
    values as the database takes them (`Field.get_db_prep_save`, `ops.adapt_datefield_value`:
    prepare a value seen many times once). `ignore` skips the rows that break a unique
    constraint.

    PostgreSQL takes the rows through COPY, one stream; its `executemany` sends a statement per
    row, and parsing, planning and running 250,000 of them took 14 of the demo's 54 seconds.
    COPY cannot skip a conflict, so `ignore` goes the statement way. SQLite's `executemany` is a
    loop in C over one prepared statement.
    """
    ops = connection.ops
    fields = [model._meta.get_field(name) for name in columns]
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not ignore:
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        on_conflict = OnConflict.IGNORE if ignore else None
        suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
        cursor.executemany(
            f"{ops.insert_statement(on_conflict=on_conflict)} {table} ({names}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) {suffix}".rstrip(),
            rows,
        )
