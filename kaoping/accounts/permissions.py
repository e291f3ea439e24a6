"""What each role may do. The scope (where) comes from the role assignment; this map says what.

`outcome.view` reads consequences (interviews, pledges, pairings, payouts, honours, key villages);
`outcome.manage` arranges them; `outcome.pledge` writes and ticks off pledge items.

Actions are `<area>.<verb>`; `<area>.view` is the read that goes with every other verb of the area.
"""

from .models import Role
from .scoping import Scope

_VILLAGE_READ = {"region.view", "people.view", "entry.view", "period.view"}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(
        _VILLAGE_READ
        | {
            "region.change",
            "people.change",
            "people.view_sensitive",
            "audit.view",
            "scheme.view",
            "scheme.manage",
            "entry.record",
            "entry.review",
            "period.close",
            "objection.view",
            "objection.decide",
            "outcome.view",
            "outcome.manage",
            "outcome.pledge",
            "store.view",
            "store.report",
            "store.manage",
            "store.stock",
        }
    ),
    Role.TOWNSHIP_STAFF: frozenset(
        # Closing ranks the whole county, so it stays with the county admin.
        _VILLAGE_READ
        | {
            "people.change",
            "scheme.view",
            "entry.record",
            "entry.review",
            "objection.view",
            "outcome.view",
            "outcome.manage",
            "outcome.pledge",
            "store.view",
            "store.report",
            "store.manage",
            "store.stock",
        }
    ),
    Role.DEPARTMENT_SCORER: frozenset(
        {"region.view", "entry.view", "entry.record", "period.view", "scheme.view"}
    ),
    Role.VILLAGE_SECRETARY: frozenset(
        _VILLAGE_READ
        | {"people.change", "scheme.view", "entry.record", "store.view", "store.report"}
        # The secretary writes and ticks off the village's own pledge list (干事清单).
        | {"outcome.view", "outcome.pledge"}
    ),
    Role.VILLAGE_COMMITTEE: frozenset(
        _VILLAGE_READ | {"scheme.view", "entry.record", "outcome.view"}
    ),
    Role.GRID_MEMBER: frozenset(_VILLAGE_READ | {"people.change", "scheme.view", "entry.record"}),
    Role.REVIEW_MEMBER: frozenset(
        _VILLAGE_READ | {"scheme.view", "entry.review", "objection.view"}
    ),
    Role.STORE_KEEPER: frozenset(
        {"region.view", "people.view", "store.view", "store.report", "store.redeem", "store.stock"}
    ),
    Role.VILLAGER: frozenset(
        # The rules are public to the people they score.
        {
            "region.view",
            "people.view",
            "scheme.view",
            "entry.view",
            "entry.declare",
            "period.view",
            # Their own household's account: balance, history, requests to the store.
            "store.view",
            "store.request",
        }
    ),
}


def _assignment_scopes(assignment) -> list[Scope]:
    if assignment.role == Role.DEPARTMENT_SCORER:
        return [
            Scope(code) for code in assignment.department.villages.values_list("code", flat=True)
        ]
    if assignment.role == Role.VILLAGER:
        return [Scope(assignment.region.code, household_id=assignment.household_id)]
    return [Scope(assignment.region.code)]


def scopes_for(user, action: str) -> list[Scope]:
    """The scopes in which `user` may do `action`; cached on the user object for one request."""
    cache = getattr(user, "_kaoping_scopes", None)
    if cache is None:
        cache = {}
        for assignment in user.role_assignments.select_related("region", "department"):
            for scope in _assignment_scopes(assignment):
                for granted in ROLE_ACTIONS[assignment.role]:
                    cache.setdefault(granted, []).append(scope)
        user._kaoping_scopes = cache
    return cache.get(action, [])


def user_can(user, action: str) -> bool:
    """Whether `user` may do `action` anywhere (for navigation; objects still go through for_user)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(scopes_for(user, action))
