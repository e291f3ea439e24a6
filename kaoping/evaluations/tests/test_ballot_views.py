"""The ballot pages: a login's rating page, the public code page, the sheet of codes, paper
ballots and the audit role's individual ballots."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from kaoping.core.models import AuditLog
from kaoping.evaluations.ballots import ballot_cast
from kaoping.evaluations.models import Ballot, BallotChannel, RaterCode, RoundStatus
from kaoping.evaluations.testing import evaluation_world
from kaoping.people.models import Household, PartyMember, Person, Subject

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(county):
    return evaluation_world(county)


def household_code(world, county, name="张伟") -> RaterCode:
    return RaterCode.objects.get(round=world.masses, household=county.persons[name].household)


def code_url(code: RaterCode) -> str:
    return reverse("evaluations:code", args=[code.code])


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# ── a login rater ──────────────────────────────────────────────────────────────────────────────


def test_carol_rates_her_branch_on_the_rate_page(county, world, client_for):
    client = client_for(county, "carol")
    url = reverse("evaluations:rate", args=[world.branch.pk])
    page = client.get(url).content.decode()
    for name in ("王建国", "李秀英", "张伟", "刘芳"):  # full names: she rates people she works with
        assert name in page
    assert "赵强" not in page  # 西溪村's member is not hers
    response = client.post(
        url,
        {
            "subject": world.subject.pk,
            f"s{world.subject.pk}-q_role": "好",
            f"s{world.subject.pk}-q_duty": "较好",
        },
    )
    assert response.status_code == 302
    # The page lands on the next card to rate, the thanks shown on that card (not at the top,
    # off-screen).
    assert response.url.startswith(f"{url}?rated={world.subject.pk}#s")
    landed = client.get(response.url).content.decode()
    next_pk = response.url.split("#s")[1]
    card = landed.split(f'id="s{next_pk}"')[1].split("</section>")[0]
    assert 'id="just-rated"' in card and "Rated: 王建国. Thank you." in card
    ballot = Ballot.objects.get()
    assert (ballot.subject, ballot.rater_user, ballot.mark) == (
        world.subject,
        county.users["carol"],
        ballot.mark.__class__("4.50"),
    )
    page = client.get(url).content.decode()
    assert "1 of 4 rated" in page and "mark 4.50" in page and "履行义务：较好" in page


def test_a_bad_post_shows_the_error_at_the_question(county, world, client_for):
    client = client_for(county, "carol")
    url = reverse("evaluations:rate", args=[world.branch.pk])
    response = client.post(url, {"subject": world.subject.pk, f"s{world.subject.pk}-q_role": "好"})
    assert response.status_code == 200
    assert "Give a mark for “履行义务”" in response.content.decode()
    assert not Ballot.objects.exists()


def test_who_may_open_the_rate_page(county, world, client_for):
    url = reverse("evaluations:rate", args=[world.branch.pk])
    assert client_for(county, "erin").get(url).status_code == 404  # no evaluation rights
    assert client_for(county, "grace").get(url).status_code in (403, 404)
    assert client_for(county, None).get(url).status_code == 302
    # bob rates nobody in the branch round; the masses round is rated by codes.
    assert "You rate nobody" in client_for(county, "bob").get(url).content.decode()
    page = (
        client_for(county, "carol")
        .get(reverse("evaluations:rate", args=[world.masses.pk]))
        .content.decode()
    )
    assert (
        "their own codes" in page
        and reverse("evaluations:codes_villages", args=[world.masses.pk]) in page
    )


def test_posting_for_someone_outside_the_pool_is_refused(county, world, client_for):
    client = client_for(county, "carol")
    response = client.post(
        reverse("evaluations:rate", args=[world.branch.pk]),
        {"subject": world.other_subject.pk, f"s{world.other_subject.pk}-q_role": "好"},
    )
    assert response.status_code == 404
    assert not Ballot.objects.exists()


# ── the public code page ───────────────────────────────────────────────────────────────────────


def test_a_household_rates_by_its_code_without_an_account(county, world):
    client = Client()
    code = household_code(world, county)
    page = client.get(code_url(code)).content.decode()
    assert "群众测评" in page and "东岭村" in page
    assert "王*国" in page and "东岭村党支部" in page
    assert "王建国" not in page  # masked on the public page
    # Beside the masked name, what tells two 王* apart; and what is kept, truthfully.
    wang = county.persons["王建国"]
    card = page.split(f'id="s{world.subject.pk}"')[1].split("</section>")[0]
    assert wang.get_gender_display() in card
    if wang.birth_date:
        assert f"born {wang.birth_date.year}" in card
    assert "anonymous" not in page and "audit staff" in page
    response = client.post(
        code_url(code), {"subject": world.subject.pk, f"s{world.subject.pk}-q_service": "满意"}
    )
    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert (ballot.channel, ballot.rater_household_id) == (BallotChannel.CODE, code.household_id)
    page = client.get(code_url(code)).content.decode()
    assert 'id="thanks"' in page
    assert "满意" not in page.split('id="thanks"')[1]  # what was rated, never how

    # A second try changes nothing.
    response = client.post(
        code_url(code), {"subject": world.subject.pk, f"s{world.subject.pk}-q_service": "不满意"}
    )
    assert Ballot.objects.count() == 1


def test_unknown_and_closed_codes(county, world):
    client = Client()
    response = client.get(reverse("evaluations:code", args=["NOSUCHCODE"]))
    assert response.status_code == 404
    page = response.content.decode()
    # A public page of its own: no staff navigation, no login.
    assert 'id="unknown-code"' in page and "NOSUCHCODE" in page
    assert "/accounts/login" not in page and 'class="topbar"' not in page
    code = household_code(world, county)
    # Typed in lower case, the code is found.
    assert 'id="round-info"' in client.get(code_url(code).lower()).content.decode()
    world.masses.status = RoundStatus.CLOSED
    world.masses.save()
    response = client.get(code_url(code))
    assert response.status_code == 200
    assert 'id="closed"' in response.content.decode() and "is closed" in response.content.decode()
    response = client.post(
        code_url(code), {"subject": world.subject.pk, f"s{world.subject.pk}-q_service": "满意"}
    )
    assert not Ballot.objects.exists()


def test_the_code_page_is_rate_limited(county, world, settings):
    settings.EVALUATION_CODE_MAX_PER_CODE = 2
    settings.EVALUATION_CODE_MISSES_PER_ADDRESS = 2
    client = Client()
    code = household_code(world, county)
    bad = {"subject": world.subject.pk, f"s{world.subject.pk}-q_service": "极好"}
    assert client.post(code_url(code), bad).status_code == 200
    assert client.post(code_url(code), bad).status_code == 200
    response = client.post(code_url(code), bad)
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    # Guessing codes from one address is stopped too.
    statuses = [
        client.get(reverse("evaluations:code", args=[f"GUESS{n}"])).status_code for n in range(3)
    ]
    assert statuses == [404, 404, 429]
    assert not Ballot.objects.exists()


def test_anonymous_posts_need_the_csrf_token(county, world):
    client = Client(enforce_csrf_checks=True)
    code = household_code(world, county)
    data = {"subject": world.subject.pk, f"s{world.subject.pk}-q_service": "满意"}
    assert client.post(code_url(code), data).status_code == 403
    client.get(code_url(code))
    token = client.cookies["csrftoken"].value
    assert client.post(code_url(code), {**data, "csrfmiddlewaretoken": token}).status_code == 302
    assert Ballot.objects.count() == 1


def add_members(county, world, n: int) -> None:
    """n more members of 东岭村's branch, rated in the mutual round."""
    grid = county.region("330304001001001")
    for i in range(n):
        household = Household.objects.create(region=grid, number=f"X{world.mutual.pk}{i:04d}")
        person = Person.objects.create(household=household, region=grid, name=f"党员{i}号")
        household.head = person
        household.save()
        PartyMember.objects.create(
            person=person,
            region=county.region("330304001001"),
            branch="东岭村党支部",
            member_class="C",
        )
        subject = Subject.objects.create(
            kind="party_member",
            region=county.region("330304001001"),
            name=person.name,
            person=person,
        )
        world.mutual.subjects.add(subject)
        RaterCode.objects.create(
            round=world.masses,
            code=f"X{i:05d}",
            village=county.region("330304001001"),
            household=household,
        )


