import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def search(county, client_for, username, q):
    return client_for(county, username).get(reverse("console:search"), {"q": q}).context["results"]


def test_search_by_name_pinyin_initials_and_code(county, client_for):
    assert [r.name for r in search(county, client_for, "alice", "东岭")["regions"]][:2] == [
        "东岭街道",
        "东岭村",
    ]
    assert "东岭村" in [r.name for r in search(county, client_for, "alice", "dlc")["regions"]]
    assert [r.code for r in search(county, client_for, "alice", "330304002001")["regions"]] == [
        "330304002001",
        "330304002001001",
    ]
    assert [p.name for p in search(county, client_for, "alice", "wjg")["persons"]] == ["王建国"]


def test_search_stays_inside_the_scope(county, client_for):
    results = search(county, client_for, "oscar", "王建国")
    assert results["persons"] == []
    assert [p.name for p in search(county, client_for, "oscar", "赵强")["persons"]] == ["赵强"]


def test_search_results_show_masked_id_numbers(county, client_for):
    html = (
        client_for(county, "carol").get(reverse("console:search"), {"q": "王建国"}).content.decode()
    )
    person = county.persons["王建国"]
    assert person.id_number not in html and person.masked_id_number in html


def test_anonymous_search_goes_to_login(county, client_for):
    assert client_for(county, None).get(reverse("console:search"), {"q": "王"}).status_code == 302
