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

from kaoping.core.bulk import rows_insert

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


def entries_insert(entries: list[Entry]) -> list[Entry]:
    """Insert unsaved, chained `entries` and give them their ids, as `bulk_create` would.

    What `bulk_create` does per value (preparing every field of every row through the model
    layer, one statement of 41 rows on SQLite) was half of a 100,000-row import's commit. Here a
    value is converted only where the engine needs it (dates, times, decimals, JSON), each
    distinct value once; SQLite takes INSERT_ROWS rows a statement, PostgreSQL the whole batch
    by COPY (`_copy`). No signals, as with `bulk_create`.
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
    states = []
    for entry in entries:
        entry.created_at = now  # auto_now_add, which bulk_create's pre_save sets
        states.append(entry.__dict__)
    # Column by column: most columns are taken as they are, in one comprehension each; a
    # value that needs converting is converted once per distinct value (a month's entries
    # share a few dates, points and flags).
    columns = []
    for attname, column, text in plans:
        values = [state[attname] for state in states]
        if attname in json_fields:
            encoder = json_fields[attname].encoder
            # As text, as Django stores JSON on SQLite (COPY reads it into jsonb on
            # PostgreSQL). Flags are a short list of words, so their repr names them.
            dumped: dict[str, str] = {}
            for index, value in enumerate(values):
                key = repr(value)
                if key not in dumped:
                    dumped[key] = json.dumps(value, cls=encoder)
                values[index] = dumped[key]
        elif column is not None:
            prepared: dict[tuple, object] = {}
            for index, value in enumerate(values):
                key = (type(value), value)
                if key not in prepared:
                    prepared[key] = column.get_db_prep_save(value, connection)
                values[index] = prepared[key]
        elif text:
            # A TextChoices member as its value.
            values = [v if v is None or type(v) is str else str(v) for v in values]
        columns.append(values)
    if connection.vendor == "postgresql":
        _copy(connection, entries, [f.attname for f in fields], columns)
        return entries
    table = connection.ops.quote_name(Entry._meta.db_table)
    names_sql = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Every entry written here is chained first: (chain region, position) names it.
    by_link = {(e.chain_region, e.chain_seq): e for e in entries}
    returned = []
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(entries), INSERT_ROWS):
            batch = list(
                zip(*(values[start : start + INSERT_ROWS] for values in columns), strict=True)
            )
            cursor.execute(
                f"INSERT INTO {table} ({names_sql}) VALUES {', '.join([one] * len(batch))} "
                "RETURNING id, chain_region, chain_seq",
                [value for row in batch for value in row],
            )
            returned += cursor.fetchall()
    for pk, region, seq in returned:
        _saved(by_link[(region, seq)], pk, connection)
    return entries


def _copy(connection, entries: list[Entry], attnames: list[str], columns: list) -> None:
    """PostgreSQL: the entries' ids drawn from the table's sequence, then the rows by COPY.

    INSERT … SELECT FROM unnest(arrays) RETURNING id took 3.1–3.6 s for 100,000 entries; the
    ids drawn beforehand and the rows copied, 2.3–2.6 s (docs/performance.md). Each id is its
    own `nextval`, so no other writer can be given it meanwhile.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Entry._meta.db_table, len(entries)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    rows_insert(Entry, ("id", *attnames), zip(ids, *columns, strict=True))
    for entry, pk in zip(entries, ids, strict=True):
        _saved(entry, pk, connection)


def _saved(entry: Entry, pk: int, connection) -> None:
    entry.pk = pk
    entry._state.adding = False
    entry._state.db = connection.alias
