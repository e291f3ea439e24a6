import pytest
from django.urls import reverse

from kaoping.core.audit import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(county):
    audit_record(
        actor=county.users["carol"],
        action="people.person.updated",
        region_code="330304001001001",
        object_repr="a",
    )
    audit_record(
        actor=county.users["oscar"],
        action="people.person.updated",
        region_code="330304002001",
        object_repr="b",
    )
    audit_record(
        actor=county.users["alice"],
        action="regions.imported",
        region_code="330304",
        object_repr="c",
    )


@pytest.mark.parametrize(
    ("username", "status"), [("alice", 200), ("bob", 403), ("carol", 403), ("erin", 403)]
)
def test_only_county_admins_browse_the_audit_log(county, client_for, rows, username, status):
    assert client_for(county, username).get(reverse("console:audit")).status_code == status


def test_filters_by_region_actor_and_action(county, client_for, rows):
    client = client_for(county, "alice")

    def reprs(**params):
        return [r.object_repr for r in client.get(reverse("console:audit"), params).context["page"]]

    assert sorted(reprs()) == ["a", "b", "c"]
    assert reprs(region="330304001") == ["a"]
    assert reprs(actor="oscar") == ["b"]
    assert sorted(reprs(action="people.")) == ["a", "b"]
