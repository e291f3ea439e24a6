"""Plain rows into a table, in bulk.

For writers of tens or hundreds of thousands of rows (a reconcile's credits, the demo's year),
where a model instance per row and `bulk_create`'s compiling of it cost several times the
insert itself. No signals, no `save()`: the caller gives database values.
"""

from django.db import connection
from django.db.models.constants import OnConflict


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
