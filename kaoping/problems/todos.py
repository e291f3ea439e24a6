"""The problems ledger's to-dos for the home page (kaoping.core.todos): problems held at the
user's own level (overdue ones urgent), and for a household the resolutions it is asked to
confirm. Two queries at most, both through `for_user`."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.permissions import scopes_for
from kaoping.core.todos import Todo

from .models import ACTIVE, Level, Problem, Status

# The level a user's work is at: the highest level they handle (a township handles the grid's
# problems too, but its to-do is what the township itself holds).
_OWN_LEVEL = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)


def home_todos(user) -> list[Todo]:
    todos = []
    level = next((lv for lv in _OWN_LEVEL if scopes_for(user, f"problem.handle_{lv}")), None)
    held = None
    if level is not None:
        held = Problem.objects.for_user(user, f"problem.handle_{level}").filter(level=level)
    elif scopes_for(user, "problem.handle_department"):
        departments = RoleAssignment.objects.filter(user=user, role=Role.DEPARTMENT_SCORER).values(
            "department_id"
        )
        held = Problem.objects.for_user(user, "problem.handle_department").filter(
            level=Level.DEPARTMENT, assigned_department__in=departments
        )
    if held is not None:
        counts = held.aggregate(
            open=Count("pk", filter=Q(status__in=ACTIVE)),
            overdue=Count("pk", filter=Q(status__in=ACTIVE, deadline__lt=timezone.localdate())),
        )
        if counts["overdue"]:
            todos.append(
                Todo(
                    title=_("%(n)d problems overdue") % {"n": counts["overdue"]},
                    url=reverse("problems:list") + "?overdue=1",
                    count=counts["overdue"],
                    urgent=True,
                    order=20,
                )
            )
        if counts["open"] - counts["overdue"]:
            n = counts["open"] - counts["overdue"]
            todos.append(
                Todo(
                    title=_("%(n)d problems to handle") % {"n": n},
                    url=reverse("problems:list") + f"?level={level or Level.DEPARTMENT}",
                    count=n,
                    order=30,
                )
            )
    if any(scope.household_id for scope in scopes_for(user, "problem.confirm")):
        n = Problem.objects.for_user(user, "problem.confirm").filter(status=Status.RESOLVED).count()
        if n:
            todos.append(
                Todo(
                    title=_("%(n)d answers to confirm") % {"n": n},
                    url=reverse("problems:mine"),
                    count=n,
                    urgent=True,
                    order=10,
                )
            )
    return todos