def test_the_code_page_and_the_sheet_do_not_grow_in_queries(county, world, client_for):
    code = RaterCode.objects.get(round=world.mutual, person=county.persons["张伟"])
    li = RaterCode.objects.get(round=world.mutual, person=county.persons["李秀英"])
    ballot_cast(
        round=world.mutual,
        subject=world.subject,
        marks={"overall": "4"},
        acting_user=None,
        code=code,
    )
    sheet = reverse("evaluations:codes", args=[world.masses.pk, county.region("330304001001").pk])
    carol = client_for(county, "carol")
    # A fresh address each time: the throttle's first count of an address costs the same.
    before = (queries(Client(REMOTE_ADDR="10.0.0.1"), code_url(li)), queries(carol, sheet))
    add_members(county, world, 6)
    after = (queries(Client(REMOTE_ADDR="10.0.0.2"), code_url(li)), queries(carol, sheet))
    assert after == before
    assert "党员5号" not in Client().get(code_url(li)).content.decode()  # masked: 党**号
    assert "党**号" in Client().get(code_url(li)).content.decode()


# ── the sheet of codes ─────────────────────────────────────────────────────────────────────────


def test_the_sheet_of_a_villages_codes(county, world, client_for):
    village = county.region("330304001001")
    url = reverse("evaluations:codes", args=[world.masses.pk, village.pk])
    response = client_for(county, "carol").get(url)
    page = response.content.decode()
    codes = list(RaterCode.objects.filter(round=world.masses, village=village))
    assert len(codes) == 2
    for code in codes:
        assert code.code in page
        assert code.household.number in page
        assert code.household.address in page  # two heads 徐* are told apart by where
        assert (
            f"testserver/v/{code.code}/</div>" in page
        )  # the address, for a phone that cannot scan
    assert page.count("<svg") == 2
    assert "张*" in page and "刘*" in page and "张伟" not in page
    assert "@page" not in page  # the print rules live in the stylesheet
    assert client_for(county, "bob").get(url).status_code == 200
    assert client_for(county, "clara").get(url).status_code == 403  # no evaluation.paper
    assert client_for(county, "oscar").get(url).status_code == 404  # another township's village
    assert client_for(county, None).get(url).status_code == 302


