"""Reads of grid work: the round of households to visit, visits, a household's book."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Q, QuerySet

from kaoping.core.fields import subtree_q
from kaoping.people.models import (
    CURRENT_STATUSES,
    BookChange,
    Household,
    HouseholdTag,
    HouseholdTagSpan,
    Person,
)
from kaoping.regions.models import Region

from .coverage import cycle_of, rule_for
from .models import Visit, VisitEvidence

ROUND_MAX = 300  # households listed on one round page; a wider area is narrowed by grid or search


@dataclass
class RoundHousehold:
    household: Household
    last_visit: date | None
    done: bool  # visited in this cycle
    overdue: bool  # not visited for longer than the county allows


@dataclass
class RoundGrid:
    grid: Region
    households: list[RoundHousehold] = field(default_factory=list)
    total: int = 0
    done: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


@dataclass
class Round:
    grids: list[RoundGrid]
    start: date
    overdue_days: int
    truncated: bool
    total: int
    done: int


def households_to_visit(*, user) -> QuerySet[Household]:
    """The households `user` may visit (a grid member's grids, a secretary's village)."""
    return Household.objects.for_user(user, "visit.record")


def round_of(*, user, today: date, query: str = "", grid_code: str = "") -> Round:
    """The user's round: per grid, the households not yet visited this cycle first (those not
    visited for longest first), visited ones last; grids nearest to done last.

    Two queries: the households with their last visit, and the visits counted this cycle are
    derived from the same annotation."""
    households = households_to_visit(user=user)
    if grid_code:
        households = households.filter(subtree_q("region__code", grid_code))
    if query := query.strip():
        by_member = Person.objects.filter(
            Q(name__icontains=query) | Q(initials__icontains=query.lower())
        ).values("household_id")
        households = households.filter(
            Q(number__icontains=query) | Q(address__icontains=query) | Q(pk__in=by_member)
        )
    first = households.values_list("region__code", flat=True).first()
    # The county's rule (coverage.py, shared with the coverage pages): cycle and overdue days.
    rule = rule_for(first or "")
    start, overdue_days = cycle_of(today, rule.cycle).start, rule.overdue_days
    overdue_before = today - timedelta(days=overdue_days)
    rows = list(
        households.select_related("region", "head")
        .annotate(last_visit=Max("visits__visited_on"))
        .order_by("region__code", "number")[: ROUND_MAX + 1]
    )
    truncated = len(rows) > ROUND_MAX
    grids: dict[int, RoundGrid] = {}
    for household in rows[:ROUND_MAX]:
        entry = grids.setdefault(household.region_id, RoundGrid(grid=household.region))
        last = household.last_visit
        done = last is not None and last >= start
        entry.households.append(
            RoundHousehold(
                household=household,
                last_visit=last,
                done=done,
                overdue=not done and (last is None or last < overdue_before),
            )
        )
        entry.total += 1
        entry.done += done
    for entry in grids.values():
        # Overdue first, then the longest unvisited, then the visited ones.
        entry.households.sort(
            key=lambda r: (r.done, not r.overdue, r.last_visit or date.min, r.household.number)
        )
    ordered = sorted(grids.values(), key=lambda g: (g.percent, g.grid.code))
    return Round(
        grids=ordered,
        start=start,
        overdue_days=overdue_days,
        truncated=truncated,
        total=sum(g.total for g in ordered),
        done=sum(g.done for g in ordered),
    )


def visit_list_of_household(*, user, household: Household) -> QuerySet[Visit]:
    """A household's visits the user may see, newest first, with whom they met and photos."""
    return (
        Visit.objects.for_user(user, "visit.view")
        .filter(household=household)
        .select_related("visitor", "visitor_person", "grid")
        .prefetch_related("met", "evidence")
        .order_by("-visited_on", "-id")
    )


def visit_get(*, user, pk: int) -> Visit | None:
    return (
        Visit.objects.for_user(user, "visit.view")
        .select_related("household", "visitor", "visitor_person", "grid")
        .prefetch_related("met", "evidence")
        .filter(pk=pk)
        .first()
    )


def visit_photo_get(*, user, pk: int) -> VisitEvidence | None:
    return VisitEvidence.objects.for_user(user, "visit.view").filter(pk=pk).first()


def household_members_for_visit(*, household: Household) -> QuerySet[Person]:
    return household.members.order_by("id")


def households_of_grid(*, user, grid: Region) -> QuerySet[Household]:
    """The households kept on `grid` (or on a village without grids) the user may see, by
    number: a booklet is printed per grid, never for a whole township."""
    return (
        Household.objects.for_user(user, "visit.view")
        .filter(region=grid)
        .select_related("region", "head")
        .annotate(visit_count=Count("visits"))
        .order_by("number")
    )


def visit_form_choices(*, user, household: Household):
    """What the visit form offers: the current members, the county's tags in use, and the ids of
    the tags the household carries now."""
    members = household.members.filter(status__in=CURRENT_STATUSES).order_by("id")
    tags = list(
        HouseholdTag.objects.for_user(user, "people.view")
        .filter(region__code=household.region.code[:6], active=True)
        .order_by("name")
    )
    current = set(
        HouseholdTagSpan.objects.filter(household=household, until__isnull=True).values_list(
            "tag_id", flat=True
        )
    )
    return members, tags, current


def changes_of_visit(*, user, visit: Visit) -> QuerySet[BookChange]:
    """The book changes made on `visit`, oldest first."""
    return (
        BookChange.objects.for_user(user, "people.view")
        .filter(household_id=visit.household_id, visit_id=visit.pk)
        .select_related("person", "tag", "made_by")
        .order_by("made_at", "id")
    )


def problem_new_url(*, visit: Visit) -> str | None:
    """Where to record a problem found on `visit` (the problems app's form), if it has one."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("problems:raise", args=[visit.household_id]) + f"?visit={visit.pk}"
    except NoReverseMatch:
        return None


def book_change_ids_of_visits(*, user, household: Household, visit_ids: list[int]):
    """(change id, visit id) of the book changes made on the given visits of `household`."""
    return (
        BookChange.objects.for_user(user, "people.view")
        .filter(household=household, visit_id__in=visit_ids)
        .order_by("id")
        .values_list("pk", "visit_id")
    )


def visit_list(*, user, grid_code: str = "", visitor_id: int | None = None) -> QuerySet[Visit]:
    """The visits in the user's area, newest first (a leader's view of the members' work):
    narrowed to a grid (or village) and to one visitor."""
    visits = Visit.objects.for_user(user, "visit.view")
    if grid_code:
        visits = visits.filter(subtree_q("grid__code", grid_code))
    if visitor_id:
        visits = visits.filter(visitor_id=visitor_id)
    return visits.select_related(
        "household", "household__head", "grid", "visitor", "visitor_person"
    ).order_by("-visited_on", "-id")


def visitors_in_area(*, user, grid_code: str = "") -> list[tuple[int, str]]:
    """Who visited in the user's area (for the visits page's filter): (user id, name)."""
    visits = Visit.objects.for_user(user, "visit.view")
    if grid_code:
        visits = visits.filter(subtree_q("grid__code", grid_code))
    rows = visits.values_list("visitor_id", "visitor__first_name", "visitor__username").distinct()
    return sorted({(pk, first or username) for pk, first, username in rows}, key=lambda r: r[1])
