"""The outcomes' periodic job (settings.PERIODIC_JOBS, kaoping.core.periodic)."""

from django.utils import timezone

from .selectors import pairing_months_below, pledge_items_overdue


def outcomes_alerts_job(*, now) -> str:
    """Count overdue pledge items and pairing months below the minimum (as `kaoping
    outcomes_alerts`, which lists them); the run's summary keeps the counts."""
    today = timezone.localdate(now)
    items = pledge_items_overdue(today=today).count()
    short = len(pairing_months_below(today=today))
    return f"{items} overdue pledge items, {short} pairing months below the minimum"
