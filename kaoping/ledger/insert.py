"""Writing unsaved, chained entries to the table in bulk, and building them cheaply.

The one ledger write (`ledger.services.entries_write`) inserts through here. For a 100,000-row
import, Django's `bulk_create` (every field of every value prepared through the model layer) and
`Model.__init__` were most of the commit; both are done here with only the conversions the engine
needs (docs/performance.md).
"""

import json
from functools import cache

from django.db import models, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from .models import Entry


class _EntryPlan:
    """How `unsaved_entry` fills an Entry's columns, worked out once from its fields."""

    def __init__(self) -> None:
        self.defaults: dict[str, object] = {}  # attname → a constant default
        self.factories: list[tuple[str, str, object]] = []  # (name, attname, callable default)
        # A field's name or attname → (attname, the relation whose object it names, or None).
        self.names: dict[str, tuple[str, object]] = {}
        for column in Entry._meta.concrete_fields:
            if column.has_default() and callable(column.default):
                self.factories.append((column.name, column.attname, column.default))
            else:
                self.defaults[column.attname] = column.get_default()
            related = column.is_relation and column.name != column.attname
            self.names[column.name] = (column.attname, column if related else None)
            self.names[column.attname] = (column.attname, None)


@cache
def _entry_plan() -> _EntryPlan:
    return _EntryPlan()


def unsaved_entry(**values) -> Entry:
    """`Entry(**values)` (values by field name, related objects as objects) for bulk writers.

    Model.__init__ takes about 30 µs an entry, a tenth of a 100,000-row import's write, most of
    it in the related-field descriptors; here the constant defaults are copied in one update,
    each value given is set by its attname and the related objects given are cached as their
    descriptors would cache them. No pre_init or post_init signal is sent (nothing listens for
    them on Entry).
    """
    plan = _entry_plan()
    entry = Entry.__new__(Entry)
    entry._state = ModelState()
    state = entry.__dict__
    state.update(plan.defaults)
    for name, attname, factory in plan.factories:
        if name not in values and attname not in values:
            state[attname] = factory()
    for name, value in values.items():
        try:
            attname, relation = plan.names[name]
        except KeyError:
            raise TypeError(f"Entry has no field named {name!r}") from None
        if relation is None:
            state[attname] = value
        else:
            state[attname] = None if value is None else value.pk
            if value is not None:
                relation.set_cached_value(entry, value)
    return entry


INSERT_ROWS = 500  # rows per SQLite INSERT: 12,500 parameters, inside its limit
ARRAY_ROWS = 5000  # rows per PostgreSQL INSERT (one array per column)


def entries_insert(entries: list[Entry]) -> list[Entry]:
    """Insert unsaved, chained `entries` and give them their ids, as `bulk_create` would.

    What `bulk_create` does per value (preparing every field of every row through the model
    layer, one statement of 41 rows on SQLite) was half of a 100,000-row import's commit. Here a
    value is converted only where the engine needs it (dates, times, decimals, JSON), each
    distinct value once; SQLite takes INSERT_ROWS rows a statement, PostgreSQL the whole batch
    as one array per column (a statement with thousands of placeholders is parsed again by
    psycopg each time, slower than the insert itself). No signals, as with `bulk_create`.
    """
    connection = transaction.get_connection()
    fields = [f for f in Entry._meta.concrete_fields if not f.primary_key]
    json_fields = {f.attname: f for f in fields if isinstance(f, models.JSONField)}
    converted = (models.DateField, models.DecimalField)  # a DateTimeField is a DateField
    plans = [
        (f.attname, f if isinstance(f, converted) else None, isinstance(f, models.CharField))
        for f in fields
    ]
    now = timezone.now()
    seen: dict[tuple, object] = {}  # (column, value) → the value as the engine takes it
    rows = []
    for entry in entries:
        entry.created_at = now  # auto_now_add, which bulk_create's pre_save sets
        values = entry.__dict__
        row = []
        for attname, column, text in plans:
            value = values[attname]
            if attname in json_fields:
                # As Django stores JSON on SQLite; cast to jsonb on PostgreSQL.
                key = (attname, repr(value))  # flags: a short list of words
                if key in seen:
                    value = seen[key]
                else:
                    value = seen[key] = json.dumps(value, cls=json_fields[attname].encoder)
            elif column is not None:
                key = (attname, type(value), value)
                if key in seen:
                    value = seen[key]
                else:
                    value = seen[key] = column.get_db_prep_save(value, connection)
            elif text and value is not None:
                value = str(value)  # a TextChoices member as its value
            row.append(value)
        rows.append(row)
    table = connection.ops.quote_name(Entry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Every entry written here is chained first: (chain region, position) names it.
    by_link = {(e.chain_region, e.chain_seq): e for e in entries}
    returned = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Text as text: an explicit cast to varchar(n) would cut a value that is too long,
            # where the insert's own assignment refuses it, as bulk_create's insert does.
            texts = (models.CharField, models.JSONField)
            arrays = ", ".join(
                f"%b::{'text' if isinstance(f, texts) else f.db_type(connection)}[]" for f in fields
            )
            names = [f"c{i}" for i in range(len(fields))]
            picked = ", ".join(
                f"{n}::jsonb" if f.attname in json_fields else n
                for n, f in zip(names, fields, strict=True)
            )
            # Django's cursors bind on the client, quoting every value into the statement's
            # text (most of this insert's time for arrays of 5,000 values); these arrays go to
            # the server as parameters instead, in binary (%b), on the same connection and
            # transaction.
            from psycopg import Cursor

            # (Errors as Django's own: a duplicate key is an IntegrityError to the callers.)
            with connection.wrap_database_errors, Cursor(connection.connection) as bound:
                for start in range(0, len(rows), ARRAY_ROWS):
                    batch = rows[start : start + ARRAY_ROWS]
                    bound.execute(
                        f"INSERT INTO {table} ({columns}) SELECT {picked} "
                        f"FROM unnest({arrays}) AS u({', '.join(names)}) "
                        "RETURNING id, chain_region, chain_seq",
                        [list(values) for values in zip(*batch, strict=True)],
                    )
                    returned += bound.fetchall()
        else:
            one = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for start in range(0, len(rows), INSERT_ROWS):
                batch = rows[start : start + INSERT_ROWS]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))} "
                    "RETURNING id, chain_region, chain_seq",
                    [value for row in batch for value in row],
                )
                returned += cursor.fetchall()
    for pk, region, seq in returned:
        entry = by_link[(region, seq)]
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias
    return entries
