"""Emptying the database for `kaoping demo --rebuild`: every table of the kaoping apps, and users.

Rows go with one plain DELETE per table (SQLite) or one TRUNCATE of them all (PostgreSQL). Django's QuerySet.delete() would load every protected or
cascading row into memory first (millions of persons in a large demo), so it is not used here.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction


def _wiped_models() -> list[type[models.Model]]:
    """The kaoping apps' models (M2M tables included), users, and whatever points at them."""
    user_model = get_user_model()
    chosen: set[type[models.Model]] = {
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_config.name.startswith("kaoping.")
    }
    chosen |= {user_model, user_model.groups.through, user_model.user_permissions.through}
    # A table outside the list with a foreign key into it (admin's LogEntry → User) must go too,
    # or the delete would leave rows pointing nowhere.
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model not in chosen and any(f.related_model in chosen for f in _foreign_keys(model)):
                chosen.add(model)
                changed = True
    return sorted(chosen, key=lambda m: m._meta.label)


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def deletion_plan(
    chosen: list[type[models.Model]],
) -> tuple[list[models.ForeignKey], list[type[models.Model]]]:
    """(nullable keys to clear first, tables in delete order): referrers before what they refer to.

    A cycle (Household.head → Person → Household) is broken by clearing one nullable key of it,
    preferring an ON DELETE SET NULL one, the weaker of the two links.
    """
    edges = [
        field
        for model in chosen
        for field in _foreign_keys(model)
        if field.related_model in chosen and field.related_model is not model
    ]
    remaining = list(chosen)
    cleared: list[models.ForeignKey] = []
    order: list[type[models.Model]] = []
    while remaining:
        live = [f for f in edges if f not in cleared and f.model in remaining]
        referenced = {f.related_model for f in live}
        free = [m for m in remaining if m not in referenced]
        if free:
            order.append(free[0])
            remaining.remove(free[0])
            continue
        nullable = [f for f in live if f.null and f.related_model in remaining]
        if not nullable:
            raise RuntimeError("no nullable key breaks the foreign-key cycle")
        nullable.sort(key=lambda f: (f.remote_field.on_delete is not models.SET_NULL, str(f)))
        cleared.append(nullable[0])
    return cleared, order


def wipe_all() -> int:
    """Delete every row of the kaoping apps and every user, in one transaction; returns rows."""
    chosen = _wiped_models()
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # One TRUNCATE of every table at once: the keys among them need no order, and it does
        # not visit the rows (a delete of the demo's million rows took twenty seconds).
        tables = [quote(model._meta.db_table) for model in chosen]
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + " + ".join(f"(SELECT count(*) FROM {table})" for table in tables)
            )
            total = cursor.fetchone()[0]
            # Checks of keys deferred to the commit must run now: PostgreSQL refuses to truncate
            # a table with checks pending (rows written earlier in an enclosing transaction).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        return total
    cleared, order = deletion_plan(chosen)
    total = 0
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        for field in cleared:
            table, column = quote(field.model._meta.db_table), quote(field.column)
            cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL")
        for model in order:
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
            total += max(cursor.rowcount, 0)
    return total
