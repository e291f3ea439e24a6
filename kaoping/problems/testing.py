"""Problems in each state for tests across the apps (the service-permission cases, the sweep)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import system_actor

from . import services
from .models import CONFIRM_DAYS, Level, Problem


def problems_in_each_state(county) -> dict[str, Problem]:
    """Problems of erin's household (东岭村 grid 1): `open` at the grid, `village` held by the
    village, `resolved` awaiting the household, `unanswered` resolved long ago."""
    system = system_actor()
    household = county.users["erin"].role_assignments.get().household
    made = {}
    with transaction.atomic():
        for name in ("open", "village", "resolved", "unanswered"):
            made[name], _created = services.problem_raise(
                household=household,
                category="infrastructure",
                title=f"问题 {name}",
                idempotency_key=f"testing:{name}",
                acting_user=system,
            )
        made["village"] = services.problem_assign(
            problem=made["village"], level=Level.VILLAGE, acting_user=system
        )
        for name in ("resolved", "unanswered"):
            made[name] = services.problem_resolve(
                problem=made[name], resolution="已处理", acting_user=system
            )
        Problem.objects.filter(pk=made["unanswered"].pk).update(
            resolved_at=timezone.now() - timedelta(days=CONFIRM_DAYS + 1)
        )
        made["unanswered"].refresh_from_db()
    return made
