"""Visits and book changes in the JSON API: the console's scoping, idempotent writes."""

import pytest

from kaoping.api.models import ApiToken
from kaoping.core.audit import AuditLog
from kaoping.grid.models import Visit
from kaoping.people.models import BookChange

GRID1 = "330304001001001"


def bearer(county, username):
    _token, key = ApiToken.issue(user=county.users[username], name="test")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def home(county):
    return next(h for h in county.households.values() if h.region.code == GRID1)


def post_visit(client, headers, body, key="visit-key-0001"):
    return client.post(
        "/api/grid/visits",
        body,
        content_type="application/json",
        headers={**headers, "Idempotency-Key": key} if key else headers,
    )


def test_visit_with_a_move_is_recorded_once_per_key(client, county, home):
    headers = bearer(county, "dave")
    head, spouse = home.members.order_by("id")
    body = {
        "household_id": home.pk,
        "kind": "in_person",
        "met": [head.pk],
        "note": "走访",
        "changes": [{"kind": "moved_out", "person": spouse.pk}],
    }
    first = post_visit(client, headers, body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["household_id"] == home.pk and data["met"] == [head.pk]
    assert data["grid_code"] == GRID1 and data["visitor_post"] == "member"
    assert len(data["book_changes"]) == 1
    again = post_visit(client, headers, body)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Visit.objects.count() == 1 and BookChange.objects.count() == 1
    listed = client.get(f"/api/grid/households/{home.pk}/visits", headers=headers).json()
    assert [v["id"] for v in listed] == [data["id"]]
    assert listed[0]["book_changes"] == data["book_changes"]


def test_key_may_come_in_the_body(client, county, home):
    headers = bearer(county, "dave")
    body = {"household_id": home.pk, "kind": "phone", "idempotency_key": "body-key-0001"}
    assert post_visit(client, headers, body, key=None).status_code == 201
    assert post_visit(client, headers, body, key=None).status_code == 200
    assert Visit.objects.get().kind == "phone"


def test_a_key_is_required(client, county, home):
    response = post_visit(client, bearer(county, "dave"), {"household_id": home.pk}, key=None)
    assert response.status_code == 400
    assert Visit.objects.count() == 0


def test_scope_404_permission_403_nothing_written(client, county, home):
    elsewhere = next(h for h in county.households.values() if h.region.code.startswith("330304002"))
    body = {"household_id": elsewhere.pk}
    assert post_visit(client, bearer(county, "dave"), body).status_code == 404
    assert post_visit(client, bearer(county, "alice"), {"household_id": home.pk}).status_code == 403
    assert (
        client.get(
            f"/api/grid/households/{home.pk}/visits", headers=bearer(county, "oscar")
        ).status_code
        == 404
    )
    assert Visit.objects.count() == 0
    assert not AuditLog.objects.filter(action="grid.visit.recorded").exists()


def test_invalid_change_is_422_and_writes_nothing(client, county, home):
    head = home.members.order_by("id")[0]
    body = {"household_id": home.pk, "changes": [{"kind": "moved_out", "person": head.pk}]}
    response = post_visit(client, bearer(county, "dave"), body)
    assert response.status_code == 422
    assert "head" in response.json()["errors"]
    assert Visit.objects.count() == 0 and BookChange.objects.count() == 0


def test_met_outside_the_household_is_refused(client, county, home):
    other = next(h for h in county.households.values() if h.region.code != GRID1)
    body = {"household_id": home.pk, "met": [other.members.first().pk]}
    assert post_visit(client, bearer(county, "dave"), body).status_code == 422
    assert Visit.objects.count() == 0


def test_book_changes_endpoint(client, county, home):
    spouse = home.members.order_by("id")[1]
    url = f"/api/grid/households/{home.pk}/book-changes"
    body = {"changes": [{"kind": "away", "person": spouse.pk, "note": "外出务工"}]}

    def send(username, payload, key="book-away-0001"):
        headers = {**bearer(county, username), **({"Idempotency-Key": key} if key else {})}
        return client.post(url, payload, content_type="application/json", headers=headers)

    assert send("dave", body, key=None).status_code == 400
    response = send("dave", body)
    assert response.status_code == 201, response.content
    assert response.json()[0]["kind"] == "away" and response.json()[0]["visit_id"] is None
    spouse.refresh_from_db()
    assert spouse.status == "away"
    # clara may visit but not edit the book; oscar does not see the household.
    for username, status in (("clara", 403), ("oscar", 404)):
        assert send(username, body).status_code == status
    assert BookChange.objects.count() == 1

    # A newborn sent twice with one key (the answer lost on the way) is registered once.
    born = {"changes": [{"kind": "born", "name": "王小宝", "gender": "M", "relation": "孙子"}]}
    first = send("dave", born, key="book-born-0001")
    again = send("dave", born, key="book-born-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert home.members.filter(name="王小宝").count() == 1
    assert BookChange.objects.count() == 2
