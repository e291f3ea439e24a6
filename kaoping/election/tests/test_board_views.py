"""The board page (election:board): who sees it, the drill-down, the empty state, no person."""

import json

import pytest
from django.urls import reverse

from kaoping.election.models import ElectionRound, RoundStatus
from kaoping.election.testing import election_world

URL = reverse("election:board")


@pytest.fixture
def ew(county):
    return election_world(county)


def _chart(response):
    """The charts' data as the page carries it (json_script)."""
    html = response.content.decode()
    start = html.index('id="board-data"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def test_county_admin_sees_townships_red_first(ew, county, client_for):
    response = client_for(county, "alice").get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["row"].region.code for r in rows] == ["330304001", "330304002"]
    colours = [r["row"].colour for r in rows]
    assert colours == sorted(colours, key=["red", "amber", "green", "none"].index)
    assert response.context["total"].villages == 3
    chart = _chart(response)
    assert chart["rag"]["groups"] == ["东岭街道", "西溪镇"]
    assert sum(chart["rag"]["red"]) + sum(chart["rag"]["amber"]) + sum(chart["rag"]["green"]) == 3
    html = response.content.decode()
    assert f"?round={ew.round.pk}&amp;region=330304001" in html
    assert 'data-indicator="talk_coverage"' in html


def test_drill_to_township_and_village(ew, county, client_for):
    client = client_for(county, "alice")
    response = client.get(URL, {"region": "330304001"})
    names = {r["row"].region.name for r in response.context["rows"]}
    assert names == {"东岭村", "南山社区"}
    assert [c.name for c in response.context["crumbs"]] == ["瓯海区"]
    response = client.get(URL, {"region": "330304001001"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["total"].file_id == ew.file.pk
    assert [c.name for c in response.context["crumbs"]] == ["瓯海区", "东岭街道"]
    assert "progress" in _chart(response)


def test_ordered_by_code_on_request(ew, county, client_for):
    response = client_for(county, "alice").get(URL, {"region": "330304001", "order": "code"})
    assert [r["row"].region.code for r in response.context["rows"]] == [
        "330304001001",
        "330304001002",
    ]


def test_township_staff_starts_at_the_township_and_cannot_climb(ew, county, client_for):
    client = client_for(county, "bob")
    response = client.get(URL)
    assert response.context["region"].code == "330304001"
    assert response.context["total"].villages == 2
    assert client.get(URL, {"region": "330304"}).status_code == 404
    assert client.get(URL, {"region": "330304002"}).status_code == 404
    assert client.get(URL, {"region": "330304002001"}).status_code == 404


def test_department_sees_its_covered_and_paired_villages(ew, county, client_for):
    # D01 covers 南山社区 and 西溪村 and is 东岭村's paired department: three villages, over two
    # townships, so her board starts at the county and its total is the department's.
    client = client_for(county, "grace")
    response = client.get(URL)
    assert response.context["region"].code == "330304"
    assert response.context["total"].villages == 3
    label = response.context["total_label"]
    assert "区委政法委" in label and "瓯海区" not in label
    html = response.content.decode()
    total_row = html[html.index('<tr class="total">') :]
    assert label in total_row[: total_row.index("</tr>")]
    response = client.get(URL, {"region": "330304001"})
    assert [r["row"].region.name for r in response.context["rows"]] == ["东岭村", "南山社区"]
    assert response.context["total_label"].endswith(" · 东岭街道")
    assert client.get(URL, {"region": "330304001001"}).status_code == 200
    assert client.get(URL, {"region": "330304001002"}).status_code == 200
    assert client.get(URL, {"region": "330304002001"}).status_code == 200


def test_a_region_s_total_is_named_after_the_region(ew, county, client_for):
    response = client_for(county, "bob").get(URL)
    assert response.context["total_label"] == "东岭街道"
    response = client_for(county, "alice").get(URL)
    assert response.context["total_label"] == "瓯海区"


def test_no_person_on_the_board(ew, county, client_for):
    html = client_for(county, "alice").get(URL, {"region": "330304001"}).content.decode()
    for name in ("王建国", "赵强", "林警官"):
        assert name not in html


@pytest.mark.parametrize("username", ["carol", "oscar", "erin", None])
def test_refused_to_village_roles_and_anonymous(ew, county, client_for, username):
    response = client_for(county, username).get(URL)
    assert response.status_code == (302 if username is None else 403)


def test_unknown_round_or_region_is_404(ew, county, client_for):
    client = client_for(county, "alice")
    assert client.get(URL, {"round": "999999"}).status_code == 404
    assert client.get(URL, {"region": "3303049"}).status_code == 404
    assert client.get(URL, {"region": "330305"}).status_code == 404


def test_empty_state_without_an_open_round(ew, county, client_for):
    ElectionRound.objects.filter(pk=ew.round.pk).update(status=RoundStatus.CLOSED)
    response = client_for(county, "alice").get(URL)
    assert response.status_code == 200
    assert response.context["round"] is None
    assert 'id="board-empty"' in response.content.decode()
    response = client_for(county, "bob").get(URL)
    assert response.status_code == 200 and response.context["may_manage"] is False


def test_chooser_with_two_open_rounds(ew, county, client_for):
    other = ElectionRound.objects.create(
        county=ew.round.county,
        code="test-2027",
        name="补选",
        spec=ew.round.spec,
        opened_by=county.users["alice"],
    )
    client = client_for(county, "alice")
    response = client.get(URL)
    assert response.context["round"] == other  # the newest first
    assert 'name="round"' in response.content.decode()
    response = client.get(URL, {"round": ew.round.pk})
    assert response.context["round"] == ew.round and response.context["total"].villages == 3
