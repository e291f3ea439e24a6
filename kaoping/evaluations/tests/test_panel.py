"""集中评比: the chair's board of who has scored whom, a judge's phone page, the close and the
screen in the room. The test world's panel round: judges bob (the chair) and carol, the five
party members of the county as contestants, a trimmed mean with at least three ballots."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags

from kaoping.accounts.models import Profile, Role, RoleAssignment
from kaoping.evaluations.models import Ballot, BallotChannel, Round, RoundStatus
from kaoping.evaluations.panel import (
    DONE,
    SELF,
    TODO,
    panel_board,
    panel_contestants,
    panel_standing,
)
from kaoping.evaluations.pools import campaign_of
from kaoping.evaluations.rounds import round_close
from kaoping.evaluations.testing import evaluation_world
from kaoping.evaluations.views_panel import ScoreForm
from kaoping.people.models import Subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    return evaluation_world(county)


def cast(round_, subject, user, score) -> Ballot:
    """A judge's ballot written directly (the form has one question, `show`, out of 100)."""
    return Ballot.objects.create(
        round=round_,
        subject=subject,
        rater_key=f"user:{user.pk}",
        channel=BallotChannel.ACCOUNT,
        rater_user=user,
        marks={"show": str(score)},
        mark=Decimal(score),
    )


def contestant(county, name) -> Subject:
    return Subject.objects.get(kind="party_member", person=county.persons[name])


def add_judge(world, county, username="clara"):
    judge = county.users[username]
    world.panel.judges.add(judge)
    return judge


# ── the board ───────────────────────────────────────────────────────────────────────────────


def test_the_board_says_who_has_scored_whom_and_when_everyone_is_done(county, world):
    bob, carol = county.users["bob"], county.users["carol"]
    wang, li = contestant(county, "王建国"), contestant(county, "李秀英")
    cast(world.panel, wang, bob, 80)
    cast(world.panel, li, bob, 70)
    cast(world.panel, wang, carol, 90)

    board = panel_board(world.panel)

    assert [j.name for j in board.judges] == ["bob", "carol"]
    assert [(j.scored, j.due) for j in board.judges] == [(2, 5), (1, 5)]
    rows = {c.id: c for c in board.contestants}
    assert len(rows) == 5
    assert rows[wang.pk].cells == (DONE, DONE) and (rows[wang.pk].scored, rows[wang.pk].due) == (
        2,
        2,
    )
    assert rows[li.pk].cells == (DONE, TODO) and not rows[li.pk].done
    assert (board.scored, board.due) == (3, 10)
    assert not board.done

    for subject in panel_contestants(world.panel):
        for judge in (bob, carol):
            if not Ballot.objects.filter(
                round=world.panel, subject=subject, rater_key=f"user:{judge.pk}"
            ).exists():
                cast(world.panel, subject, judge, 60)
    assert panel_board(world.panel).done


def test_a_judge_who_is_a_contestant_does_not_score_themselves(county, world):
    carol = county.users["carol"]
    zhang = contestant(county, "张伟")
    Profile.objects.update_or_create(user=carol, defaults={"person": county.persons["张伟"]})

    board = panel_board(world.panel)

    carol_row = next(j for j in board.judges if j.id == carol.pk)
    assert carol_row.due == 4
    row = next(c for c in board.contestants if c.id == zhang.pk)
    assert row.cells[1] == SELF and row.due == 1


def test_ballots_of_others_than_the_judges_are_not_on_the_board(county, world):
    # A ballot whose rater is no longer a judge counts at the close, not on the session's board.
    cast(world.panel, contestant(county, "王建国"), county.users["alice"], 75)
    board = panel_board(world.panel)
    assert board.scored == 0


def test_the_board_reads_in_three_queries_however_many_judges_and_ballots(
    county, world, django_assert_num_queries
):
    with django_assert_num_queries(3):
        panel_board(world.panel)
    for name in ("clara", "alice", "oscar"):
        add_judge(world, county, name)
    for subject in panel_contestants(world.panel):
        for judge in world.panel.judges.all():
            cast(world.panel, subject, judge, 50)
    with django_assert_num_queries(3):
        board = panel_board(world.panel)
    assert board.done and board.scored == 25


# ── the standing ───────────────────────────────────────────────────────────────────────────


