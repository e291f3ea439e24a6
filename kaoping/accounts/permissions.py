"""What each role may do. The scope (where) comes from the role assignment; this map says what.

`outcome.view` reads consequences (interviews, pledges, pairings, payouts, honours, key villages);
`outcome.manage` arranges them; `outcome.pledge` writes and ticks off pledge items.

`login.manage` creates, imports, disables, enables and resets logins; who may grant which role
where is `may_grant` below (the scope through `login.manage`, the power through `ROLE_RANK`).

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
            "login.view",
            "login.manage",
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
            # The township admin runs the logins of its own township (never a county admin's).
            "login.view",
            "login.manage",
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


# ─── who may grant which role where ───

# The power of each role, for granting: a login manager may grant a role whose rank is at most
# its own, on a place inside the scope of its `login.manage` (equal is allowed: a county admin
# appoints its colleague). Nobody grants above their own rank, so nobody grows their own power.
ROLE_RANK: dict[str, int] = {
    Role.COUNTY_ADMIN: 100,
    Role.TOWNSHIP_STAFF: 80,
    Role.DEPARTMENT_SCORER: 60,
    Role.VILLAGE_SECRETARY: 60,
    Role.REVIEW_MEMBER: 50,
    Role.VILLAGE_COMMITTEE: 40,
    Role.GRID_MEMBER: 40,
    Role.STORE_KEEPER: 30,
    Role.VILLAGER: 10,
}

# The levels of region each role is anchored to. A department scorer is anchored to a
# department and a villager to a household instead (their region follows from it).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    Role.COUNTY_ADMIN: ("county",),
    Role.TOWNSHIP_STAFF: ("township",),
    Role.VILLAGE_SECRETARY: ("village",),
    Role.VILLAGE_COMMITTEE: ("village",),
    Role.REVIEW_MEMBER: ("village", "township"),
    Role.GRID_MEMBER: ("grid", "village"),
    Role.STORE_KEEPER: ("village", "township"),
}

_UNLIMITED = max(ROLE_RANK.values()) + 1


def _managing_assignments(user) -> list:
    cached = getattr(user, "_kaoping_managing", None)
    if cached is None:
        cached = [
            assignment
            for assignment in user.role_assignments.select_related("region", "department")
            if "login.manage" in ROLE_ACTIONS[assignment.role]
        ]
        user._kaoping_managing = cached
    return cached


def grant_power(user, code: str) -> int:
    """The highest rank `user` may grant on the place with region code `code` (0: none)."""
    from .scoping import is_unrestricted

    if is_unrestricted(user):
        return _UNLIMITED
    if user is None or not user.is_authenticated or not user.is_active:
        return 0
    power = 0
    for assignment in _managing_assignments(user):
        if any(code.startswith(scope.prefix) for scope in _assignment_scopes(assignment)):
            power = max(power, ROLE_RANK[assignment.role])
    return power


def may_grant(user, role: str, code: str) -> bool:
    """Whether `user` may give a login `role` on the place with region code `code`."""
    return grant_power(user, code) >= ROLE_RANK[role]


def grantable_roles(user) -> list[str]:
    """The roles `user` may grant somewhere, most powerful first (for a form's choices)."""
    from .scoping import is_unrestricted

    if is_unrestricted(user):
        top = _UNLIMITED
    else:
        top = max((ROLE_RANK[a.role] for a in _managing_assignments(user)), default=0)
    return sorted(
        (role for role, rank in ROLE_RANK.items() if rank <= top), key=lambda r: -ROLE_RANK[r]
    )
