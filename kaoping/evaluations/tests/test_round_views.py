"""The evaluations' home and a round's pages: who sees what, opening and closing from the page,
and query counts that do not grow with the round's subjects and ballots."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from kaoping.accounts.scoping import system_actor
from kaoping.evaluations.models import Ballot, BallotChannel, Round, RoundStatus
from kaoping.evaluations.rounds import round_close
from kaoping.evaluations.testing import evaluation_world
from kaoping.evaluations.todos import home_todos
from kaoping.people.models import Subject
from kaoping.schemes.calendar import label_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    return evaluation_world(county)


def member(county, name):
    return Subject.objects.get(kind="party_member", person=county.persons[name])


def cast(round_, subject, key, mark):
    return Ballot.objects.create(
        round=round_,
        subject=subject,
        rater_key=key,
        channel=BallotChannel.ACCOUNT,
        mark=Decimal(mark),
    )


def last_month() -> str:
    return label_for("month", timezone.localdate().replace(day=1) - timedelta(days=1))


# ─── home ───


def test_a_secretary_sees_what_she_rates_and_the_open_rounds(county, world, client_for):
    client = client_for(county, "carol")
    response = client.get(reverse("evaluations:home"))
    assert response.status_code == 200
    page = response.content.decode()
    # carol rates the branch round (东岭村's committee) and judges the panel, by her login.
    rate = {t.round.pk for t in response.context["to_rate"]}
    assert rate == {world.branch.pk, world.panel.pk}
    assert 'id="to-rate"' in page
    assert [r.pk for r in response.context["open_rounds"]] == sorted(
        [world.branch.pk, world.masses.pk, world.mutual.pk, world.panel.pk],
        key=lambda pk: (Round.objects.get(pk=pk).closes_on, pk),
    )
    assert 'id="plans"' not in page  # she manages no plan


def test_a_manager_gets_the_plans_to_open_a_round_of(county, world, client_for):
    response = client_for(county, "alice").get(reverse("evaluations:home"))
    assert response.status_code == 200
    assert reverse("evaluations:round_open", args=[world.plan.pk]) in response.content.decode()
    assert "to_rate" in response.context and response.context["to_rate"] == []


def test_a_villager_has_no_evaluations_home(county, world, client_for):
    assert client_for(county, "erin").get(reverse("evaluations:home")).status_code == 403


def test_the_home_counts_the_ballots_the_reader_may_see(county, world, client_for):
    wang, zhao = member(county, "王建国"), world.other_subject
    cast(world.branch, wang, "user:1", "5")
    cast(world.branch, zhao, "user:2", "5")
    rows = {
        r.pk: r
        for r in client_for(county, "carol").get(reverse("evaluations:home")).context["open_rounds"]
    }
    assert rows[world.branch.pk].ballots_seen == 1  # 西溪村's ballot is not hers to count
    rows = {
        r.pk: r
        for r in client_for(county, "alice").get(reverse("evaluations:home")).context["open_rounds"]
    }
    assert rows[world.branch.pk].ballots_seen == 2


# ─── a round ───


def test_a_secretary_reads_her_village_of_a_county_round_without_a_close_button(
    county, world, client_for
):
    client = client_for(county, "carol")
    response = client.get(reverse("evaluations:round", args=[world.branch.pk]))
    assert response.status_code == 200
    names = {r.name for r in response.context["rows"]}
    assert names == {"王建国", "李秀英", "张伟", "刘芳"}
    page = response.content.decode()
    assert 'id="close-round"' not in page and 'id="response"' in page
    # A refused close changes nothing.
    closing = client.post(reverse("evaluations:round_close", args=[world.branch.pk]))
    assert closing.status_code == 403
    world.branch.refresh_from_db()
    assert world.branch.status == RoundStatus.OPEN


def test_out_of_the_county_a_round_is_not_found(county, world, client_for):
    assert (
        client_for(county, "erin")
        .get(reverse("evaluations:round", args=[world.branch.pk]))
        .status_code
        == 404
    )


def test_alice_closes_a_round_and_reads_its_results_and_signals(county, world, client_for):
    wang = member(county, "王建国")
    carol, clara = county.users["carol"], county.users["clara"]
    cast(world.branch, wang, f"user:{carol.pk}", "5")
    cast(world.branch, wang, f"user:{clara.pk}", "4")
    client = client_for(county, "alice")
    here = reverse("evaluations:round", args=[world.branch.pk])
    assert 'id="close-round"' in client.get(here).content.decode()
    with override("en"):
        response = client.post(
            reverse("evaluations:round_close", args=[world.branch.pk]), {"early": "1"}
        )
    assert response.status_code == 302 and response.url.startswith(here)
    world.branch.refresh_from_db()
    assert world.branch.status == RoundStatus.CLOSED
    page = client.get(here)
    rows = {r.subject.pk: r for r in page.context["rows"]}
    assert rows[wang.pk].value == Decimal("4.50") and rows[wang.pk].entry_url
    html = page.content.decode()
    assert 'id="results"' in html and 'id="signals"' in html and 'id="signal-short"' in html
    assert 'id="close-round"' not in html
    # Closed twice (a second tab): a message, not an error page.
    again = client.post(
        reverse("evaluations:round_close", args=[world.branch.pk]), {"early": "1"}, follow=True
    )
    assert again.status_code == 200


def test_the_panel_chair_closes_the_session_without_managing_the_plan(county, world, client_for):
    client = client_for(county, "bob")
    assert (
        'id="close-round"'
        in client.get(reverse("evaluations:round", args=[world.panel.pk])).content.decode()
    )
    assert (
        'id="close-round"'
        not in client.get(reverse("evaluations:round", args=[world.branch.pk])).content.decode()
    )
    assert (
        client.post(reverse("evaluations:round_close", args=[world.branch.pk])).status_code == 403
    )
    assert (
        client.post(
            reverse("evaluations:round_close", args=[world.panel.pk]), {"early": "1"}
        ).status_code
        == 302
    )
    world.panel.refresh_from_db()
    assert world.panel.status == RoundStatus.CLOSED


def test_the_round_page_reads_in_the_same_queries_for_many_subjects(county, world, client_for):
    client = client_for(county, "alice")
    url = reverse("evaluations:round", args=[world.branch.pk])
    wang = member(county, "王建国")
    cast(world.branch, wang, "user:1", "5")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    village = county.region("330304001001")
    extra = Subject.objects.bulk_create(
        Subject(kind="party_member", region=village, name=f"党员{n:02d}") for n in range(30)
    )
    world.branch.subjects.add(*extra)
    for n, subject in enumerate(extra):
        cast(world.branch, subject, f"user:{n + 100}", "4")
    assert queries() == few
    round_close(round=world.branch, acting_user=system_actor())
    closed = queries()
    more = Subject.objects.bulk_create(
        Subject(kind="party_member", region=village, name=f"党员B{n:02d}") for n in range(5)
    )
    world.branch.subjects.add(*more)  # (no results: not shown as results, but read alike)
    assert queries() == closed


def test_the_home_reads_in_the_same_queries_for_many_subjects(county, world, client_for):
    client = client_for(county, "carol")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("evaluations:home")).status_code == 200
        return len(captured)

    few = queries()
    village = county.region("330304001001")
    extra = Subject.objects.bulk_create(
        Subject(kind="party_member", region=village, name=f"党员{n:02d}") for n in range(30)
    )
    for round_ in (world.branch, world.masses, world.panel):
        round_.subjects.add(*extra)
    assert queries() == few


# ─── opening from the page ───


def test_alice_opens_a_round_and_a_duplicate_is_shown_on_its_field(county, world, client_for):
    client = client_for(county, "alice")
    url = reverse("evaluations:round_open", args=[world.plan.pk])
    form = client.get(url)  # the first campaign, branch: no judges to tick
    assert form.status_code == 200 and 'id="panel-fields"' not in form.content.decode()
    assert 'id="panel-fields"' in client.get(url + "?campaign=panel").content.decode()
    response = client.post(url, {"campaign": "branch", "period_label": last_month()})
    round_ = Round.objects.get(campaign="branch", period_label=last_month())
    assert response.status_code == 302
    assert response.url == reverse("evaluations:round", args=[round_.pk])
    with override("en"):
        again = client.post(url, {"campaign": "branch", "period_label": last_month()})
    assert again.status_code == 200
    assert "one round per period" in " ".join(again.context["form"].errors["period_label"])


def test_a_panel_is_opened_with_its_judges_and_contestants(county, world, client_for):
    client = client_for(county, "alice")
    bob, carol = county.users["bob"], county.users["carol"]
    wang, zhang = member(county, "王建国"), member(county, "张伟")
    response = client.post(
        reverse("evaluations:round_open", args=[world.plan.pk]),
        {
            "campaign": "panel",
            "period_label": last_month(),
            "judges": [bob.pk, carol.pk],
            "chair": carol.pk,
            "contestants": [wang.pk, zhang.pk],
        },
    )
    assert response.status_code == 302
    round_ = Round.objects.get(campaign="panel", period_label=last_month())
    assert set(round_.judges.all()) == {bob, carol} and round_.chair == carol
    assert set(round_.subjects.all()) == {wang, zhang}


def test_a_panel_without_judges_is_refused_on_the_field(county, world, client_for):
    with override("en"):
        response = client_for(county, "alice").post(
            reverse("evaluations:round_open", args=[world.plan.pk]),
            {"campaign": "panel", "period_label": last_month()},
        )
    assert response.status_code == 200
    assert "at least one judge" in " ".join(response.context["form"].errors["judges"])


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("carol", 403), ("erin", 404)])
def test_only_a_manager_of_the_plan_opens_rounds(county, world, client_for, persona, status):
    client = client_for(county, persona)
    url = reverse("evaluations:round_open", args=[world.plan.pk])
    assert client.get(url).status_code == status
    assert (
        client.post(url, {"campaign": "branch", "period_label": last_month()}).status_code == status
    )
    assert not Round.objects.filter(period_label=last_month()).exists()


# ─── to-dos ───


def test_todos_list_the_rounds_to_rate_and_the_overdue_ones(county, world):
    with override("en"):
        carol = home_todos(county.users["carol"])
        assert [t.count for t in carol] == [2]  # the branch round and the panel she judges
        assert "2 evaluation rounds to rate" in carol[0].title
        assert home_todos(county.users["erin"]) == []
        Round.objects.filter(pk=world.branch.pk).update(
            closes_on=timezone.localdate() - timedelta(days=1)
        )
        alice = home_todos(county.users["alice"])
    (overdue,) = [t for t in alice if t.urgent]
    assert overdue.count == 1 and overdue.url == reverse(
        "evaluations:round", args=[world.branch.pk]
    )
    # The branch round is past its last day, and once she has scored every contestant of the
    # panel nothing is left for her to rate.
    for subject in world.panel.subjects.all():
        cast(world.panel, subject, f"user:{county.users['carol'].pk}", "80")
    assert home_todos(county.users["carol"]) == []


# ─── the tester's walk at 360 px ───


def test_a_round_closes_before_its_last_day_only_when_early_is_ticked(county, world, client_for):
    client = client_for(county, "alice")
    here = reverse("evaluations:round", args=[world.branch.pk])
    page = client.get(here).content.decode()
    # The close form comes before the table, says how far the round is and asks to confirm.
    assert page.index('id="close-round"') < page.index('id="so-far"')
    assert 'id="close-early"' in page and 'id="close-state"' in page
    assert world.branch.closes_on.isoformat() in page
    with override("en"):
        refused = client.post(
            reverse("evaluations:round_close", args=[world.branch.pk]), follow=True
        )
    assert "close it early anyway" in refused.content.decode()
    world.branch.refresh_from_db()
    assert world.branch.status == RoundStatus.OPEN
    # Past its last day no tick is asked for.
    Round.objects.filter(pk=world.branch.pk).update(
        closes_on=timezone.localdate() - timedelta(days=1)
    )
    assert 'id="close-early"' not in client.get(here).content.decode()
    client.post(reverse("evaluations:round_close", args=[world.branch.pk]))
    world.branch.refresh_from_db()
    assert world.branch.status == RoundStatus.CLOSED


def test_the_round_page_pages_its_subjects_and_filters_by_village(county, world, client_for):
    client = client_for(county, "alice")
    url = reverse("evaluations:round", args=[world.branch.pk])

    def queries(query=""):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + query)
            assert response.status_code == 200
        return len(captured), response

    few, _response = queries("?village=330304001001")
    village = county.region("330304001001")
    extra = Subject.objects.bulk_create(
        Subject(kind="party_member", region=village, name=f"党员{n:03d}") for n in range(120)
    )
    world.branch.subjects.add(*extra)
    many, response = queries("?village=330304001001")
    assert many == few
    assert len(response.context["rows"]) == 50 and response.context["page"].paginator.count == 124
    where = response.context["where"]
    assert [code for code, _name in where["townships"]] == ["330304001", "330304002"]
    assert where["village"] == "330304001001"
    assert {r.village for r in response.context["rows"]} == {"东岭村"}
    _n, last = queries("?village=330304001001&page=3")
    assert len(last.context["rows"]) == 24
    assert 'id="pager"' in last.content.decode()
    _n, west = queries("?township=330304002")
    assert {r.village for r in west.context["rows"]} == {"西溪村"}


def test_the_open_form_shows_judges_for_a_panel_campaign_only(county, world, client_for):
    client = client_for(county, "alice")
    url = reverse("evaluations:round_open", args=[world.plan.pk])
    branch = client.get(url + "?campaign=branch")
    assert "judges" not in branch.context["form"].fields
    assert 'src="/static/evaluations/rounds.js"' in branch.content.decode()
    panel = client.get(url + "?campaign=panel").context["form"]
    labels = dict(panel.fields["judges"].choices)
    bob, carol = county.users["bob"], county.users["carol"]
    assert any(
        str(label).startswith(f"{carol.first_name or carol.username} · 东岭村")
        for value, label in labels.items()
        if value == carol.pk
    )
    # A login nobody can sign in with is no judge.
    bob.set_unusable_password()
    bob.save()
    panel = client.get(url + "?campaign=panel").context["form"]
    assert bob.pk not in {value for value, _label in panel.fields["judges"].choices}
    # A posted panel campaign gets its judges' field, whatever the URL says.
    with override("en"):
        response = client.post(url, {"campaign": "panel", "period_label": last_month()})
    assert "at least one judge" in " ".join(response.context["form"].errors["judges"])


def test_a_wrong_period_is_named_with_the_cadences_label(county, world, client_for):
    with override("en"):
        response = client_for(county, "alice").post(
            reverse("evaluations:round_open", args=[world.plan.pk]),
            {"campaign": "branch", "period_label": "2026年12月"},
        )
    errors = " ".join(response.context["form"].errors["period_label"])
    assert "monthly" in errors and " month " not in errors and "2026-03" in errors


def test_closed_by_names_the_login_and_unratable_subjects_are_set_apart(county, world, client_for):
    from kaoping.evaluations.models import RoundResult

    alice = county.users["alice"]
    alice.first_name = "区委组织部"
    alice.save()
    round_close(round=world.branch, acting_user=alice)
    zhang = member(county, "张伟")
    RoundResult.objects.filter(round=world.branch, subject=zhang).update(eligible=0, ballots=0)
    response = client_for(county, "carol").get(reverse("evaluations:round", args=[world.branch.pk]))
    page = response.content.decode()
    assert "区委组织部" in page and f"· {alice.username}<" not in page
    assert response.context["unratable"] == 1 and 'id="unratable"' in page
    assert zhang.pk not in {r.subject.pk for r in response.context["rows"]}
    assert "张伟" not in response.context["signals"].short


def test_township_staff_read_which_plans_apply_without_an_upload_link(county, world, client_for):
    response = client_for(county, "bob").get(reverse("evaluations:home"))
    page = response.content.decode()
    assert [p.pk for p in response.context["applying"]] == [world.plan.pk]
    assert 'id="plans-applying"' in page and 'id="plans-link"' not in page
    alice = client_for(county, "alice").get(reverse("evaluations:home")).content.decode()
    assert 'id="plans-link"' in alice and 'id="plans-applying"' not in alice


def test_the_secretarys_round_page_has_a_whole_crumb_and_no_dangling_dot(county, world, client_for):
    page = (
        client_for(county, "carol")
        .get(reverse("evaluations:round", args=[world.masses.pk]))
        .content.decode()
    )
    crumbs = page[page.index('id="crumbs"') : page.index("</nav>", page.index('id="crumbs"'))]
    assert world.plan.name in crumbs and not crumbs.rstrip().endswith("›")
    if 'id="round-links"' in page:
        links = page[
            page.index('id="round-links"') : page.index("</p>", page.index('id="round-links"'))
        ]
        assert not links.rstrip().endswith("·") and "· </p>" not in links