def close_with_three_judges(county, world):
    """Three judges: the trimmed mean is the middle mark. 张伟 90 (his mean would be 65), 王建国
    and 李秀英 tie at 80, 赵强 60, 刘芳 has two ballots only (short)."""
    bob, carol = county.users["bob"], county.users["carol"]
    clara = add_judge(world, county)
    marks = {
        "张伟": (95, 90, 10),
        "王建国": (90, 80, 70),
        "李秀英": (85, 80, 60),
        "赵强": (50, 60, 100),
        "刘芳": (70, 70, None),
    }
    for name, scores in marks.items():
        for judge, score in zip((bob, carol, clara), scores, strict=True):
            if score is not None:
                cast(world.panel, contestant(county, name), judge, score)
    round_close(round=world.panel, acting_user=bob)
    world.panel.refresh_from_db()


def test_nothing_of_the_marks_stands_while_the_session_is_open(county, world):
    cast(world.panel, contestant(county, "王建国"), county.users["bob"], 80)
    assert panel_standing(world.panel) is None


def test_the_standing_ranks_the_trimmed_means_with_ties_sharing_a_rank(county, world):
    close_with_three_judges(county, world)

    standing = panel_standing(world.panel)

    assert standing.trimmed and standing.min_ballots == 3
    rows = [(r.rank, r.name, r.value, r.ballots, r.valid) for r in standing.rows]
    assert rows == [
        (1, "张伟", Decimal("90.00"), 3, True),
        # A tie shares its rank and keeps the contestants' order (region, then name).
        (2, "李秀英", Decimal("80.00"), 3, True),
        (2, "王建国", Decimal("80.00"), 3, True),
        (4, "赵强", Decimal("60.00"), 3, True),
        (None, "刘芳", None, 2, False),
    ]


def test_the_screen_masks_persons_names(county, world):
    close_with_three_judges(county, world)
    standing = panel_standing(world.panel, masked=True)
    assert [r.name for r in standing.rows][:3] == ["张*", "李*英", "王*国"]
    assert standing.rows[0].place == "东岭村"


def test_the_standing_reads_in_one_query(county, world, django_assert_num_queries):
    close_with_three_judges(county, world)
    round_ = Round.objects.select_related("plan").get(pk=world.panel.pk)
    with django_assert_num_queries(1):
        panel_standing(round_)


# ── who opens which page ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("username", "page", "status"),
    [
        ("bob", "panel", 200),  # the chair
        ("alice", "panel", 200),  # manages evaluations over the plan's county
        ("carol", "panel", 403),  # a judge, not the chair
        ("oscar", "panel", 403),  # sees the county's plan, neither judge nor chair
        ("erin", "panel", 404),  # a villager: no evaluations at all
        ("grace", "panel", 404),
        ("carol", "judge", 200),
        ("bob", "judge", 200),
        ("alice", "judge", 403),
        ("oscar", "judge", 403),
        ("erin", "judge", 404),
        ("grace", "judge", 404),
        ("bob", "screen", 200),
        ("carol", "screen", 200),
        ("oscar", "screen", 200),  # evaluation.view covering the plan's county
        ("erin", "screen", 404),
        ("grace", "screen", 404),
        ("bob", "panel_board", 200),
        ("carol", "panel_board", 403),
        ("erin", "panel_board", 404),
    ],
)
def test_who_opens_which_panel_page(county, world, client_for, username, page, status):
    client = client_for(county, username)
    response = client.get(reverse(f"evaluations:{page}", args=[world.panel.pk]))
    assert response.status_code == status


def test_a_judge_from_outside_the_plans_area_still_sits_on_the_panel(county, world, client_for):
    # A judge invited from another county: no evaluation.view over the plan, yet the panel's.
    User = get_user_model()
    outsider = User.objects.create_user(username="judge9", password="pw")
    RoleAssignment.objects.create(
        user=outsider, role=Role.TOWNSHIP_STAFF, region=county.region("330304002")
    )
    world.panel.plan.region = county.region("330304001")  # a township's plan: 西溪镇 outside
    world.panel.plan.save(update_fields=["region"])
    client = client_for(county, "oscar")
    assert client.get(reverse("evaluations:screen", args=[world.panel.pk])).status_code == 404
    world.panel.judges.add(outsider)
    client.force_login(outsider)
    assert client.get(reverse("evaluations:judge", args=[world.panel.pk])).status_code == 200
    assert client.get(reverse("evaluations:screen", args=[world.panel.pk])).status_code == 200
    assert client.get(reverse("evaluations:panel", args=[world.panel.pk])).status_code == 403


