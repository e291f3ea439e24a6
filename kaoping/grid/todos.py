"""Grid work's to-dos for the home page (kaoping.core.todos): for whoever visits households (a
grid member, leader or chief, a secretary), the households of their area not yet visited this
cycle, and those overdue. Three queries, through the same scoped selectors as the round and the
coverage pages."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for
from kaoping.core.todos import Todo

from .coverage import (
    coverage_grouped,
    cycle_of,
    home_region,
    overdue_households,
    rule_for,
    scoped_households,
)

# A county or township sees coverage on its dashboard and coverage page; the round is the work
# of the grid and the village.
_ROUND_LEVELS = ("grid", "village")


def home_todos(user) -> list:
    if not scopes_for(user, "visit.record"):
        return []
    region = home_region(user)
    if region is None or region.level not in _ROUND_LEVELS:
        return []
    today = timezone.localdate()
    rule = rule_for(region.code)
    cycle = cycle_of(today, rule.cycle)
    households = scoped_households(user, region.code)
    total, visited = coverage_grouped(
        households, digits=len(region.code), start=cycle.start, end=cycle.end
    ).get(region.code, (0, 0))
    todos = []
    overdue = overdue_households(
        user=user, prefix=region.code, today=today, days=rule.overdue_days
    ).count()
    if overdue:
        todos.append(
            Todo(
                title=_("%(count)d households not visited for %(days)d days or more")
                % {"count": overdue, "days": rule.overdue_days},
                url=reverse("grid:overdue"),
                count=overdue,
                urgent=True,
                order=25,
            )
        )
    if total > visited:
        todos.append(
            Todo(
                title=_(
                    "%(count)d households still to visit this cycle (%(done)d of %(total)d done)"
                )
                % {"count": total - visited, "done": visited, "total": total},
                url=reverse("grid:round"),
                count=total - visited,
                order=26,
            )
        )
    return todos
