"""What each role may do. The scope (where) comes from the role assignment; this map says what.

`outcome.view` reads consequences (interviews, pledges, pairings, payouts, honours, key villages);
`outcome.manage` arranges them; `outcome.pledge` writes and ticks off pledge items.

`login.manage` creates, imports, disables, enables and resets logins; who may grant which role
where is `may_grant` below (the scope through `login.manage`, the power through `ROLE_RANK`).

Actions are `<area>.<verb>`; `<area>.view` is the read that goes with every other verb of the area.
"""

from .models import Role
from .scoping import Scope

# `visit.view` reads grid visits and households' books; `visit.record` records a visit.
_VILLAGE_READ = {"region.view", "people.view", "entry.view", "period.view", "visit.view"}

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
            # The county's household tags (低保, 脱贫户…); the households-and-members import;
            # the 三长 posts of a village.
            "people.configure",
            "people.import",
            "people.appoint",
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
            "people.import",
            "people.appoint",
        }
    ),
    Role.DEPARTMENT_SCORER: frozenset(
        {"region.view", "entry.view", "entry.record", "period.view", "scheme.view"}
    ),
    Role.VILLAGE_SECRETARY: frozenset(
        _VILLAGE_READ
        | {"people.change", "scheme.view", "entry.record", "store.view", "store.report"}
        # The secretary imports the village's households and appoints its 三长.
        | {"people.import", "people.appoint"}
        | {"visit.record"}
        # The secretary writes and ticks off the village's own pledge list (干事清单).
        | {"outcome.view", "outcome.pledge"}
    ),
    Role.VILLAGE_COMMITTEE: frozenset(
        _VILLAGE_READ | {"scheme.view", "entry.record", "outcome.view", "visit.record"}
    ),
    Role.GRID_MEMBER: frozenset(
        _VILLAGE_READ | {"people.change", "scheme.view", "entry.record", "visit.record"}
    ),
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

# Problems (民情台账): `problem.raise` records one for a household; `problem.handle_<level>`
# works on a problem held at that level (a higher office also handles the levels below it);
# `problem.close` closes a resolution the household left unanswered; `problem.confirm` is the
# household's answer to a resolution.
_PROBLEM_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(
        {"problem.view", "problem.raise", "problem.close"}
        | {f"problem.handle_{level}" for level in ("grid", "village", "township")}
    ),
    Role.TOWNSHIP_STAFF: frozenset(
        {"problem.view", "problem.raise", "problem.close"}
        | {f"problem.handle_{level}" for level in ("grid", "village", "township")}
    ),
    Role.DEPARTMENT_SCORER: frozenset({"problem.view", "problem.handle_department"}),
    Role.VILLAGE_SECRETARY: frozenset(
        {"problem.view", "problem.raise", "problem.handle_grid", "problem.handle_village"}
    ),
    Role.VILLAGE_COMMITTEE: frozenset({"problem.view", "problem.raise"}),
    Role.GRID_MEMBER: frozenset({"problem.view", "problem.raise", "problem.handle_grid"}),
    Role.VILLAGER: frozenset({"problem.view", "problem.raise", "problem.confirm"}),
}
ROLE_ACTIONS = {
    role: actions | _PROBLEM_ACTIONS.get(role, frozenset())
    for role, actions in ROLE_ACTIONS.items()
}

# Reports (考评通报, 红黑榜, a village's year): `report.view` reads the reports of one's area,
# `report.create` makes one, `report.schedule` says which report goes to whom after each close.
_REPORT_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset({"report.view", "report.create", "report.schedule"}),
    Role.TOWNSHIP_STAFF: frozenset({"report.view", "report.create"}),
}
ROLE_ACTIONS = {
    role: actions | _REPORT_ACTIONS.get(role, frozenset()) for role, actions in ROLE_ACTIONS.items()
}

