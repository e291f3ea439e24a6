"""Permission case of the election weekly report (kaoping.reports.election)."""

from datetime import date

from kaoping.accounts.tests.permission_case import Case
from kaoping.reports import election as reports_election

CASES = {
    "kaoping.reports.election.election_weekly_build": Case(
        "alice",  # county admin: report.create on the round's county
        "bob",  # township staff: report.create on his township only, not on the county
        lambda w, a: reports_election.election_weekly_build(
            round_=w.election.round, week_start=date(2026, 10, 12), acting_user=a
        ),
    ),
}
