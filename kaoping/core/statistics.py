"""The planner's statistics, refreshed after bulk writes.

Both engines choose how to run a statement from what they last learnt about each table. A
table filled in one go and read at once (the demo's year, a county's first import, then its
first close) is planned as if it were still empty: PostgreSQL then joins a month's entries to
the county's villages by nested loops, 1.4 s for a county of 1,500 households, minutes at a
province's size, where the same statement with statistics takes 0.1 s.
"""

from django.db import connection

# A table is analysed again once its changes since the last analysis reach this share of it
# (PostgreSQL's autovacuum waits for 10 % and up to a minute; a close cannot wait).
STALE_SHARE = 0.2
STALE_ROWS = 1_000  # small tables are planned well enough whatever their statistics say


def tables_analyze(models, *, only_stale: bool = False) -> list[str]:
    """ANALYZE the tables of `models`; with `only_stale`, only those whose statistics are
    missing or older than most of their rows. Returns the tables analysed.

    Sampled, so a fraction of a second at twenty million rows (SQLite: `analysis_limit`;
    PostgreSQL samples anyway). ANALYZE takes no lock that readers or writers wait for."""
    tables = [model._meta.db_table for model in models]
    if only_stale:
        tables = _stale(tables)
    if not tables:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            cursor.execute(f"ANALYZE {', '.join(quote(table) for table in tables)}")
            return tables
        cursor.execute("PRAGMA analysis_limit = 1000")
        try:
            for table in tables:
                cursor.execute(f"ANALYZE {quote(table)}")
        finally:
            cursor.execute("PRAGMA analysis_limit = 0")  # the connection's other ANALYZEs whole
    return tables


def _stale(tables: list[str]) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # reltuples < 0: never analysed nor vacuumed. n_mod_since_analyze trails the
            # writes of other sessions by up to a second; the table's own size does not.
            cursor.execute(
                "SELECT c.relname FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.relname = ANY(%s) AND c.relkind = 'r' "
                "AND pg_relation_size(c.oid) > 0 AND (c.reltuples < 0 "
                "OR s.n_mod_since_analyze > %s * greatest(c.reltuples, %s))",
                [tables, STALE_SHARE, STALE_ROWS],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor == "sqlite":
            # A table never analysed is planned by SQLite's own assumptions, which serve these
            # statements well; one analysed when it was much smaller is planned by that size.
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1' AND type = 'table'"
            )
            if cursor.fetchone() is None:
                return []
            # The highest rowid counts a table's rows closely enough, read from the end of its
            # b-tree (a count would read all of it); one statement for all of them.
            quote = connection.ops.quote_name
            cursor.execute(
                "SELECT "
                + ", ".join(
                    "(SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = %s), "
                    f"(SELECT max(rowid) FROM {quote(table)})"
                    for table in tables
                ),
                tables,
            )
            found = cursor.fetchone()
            return [
                table
                for table, known, rows in zip(tables, found[::2], found[1::2], strict=True)
                if known is not None and (rows or 0) - known > STALE_SHARE * max(known, STALE_ROWS)
            ]
    return []
