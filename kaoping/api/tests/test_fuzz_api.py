"""A property-based run over the API's OpenAPI schema: for every operation, hypothesis builds
requests from the schema's own parameter and body types, mixed with hostile values (huge, NaN
and infinite numbers, NUL, wrong types, missing and unknown keys) and with real ids and codes so
that requests also get past validation. No answer may be a 500; a refusal is JSON that says
what is wrong."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.api.api import api
from kaoping.api.models import ApiToken
from kaoping.ledger.tests.ledger_fixture import load_household_scheme
from kaoping.people.models import Subject
from kaoping.periods.services import period_close, period_open

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema()
COMPONENTS = SCHEMA["components"]["schemas"]
OPERATIONS = sorted(
    (method, path) for path, operations in SCHEMA["paths"].items() for method in operations
)
FUZZ = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e20, 1e308, -1e308, 1e30, -1e30, -1, 0, 2**63, "1e20", "NaN", "Infinity"]),
    st.text(max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "=1+1", "0001-01-01", "2026-02-30", "x" * 5000]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def real_values(ids: dict):
    """Values that exist in the test county, so that requests reach the services."""
    return st.sampled_from(
        [ids["subject_id"], ids["period_id"], ids["scheme"], "GY01", "HW01", "PY01", "良好"]
        + ["2026-03-05", "household", "330304", "330304001001", 1, 2, "approve", "reject"]
    )


def from_schema(schema: dict, ids: dict, depth: int = 0) -> st.SearchStrategy:
    """Values of `schema` (the JSON-schema subset ninja emits), mixed with hostile ones."""
    if "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return st.one_of([from_schema(s, ids, depth) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object" and depth < 4:
        properties = {
            k: from_schema(v, ids, depth + 1) for k, v in schema.get("properties", {}).items()
        }
        required = set(schema.get("required", []))
        shaped = st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required}
            | {"unknown": hostile},
        )
        return st.one_of(shaped, shaped, shaped, hostile)
    if kind == "array" and depth < 4:
        elements = from_schema(schema.get("items", {}), ids, depth + 1)
        return st.one_of(st.lists(elements, max_size=4), hostile)
    typed = {
        "integer": st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40)),
        "number": st.one_of(st.decimals(places=2, min_value=-1000, max_value=1000).map(float)),
        "string": st.one_of(st.text(max_size=12), real_values(ids)),
        "boolean": st.booleans(),
        "null": st.none(),
    }.get(kind, hostile)
    if "enum" in schema:
        typed = st.sampled_from(schema["enum"])
    return st.one_of(typed, real_values(ids), hostile)


def request(method: str, path: str, ids: dict) -> st.SearchStrategy:
    operation = SCHEMA["paths"][path][method]

    @st.composite
    def build(draw):
        url, query, headers = path, {}, {}
        for parameter in operation.get("parameters", []):
            value = draw(from_schema(parameter["schema"], ids))
            if parameter["in"] == "path":
                value = draw(st.one_of(st.just(ids.get(parameter["name"], 1)), st.just(value)))
                url = url.replace("{" + parameter["name"] + "}", str(value).replace("/", "%2F"))
            elif parameter["in"] == "query" and draw(st.booleans()):
                query[parameter["name"]] = "" if value is None else str(value)
            elif parameter["in"] == "header" and draw(st.booleans()) and value is not None:
                headers[parameter["name"]] = str(value).replace("\x00", "")[:200]
        body = None
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]["application/json"]["schema"]
            body = draw(from_schema(content, ids))
        return url, query, headers, body

    return build()


@pytest.fixture
def ids(county):
    scheme = load_household_scheme(county)
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return {
        "subject_id": Subject.objects.filter(kind="household").first().pk,
        "period_id": period.pk,
        "scheme": scheme.code,
    }


def test_every_operation_of_the_schema_is_fuzzed():
    assert len(OPERATIONS) >= 7, OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_request_built_from_the_schema_gets_a_500(client, county, ids, method, path):
    tokens = {
        name: ApiToken.issue(user=county.users[name], name="fuzz")[1]
        for name in ("alice", "carol", "dave")
    }
    client.raise_request_exception = False

    @FUZZ
    @given(request(method, path, ids), st.sampled_from(sorted(tokens)))
    def run(built, who):
        url, query, headers, body = built
        headers = {"Authorization": f"Bearer {tokens[who]}", **headers}
        if method == "get":
            response = client.get(url, query, headers=headers)
        else:
            text = json.dumps(body, allow_nan=True)
            if query:
                url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
            response = client.generic(
                method.upper(), url, text, content_type="application/json", headers=headers
            )
        assert response.status_code < 500, (response.status_code, url, query, body)
        if response.status_code >= 400 and response.status_code != 404:
            assert response.json(), response.content

    run()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_json_numbers_in_an_entry_are_refused(client, county, ids, value):
    key = ApiToken.issue(user=county.users["carol"], name="fuzz")[1]
    client.raise_request_exception = False
    body = {"scheme": ids["scheme"], "subject_id": ids["subject_id"], "item_code": "GY02"}
    body |= {"quantity": value, "occurred_on": "2026-03-05"}
    response = client.post(
        "/api/entries",
        json.dumps(body, allow_nan=True),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert 400 <= response.status_code < 500, response.content
