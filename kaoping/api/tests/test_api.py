"""The JSON API: token auth, the same scoping as the console, idempotent writes."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from kaoping.accounts.scoping import system_actor
from kaoping.api.models import ApiToken
from kaoping.ledger.models import Entry
from kaoping.ledger.tests.ledger_fixture import add_reviewer, load_household_scheme
from kaoping.people.models import Subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def hh(county):
    scheme = load_household_scheme(county)
    add_reviewer(county)
    return scheme


def bearer(county, username):
    _token, key = ApiToken.issue(user=county.users[username], name="test")
    return {"Authorization": f"Bearer {key}"}


def household(number_suffix="0001"):
    return Subject.objects.get(kind="household", household__number__endswith=number_suffix)


def post_entry(client, headers, subject, key="retry-key-0001", **extra):
    body = {
        "scheme": "hh",
        "subject_id": subject.pk,
        "item_code": "CLEAN",
        "occurred_on": "2026-03-05",
        **extra,
    }
    return client.post(
        "/api/entries",
        body,
        content_type="application/json",
        headers={**headers, "Idempotency-Key": key},
    )


def test_without_a_token_nothing_is_served(client, hh):
    assert client.get("/api/schemes").status_code == 401
    assert (
        client.get("/api/schemes", headers={"Authorization": "Bearer kp_wrong"}).status_code == 401
    )


def test_revoked_token_is_refused(client, county, hh):
    headers = bearer(county, "carol")
    ApiToken.objects.update(revoked=True)
    assert client.get("/api/schemes", headers=headers).status_code == 401


def test_entry_is_recorded_once_per_idempotency_key(client, county, hh):
    headers = bearer(county, "dave")
    first = post_entry(client, headers, household())
    assert first.status_code == 201 and first.json()["status"] == "submitted"
    again = post_entry(client, headers, household())
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Entry.objects.count() == 1
    assert post_entry(client, headers, household(), key="short").status_code == 400
    assert post_entry(client, {**headers}, household(), key="another-key-01").status_code == 201


def test_missing_idempotency_key_is_refused(client, county, hh):
    headers = bearer(county, "dave")
    body = {
        "scheme": "hh",
        "subject_id": household().pk,
        "item_code": "CLEAN",
        "occurred_on": "2026-03-05",
    }
    assert (
        client.post(
            "/api/entries", body, content_type="application/json", headers=headers
        ).status_code
        == 422
    )
    assert not Entry.objects.exists()


def test_scope_404_and_permission_403_and_nothing_written(client, county, hh):
    outside = household("0007")  # 西溪村
    assert post_entry(client, bearer(county, "carol"), outside).status_code == 404
    assert post_entry(client, bearer(county, "erin"), household()).status_code == 403
    assert not Entry.objects.exists()


def test_invalid_entry_names_the_field(client, county, hh):
    response = post_entry(client, bearer(county, "dave"), household(), item_code="NOPE")
    assert response.status_code == 422 and "item_code" in response.json()["errors"]


def test_review_outcomes_and_results(client, county, hh):
    created = post_entry(client, bearer(county, "dave"), household()).json()
    outcomes = client.post(
        "/api/entries/review",
        {"entry_ids": [created["id"]], "decision": "approve"},
        content_type="application/json",
        headers=bearer(county, "rita"),
    ).json()
    assert outcomes == [{"entry_id": created["id"], "outcome": "approved"}]
    from kaoping.periods.services import period_close, period_open

    period = period_open(scheme=hh, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    results = client.get(
        f"/api/periods/{period.pk}/results", headers=bearer(county, "carol")
    ).json()
    assert len(results) == 4  # carol sees her village's four households
    assert max(Decimal(r["total"]) for r in results) == 101  # decimals travel as exact strings


def test_a_refusal_by_the_service_is_a_403_and_decides_nothing(client, county, hh):
    created = post_entry(client, bearer(county, "dave"), household()).json()
    other = add_reviewer(county, "rex")
    other.role_assignments.update(region=county.region("330304002001"))  # 西溪村
    response = client.post(
        "/api/entries/review",
        {"entry_ids": [created["id"]], "decision": "approve"},
        content_type="application/json",
        headers=bearer(county, "rex"),
    )
    assert response.status_code == 403
    assert Entry.objects.get(pk=created["id"]).status == "submitted"


def test_lists_are_scoped(client, county, hh):
    names = {
        s["region_code"][:12]
        for s in client.get("/api/subjects?kind=household", headers=bearer(county, "oscar")).json()
    }
    assert names == {"330304002001"}
    entries = client.get(f"/api/subjects/{household().pk}/entries", headers=bearer(county, "oscar"))
    assert entries.status_code == 404


def test_openapi_schema_is_published(client, county):
    client.force_login(county.users["carol"])  # to people with a login (test_api_limits.py)
    schema = client.get("/api/openapi.json").json()
    assert "/api/entries" in schema["paths"]


def test_token_command_prints_a_working_key(client, county, hh, capsys):
    call_command("api_token", "carol", "对接")
    key = capsys.readouterr().out.strip()
    assert key.startswith("kp_")
    assert client.get("/api/schemes", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_departments_report_metrics_all_or_nothing(client, county):
    from kaoping.ledger.models import MetricValue
    from kaoping.periods.services import period_open
    from kaoping.periods.tests.scheme_fixture import load_test_scheme, village_subjects

    version = load_test_scheme(county)
    subjects = village_subjects(county)
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    headers = bearer(county, "grace")  # department scorer covering 南山社区 and 西溪村
    ok = [{"subject_id": subjects["330304002001"].pk, "metric": "reported_rate", "value": "0.95"}]
    url = f"/api/periods/{period.pk}/metrics"
    assert client.post(url, ok, content_type="application/json", headers=headers).json() == {
        "stored": 1
    }
    bad = ok + [{"subject_id": subjects["330304002001"].pk, "metric": "made_up", "value": "1"}]
    response = client.post(url, bad, content_type="application/json", headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["row"] == 2
    outside = [{"subject_id": subjects["330304001001"].pk, "metric": "reported_rate", "value": "1"}]
    assert (
        client.post(url, outside, content_type="application/json", headers=headers).status_code
        == 422
    )
    assert MetricValue.objects.get().value_scaled == 9500
