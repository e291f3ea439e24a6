"""What each role may do with consequences. Registered into the role map when the app loads.

`outcome.view` reads interviews, pledges, pairings, payouts, honours and key villages;
`outcome.manage` (township staff, county admins) arranges them: minutes, exchanges, acceptance,
key villages; `outcome.pledge` writes and ticks off the items of a pledge list, which the
village secretary does for the village's own list.
"""

from kaoping.accounts.models import Role

OUTCOME_ACTIONS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset({"outcome.view", "outcome.manage", "outcome.pledge"}),
    Role.TOWNSHIP_STAFF: frozenset({"outcome.view", "outcome.manage", "outcome.pledge"}),
    Role.VILLAGE_SECRETARY: frozenset({"outcome.view", "outcome.pledge"}),
    Role.VILLAGE_COMMITTEE: frozenset({"outcome.view"}),
}


def register() -> None:
    """Add the outcome actions to the roles' action sets (idempotent)."""
    from kaoping.accounts.permissions import ROLE_ACTIONS

    for role, actions in OUTCOME_ACTIONS.items():
        ROLE_ACTIONS[role] = ROLE_ACTIONS[role] | actions
