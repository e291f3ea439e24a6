"""Reads of the ledger."""

from kaoping.schemes.models import SchemeNode


def item_names(entries) -> dict[tuple[int, str], str]:
    """(scheme id, item code) → item name for the given entries, in one query (latest names win)."""
    schemes = {e.scheme_id for e in entries}
    codes = {e.item_code for e in entries}
    rows = (
        SchemeNode.objects.filter(version__scheme_id__in=schemes, code__in=codes, variant="")
        .order_by("version__number")
        .values_list("version__scheme_id", "code", "name")
    )
    return {(scheme_id, code): name for scheme_id, code, name in rows}


def annotate_item_names(entries) -> None:
    """Give each entry an `item_name` for display."""
    names = item_names(entries)
    for entry in entries:
        entry.item_name = names.get((entry.scheme_id, entry.item_code), entry.item_code)
