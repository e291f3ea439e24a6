"""Evaluations in the JSON API: plans and rounds of one's area, a round's aggregates (never a
ballot) and paper ballots typed in all or none, with the pages' scoping: out of scope 404,
refused 403, and a refused request writes nothing."""

import pytest
from django.utils import translation

from kaoping.accounts.scoping import system_actor
from kaoping.api.models import ApiToken
from kaoping.evaluations.ballots import ballot_cast
from kaoping.evaluations.models import Ballot, BallotChannel, Plan, RaterCode, Round
from kaoping.evaluations.rounds import round_close
from kaoping.evaluations.testing import evaluation_world

pytestmark = pytest.mark.django_db

RESULT_KEYS = {
    "subject_id",
    "subject",
    "village",
    "value",
    "ballots",
    "eligible",
    "response",
    "valid",
    "flags",
}
GOOD = {"role": "好", "duty": "较好"}  # a branch ballot: (5 + 4) / 2 = 4.5


@pytest.fixture
def world(county):
    return evaluation_world(county)


def bearer(county, username):
    _token, key = ApiToken.issue(user=county.users[username], name="test")
    return {"Authorization": f"Bearer {key}"}


def get(client, county, username, path, params=None):
    return client.get(f"/api/evaluations{path}", params or {}, headers=bearer(county, username))


def post(client, county, username, path, body):
    return client.post(
        f"/api/evaluations{path}",
        body,
        content_type="application/json",
        headers=bearer(county, username),
    )


def township_round(county, world) -> Round:
    """A round of a plan of 东岭街道: outside 西溪镇 (oscar's)."""
    plan = Plan.objects.create(
        region=county.region("330304001"),
        scheme=world.scheme,
        code="dongling",
        name="东岭街道党员评议",
        spec=world.plan.spec,
        loaded_by=system_actor(),
    )
    round_ = Round.objects.create(
        plan=plan,
        campaign="branch",
        name="支部考评",
        cadence="month",
        period_label=world.branch.period_label,
        opens_on=world.branch.opens_on,
        closes_on=world.branch.closes_on,
        opened_by=system_actor(),
    )
    round_.subjects.set([world.subject])
    return round_


def test_plans_of_the_area_and_above(client, county, world):
    body = get(client, county, "carol", "/plans").json()
    assert [p["code"] for p in body] == ["test-sanping"]
    plan = body[0]
    assert (plan["region_code"], plan["scheme"], plan["version"]) == ("330304", "sanping", 1)
    assert [(c["code"], c["raters"], c["cadence"], c["item"]) for c in plan["campaigns"]] == [
        ("branch", "branch_committee", "month", "PY01"),
        ("masses", "masses_linked", "quarter", "PY02"),
        ("mutual", "branch_members", "half_year", "PY03"),
        ("panel", "panel", "month", "PY01"),
    ]
    township_round(county, world)
    assert [p["code"] for p in get(client, county, "bob", "/plans").json()] == [
        "dongling",
        "test-sanping",
    ]
    # 西溪镇's secretary sees the county's plan, not 东岭街道's.
    assert [p["code"] for p in get(client, county, "oscar", "/plans").json()] == ["test-sanping"]
    # No evaluation role: nothing; no token: 401.
    assert get(client, county, "erin", "/plans").json() == []
    assert get(client, county, "grace", "/plans").json() == []
    assert client.get("/api/evaluations/plans").status_code == 401


def test_rounds_filter_by_plan_and_status(client, county, world):
    round_close(round=world.branch, acting_user=county.users["alice"])
    every = get(client, county, "carol", "/rounds").json()
    assert {r["campaign"] for r in every} == {"branch", "masses", "mutual", "panel"}
    closed = get(client, county, "carol", "/rounds", {"status": "closed"}).json()
    assert [(r["id"], r["status"]) for r in closed] == [(world.branch.pk, "closed")]
    assert closed[0]["closed_at"] is not None
    opened = get(client, county, "carol", "/rounds", {"status": "open"}).json()
    assert len(opened) == 3 and all(r["closed_at"] is None for r in opened)
    assert get(client, county, "carol", "/rounds", {"limit": 2, "offset": 1}).json() == every[1:3]
    other = township_round(county, world)
    mine = get(client, county, "bob", "/rounds", {"plan": other.plan_id}).json()
    assert [r["id"] for r in mine] == [other.pk]
    assert get(client, county, "oscar", "/rounds", {"plan": other.plan_id}).json() == []
    with translation.override("en"):
        bad = get(client, county, "carol", "/rounds", {"status": "done"})
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["status"]
    assert get(client, county, "erin", "/rounds").json() == []


