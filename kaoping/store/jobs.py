"""The store's periodic job (settings.PERIODIC_JOBS, kaoping.core.periodic)."""

from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import system_actor

from .services import accounts_lapse, accounts_reconcile, accounts_reset, redemptions_lapse


def store_daily_job(*, now) -> str:
    """The store's daily run, as `kaoping store_daily`. Listed with "atomic": False: crediting and
    lapsing commit a chunk of accounts at a time; putting requests back is one transaction."""
    day = timezone.localdate(now)
    actor = system_actor()
    credited = accounts_reconcile(acting_user=actor)
    lapsed = accounts_lapse(today=day, acting_user=actor)
    reset = accounts_reset(today=day, acting_user=actor)
    with transaction.atomic(durable=True):
        cancelled = redemptions_lapse(today=day, acting_user=actor)
    return (
        f"credited {credited} entries, {sum(lapsed.values())} accounts cleared or expired, "
        f"{reset} accounts reset, "
        f"{cancelled} uncollected requests cancelled"
    )
