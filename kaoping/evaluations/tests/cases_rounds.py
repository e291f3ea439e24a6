"""Permission cases of `evaluations.rounds` (gathered by accounts' test_service_permissions).

The world's plan is the county's: alice (county admin) manages it; bob (东岭街道's staff) sees
its rounds but may not open or close them (he chairs the panel round only, not the branch's)."""

from datetime import timedelta

from django.utils import timezone

from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import rounds
from kaoping.schemes.calendar import label_for


def _last_month() -> str:
    return label_for("month", timezone.localdate().replace(day=1) - timedelta(days=1))


CASES = {
    "kaoping.evaluations.rounds.round_open": Case(
        "alice",
        "bob",
        lambda w, a: rounds.round_open(
            plan=w.evaluation.plan, campaign="branch", period_label=_last_month(), acting_user=a
        ),
    ),
    "kaoping.evaluations.rounds.round_close": Case(
        "alice", "bob", lambda w, a: rounds.round_close(round=w.evaluation.branch, acting_user=a)
    ),
    # A year on, every round of the world is past its last day.
    "kaoping.evaluations.rounds.rounds_close_due": Case(
        "alice",
        "bob",
        lambda w, a: rounds.rounds_close_due(
            acting_user=a, today=timezone.localdate() + timedelta(days=400)
        ),
    ),
}
