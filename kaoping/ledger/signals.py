"""What the ledger tells other modules, always after its transaction commits.

`entries_approved` carries the ids of entries that now count (approved on review, recorded
already approved, or reversals). Receivers must be idempotent per entry id: a receiver that fails
is repaired by its own reconcile command, never by re-sending.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

entries_approved = Signal()  # kwargs: entry_ids: list[int]


def announce_approved(entry_ids: list[int]) -> None:
    """Send `entries_approved` once the current transaction commits (at once outside one)."""
    if entry_ids:
        ids = list(entry_ids)
        transaction.on_commit(lambda: _send(ids))


def _send(entry_ids: list[int]) -> None:
    # The ledger write has committed: a receiver that fails must not turn it into an error for
    # the person who made it. The failure is logged and the receiver's reconcile repairs it.
    for receiver, result in entries_approved.send_robust(sender=None, entry_ids=entry_ids):
        if isinstance(result, Exception):
            logger.error("entries_approved receiver %r failed", receiver, exc_info=result)