def test_results_are_aggregates_of_the_subjects_one_may_see(
    client, county, world, django_assert_max_num_queries
):
    carol, clara = county.users["carol"], county.users["clara"]
    for subject_name in ("李秀英", "张伟"):
        subject = world.branch.subjects.get(person__name=subject_name)
        for rater in (carol, clara):
            ballot_cast(round=world.branch, subject=subject, marks=GOOD, acting_user=rater)
    # While open: the ballots so far, no value yet.
    running = get(client, county, "alice", f"/rounds/{world.branch.pk}/results").json()
    by_name = {row["subject"]: row for row in running}
    assert by_name["李秀英"]["ballots"] == 2 and by_name["李秀英"]["value"] is None
    assert by_name["李秀英"]["valid"] is None

    round_close(round=world.branch, acting_user=county.users["alice"])
    with django_assert_max_num_queries(25):
        response = get(client, county, "alice", f"/rounds/{world.branch.pk}/results")
    rows = response.json()
    assert all(set(row) == RESULT_KEYS for row in rows)
    assert [(r["subject"], r["value"], r["ballots"], r["valid"]) for r in rows[:2]] == [
        ("张伟", "4.50", 2, True),
        ("李秀英", "4.50", 2, True),
    ]
    li = next(r for r in rows if r["subject"] == "李秀英")
    # 李秀英 is carol's 王建国's close relative, not carol's: no flag; eligible are the two logins.
    assert (li["eligible"], li["response"], li["village"]) == (2, "100.0", "东岭村")
    wang = next(r for r in rows if r["subject"] == "王建国")
    assert wang["value"] is None and wang["valid"] is False and wang["flags"] == ["short"]
    # Nothing of who rated whom, with which marks.
    text = response.content.decode()
    assert "user:" not in text and "marks" not in text and "好" not in text

    # 东岭村's secretary reads its members alone; 西溪村's its one; the villager nothing.
    assert {
        r["village"]
        for r in get(client, county, "carol", f"/rounds/{world.branch.pk}/results").json()
    } == {"东岭村"}
    theirs = get(client, county, "oscar", f"/rounds/{world.branch.pk}/results").json()
    assert [r["subject_id"] for r in theirs] == [world.other_subject.pk]
    assert get(client, county, "erin", f"/rounds/{world.branch.pk}/results").status_code == 404
    # Paged like every list.
    assert (
        get(
            client, county, "alice", f"/rounds/{world.branch.pk}/results", {"offset": 1, "limit": 1}
        ).json()
        == rows[1:2]
    )


def test_results_of_a_round_out_of_scope_are_not_found(client, county, world):
    other = township_round(county, world)
    assert get(client, county, "bob", f"/rounds/{other.pk}/results").status_code == 200
    assert get(client, county, "oscar", f"/rounds/{other.pk}/results").status_code == 404
    assert get(client, county, "alice", "/rounds/999999/results").status_code == 404


def paper(world, subject, *ballots):
    return {"subject_id": subject.pk, "ballots": list(ballots)}


def household_code(world, county, name) -> str:
    return RaterCode.objects.get(round=world.masses, household=county.persons[name].household).code


def test_paper_ballots_are_typed_in_all_or_none(client, county, world):
    path = f"/rounds/{world.masses.pk}/paper"
    wang = world.subject  # links two households: two possible raters
    zhang, liu = household_code(world, county, "张伟"), household_code(world, county, "刘芳")
    with translation.override("en"):
        bad = post(
            client,
            county,
            "carol",
            path,
            paper(
                world,
                wang,
                {"code": zhang, "marks": {"service": "满意"}},
                {"code": liu, "marks": {"service": "很好"}, "comment": "好"},
                {"code": "NOSUCHCODE", "marks": {}},
            ),
        )
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "service"),
        (3, "code"),
        (3, "service"),
    ]
    assert "Choose one of" in errors[0]["message"]
    assert not Ballot.objects.exists()

    response = post(
        client,
        county,
        "carol",
        path,
        paper(
            world,
            wang,
            {"code": zhang.lower(), "marks": {"service": "满意"}, "comment": "帮助很大"},
        ),
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "round_id": world.masses.pk,
        "subject_id": wang.pk,
        "entered": 1,
        "ballots": 1,
    }
    ballot = Ballot.objects.get()
    household = county.persons["张伟"].household
    assert (ballot.channel, ballot.rater_key, ballot.entered_by) == (
        BallotChannel.PAPER,
        f"household:{household.pk}",
        county.users["carol"],
    )
    assert str(ballot.mark) == "5.00"
    # The household has rated him: a retry, or its code's second sheet, is refused whole.
    with translation.override("en"):
        again = post(
            client,
            county,
            "carol",
            path,
            paper(
                world,
                wang,
                {"code": liu, "marks": {"service": "满意"}},
                {"code": zhang, "marks": {"service": "不满意"}},
            ),
        )
    assert again.status_code == 422
    assert [(e["row"], e["field"]) for e in again.json()["errors"]] == [(2, "code")]
    assert "already rated" in again.json()["errors"][0]["message"]
    assert Ballot.objects.count() == 1


def test_paper_ballots_refused_and_out_of_scope_write_nothing(client, county, world):
    body = paper(
        world,
        world.subject,
        {"code": household_code(world, county, "张伟"), "marks": {"service": "满意"}},
    )
    path = f"/rounds/{world.masses.pk}/paper"
    # The committee member and the grid member see the round but type in no paper ballot.
    assert post(client, county, "clara", path, body).status_code == 403
    assert post(client, county, "dave", path, body).status_code == 403
    # 西溪村's secretary types in for 西溪村 alone: 王建国 is not found for her.
    assert post(client, county, "oscar", path, body).status_code == 404
    # A round outside one's area, a round that does not exist, no evaluation role at all.
    other = township_round(county, world)
    mine = paper(world, world.subject, {"code": "X", "marks": {"role": "好", "duty": "好"}})
    assert post(client, county, "oscar", f"/rounds/{other.pk}/paper", mine).status_code == 404
    assert post(client, county, "carol", "/rounds/999999/paper", body).status_code == 404
    assert post(client, county, "erin", path, body).status_code == 404
    assert (
        client.post(f"/api/evaluations{path}", body, content_type="application/json").status_code
        == 401
    )
    assert not Ballot.objects.exists()


def test_a_closed_round_takes_no_paper_ballot(client, county, world):
    round_close(round=world.masses, acting_user=county.users["alice"])
    body = paper(
        world,
        world.subject,
        {"code": household_code(world, county, "张伟"), "marks": {"service": "满意"}},
    )
    with translation.override("en"):
        response = post(client, county, "carol", f"/rounds/{world.masses.pk}/paper", body)
    assert response.status_code == 422
    assert "closed" in str(response.json()["errors"])
    assert not Ballot.objects.exists()
