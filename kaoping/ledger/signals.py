"""What the ledger tells other modules, always after its transaction commits.

`entries_approved` carries the ids of entries that now count (approved on review, recorded
already approved, or reversals). Receivers must be idempotent per entry id: a receiver that fails
is repaired by its own reconcile command, never by re-sending.
"""

from django.db import transaction
from django.dispatch import Signal

entries_approved = Signal()  # kwargs: entry_ids: list[int]


def announce_approved(entry_ids: list[int]) -> None:
    """Send `entries_approved` once the current transaction commits (at once outside one)."""
    if entry_ids:
        ids = list(entry_ids)
        transaction.on_commit(lambda: entries_approved.send(sender=None, entry_ids=ids))
