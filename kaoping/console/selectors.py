"""Reads of the shell's pages (home, a region's page, search, the audit log), all scoped."""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from kaoping.accounts.models import RoleAssignment
from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import restrict
from kaoping.core.fields import subtree_q
from kaoping.core.models import AuditLog
from kaoping.people.models import Household, PartyMember, Person
from kaoping.regions.models import Level, Region
from kaoping.regions.selectors import region_children

SEARCH_LIMIT = 20


def assignments_of(user):
    return RoleAssignment.objects.filter(user=user).select_related(
        "region", "department", "household"
    )


def scope_roots(user):
    """The regions a user starts from: the tops of the subtrees they may see."""
    if user.is_superuser:
        return list(Region.objects.filter(parent__isnull=True))
    codes = {scope.prefix for scope in scopes_for(user, "region.view")}
    # Drop codes already inside another scope, so a nested assignment is not listed twice.
    tops = {c for c in codes if not any(c != o and c.startswith(o) for o in codes)}
    return list(Region.objects.filter(code__in=tops).order_by("code"))


def children_with_counts(user, region):
    """Direct children the user may see, each with its number of households in scope."""
    children = region_children(user=user, region=region)
    counts: dict[str, int] = {}
    if region.level in (Level.TOWNSHIP, Level.VILLAGE, Level.COUNTY):
        # One grouped query: households by the child's code prefix (the child's code length).
        width = {Level.COUNTY: 9, Level.TOWNSHIP: 12, Level.VILLAGE: 15}[region.level]
        rows = (
            Household.objects.for_user(user, "people.view")
            .filter(subtree_q("region__code", region.code))
            .annotate(child=Substr("region__code", 1, width))
            .values("child")
            .annotate(n=Count("id"))
        )
        counts = {row["child"]: row["n"] for row in rows}
    return [(child, counts.get(child.code, 0)) for child in children]


def scope_counts(user) -> dict[str, int]:
    villages = Region.objects.for_user(user, "region.view").filter(level=Level.VILLAGE)
    return {
        "villages": villages.count(),
        "households": Household.objects.for_user(user, "people.view").count(),
        "persons": Person.objects.for_user(user, "people.view").count(),
        "party_members": PartyMember.objects.for_user(user, "people.view").count(),
    }


def search(user, query: str) -> dict:
    """Regions by name, pinyin initials or code; persons by name or initials; households by number."""
    lowered = query.lower()
    regions = (
        Region.objects.for_user(user, "region.view")
        .filter(
            Q(name__contains=query)
            | Q(initials__startswith=lowered)
            | Q(code__startswith=query.rstrip("0") or query)
        )
        .order_by("code")[:SEARCH_LIMIT]
    )
    persons = (
        Person.objects.for_user(user, "people.view")
        .filter(Q(name__contains=query) | Q(initials__startswith=lowered))
        .select_related("household", "region")
        .order_by("name", "id")[:SEARCH_LIMIT]
    )
    households = (
        Household.objects.for_user(user, "people.view")
        .filter(number__startswith=query)
        .select_related("head", "region")
        .order_by("number")[:SEARCH_LIMIT]
    )
    return {"regions": list(regions), "persons": list(persons), "households": list(households)}


def audit_log_list(
    *, user, region: str = "", actor: str = "", action: str = ""
) -> QuerySet[AuditLog]:
    """The audit rows `user` may read, newest first, filtered by region code prefix, actor's
    username and action prefix (each when given)."""
    rows = restrict(AuditLog.objects.all(), user, "audit.view").select_related("actor")
    if region:
        rows = rows.filter(subtree_q("region_code", region))
    if actor:
        rows = rows.filter(actor__username=actor)
    if action:
        rows = rows.filter(action__startswith=action)
    return rows
