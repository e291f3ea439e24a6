"""Grades that set off consequences (`consequences.by_grade`): rectifications and interviews,
and the outcomes page that keeps what is still to do on somebody's list."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Subject
from kaoping.periods.models import Period
from kaoping.periods.services import period_close, period_open, period_reopen
from kaoping.periods.tests.close_harness import build_world, shipped_text
from kaoping.schemes.loader import SchemeError, load_scheme_text

from ..models import Interview, Pledge
from ..services import interview_record
from .fixtures import build_villages, load, score, villages

pytestmark = pytest.mark.django_db

GRADED = """
code: graded
version: 1
name: 等次结果运用
subject_kind: village
cadence: month
tree:
  - {code: P, name: 得分, rule: count, points: 1}
grades:
  - {code: good, name: 好, min: 8, min_inclusive: true}
  - {code: fair, name: 基本合格, min: 3, min_inclusive: true, max: 8, max_inclusive: false}
  - {code: poor, name: 不合格, max: 3, max_inclusive: false}
ranking:
  lists:
    - {code: last, name: 末位, kind: black, pick: bottom, count: 1, carry_over: false}
consequences:
  interviews:
    list: last
    levels:
      - {code: deputy, name: 副书记约谈, cadences: [month]}
  by_grade:
    - {code: fix, name: 限期整改, grades: [fair, poor], deadline_days: 45, items_min: 2}
    - {code: talk, name: 不合格约谈, grades: [poor], rectification: false, interview: 书记约谈}
"""


@pytest.fixture
def world(county):
    build_villages(county, extra=2)  # five villages
    return load(county, GRADED, "graded.yaml"), villages()


def test_grades_set_off_rectifications_and_interviews(world):
    scheme, s = world
    # 西溪村 10 (good), s1 5 (fair), s2 4 (fair), s3 1 (poor), s4 0 (poor, and last)
    jan = score(scheme, s, [10, 5, 4, 1, 0], "2026-01")
    pledges = {p.subject_id: p for p in Pledge.objects.filter(period=jan)}
    assert set(pledges) == {s[1].pk, s[2].pk, s[3].pk, s[4].pk}
    assert {p.list_code for p in pledges.values()} == {"fix"}
    assert pledges[s[1].pk].items_min == 2
    assert pledges[s[1].pk].deadline == timezone.localdate() + timedelta(days=45)
    interviews = {i.subject_id: i.level_name for i in Interview.objects.filter(period=jan)}
    # The last place keeps the list's interview; the other poor one gets the grade's.
    assert interviews == {s[3].pk: "书记约谈", s[4].pk: "副书记约谈"}
    # Closing again changes nothing; a correction that lifts s[3] to good retires both.
    period_close(period=jan, acting_user=system_actor())
    assert Pledge.objects.filter(period=jan).count() == 4
    from kaoping.periods.tests.scheme_fixture import record

    record(scheme, s[3], "P", "9", on=date(2026, 1, 20))
    period_close(period=jan, acting_user=system_actor())
    assert not Pledge.objects.filter(period=jan, subject=s[3]).exists()
    assert not Interview.objects.filter(period=jan, subject=s[3]).exists()
    # An open rectification carries on into the next period instead of a second one.
    feb = score(scheme, s, [10, 5, 0, 9, 9], "2026-02")
    assert not Pledge.objects.filter(period=feb, subject=s[1]).exists()
    assert Pledge.objects.filter(subject=s[1], status="open").count() == 1
    # Reopening voids the period's untouched rectifications and interviews.
    period_reopen(period=feb, reason="重算", acting_user=system_actor())
    assert not Pledge.objects.filter(period=feb).exists()
    assert not Interview.objects.filter(period=feb).exists()


def test_grade_rules_are_checked():
    bad = GRADED.replace(
        "grades: [poor], rectification: false", "grades: [awful], rectification: false"
    )
    with pytest.raises(SchemeError, match="awful"):
        load_scheme_text(bad, filename="g.yaml")
    clash = GRADED.replace("code: fix,", "code: last,")
    with pytest.raises(SchemeError, match="last"):
        load_scheme_text(clash, filename="g.yaml")
    nothing = GRADED.replace("rectification: false, interview: 书记约谈", "rectification: false")
    with pytest.raises(SchemeError):
        load_scheme_text(nothing, filename="g.yaml")


def test_the_shipped_qianfen_team_grades_trigger_rectification(county):
    world = build_world(shipped_text("qianfen-team.yaml"), "qianfen-team.yaml", county=county)
    half = period_open(scheme=world.scheme, label="2026-H1", acting_user=system_actor())
    period_close(period=half, acting_user=system_actor())  # nothing rated: 340, 不合格
    teams = set(Subject.objects.filter(kind="team", active=True).values_list("pk", flat=True))
    assert (
        set(
            Pledge.objects.filter(period=half, list_code="zhengdun").values_list(
                "subject_id", flat=True
            )
        )
        == teams
    )
    assert set(Interview.objects.filter(period=half).values_list("level_name", flat=True)) == {
        "乡镇党委书记约谈"
    }
    load_scheme_text(shipped_text("qianfen-cadre.yaml"))  # ships the same rule for cadres


def test_the_outcomes_page_lists_open_and_overdue_interviews_and_rectifications(
    world, client_for, county
):
    scheme, s = world
    jan = score(scheme, s, [10, 5, 4, 1, 0], "2026-01")
    # Closed long ago: unarranged interviews are overdue; one rectification is past its date.
    Period.objects.filter(pk=jan.pk).update(closed_at=timezone.now() - timedelta(days=30))
    Pledge.objects.filter(period=jan, subject=s[1]).update(deadline=date(2026, 1, 31))
    interview_record(
        interview=Interview.objects.get(period=jan, subject=s[4]),
        scheduled_on=timezone.localdate() + timedelta(days=3),
        acting_user=county.users["alice"],
    )
    client = client_for(county, "alice")
    response = client.get(reverse("outcomes:index"))
    open_interviews = {i.subject_id: i.overdue for i in response.context["interviews_open"]}
    assert open_interviews == {s[3].pk: True, s[4].pk: False}  # s[4] is scheduled ahead
    rectifications = {p.subject_id: p.overdue for p in response.context["rectifications_open"]}
    assert rectifications[s[1].pk] is True and rectifications[s[2].pk] is False
    html = response.content.decode()
    assert "书记约谈" in html and "限期整改" in html
    # bob (东岭街道) sees only his township's villages; 西溪村's township is another.
    bob = client_for(county, "bob").get(reverse("outcomes:index"))
    seen = {p.subject.region.code[:9] for p in bob.context["rectifications_open"]}
    assert seen == {"330304001"}
    # The lists cost the same few queries however many rows they hold.
    client = client_for(county, "alice")
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("outcomes:index"))
    score(scheme, s, [10, 4, 4, 1, 0], "2026-03")
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("outcomes:index"))
    assert len(second) == len(first)