@pytest.mark.parametrize("page", ["panel", "judge", "screen"])
def test_rounds_of_other_pools_have_no_panel_pages(county, world, client_for, page):
    client = client_for(county, "alice")
    assert client.get(reverse(f"evaluations:{page}", args=[world.branch.pk])).status_code == 404


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(reverse("evaluations:screen", args=[world.panel.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# ── a judge's phone ────────────────────────────────────────────────────────────────────────


def test_a_judge_scores_the_next_contestant_and_sees_their_own_marks_only(
    county, world, client_for
):
    carol, bob = county.users["carol"], county.users["bob"]
    order = list(panel_contestants(world.panel))
    cast(world.panel, order[0], bob, 55)
    client = client_for(county, "carol")
    url = reverse("evaluations:judge", args=[world.panel.pk])

    page = client.get(url)
    assert page.context["current"] == order[0]

    response = client.post(url, {"subject": order[0].pk, "q_show": "86.5"})
    assert response.status_code == 302
    ballot = Ballot.objects.get(round=world.panel, rater_key=f"user:{carol.pk}")
    assert ballot.subject == order[0] and ballot.mark == Decimal("86.50")

    page = client.get(url)
    assert page.context["current"] == order[1]
    html = page.content.decode()
    assert 'id="judge-scored"' in html and "86.50" in html
    assert "55.00" not in html.split('id="judge-scored"')[1]  # bob's mark is not hers to see


def test_a_judge_may_choose_which_contestant_to_score(county, world, client_for):
    order = list(panel_contestants(world.panel))
    client = client_for(county, "carol")
    url = reverse("evaluations:judge", args=[world.panel.pk])
    page = client.get(url, {"subject": order[3].pk})
    assert page.context["current"] == order[3]
    assert len(page.context["others"]) == 4


def test_a_mark_out_of_range_is_shown_on_its_field_and_nothing_is_cast(county, world, client_for):
    order = list(panel_contestants(world.panel))
    client = client_for(county, "carol")
    url = reverse("evaluations:judge", args=[world.panel.pk])
    with translation.override("en"):
        response = client.post(url, {"subject": order[0].pk, "q_show": "150"})
    assert response.status_code == 200
    assert response.context["form"].errors["q_show"]
    assert not Ballot.objects.filter(round=world.panel).exists()


def test_a_second_score_for_the_same_contestant_is_refused(county, world, client_for):
    carol = county.users["carol"]
    order = list(panel_contestants(world.panel))
    cast(world.panel, order[0], carol, 70)
    client = client_for(county, "carol")
    url = reverse("evaluations:judge", args=[world.panel.pk])
    response = client.post(url, {"subject": order[0].pk, "q_show": "99"})
    assert response.status_code == 302
    assert Ballot.objects.get(round=world.panel, rater_key=f"user:{carol.pk}").mark == 70


def test_a_non_judge_posting_a_score_changes_nothing(county, world, client_for):
    order = list(panel_contestants(world.panel))
    client = client_for(county, "oscar")
    url = reverse("evaluations:judge", args=[world.panel.pk])
    assert client.post(url, {"subject": order[0].pk, "q_show": "80"}).status_code == 403
    assert not Ballot.objects.exists()


def test_the_chairs_board_never_shows_a_mark(county, world, client_for):
    order = list(panel_contestants(world.panel))
    cast(world.panel, order[0], county.users["carol"], Decimal("77.25"))
    client = client_for(county, "bob")
    html = client.get(reverse("evaluations:panel_board", args=[world.panel.pk])).content.decode()
    # Not in the text the chair reads, nor in any attribute but the row's subject id
    # (a database id may happen to contain "77").
    assert "77" not in strip_tags(html)
    without_ids = re.sub(r'data-subject="\d+"|/\d+/', "", html)
    assert "77" not in without_ids
    assert 'data-scored="1"' in html
    # Polled every 3 s while open.
    assert 'hx-trigger="every 3s"' in html and "<html" not in html


def test_judges_go_by_their_office_and_the_title_says_the_round_once(county, world, client_for):
    bob = county.users["bob"]
    bob.first_name, bob.last_name = "东岭街道", "组织办"  # last_name is not shown
    bob.save()
    cast(world.panel, contestant(county, "王建国"), bob, 80)
    cast(world.panel, contestant(county, "王建国"), county.users["carol"], 80)
    assert [j.name for j in panel_board(world.panel).judges] == ["东岭街道", "carol"]
    html = client_for(county, "bob").get(reverse("evaluations:panel", args=[world.panel.pk]))
    title = html.content.decode().split('id="panel-title">')[1].split("</h1>")[0]
    assert title.count(world.panel.name) == 1 and world.panel.period_label in title


# ── closing, and the screen ────────────────────────────────────────────────────────────────


def test_the_chair_must_say_so_to_close_with_scores_missing(county, world, client_for):
    cast(world.panel, contestant(county, "王建国"), county.users["bob"], 80)
    client = client_for(county, "bob")
    url = reverse("evaluations:panel_close", args=[world.panel.pk])
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith(
        reverse("evaluations:panel", args=[world.panel.pk])
    )
    world.panel.refresh_from_db()
    assert world.panel.status == RoundStatus.OPEN

    response = client.post(url, {"confirm": "1"})
    assert response["Location"].endswith(reverse("evaluations:screen", args=[world.panel.pk]))
    world.panel.refresh_from_db()
    assert world.panel.status == RoundStatus.CLOSED
    assert world.panel.results.count() == 5


def test_a_judge_who_is_not_the_chair_cannot_close(county, world, client_for):
    client = client_for(county, "carol")
    response = client.post(
        reverse("evaluations:panel_close", args=[world.panel.pk]), {"confirm": "1"}
    )
    assert response.status_code == 403
    world.panel.refresh_from_db()
    assert world.panel.status == RoundStatus.OPEN and not world.panel.results.exists()


def test_the_screen_shows_progress_while_open_and_the_standing_with_its_rule_after(
    county, world, client_for
):
    cast(world.panel, contestant(county, "王建国"), county.users["bob"], 80)
    client = client_for(county, "oscar")
    url = reverse("evaluations:screen", args=[world.panel.pk])
    with translation.override("en"):
        html = client.get(url).content.decode()
    assert 'id="panel-progress"' in html and "scored 1/2" in html and "80" not in html
    assert 'hx-trigger="every 3s"' in html

    close_with_three_judges_after(county, world)
    with translation.override("en"):
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in html  # the polled fragment
    assert 'id="panel-standing"' in html and "hx-trigger" not in html
    assert "The highest and the lowest mark are dropped" in html
    assert 'data-rank="1" data-value="90.00"' in html
    assert "王*国" in html and "王建国" not in html


def close_with_three_judges_after(county, world):
    Ballot.objects.filter(round=world.panel).delete()
    close_with_three_judges(county, world)


def test_the_pages_read_in_a_constant_number_of_queries(
    county, world, client_for, django_assert_max_num_queries
):
    client = client_for(county, "bob")
    urls = [
        reverse(f"evaluations:{page}", args=[world.panel.pk])
        for page in ("panel", "panel_board", "judge", "screen")
    ]
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        counts[url] = len(few)
    for name in ("clara", "alice", "oscar"):
        add_judge(world, county, name)
    for subject in panel_contestants(world.panel):
        for judge in world.panel.judges.exclude(pk=county.users["bob"].pk):
            cast(world.panel, subject, judge, 50)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_the_form_offers_a_scale_as_radio_buttons_and_a_score_as_a_number(world):
    scale = ScoreForm(campaign_of(world.branch), data={"q_role": "好", "q_duty": "较好"})
    assert scale.fields["q_role"].widget.input_type == "radio"
    assert [label for _level, label in scale.fields["q_role"].choices][0] == "好（5）"
    assert scale.is_valid() and scale.marks() == {"role": "好", "duty": "较好"}

    score = ScoreForm(campaign_of(world.panel), data={"q_show": "100.5"})
    assert str(score.fields["q_show"].widget.attrs["max"]) == "100"
    assert not score.is_valid() and "q_show" in score.errors