def test_a_closed_rounds_sheet_prints_no_codes(county, world, client_for):
    world.masses.status = RoundStatus.CLOSED
    world.masses.save()
    village = county.region("330304001001")
    url = reverse("evaluations:codes", args=[world.masses.pk, village.pk])
    page = client_for(county, "carol").get(url).content.decode()
    assert 'id="round-closed"' in page and "<svg" not in page and "data-code" not in page


def test_the_qr_code_carries_the_absolute_url(county, world, client_for):
    from kaoping.core.qr import qr_svg

    village = county.region("330304001001")
    code = household_code(world, county)
    page = (
        client_for(county, "carol")
        .get(reverse("evaluations:codes", args=[world.masses.pk, village.pk]))
        .content.decode()
    )
    expected = qr_svg(f"http://testserver/v/{code.code}/")
    assert str(expected) in page


def test_the_village_picker(county, world, client_for):
    url = reverse("evaluations:codes_villages", args=[world.mutual.pk])
    page = client_for(county, "bob").get(url).content.decode()
    assert "东岭村" in page and "西溪村" not in page  # bob prints his township's codes only
    assert (
        reverse("evaluations:codes", args=[world.mutual.pk, county.region("330304001001").pk])
        in page
    )
    assert "西溪村" in client_for(county, "alice").get(url).content.decode()
    assert client_for(county, "clara").get(url).status_code == 403


# ── paper ballots ──────────────────────────────────────────────────────────────────────────────


def member_code(county, world, name) -> str:
    return RaterCode.objects.get(round=world.mutual, person=county.persons[name]).code


