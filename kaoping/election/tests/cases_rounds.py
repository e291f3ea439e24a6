"""Permission cases of `election.rounds` (gathered by accounts' test_service_permissions)."""

from kaoping.accounts.tests.permission_case import Case
from kaoping.election import rounds
from kaoping.election.testing import ROUND_YAML

# The world has its round (test-2026) and both departments the file names (D01, D02).
OTHER_ROUND = ROUND_YAML.replace("code: test-2026", "code: case-2026")

CASES = {
    "kaoping.election.rounds.round_open": Case(
        "alice",
        "bob",  # township staff: election.manage is the county's
        lambda w, a: rounds.round_open(
            county=w.county.region("330304"), text=OTHER_ROUND, filename="r.yaml", acting_user=a
        ),
    ),
    "kaoping.election.rounds.round_config_load": Case(
        "alice",
        "bob",
        lambda w, a: rounds.round_config_load(
            round=w.election.round, text=ROUND_YAML, filename="r.yaml", acting_user=a
        ),
    ),
    "kaoping.election.rounds.round_close": Case(
        "alice", "bob", lambda w, a: rounds.round_close(round=w.election.round, acting_user=a)
    ),
}
