"""Hostile API input: huge numbers, control characters, over-long text, ancient dates and
huge batches get a 422 naming the field, never a 500, and nothing is written."""

import pytest
from django.utils import translation

from kaoping.ledger.models import Entry, MetricValue
from kaoping.ledger.tests.ledger_fixture import add_reviewer, load_household_scheme

from .test_api import bearer, household, post_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def hh(county):
    scheme = load_household_scheme(county)
    add_reviewer(county)
    return scheme


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def errors_of(response) -> str:
    assert response.status_code == 422, (response.status_code, response.content[:500])
    return str(response.json()["errors"])


@pytest.mark.parametrize("quantity", ["1e20", "1e308", "1000001", "-1", "NaN", "Infinity"])
def test_quantities_beyond_the_columns_are_refused(client, county, hh, quantity):
    response = post_entry(client, bearer(county, "dave"), household(), quantity=quantity)
    assert "quantity" in errors_of(response)
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("note", "a\x00b"), ("note", "x" * 100_000), ("item_code", "CLE\x00AN"), ("label", "\x07")],
)
def test_control_characters_and_over_long_text_are_refused(client, county, hh, field, value):
    response = post_entry(client, bearer(county, "dave"), household(), **{field: value})
    assert field in errors_of(response)
    assert not Entry.objects.exists()


def test_a_note_just_too_long_for_the_column_is_refused_not_cut(client, county, hh):
    response = post_entry(client, bearer(county, "dave"), household(), note="备" * 501)
    assert "note" in errors_of(response)
    assert (
        post_entry(client, bearer(county, "dave"), household(), note="备" * 500).status_code == 201
    )
    assert len(Entry.objects.get().note) == 500


def test_an_ancient_date_is_refused_with_the_earliest_accepted(client, county, hh):
    response = post_entry(client, bearer(county, "dave"), household(), occurred_on="0001-01-01")
    found = errors_of(response)
    assert "occurred_on" in found and "earliest" in found
    assert not Entry.objects.exists()


def test_a_review_of_too_many_entries_is_refused_at_once(client, county, hh):
    response = client.post(
        "/api/entries/review",
        {"entry_ids": list(range(1, 100_002)), "decision": "approve"},
        content_type="application/json",
        headers=bearer(county, "bob"),
    )
    assert "entry_ids" in errors_of(response)


@pytest.mark.parametrize("value", ["1e30", "-1e30", "1e308"])
def test_metric_values_beyond_the_column_are_refused(client, county, value):
    from kaoping.accounts.scoping import system_actor
    from kaoping.periods.services import period_open
    from kaoping.periods.tests.scheme_fixture import load_test_scheme, village_subjects

    version = load_test_scheme(county)
    subject = village_subjects(county)["330304002001"]
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    body = [{"subject_id": subject.pk, "metric": "reported_rate", "value": value}]
    response = client.post(
        f"/api/periods/{period.pk}/metrics",
        body,
        content_type="application/json",
        headers=bearer(county, "grace"),
    )
    assert "value" in errors_of(response)
    assert not MetricValue.objects.exists()


def test_the_api_explorer_and_schema_need_a_login(client, county):
    for url in ("/api/docs", "/api/openapi.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(county.users["carol"])
    assert client.get("/api/docs").status_code == 200
    assert "/api/entries" in client.get("/api/openapi.json").json()["paths"]
