"""The period page and the subject page cost a fixed number of queries, however many results,
entries or periods they show (issue 18); a closed period's standing is kept until the period
changes, and read again when it does."""

import re
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.services import entry_record
from kaoping.ledger.tests.ledger_fixture import GRID, fill_grid, load_household_scheme
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.services import period_close, period_open, period_post, period_reopen
from kaoping.periods.tests.scheme_fixture import load_test_scheme, record, village_subjects

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"

# Session, user, role assignments, the period, its grades; the results' count, their groups,
# the page's ids, the page's rows, the region names of the groups, the lists, the newer version.
PERIOD_PAGE_BUDGET = 12
# Session, user, assignments, the subject, its results, the schemes, the recorded schemes, the
# page's count and rows, item names, carried entries, the history and its lists.
SUBJECT_PAGE_BUDGET = 15


def queries_for(client, url: str, *, cold: bool = True) -> tuple[int, object]:
    """The queries of a visit, with the caches emptied first unless `cold` is False (what is
    kept of closed periods then costs nothing): the budgets are a first visit's."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def standing_rows(response) -> list[str]:
    """The rows of the result table as the reader gets them."""
    html = response.content.decode()
    table = html[html.index('id="standing"') :]
    return re.findall(r"<tr><td class=\"num\">.*?</tr>", table[: table.index("</table>")], re.S)


def closed_month(county, scheme, label: str, households: int):
    fill_grid(county, households)
    subjects_sync(kind="household")
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


@pytest.fixture
def household_scheme(county):
    return load_household_scheme(county)


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_the_period_page_costs_the_same_for_6_or_18_households(
    household_scheme, client_for, county, username
):
    client = client_for(county, username)
    counts, rows = [], []
    for households, label in ((6, "2026-03"), (18, "2026-04")):
        period = closed_month(county, household_scheme, label, households)
        count, response = queries_for(client, reverse("periods:detail", args=[period.pk]))
        counts.append(count)
        rows.append(len(standing_rows(response)))
    assert rows[1] == rows[0] + 12  # the county's own households, then 12 more in 东岭村
    assert counts[0] == counts[1], counts
    assert counts[1] <= PERIOD_PAGE_BUDGET, counts


def test_a_closed_periods_standing_is_read_again_once_the_period_changes(
    household_scheme, client_for, county
):
    client = client_for(county, "alice")
    period = closed_month(county, household_scheme, "2026-03", 6)
    url = reverse("periods:detail", args=[period.pk])
    first, response = queries_for(client, url)
    results = response.context["page"].paginator.count
    table = standing_rows(response)
    assert len(table) == results
    again, response = queries_for(client, url, cold=False)
    assert again < first  # the lists and the page of the table are kept, rendered
    assert response.context["page"].paginator.count == results
    assert standing_rows(response) == table
    # More households, then reopened and closed again: the page counts them all.
    fill_grid(county, 9)
    subjects_sync(kind="household")
    period_reopen(period=period, reason="补录新户", acting_user=county.users["alice"])
    period_close(period=period, acting_user=system_actor())
    _count, response = queries_for(client, url, cold=False)
    assert response.context["page"].paginator.count == results + 3
    assert len(standing_rows(response)) == results + 3
    period_post(period=period, acting_user=system_actor())
    _count, response = queries_for(client, url, cold=False)
    assert response.context["period"].status == "posted"


def test_an_open_periods_page_is_never_kept(household_scheme, client_for, county):
    client = client_for(county, "alice")
    fill_grid(county, 3)
    subjects_sync(kind="household")
    period = period_open(scheme=household_scheme, label="2026-03", acting_user=system_actor())
    url = reverse("periods:detail", args=[period.pk])
    first, _response = queries_for(client, url)
    again, _response = queries_for(client, url)
    assert first == again


def test_the_subject_page_costs_the_same_for_more_entries_and_periods(client_for, county):
    version = load_test_scheme(county)
    scheme, subjects = version.scheme, village_subjects(county)
    client = client_for(county, "carol")
    url = reverse("periods:subject", args=[subjects[DONGLING].pk])
    counts, shown = [], []
    for month, entries in ((3, 4), (4, 12)):
        for day in range(entries):
            record(scheme, subjects[DONGLING], "A1", on=date(2026, month, 1 + day), note="会议")
        period = period_open(scheme=scheme, label=f"2026-{month:02d}", acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
        count, response = queries_for(client, url)
        counts.append(count)
        shown.append((len(response.context["page"]), len(response.context["results"])))
    assert shown == [(4, 1), (16, 2)]
    assert counts[0] == counts[1], counts
    assert counts[1] <= SUBJECT_PAGE_BUDGET, counts


def test_the_household_subject_page_costs_the_same_for_more_entries(
    household_scheme, client_for, county
):
    fill_grid(county, 2)
    subjects_sync(kind="household")
    subject = Subject.objects.filter(kind="household", region__code=GRID).order_by("pk").first()
    client = client_for(county, "dave")
    url = reverse("periods:subject", args=[subject.pk])
    counts = []
    for more in (3, 9):
        for day in range(more):
            entry_record(
                scheme=household_scheme,
                subject=subject,
                item_code="CLEAN",
                occurred_on=date(2026, 3, 1 + day),
                acting_user=county.users["dave"],
            )
        count, response = queries_for(client, url)
        counts.append(count)
    assert len(response.context["page"]) == 12
    assert counts[0] == counts[1], counts
    assert counts[1] <= SUBJECT_PAGE_BUDGET, counts


def test_a_subjects_history_is_read_again_once_one_of_its_periods_changes(client_for, county):
    version = load_test_scheme(county)
    scheme, subjects = version.scheme, village_subjects(county)
    record(scheme, subjects[DONGLING], "A1", note="会议")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    client = client_for(county, "carol")
    url = reverse("periods:subject", args=[subjects[DONGLING].pk])
    _count, response = queries_for(client, url)
    (before,) = response.context["history"]
    record(scheme, subjects[DONGLING], "A1", note="会议")
    _count, response = queries_for(client, url, cold=False)
    assert response.context["history"] == [before]  # the closed month has not changed
    period_reopen(period=period, reason="补录", acting_user=county.users["alice"])
    period_close(period=period, acting_user=system_actor())
    _count, response = queries_for(client, url, cold=False)
    (after,) = response.context["history"]
    assert after["totals"] != before["totals"]


def test_the_ranking_group_is_chosen_from_a_list(client_for, county):
    """A province ranks within thousands of villages: the groups are a list to choose from,
    not a link each; "all" shows every group again."""
    version = load_test_scheme(county)
    subjects = village_subjects(county, tracks={DONGLING: "强基村"})
    for subject in subjects.values():
        record(version.scheme, subject, "A1")
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    client = client_for(county, "alice")
    url = reverse("periods:detail", args=[period.pk])
    page = client.get(url).content.decode()
    form = page[
        page.index('id="group-filter"') : page.index("</form>", page.index('id="group-filter"'))
    ]
    assert re.findall(r'<option value="([^"]*)"', form) == ["", "强基村"]  # all, then the tracks
    assert len(standing_rows(client.get(url))) == 3
    chosen = client.get(url, {"group": "强基村"})
    assert len(standing_rows(chosen)) == 1
    assert '<option value="强基村" selected>' in chosen.content.decode()
    assert len(standing_rows(client.get(url, {"group": ""}))) == 3
