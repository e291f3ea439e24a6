"""Progress of long work (issue 15 item 5): the API, the page that polls it, and the close that
runs through it."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from kaoping.core import progress as progress_module
from kaoping.core.leases import lease_take_over
from kaoping.core.models import AuditLog, Progress
from kaoping.core.progress import (
    progress_finish,
    progress_running,
    progress_start,
    progress_step,
)


def stored(progress) -> Progress:
    return Progress.objects.get(pk=progress.pk)


@pytest.mark.django_db(transaction=True)
def test_steps_are_committed_at_once_outside_a_transaction(monkeypatch):
    monkeypatch.setattr(progress_module, "STEP_SECONDS", 3600)  # thin out all but the first
    work = progress_start(kind="report.build", label="月报", total=10, user_id=7, key="r:1")
    assert (work.status, work.done, work.total, work.started_by_id) == ("running", 0, 10, 7)
    progress_step(work, done=3, message="第 3 行")
    assert (stored(work).done, stored(work).message) == (3, "第 3 行")
    progress_step(work, done=4)  # within STEP_SECONDS of the last write: kept on the object
    assert stored(work).done == 3 and work.done == 4
    progress_step(work, done=10)  # the last step is always written
    assert stored(work).done == 10
    progress_finish(work, url="/reports/1/")
    assert (stored(work).status, stored(work).url, stored(work).percent) == (
        "done",
        "/reports/1/",
        100,
    )
    progress_finish(work, error="late")  # once finished, it stays as it finished
    assert stored(work).status == "done" and stored(work).error == ""


@pytest.mark.django_db(transaction=True)
def test_a_step_inside_a_transaction_on_sqlite_waits_for_the_next_outside(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL writes the step through a second connection")
    monkeypatch.setattr(progress_module, "STEP_SECONDS", 0)
    work = progress_start(kind="period.close", label="关闭", total=4)
    with transaction.atomic():
        progress_step(work, done=2, message="结果")
        assert work.done == 2
    assert stored(work).done == 0  # another connection could not have seen it anyway
    progress_step(work, done=3)
    assert stored(work).done == 3


@pytest.mark.django_db(transaction=True)
def test_a_step_inside_a_transaction_on_postgresql_is_seen_before_the_commit(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(progress_module, "STEP_SECONDS", 0)
    work = progress_start(kind="period.close", label="关闭", total=4)
    with transaction.atomic():
        progress_step(work, done=2, message="结果")
        other = progress_module.connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT done FROM core_progress WHERE id = %s", [work.pk])
                assert cursor.fetchone()[0] == 2
        finally:
            other.close()
        progress_finish(work, url="/x/")
    assert stored(work).status == "done"


@pytest.mark.django_db
def test_a_failure_keeps_the_steps_done_and_says_why():
    work = progress_start(kind="report.build", label="月报", total=5)
    work.done = 2
    progress_finish(work, error="模板缺少字段")
    assert (stored(work).status, stored(work).done, stored(work).error) == (
        "failed",
        2,
        "模板缺少字段",
    )


@pytest.mark.django_db
def test_running_work_of_an_object_is_found_unless_it_went_quiet(settings):
    work = progress_start(kind="period.close", label="关闭", total=4, key="period.close:1")
    assert progress_running(kind="period.close", key="period.close:1") == work
    assert progress_running(kind="period.close", key="period.close:2") is None
    Progress.objects.filter(pk=work.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.LEASE_STALE_SECONDS + 1)
    )
    assert progress_running(kind="period.close", key="period.close:1") is None


@pytest.mark.django_db
def test_the_page_is_the_starters_alone(county, client_for):
    alice = county.users["alice"]
    work = progress_start(kind="report.build", label="三月月报", total=4, user_id=alice.pk)
    url = reverse("core:progress", args=[work.pk])
    page = client_for(county, "alice").get(url)
    assert page.status_code == 200 and "三月月报" in page.content.decode()
    assert 'hx-trigger="every 1s"' in page.content.decode()
    for other in ("bob", "carol", "erin", "grace"):
        assert client_for(county, other).get(url).status_code == 404
    assert client_for(county, None).get(url).status_code == 302  # to the login
    assert (
        client_for(county, "alice").get(reverse("core:progress", args=[work.pk + 99])).status_code
        == 404
    )


@pytest.mark.django_db
def test_a_superuser_may_follow_anyones_work(county, client):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root-h4", password="pw")
    work = progress_start(
        kind="report.build", label="月报", total=1, user_id=county.users["alice"].pk
    )
    client.force_login(root)
    assert client.get(reverse("core:progress", args=[work.pk])).status_code == 200


@pytest.mark.django_db
def test_the_fragment_polls_while_running_and_goes_on_when_done(county, client_for):
    work = progress_start(
        kind="report.build", label="月报", total=4, user_id=county.users["alice"].pk
    )
    client = client_for(county, "alice")
    url = reverse("core:progress", args=[work.pk])
    work.done = 1
    Progress.objects.filter(pk=work.pk).update(done=1)
    fragment = client.get(url, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<html" not in html and 'hx-trigger="every 1s"' in html and 'value="1" max="4"' in html
    assert "HX-Redirect" not in fragment
    assert client.get(url, headers={"Accept": "application/json"}).json()["percent"] == 25
    progress_finish(work, url="/reports/9/")
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment["HX-Redirect"] == "/reports/9/"
    assert "hx-trigger" not in fragment.content.decode()
    data = client.get(url + "?format=json").json()
    assert (data["status"], data["done"], data["url"]) == ("done", 4, "/reports/9/")
    # A reload of the page itself shows the finished work and the way to its result.
    page = client.get(url).content.decode()
    assert 'data-status="done"' in page and 'href="/reports/9/"' in page


@pytest.mark.django_db
def test_work_that_went_quiet_says_so_and_stops_polling(county, client_for, settings):
    work = progress_start(
        kind="report.build", label="月报", total=4, user_id=county.users["alice"].pk
    )
    Progress.objects.filter(pk=work.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.LEASE_STALE_SECONDS + 1)
    )
    html = (
        client_for(county, "alice").get(reverse("core:progress", args=[work.pk])).content.decode()
    )
    assert 'hx-trigger="every 1s"' not in html and 'role="alert"' in html


# --- the close through its progress -----------------------------------------------------------


@pytest.fixture
def march(county):
    from kaoping.accounts.scoping import system_actor
    from kaoping.periods.services import period_open
    from kaoping.periods.tests.scheme_fixture import load_test_scheme

    version = load_test_scheme(county)
    return period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())


def closes() -> int:
    return AuditLog.objects.filter(action="periods.period.closed").count()


@pytest.mark.django_db
def test_the_close_runs_through_a_progress_page_that_survives_a_reload(march, county, client_for):
    client = client_for(county, "alice")
    url = reverse("periods:close", args=[march.pk])
    response = client.post(url, {"confirm": "yes"})
    work = Progress.objects.get(kind="period.close")
    assert response["Location"] == reverse("core:progress", args=[work.pk])
    assert (work.status, work.done, work.total, work.key) == (
        "done",
        4,
        4,
        f"period.close:{march.pk}",
    )
    assert work.url == reverse("periods:detail", args=[march.pk]) and closes() == 1
    for _reload in range(2):
        page = client.get(response["Location"]).content.decode()
        assert 'data-status="done"' in page and work.url in page
    assert closes() == 1
    # The close's lease is given back: closing again is allowed (and computes the same).
    client.post(url, {"confirm": "yes"})
    assert closes() == 2 and Progress.objects.filter(kind="period.close").count() == 2


@pytest.mark.django_db
def test_a_second_confirm_while_closing_joins_the_running_close(march, county, client_for):
    client = client_for(county, "alice")
    key = f"period.close:{march.pk}"
    # A worker is closing it (its lease held, its progress running).
    assert lease_take_over(key)
    running = progress_start(
        kind="period.close", key=key, label="关闭", total=4, user_id=county.users["alice"].pk
    )
    page = client.get(reverse("periods:close", args=[march.pk])).content.decode()
    assert 'name="confirm"' not in page and reverse("core:progress", args=[running.pk]) in page
    response = client.post(reverse("periods:close", args=[march.pk]), {"confirm": "yes"})
    assert response["Location"] == reverse("core:progress", args=[running.pk])
    assert closes() == 0 and Progress.objects.filter(kind="period.close").count() == 1


@pytest.mark.django_db
def test_a_refused_close_shows_why_on_its_progress(county, client_for):
    from kaoping.accounts.scoping import system_actor
    from kaoping.periods.services import period_open
    from kaoping.periods.tests.scheme_fixture import TEST_SCHEME, load_test_scheme

    version = load_test_scheme(
        county, TEST_SCHEME.replace("cadence: month\n", "cadence: month\nno_data: block\n", 1)
    )
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    client = client_for(county, "alice")
    response = client.post(reverse("periods:close", args=[period.pk]), {"confirm": "yes"})
    work = Progress.objects.get(kind="period.close")
    assert work.status == "failed" and work.error
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="failed"' in page and reverse("periods:close", args=[period.pk]) in page
    assert closes() == 0
    # Bob (township) may not close: 403 and no progress, no lease left behind.
    assert (
        client_for(county, "bob")
        .post(reverse("periods:close", args=[period.pk]), {"confirm": "yes"})
        .status_code
        == 403
    )
    assert Progress.objects.filter(kind="period.close").count() == 1
    assert lease_take_over(f"period.close:{period.pk}")