# Village elections (M8, kaoping.election): `election.view` reads the board and the villages'
# files; `election.manage` opens a round, loads its configuration, names key villages, their
# teams and paired departments; `election.record` records a village's stages, talks, issues and
# results; `election.sheet` reads persons' sheets (一人一表, the most sensitive rows: the county
# organisation department and the township only; every view audited) and `election.candidate`
# adds candidates to them; `election.help` records a paired department's visits to its villages.
# A department's own findings are checked by department, not by region (election/access.py).
_ELECTION_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(
        {
            "election.view",
            "election.manage",
            "election.record",
            "election.sheet",
            "election.candidate",
            "election.help",
        }
    ),
    Role.TOWNSHIP_STAFF: frozenset(
        {"election.view", "election.record", "election.sheet", "election.candidate"}
    ),
    Role.DEPARTMENT_SCORER: frozenset({"election.view", "election.help"}),
}
ROLE_ACTIONS = {
    role: actions | _ELECTION_ACTIONS.get(role, frozenset())
    for role, actions in ROLE_ACTIONS.items()
}

# Evaluations (评议, kaoping.evaluations): `evaluation.view` reads plans, rounds and their
# aggregates; `evaluation.manage` loads a plan, opens and closes its rounds; `evaluation.rate`
# casts a ballot with one's login (a branch committee's round; a panel's judges are named on the
# round as well); `evaluation.paper` types in paper ballots and prints a village's rater codes;
# `evaluation.ballots` reads individual ballots (the audit role: who holds `audit.view`);
# `evaluation.meeting` opens a branch meeting for sign-in and closes it; `evaluation.service`
# records services to linked households (一联) and members' pledges (二亮).
_EVALUATION_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(
        {
            "evaluation.view",
            "evaluation.manage",
            "evaluation.rate",
            "evaluation.paper",
            "evaluation.ballots",
            "evaluation.meeting",
            "evaluation.service",
        }
    ),
    Role.TOWNSHIP_STAFF: frozenset(
        {
            "evaluation.view",
            "evaluation.manage",
            "evaluation.rate",
            "evaluation.paper",
            "evaluation.meeting",
            "evaluation.service",
        }
    ),
    Role.VILLAGE_SECRETARY: frozenset(
        {
            "evaluation.view",
            "evaluation.rate",
            "evaluation.paper",
            "evaluation.meeting",
            "evaluation.service",
        }
    ),
    Role.VILLAGE_COMMITTEE: frozenset(
        {"evaluation.view", "evaluation.rate", "evaluation.meeting", "evaluation.service"}
    ),
    Role.GRID_MEMBER: frozenset({"evaluation.view", "evaluation.service"}),
}
ROLE_ACTIONS = {
    role: actions | _EVALUATION_ACTIONS.get(role, frozenset())
    for role, actions in ROLE_ACTIONS.items()
}


def _assignment_scopes(assignment) -> list[Scope]:
    if assignment.role == Role.DEPARTMENT_SCORER:
        return [
            Scope(code) for code in assignment.department.villages.values_list("code", flat=True)
        ]
    if assignment.role == Role.VILLAGER:
        return [Scope(assignment.region.code, household_id=assignment.household_id)]
    if assignment.household_post_id is not None:
        # A 三长 (片长/组长/邻长) works the households of the post, as a villager their own: one
        # household scope each; a post without households grants nothing.
        households = assignment.household_post.households.values_list("pk", flat=True)
        return [Scope(assignment.region.code, household_id=pk) for pk in households]
    return [Scope(assignment.region.code)]


def scopes_for(user, action: str) -> list[Scope]:
    """The scopes in which `user` may do `action`; cached on the user object for one request."""
    cache = getattr(user, "_kaoping_scopes", None)
    if cache is None:
        cache = {}
        assignments = list(
            user.role_assignments.select_related(
                "region", "department", "household", "household_post"
            )
        )
        user._kaoping_assignments = assignments
        user._kaoping_roles = set()
        for assignment in assignments:
            user._kaoping_roles.add(assignment.role)
            for scope in _assignment_scopes(assignment):
                for granted in ROLE_ACTIONS[assignment.role]:
                    cache.setdefault(granted, []).append(scope)
        user._kaoping_scopes = cache
    return cache.get(action, [])


def assignments_of(user) -> list:
    """`user`'s role assignments with their region, department and household (from the same
    per-request cache as `scopes_for`: a page that checks permissions reads them once)."""
    if not user.is_authenticated:
        return []
    scopes_for(user, "")
    return user._kaoping_assignments


def roles_of(user) -> set[str]:
    """The roles `user` holds anywhere (from the same per-request cache as `scopes_for`)."""
    if not user.is_authenticated:
        return set()
    scopes_for(user, "")
    return user._kaoping_roles


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
