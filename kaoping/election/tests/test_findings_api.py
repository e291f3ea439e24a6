"""Departments' findings in the JSON API: the same checks as the Excel import (every bad row named,
nothing written), and a department reading its own findings alone, ID numbers masked."""

import pytest

from kaoping.api.models import ApiToken
from kaoping.core.privacy import mask_id_number
from kaoping.election.findings import findings_submit
from kaoping.election.models import Finding, FindingSource, PersonSheet, Qualification
from kaoping.election.testing import election_world

from .findings_helpers import FOUND_ON, persons_with_sheets, petitions_login


@pytest.fixture
def ew(county):
    return election_world(county)


def bearer(user):
    _token, key = ApiToken.issue(user=user, name="test")
    return {"Authorization": f"Bearer {key}"}


def url(ew):
    return f"/api/election/rounds/{ew.round.pk}/findings"


def row(person, **changes):
    return {
        "id_number": person.id_number,
        "name": person.name,
        "condition": "criminal",
        "hit": False,
        "summary": "经查无刑事处罚记录",
        "found_on": FOUND_ON.isoformat(),
        "document": "瓯政法〔2026〕30号",
        **changes,
    }


def post(client, ew, headers, body):
    return client.post(url(ew), body, content_type="application/json", headers=headers)


def test_a_department_submits_and_a_bad_batch_is_refused_by_row(client, county, ew):
    persons = persons_with_sheets(county, ew, 5)
    headers = bearer(county.users["grace"])
    rows = [row(p) for p in persons]
    rows[3] = row(persons[3], id_number=persons[3].id_number[:17] + "Y")
    rows[4] = row(persons[4], name="别人")
    response = post(client, ew, headers, {"department": "D01", "rows": rows})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 4, "field": "id_number", "message": response.json()["errors"][0]["message"]},
        {"row": 5, "field": "name", "message": response.json()["errors"][1]["message"]},
    ]
    assert Finding.objects.count() == 1

    rows = [row(p) for p in persons]
    rows[0]["hit"] = "是"
    response = post(client, ew, headers, {"department": "D01", "rows": rows})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5 and body["department"] == "D01"
    first = body["findings"][0]
    assert first["id_number"] == mask_id_number(persons[0].id_number)
    assert first["hit"] is True and first["condition_name"] == "受过刑事处罚"
    assert Finding.objects.filter(source=FindingSource.API).count() == 5
    sheet = PersonSheet.objects.get(person=persons[0])
    assert sheet.qualification == Qualification.UNFIT and "区委政法委" in sheet.qualification_reason
    # Retried: the same findings, not ten.
    assert post(client, ew, headers, {"department": "D01", "rows": rows}).status_code == 200
    assert Finding.objects.filter(source=FindingSource.API).count() == 5


def test_a_department_reads_only_its_own_findings(client, county, ew):
    henry = petitions_login(ew)
    findings_submit(
        round=ew.round,
        department=ew.petitions_department,
        rows=[row(county.persons["王建国"], condition="petition_agitation", summary="信访局的")],
        source=FindingSource.FORM,
        acting_user=henry,
    )
    response = client.get(url(ew), {"department": "D01"}, headers=bearer(county.users["grace"]))
    assert response.status_code == 200
    body = response.json()
    assert [(f["department"], f["summary"]) for f in body] == [("D01", "经查无刑事处罚记录")]
    wang = county.persons["王建国"]
    assert body[0]["id_number"] == mask_id_number(wang.id_number)
    assert wang.id_number not in response.content.decode()
    # Left out, the department is hers (all of hers): the same list.
    alone = client.get(url(ew), headers=bearer(county.users["grace"]))
    assert alone.json() == body
    theirs = client.get(url(ew), {"department": "D02"}, headers=bearer(henry)).json()
    assert [f["summary"] for f in theirs] == ["信访局的"]
    assert client.get(url(ew), {"offset": 1}, headers=bearer(henry)).json() == []


@pytest.mark.parametrize("username", ["alice", "bob", "oscar"])
def test_who_is_not_of_the_department_is_refused(client, county, ew, username):
    headers = bearer(county.users[username])
    body = {"department": "D01", "rows": [row(county.persons["赵强"])]}
    assert post(client, ew, headers, body).status_code == 403
    assert client.get(url(ew), {"department": "D01"}, headers=headers).status_code == 403
    assert client.get(url(ew), headers=headers).json() == []  # no department, no findings
    assert Finding.objects.count() == 1


def test_grace_may_not_act_for_another_department_nor_anonymously(client, county, ew):
    headers = bearer(county.users["grace"])
    body = {
        "department": "D02",
        "rows": [row(county.persons["赵强"], condition="petition_agitation")],
    }
    assert post(client, ew, headers, body).status_code == 403
    assert client.get(url(ew), {"department": "D02"}, headers=headers).status_code == 403
    assert post(client, ew, {}, body).status_code == 401
    assert Finding.objects.count() == 1


def test_an_unknown_round_is_404_and_a_bad_field_422(client, county, ew):
    headers = bearer(county.users["grace"])
    response = client.post(
        f"/api/election/rounds/{ew.round.pk + 99}/findings",
        {"department": "D01", "rows": [row(county.persons["赵强"])]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    response = post(
        client,
        ew,
        headers,
        {"department": "D01", "rows": [row(county.persons["赵强"], found_on="x")]},
    )
    assert response.status_code == 422 and "rows.0.found_on" in response.json()["errors"]
