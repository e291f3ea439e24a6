"""The periods' periodic job (settings.PERIODIC_JOBS, kaoping.core.periodic)."""

from kaoping.accounts.scoping import system_actor

from .services import periods_finalise_due


def finalise_due_job(*, now) -> str:
    """Finalise posted periods whose objection window has ended (as `kaoping finalise_due`)."""
    done = periods_finalise_due(acting_user=system_actor(), now=now)
    names = ", ".join(f"{period.scheme.code} {period.label}" for period in done[:5])
    more = f" (+{len(done) - 5})" if len(done) > 5 else ""
    return f"{len(done)} period(s) finalised" + (f": {names}{more}" if done else "")
