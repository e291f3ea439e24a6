"""Every list endpoint of the API answers a bad `limit` or `offset` with a 422 that names the
parameter in Chinese, never a 500; good values still page."""

import re

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.api.api import api
from kaoping.api.models import ApiToken
from kaoping.election.testing import election_world
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.tests.ledger_fixture import load_household_scheme
from kaoping.people.models import Subject
from kaoping.periods.services import period_close, period_open

pytestmark = pytest.mark.django_db

BAD = {
    "offset": ["-1", "1e20", "100000000000000000000", "abc", "1.5", "1000000001"],
    "limit": ["0", "-5", "1e20", "abc", "1001"],
}


@pytest.fixture
def paths(client, county):
    """The API's GET paths that take `offset`, read from its OpenAPI schema (so a new list
    endpoint is tested without touching this file), with real ids in their path parameters."""
    scheme = load_household_scheme(county)
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    ids = {
        "subject_id": Subject.objects.filter(kind="household").first().pk,
        "period_id": period.pk,
        "household_id": Subject.objects.filter(kind="household").first().household_id,
        "round_id": election_world(county).round.pk,
    }
    # Evaluation rounds are numbered apart from the election's.
    evaluation_round = evaluation_world(county).branch.pk
    client.force_login(county.users["alice"])  # the schema is for people with a login
    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        names = {p["name"] for p in operations.get("get", {}).get("parameters", [])}
        if {"offset", "limit"} <= names:
            own = {"round_id": evaluation_round} if path.startswith("/api/evaluations/") else {}
            values = {**ids, **own}
            found.append(re.sub(r"\{(\w+)\}", lambda m, v=values: str(v[m.group(1)]), path))
    return found


def headers(county, username="alice"):
    _token, key = ApiToken.issue(user=county.users[username], name="test")
    return {"Authorization": f"Bearer {key}"}


def test_the_list_endpoints_are_found(paths):
    assert sorted(p.split("/")[2] for p in paths) == [
        "election",
        "evaluations",
        "evaluations",
        "grid",
        "periods",
        "problems",
        "subjects",
        "subjects",
    ]


@pytest.mark.parametrize(
    ("parameter", "value"), [(k, v) for k, values in BAD.items() for v in values]
)
def test_a_bad_limit_or_offset_is_a_422_naming_it(client, county, paths, parameter, value):
    auth = headers(county)
    client.raise_request_exception = False
    for path in paths:
        response = client.get(path, {parameter: value}, headers=auth)
        assert response.status_code == 422, (path, parameter, value, response.content[:200])
        body = response.json()
        assert body["detail"] == "invalid" and list(body["errors"]) == [parameter]
        message = body["errors"][parameter][0]
        assert f"查询参数“{parameter}”" in message, message
        assert re.search(r"[\u4e00-\u9fff]{2}", message.split("”", 1)[1]), message


def test_the_bound_is_stated(client, county, paths):
    response = client.get(paths[0], {"offset": "-1"}, headers=headers(county))
    assert response.json()["errors"]["offset"] == ["查询参数“offset”不能小于 0。"]


def test_good_values_still_page(client, county, paths):
    auth = headers(county)
    everything = client.get("/api/subjects", {"limit": 1000}, headers=auth).json()
    assert len(everything) > 2
    window = client.get("/api/subjects", {"limit": 2, "offset": 1}, headers=auth).json()
    assert window == everything[1:3]
    for path in paths:
        assert client.get(path, {"offset": 1_000_000_000}, headers=auth).json() == []


def test_a_bad_body_field_is_named_in_chinese(client, county, paths):
    response = client.post(
        "/api/entries",
        {"scheme": "hh", "subject_id": "x", "item_code": "CLEAN", "occurred_on": "2026-02-30"},
        content_type="application/json",
        headers={**headers(county, "dave"), "Idempotency-Key": "bad-body-0001"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"subject_id", "occurred_on"}
    assert errors["subject_id"] == ["字段“subject_id”应为整数。"]
