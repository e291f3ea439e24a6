"""Leases on background work: how a page tells a job that runs from one whose process died.

The worker renews its lease as it makes progress (each in a short transaction of its own); a
job whose lease is older than `settings.LEASE_STALE_SECONDS`, or has none, has no live process
behind it and may be started again. A step that cannot renew (one long write transaction) must
finish well within that time.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Lease


def lease_renew(key: str) -> None:
    Lease.objects.update_or_create(key=key, defaults={"renewed_at": timezone.now()})


def lease_release(key: str) -> None:
    Lease.objects.filter(key=key).delete()


def lease_is_stale(key: str) -> bool:
    """True when nothing has renewed `key` for LEASE_STALE_SECONDS (or it was never taken)."""
    renewed = Lease.objects.filter(key=key).values_list("renewed_at", flat=True).first()
    limit = timezone.now() - timedelta(seconds=settings.LEASE_STALE_SECONDS)
    return renewed is None or renewed < limit


def lease_take_over(key: str) -> bool:
    """Claim `key` if it is stale or free; of two callers at once, one gets it."""
    now = timezone.now()
    limit = now - timedelta(seconds=settings.LEASE_STALE_SECONDS)
    if Lease.objects.filter(key=key, renewed_at__lt=limit).update(renewed_at=now):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(key=key, renewed_at=now)
    except IntegrityError:
        return False  # held, and renewed lately
    return True
