"""The posting, rendered for a signed-in reader (its first visit, before the page cache keeps a
copy), costs a fixed number of queries however many results and places it shows (issue 18)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.tests.ledger_fixture import fill_grid
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.services import period_close, period_open, period_post

from .fixtures import household_posting, record

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"
# Session, user, assignments; the period, the place asked for, the results' count and the
# page's ids and rows, the places' names, the grades, the lists, objections decided and counted,
# the drill-down of places.
SIGNED_IN_POSTING_BUDGET = 16


def posting_queries(client, period, region: str = "") -> tuple[int, int]:
    url = reverse("portal:posting", args=[period.pk]) + (f"?region={region}" if region else "")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["page"])


@pytest.mark.parametrize("region", ["", DONGLING])
@pytest.mark.parametrize("username", ["alice", "erin"])
def test_the_signed_in_posting_costs_the_same_for_more_households(
    county, client_for, username, region
):
    first = household_posting(county)
    client = client_for(county, username)
    counts = [posting_queries(client, first, region)]
    fill_grid(county, 3 * counts[0][1])
    subjects_sync(kind="household")
    for n, subject in enumerate(Subject.objects.filter(kind="household").order_by("id")):
        record(first.scheme, subject, "ZM1" if n % 2 else "FM1", "1", on=date(2026, 4, 10))
    second = period_open(scheme=first.scheme, label="2026-04", acting_user=system_actor())
    period_close(period=second, acting_user=system_actor())
    second = period_post(period=second, acting_user=system_actor())
    counts.append(posting_queries(client, second, region))
    assert counts[1][1] >= 2 * counts[0][1], counts
    assert counts[0][0] == counts[1][0], counts
    assert counts[1][0] <= SIGNED_IN_POSTING_BUDGET, counts
