"""Period page: post, finalise, reopen by persona; lists shown; a subject's history."""

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog
from kaoping.periods.models import Period
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import TEST_SCHEME, record, village_subjects
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

WITH_LISTS = TEST_SCHEME.replace(
    "ranking:\n  within: track\n",
    "ranking:\n  within: track\n  lists:\n"
    "    - {code: red, name: 红榜, kind: red, count: 1}\n"
    "    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 1}\n",
)


@pytest.fixture
def closed(county):
    version, _ = scheme_load(
        text=WITH_LISTS,
        filename="t.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects = village_subjects(county)
    record(version.scheme, subjects["330304001001"], "A1")
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period, subjects


def post(county, client_for, username, period, action, **data):
    return client_for(county, username).post(
        reverse("periods:transition", args=[period.pk, action]), data
    )


@pytest.mark.parametrize(
    ("username", "status"), [("bob", 403), ("carol", 403), ("oscar", 403), ("erin", 403)]
)
def test_only_county_admins_post(county, client_for, closed, username, status):
    period, _ = closed
    assert post(county, client_for, username, period, "post").status_code == status
    assert Period.objects.get(pk=period.pk).status == "closed"


def test_post_then_reopen_with_reason(county, client_for, closed):
    period, _ = closed
    assert post(county, client_for, "alice", period, "post").status_code == 302
    assert Period.objects.get(pk=period.pk).status == "posted"
    post(county, client_for, "alice", period, "finalise")  # refused: the window is still open
    assert Period.objects.get(pk=period.pk).status == "posted"
    post(county, client_for, "alice", period, "reopen", reason="")
    assert Period.objects.get(pk=period.pk).status == "posted"
    post(county, client_for, "alice", period, "reopen", reason="数据有误")
    assert Period.objects.get(pk=period.pk).status == "open"
    assert AuditLog.objects.filter(action="periods.period.reopen").count() == 1


def test_unknown_action_is_404(county, client_for, closed):
    period, _ = closed
    assert post(county, client_for, "alice", period, "explode").status_code == 404


def test_lists_on_the_period_page_are_scoped(county, client_for, closed):
    period, subjects = closed
    lists = {
        shown.code: [m.subject_id for m in shown.members]
        for shown in client_for(county, "alice")
        .get(reverse("periods:detail", args=[period.pk]))
        .context["lists"]
    }
    assert lists["red"] == [subjects["330304001001"].pk]
    assert len(lists["black"]) == 2  # the two villages tied at the bottom
    carol = {
        shown.code: [m.subject_id for m in shown.members]
        for shown in client_for(county, "carol")
        .get(reverse("periods:detail", args=[period.pk]))
        .context["lists"]
    }
    assert carol["black"] == []


def test_subject_history_has_rank_and_lists(county, client_for, closed):
    period, subjects = closed
    response = client_for(county, "carol").get(
        reverse("periods:subject", args=[subjects["330304001001"].pk])
    )
    (line,) = response.context["history"]
    assert line["labels"] == ["2026-03"] and line["ranks"] == [1] and line["marks"] == ["红榜"]
    assert "echarts.min.js" in response.content.decode()


def test_an_open_periods_empty_lists_say_they_are_drawn_up_at_the_close(county, client_for, closed):
    """'None' on an open period's red list would read as nobody earned it: it is not drawn up
    yet. A closed period's list that shows nobody (carol sees only her village) says none."""
    period, _ = closed
    url = reverse("periods:detail", args=[period.pk])
    html = client_for(county, "carol").get(url).content.decode()
    assert "黑榜" in html and "暂无。" in html and "本期关闭后产生" not in html
    post(county, client_for, "alice", period, "reopen", reason="补录")
    html = client_for(county, "carol").get(url).content.decode()
    assert html.count("本期关闭后产生。") == 2  # the red list and the black list
    assert "暂无。" not in html
