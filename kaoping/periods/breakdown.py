"""A result's breakdown: the value of every node its close used, packed in the result's row.

The close writes one row per subject (`Result`), and in it `breakdown`: a JSON object of the
nodes that had data, each `"code": [value, raw, empty_value, entry_count, fired]` (scaled
integers as on `Result`; `raw` before the node's clamp; `empty_value` what the node is worth
with nothing recorded under it, its clamped base; `entry_count` the net count of an item's
approved entries, 0 for a group, whose items carry theirs; `fired` 1 for a veto that fired). A node
without an entry is worth its `empty_value` (read from the scheme's node when asked). The
parts of a composite roll-up and its ± adjustments are held under `PART_PREFIX + source`.

The breakdown is what the explanation page shows, what a roll-up adds up from its child
periods, and what lists and postings rank or show by an index. It is written by the same
statement that writes the total (see `engine.tree_select`), so it is exactly what that close
used, whatever is recorded or reviewed after it.

This module is the one place that knows the format: its Python reader (`node_values`) and the
SQL that builds it, unpacks it and reads one node of it on SQLite and PostgreSQL.
"""

import json
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BigIntegerField, Func

PART_PREFIX = "__part__:"  # the parts of a composite total, and its adjustments
CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # spec.Code


@dataclass(frozen=True)
class NodeValue:
    """One node's value in a result: the provenance of its points."""

    code: str
    value: int
    raw: int
    empty_value: int
    entry_count: int
    fired: bool


def node_values(breakdown: str | None) -> dict[str, NodeValue]:
    """The nodes of a packed breakdown, by code."""
    if not breakdown:
        return {}
    return {
        code: NodeValue(code, value, raw, empty, count, bool(fired))
        for code, (value, raw, empty, count, fired) in json.loads(breakdown).items()
    }


# --- SQL -----------------------------------------------------------------------------------


def pack_sql(alias: str, fired: str) -> str:
    """One node's member of the breakdown from the row `alias` (code, value, raw, empty_value,
    cnt). Codes are `[A-Za-z0-9_.-]` (spec.Code) or PART_PREFIX + a cadence: nothing to
    escape. One formatting call rather than a chain of concatenations: it is evaluated for
    every item of every subject. Its % are doubled: statements run with parameters."""
    function = "format" if connection.vendor == "postgresql" else "printf"
    mark = "%%s" if connection.vendor == "postgresql" else "%%d"
    return (
        f"{function}('\"%%s\":[{mark},{mark},{mark},{mark},{mark}]', {alias}.code, "
        f"{alias}.value, {alias}.raw, {alias}.empty_value, {alias}.cnt, {fired})"
    )


def concat_agg(expr: str) -> str:
    """The members `expr` of a group joined with commas (the order does not matter: an object)."""
    if connection.vendor == "postgresql":
        return f"string_agg({expr}, ',')"
    return f"group_concat({expr}, ',')"


def unpacked(result: str) -> tuple[str, str, list[str]]:
    """(join, key, [value, raw, empty_value, entry_count, fired]): SQL reading each member of
    the breakdown of the result row `result`; `join` follows `FROM periods_result {result}`."""
    if connection.vendor == "postgresql":
        join = f"CROSS JOIN LATERAL json_each(CAST({result}.breakdown AS json)) j"
        fields = [f"CAST(j.value ->> {i} AS BIGINT)" for i in range(5)]
    else:
        join = f", json_each({result}.breakdown) j"
        fields = [f"CAST(json_extract(j.value, '$[{i}]') AS BIGINT)" for i in range(5)]
    return join, "j.key", fields


def node_value_sql(column: str, code: str) -> str:
    """The value of the node `code` in the breakdown `column`, NULL when it has no member.

    The code is written into the SQL, not passed as a parameter, so that a value repeated in
    window clauses needs no parameters in step: a code is `[A-Za-z0-9_.-]` (spec.Code),
    checked here again because it is inlined."""
    if not CODE.fullmatch(code):
        raise ValueError(f"not a node code: {code!r}")
    if connection.vendor == "postgresql":
        return f"CAST(CAST({column} AS json) -> '{code}' ->> 0 AS BIGINT)"
    return f"json_extract({column}, '$.\"{code}\"[0]')"


class BreakdownValue(Func):
    """The ORM's reading of one node's value in a result's breakdown (NULL without a member)."""

    output_field = BigIntegerField()

    def __init__(self, code: str, column: str = "breakdown"):
        self.code = code
        super().__init__(column)

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return node_value_sql(column, self.code), params
