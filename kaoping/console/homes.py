"""What each person sees first: their to-dos (kaoping.core.todos) and a short summary of their
own area, by role. The villager has a phone page of their own and goes straight there; the
county admin sees the county dashboard under the to-dos.

Every part is a handful of queries whatever the size of the county: counts and the latest few
results, never a loop over villages.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role
from kaoping.accounts.permissions import ROLE_RANK, assignments_of, user_can
from kaoping.core.pagecache import cached_value
from kaoping.core.todos import Todo, todos_for
from kaoping.people.models import Household, PartyMember, Person, SubjectKind
from kaoping.periods.models import PeriodStatus, Result
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import SchemeGrade
from kaoping.store.models import Store

from . import selectors

STANDINGS_SHOWN = 3  # the village's latest results, one per scheme


@dataclass
class Home:
    kind: str  # county, township, department, village, grid, review, store, none
    todos: list[Todo]
    assignments: list
    roots: list = field(default_factory=list)
    counts: dict | None = None
    standings: list = field(default_factory=list)
    stores: list = field(default_factory=list)
    departments: list = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


_KIND_OF_ROLE = {
    Role.COUNTY_ADMIN: "county",
    Role.TOWNSHIP_STAFF: "township",
    Role.DEPARTMENT_SCORER: "department",
    Role.VILLAGE_SECRETARY: "village",
    Role.VILLAGE_COMMITTEE: "village",
    Role.GRID_MEMBER: "grid",
    Role.REVIEW_MEMBER: "review",
    Role.STORE_KEEPER: "store",
    Role.VILLAGER: "villager",
}


def home_kind(user, assignments) -> str:
    """The home of the user's most powerful role (a superuser's is the county's)."""
    if user.is_superuser:
        return "county"
    roles = sorted({a.role for a in assignments}, key=lambda r: -ROLE_RANK[r])
    return _KIND_OF_ROLE[roles[0]] if roles else "none"


def main_links(user) -> list[tuple[str, str]]:
    """The main pages of the user's roles, for a home with nothing to do."""
    candidates = [
        ("visit.record", _("My round"), "grid:round"),
        ("entry.review", _("Review queue"), "ledger:review"),
        ("store.redeem", _("Store counter"), "store:keeper"),
        ("outcome.view", _("Consequences"), "outcomes:index"),
        ("entry.record", _("My entries"), "ledger:my_entries"),
        ("entry.record", _("Excel import"), "ledger:imports"),
        ("store.manage", _("Points stores"), "store:stores"),
        ("scheme.view", _("Schemes"), "schemes:list"),
        ("people.view", _("Search"), "console:search"),
    ]
    links = []
    for action, label, name in candidates:
        if user_can(user, action) and (label, reverse(name)) not in links:
            links.append((label, reverse(name)))
    return links[:5]


def _village_codes(assignments) -> list[str]:
    return sorted(
        {a.region.code for a in assignments if a.region_id and a.region.level == Level.VILLAGE}
    )


def village_standings(user, codes: list[str]) -> list[dict]:
    """The latest closed result of each village of `codes`, one per scheme, newest first, with
    its grade's name and the size of its ranking group."""
    if not codes:
        return []
    results = list(
        Result.objects.for_user(user, "period.view")
        .filter(subject__kind=SubjectKind.VILLAGE, subject__region__code__in=codes)
        .exclude(period__status=PeriodStatus.OPEN)
        .select_related("period__scheme", "period__version", "subject")
        .order_by("-period__end", "period__scheme__name")[: STANDINGS_SHOWN * 4]
    )
    latest: dict[tuple[int, int], Result] = {}
    for result in results:
        latest.setdefault((result.subject_id, result.period.scheme_id), result)
    shown = list(latest.values())[:STANDINGS_SHOWN]
    if not shown:
        return []
    grades = {
        (g.version_id, g.code): g.name
        for g in SchemeGrade.objects.filter(
            version_id__in={r.period.version_id for r in shown},
            code__in={r.grade_code for r in shown},
        )
    }
    periods, groups = {r.period_id for r in shown}, sorted({r.rank_group for r in shown})

    def group_sizes() -> dict:
        rows = (
            Result.objects.filter(period_id__in=periods, rank_group__in=groups)
            .values("period_id", "rank_group")
            .annotate(n=Count("pk"))
        )
        return {(row["period_id"], row["rank_group"]): row["n"] for row in rows}

    # Counted over the whole ranking (a province's 20,000 villages): fixed once the period is
    # closed, so kept until it changes.
    sizes = cached_value("period", periods, f"group-sizes|{groups}", group_sizes)
    return [
        {
            "result": r,
            "subject": r.subject,
            "period": r.period,
            "points": r.period.version.to_points(r.total),
            "grade": grades.get((r.period.version_id, r.grade_code), r.grade_code),
            "rank": r.rank,
            "of": sizes.get((r.period_id, r.rank_group), 0),
        }
        for r in shown
    ]


def scope_counts(user, kind: str) -> dict | None:
    """The tiles that help: an area's villages, households, residents and party members for who
    runs a township; a village's or a grid's people for who works in it."""
    if kind == "township":
        return selectors.scope_counts(user)
    if kind in ("village", "grid"):
        return {
            "households": Household.objects.for_user(user, "people.view").count(),
            "persons": Person.objects.for_user(user, "people.view").count(),
            "party_members": PartyMember.objects.for_user(user, "people.view").count(),
        }
    return None


def home_for(user) -> Home:
    assignments = assignments_of(user)
    kind = home_kind(user, assignments)
    home = Home(kind=kind, todos=todos_for(user), assignments=assignments)
    if kind not in ("county", "department"):  # a department's villages are listed below
        home.roots = selectors.scope_roots(user)
        home.counts = scope_counts(user, kind)
    if kind == "village":
        home.standings = village_standings(user, _village_codes(assignments))
    if kind == "store":
        home.stores = list(
            Store.objects.for_user(user, "store.redeem")
            .filter(active=True)
            .select_related("region")
            .order_by("region__code", "name")[:10]
        )
    if kind == "department":
        home.departments = [
            {
                "department": a.department,
                "villages": list(
                    Region.objects.filter(departments=a.department).order_by("code")[:30]
                ),
            }
            for a in assignments
            if a.department_id
        ]
    if not home.todos:
        home.links = main_links(user)
    return home