def test_carol_types_in_paper_ballots_with_errors_by_row(county, world, client_for):
    client = client_for(county, "carol")
    url = reverse("evaluations:paper", args=[world.mutual.pk])
    page = client.get(url).content.decode()
    # Her one village is chosen for her; its members, with their branch, to choose from.
    assert 'id="choose-village"' in page and "王建国 · 东岭村党支部" in page
    assert "赵强" not in page
    page = client.get(url, {"subject": world.subject.pk}).content.decode()
    assert page.count('class="paper-row') == 5
    data = {
        "subject": world.subject.pk,
        "rows": 5,
        "save": "1",
        "r1_code": member_code(county, world, "李秀英").lower(),
        "r1_q_overall": "5",
        "r3_code": "NOSUCHCODE",
        "r3_q_overall": "7",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page
    # The summary names the rows, as the page numbers them.
    summary = page.split('id="row-errors-note"')[1].split("</div>")[0]
    assert "Ballot 3" in summary and "Ballot 1" not in summary
    bad = page.split('data-row="3"')[1].split("</fieldset>")[0]
    assert "between 0 and 5" in bad and "no code NOSUCHCODE" in bad
    assert "between 0 and 5" not in page.split('data-row="3"')[0].split("row-errors-note")[0]
    assert not Ballot.objects.exists()

    data["r3_code"] = member_code(county, world, "张伟")
    data["r3_q_overall"] = "3.5"
    response = client.post(url, data)
    assert response.status_code == 302
    li, zhang = county.persons["李秀英"], county.persons["张伟"]
    assert sorted(Ballot.objects.values_list("rater_key", "mark")) == [
        (f"person:{li.pk}", 5),
        (f"person:{zhang.pk}", 3.5),
    ]
    assert set(Ballot.objects.values_list("channel", flat=True)) == {BallotChannel.PAPER}
    # 李秀英's code page shows 王建国 as rated: her one ballot for him is in.
    code = RaterCode.objects.get(round=world.mutual, person=li)
    card = Client().get(code_url(code)).content.decode().split(f'id="s{world.subject.pk}"')[1]
    assert "✓ Rated" in card.split("</section>")[0]
    assert "Submit my rating" not in card.split("</section>")[0]


def test_a_round_rated_by_login_takes_no_paper(county, world, client_for):
    url = reverse("evaluations:paper", args=[world.branch.pk])
    page = client_for(county, "carol").get(url, {"subject": world.subject.pk}).content.decode()
    assert 'id="no-paper"' in page and 'id="paper-form"' not in page


def test_add_a_row_keeps_what_was_typed(county, world, client_for):
    client = client_for(county, "carol")
    url = reverse("evaluations:paper", args=[world.mutual.pk])
    response = client.post(
        url, {"subject": world.subject.pk, "rows": 5, "add": "1", "r2_q_overall": "4"}
    )
    page = response.content.decode()
    assert page.count('class="paper-row') == 6
    assert 'value="4"' in page
    assert not Ballot.objects.exists()


def test_paper_page_access(county, world, client_for):
    url = reverse("evaluations:paper", args=[world.mutual.pk])
    assert client_for(county, "clara").get(url).status_code == 403
    assert client_for(county, "oscar").get(url, {"subject": world.subject.pk}).status_code == 404


# ── individual ballots: the audit role alone ───────────────────────────────────────────────────


def cast_some(county, world):
    ballot_cast(
        round=world.mutual,
        subject=world.subject,
        marks={"overall": "5"},
        acting_user=None,
        code=RaterCode.objects.get(round=world.mutual, person=county.persons["李秀英"]),
    )


def test_only_the_audit_role_reads_individual_ballots(county, world, client_for):
    cast_some(county, world)
    url = reverse("evaluations:ballots", args=[world.mutual.pk])
    for name in ("bob", "carol", "clara", "oscar"):
        assert client_for(county, name).get(url).status_code == 403
    assert client_for(county, "erin").get(url).status_code == 404
    assert not AuditLog.objects.filter(action="evaluation.ballots.viewed").exists()
    response = client_for(county, "alice").get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "王建国" in page  # who was rated
    table = page.split('id="ballots"')[1]
    assert "李*英" in table and "李秀英" not in table  # the rater, masked
    assert "close relative" in table  # 李秀英 is his registered relative
    assert "Swipe left and right" in page
    row = AuditLog.objects.get(action="evaluation.ballots.viewed")
    assert row.actor == county.users["alice"] and row.object_id == str(world.mutual.pk)
    client_for(county, "alice").get(url)
    assert AuditLog.objects.filter(action="evaluation.ballots.viewed").count() == 2


def test_the_ballots_page_does_not_grow_in_queries(county, world, client_for):
    cast_some(county, world)
    client = client_for(county, "alice")
    url = reverse("evaluations:ballots", args=[world.mutual.pk])
    before = queries(client, url)
    for name in ("张伟", "刘芳"):
        ballot_cast(
            round=world.mutual,
            subject=world.subject,
            marks={"overall": "4"},
            acting_user=None,
            code=RaterCode.objects.get(round=world.mutual, person=county.persons[name]),
        )
    ballot_cast(
        round=world.branch,
        subject=world.subject,
        marks={"role": "好", "duty": "好"},
        acting_user=county.users["carol"],
    )
    assert queries(client, url) == before


def test_a_closed_round_shows_no_forms_and_takes_no_post(county, world, client_for):
    world.branch.status = RoundStatus.CLOSED
    world.branch.save()
    client = client_for(county, "carol")
    url = reverse("evaluations:rate", args=[world.branch.pk])
    page = client.get(url).content.decode()
    assert 'id="round-problem"' in page and '<form method="post" class="form ballot"' not in page
    response = client.post(
        url,
        {
            "subject": world.subject.pk,
            f"s{world.subject.pk}-q_role": "好",
            f"s{world.subject.pk}-q_duty": "好",
        },
    )
    assert response.status_code == 302
    assert not Ballot.objects.exists()
