"""Reads of the problems ledger; every query starts from `Problem.objects.for_user`."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import may
from kaoping.people.models import Household
from kaoping.regions.models import Department

from .models import ACTIVE, Level, Problem, ProblemEvent, Status
from .services import ASSIGN_TO, may_handle

_RELATED = ("household__head", "region", "assigned_region", "assigned_department", "raised_by")


def problem_list(
    *, user, status: str = "", level: str = "", overdue: bool = False, household=None
) -> QuerySet:
    """The problems `user` may see, newest first, filtered as the list page asks."""
    rows = Problem.objects.for_user(user, "problem.view").select_related(*_RELATED)
    if status:
        rows = rows.filter(status=status)
    if level:
        rows = rows.filter(level=level)
    if overdue:
        rows = rows.filter(status__in=ACTIVE, deadline__lt=timezone.localdate())
    if household is not None:
        rows = rows.filter(household=household)
    return rows


def problem_counts(*, user, level: str = "") -> dict[str, int]:
    """How many of the user's problems (of `level`, when given) are in each status, and how many
    are overdue: one query, so that the tabs count what the list below them shows."""
    today = timezone.localdate()
    problems = Problem.objects.for_user(user, "problem.view")
    if level:
        problems = problems.filter(level=level)
    counts = problems.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(status__in=ACTIVE, deadline__lt=today)),
        **{s: Count("pk", filter=Q(status=s)) for s in Status.values},
    )
    return counts


def problems_of_household(*, user, household) -> QuerySet:
    """The problems of one household that `user` may see (the household book lists them)."""
    return problem_list(user=user, household=household)


def problem_events(problem: Problem) -> QuerySet:
    return ProblemEvent.objects.filter(problem=problem).select_related("actor")


def households_of_villager(*, user) -> QuerySet:
    """The households whose problems `user` answers as the household: a villager's own (a
    superuser, who may answer for anyone, has no household of its own)."""
    own = RoleAssignment.objects.filter(user=user, role=Role.VILLAGER).values("household_id")
    return (
        Household.objects.for_user(user, "problem.confirm")
        .filter(pk__in=own)
        .select_related("region")
    )


@dataclass
class Actions:
    """What `user` may do with one problem now: the detail page offers exactly these."""

    handle: bool = False
    assign_to: str = ""
    departments: list = field(default_factory=list)
    confirm: bool = False
    close_unconfirmed: bool = False

    @property
    def any(self) -> bool:
        return self.handle or self.confirm or self.close_unconfirmed


def problem_actions(*, user, problem: Problem) -> Actions:
    actions = Actions()
    if problem.status in ACTIVE and may_handle(user, problem):
        actions.handle = True
        actions.assign_to = ASSIGN_TO.get(problem.level, "")
        if actions.assign_to == Level.DEPARTMENT:
            actions.departments = list(
                Department.objects.filter(villages__code=problem.region.code[:12]).order_by("code")
            )
            if not actions.departments:
                actions.assign_to = ""
    if problem.status == Status.RESOLVED:
        actions.confirm = may(user, "problem.confirm", problem)
        actions.close_unconfirmed = (
            may(user, "problem.close", problem) and timezone.localdate() > problem.confirm_by()
        )
    return actions
