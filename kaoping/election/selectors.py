"""Reads of rounds: which rounds a user may see, and the one their pages start from.

(Other reads of the app live in their own modules: `file_selectors`, `sheet_selectors`, `board`.)
"""

from django.db.models import Q, QuerySet

from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import is_unrestricted
from kaoping.core.fields import ancestor_codes, subtree_q

from .models import ElectionRound, RoundStatus


def rounds_for(user, action: str = "election.view") -> QuerySet[ElectionRound]:
    """The rounds of the counties `user` works in with `action`, newest first.

    A round belongs to a county, so a township's staff or a department's scorer, whose scopes
    lie below the county, see the rounds of the county above them as well as a county admin."""
    rounds = ElectionRound.objects.select_related("county").order_by("-opened_at", "-id")
    if is_unrestricted(user):
        return rounds
    if user is None or not user.is_authenticated or not user.is_active:
        return rounds.none()
    condition = Q()
    granted = False
    for scope in scopes_for(user, action):
        granted = True
        condition |= subtree_q("county__code", scope.prefix)
        condition |= Q(county__code__in=ancestor_codes(scope.prefix))
    return rounds.filter(condition) if granted else rounds.none()


def round_current(user) -> ElectionRound | None:
    """The newest open round `user` may see, or None."""
    return rounds_for(user).filter(status=RoundStatus.OPEN).first()
