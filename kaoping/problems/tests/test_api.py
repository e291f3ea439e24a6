"""Problems through the JSON API: the same scoping and an idempotency key on raising."""

import pytest

from kaoping.api.models import ApiToken
from kaoping.problems.models import Problem, ProblemEvent

pytestmark = pytest.mark.django_db


def bearer(county, username):
    _token, key = ApiToken.issue(user=county.users[username], name="test")
    return {"Authorization": f"Bearer {key}"}


def erin_household(county):
    return county.users["erin"].role_assignments.get().household


def raise_via_api(client, county, who="dave", key="raise-key-0001", household=None):
    household = household or erin_household(county)
    return client.post(
        "/api/problems",
        {"household_id": household.pk, "category": "dispute", "title": "邻里争地界"},
        content_type="application/json",
        headers={**bearer(county, who), "Idempotency-Key": key},
    )


def test_raising_is_idempotent_per_key(client, county):
    first = raise_via_api(client, county)
    assert first.status_code == 201, first.content
    again = raise_via_api(client, county)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Problem.objects.count() == 1
    assert first.json()["level"] == "grid" and first.json()["events"][0]["action"] == "raised"
    missing = client.post(
        "/api/problems",
        {"household_id": erin_household(county).pk, "category": "dispute", "title": "x"},
        content_type="application/json",
        headers=bearer(county, "dave"),
    )
    assert missing.status_code == 422
    assert Problem.objects.count() == 1


def test_scope_404_refusal_403_and_nothing_written(client, county):
    outside = next(h for h in county.households.values() if h.region.code.startswith("330304002"))
    assert raise_via_api(client, county, household=outside).status_code == 404
    assert Problem.objects.count() == 0
    pk = raise_via_api(client, county).json()["id"]
    # oscar cannot see it; clara sees it but may not resolve it.
    assert client.get(f"/api/problems/{pk}", headers=bearer(county, "oscar")).status_code == 404
    assert client.get(f"/api/problems/{pk}", headers=bearer(county, "clara")).status_code == 200
    refused = client.post(
        f"/api/problems/{pk}/resolve",
        {"resolution": "好了"},
        content_type="application/json",
        headers=bearer(county, "clara"),
    )
    assert refused.status_code == 403
    assert Problem.objects.get(pk=pk).status == "open"
    assert ProblemEvent.objects.filter(problem_id=pk).count() == 1
    listed = client.get("/api/problems", headers=bearer(county, "erin")).json()
    assert [p["id"] for p in listed] == [pk]
    assert client.get("/api/problems", headers=bearer(county, "oscar")).json() == []


def test_the_whole_way_through_the_api(client, county):
    pk = raise_via_api(client, county).json()["id"]

    def post(who, path, body):
        return client.post(
            f"/api/problems/{pk}/{path}",
            body,
            content_type="application/json",
            headers=bearer(county, who),
        )

    assert post("dave", "assign", {"level": "village"}).json()["level"] == "village"
    assert post("carol", "assign", {"level": "township"}).json()["level"] == "township"
    resolved = post("bob", "resolve", {"resolution": "已划界"})
    assert resolved.json()["status"] == "resolved"
    # The answer was lost and the client sends it again: the same problem, nothing more.
    assert post("bob", "resolve", {"resolution": "已划界"}).status_code == 200
    assert ProblemEvent.objects.filter(problem_id=pk, action="resolved").count() == 1
    # Someone else's step the state machine refuses: 422, with the reason.
    assert post("alice", "resolve", {"resolution": "x"}).status_code == 422
    bad = post("erin", "confirm", {"satisfied": True, "rating": 9})
    assert bad.status_code == 422
    closed = post("erin", "confirm", {"satisfied": True, "rating": 4, "comment": "满意"})
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["satisfaction"], body["closed_on_time"]) == ("closed", 4, True)
    assert [e["action"] for e in body["events"]] == [
        "raised",
        "assigned",
        "assigned",
        "resolved",
        "accepted",
    ]
