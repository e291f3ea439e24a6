"""The one periodic runner (issue 15 item 4): slots, once per slot, failures, the startup check,
`kaoping tick`, and the server's thread."""

import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from kaoping.core import periodic
from kaoping.core.models import PeriodicRun
from kaoping.core.periodic import (
    RETRY_AFTER,
    RETRY_ATTEMPTS,
    Job,
    check_periodic_jobs,
    next_due,
    run_due,
    server_thread_wanted,
    slot_due,
)

CALLS: list[tuple[str, datetime]] = []
HERE = "kaoping.core.tests.test_periodic"


def counting_job(*, now):
    CALLS.append(("counting", now))
    return f"counted {len(CALLS)}"


def failing_job(*, now):
    CALLS.append(("failing", now))
    raise ValueError("the printer is on fire")


def writing_job(*, now):
    """Writes a row, then fails: its own transaction rolls the row back."""
    PeriodicRun.objects.create(name="written-by-job", slot="x")
    raise ValueError("after writing")


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def local(text: str):
    """An aware datetime at local (settings.TIME_ZONE) wall-clock time `text`."""
    return timezone.make_aware(datetime.fromisoformat(text))


def job(every, at="00:00"):
    hour, minute = map(int, at.split(":"))
    return Job(
        name=every,
        call=f"{HERE}.counting_job",
        every=every,
        at=datetime(1, 1, 1, hour, minute).time(),
    )


def test_the_slot_of_each_schedule():
    moment = datetime(2026, 12, 6, 14, 5, 30)  # a Sunday, local time
    assert slot_due(job("minute"), moment) == "2026-12-06 14:05"
    assert slot_due(job("hour"), moment) == "2026-12-06 14"
    assert slot_due(job("day", "01:00"), moment) == "2026-12-06"
    assert slot_due(job("week", "07:00"), moment) == "2026-W49"
    assert slot_due(job("month", "02:00"), moment) == "2026-12"
    # Before its time of day, a day job's slot has not come; a week's comes on Monday.
    assert slot_due(job("day", "14:06"), moment) is None
    assert slot_due(job("day", "14:05"), moment) == "2026-12-06"
    assert slot_due(job("week", "07:00"), datetime(2026, 11, 30, 6, 59)) is None
    assert slot_due(job("week", "07:00"), datetime(2026, 11, 30, 7, 0)) == "2026-W49"
    assert slot_due(job("month", "02:00"), datetime(2026, 12, 1, 1, 59)) is None
    # A runner that was down at the job's time runs it later the same day / week / month.
    assert slot_due(job("month", "02:00"), datetime(2026, 12, 31, 23, 59)) == "2026-12"


def test_when_a_job_runs_next():
    now = local("2026-12-31 08:00")
    assert next_due(job("day", "07:00"), now, taken={"2026-12-31"}) == datetime(2027, 1, 1, 7)
    assert next_due(job("day", "09:00"), now, taken=set()) == datetime(2026, 12, 31, 9)
    assert next_due(job("month", "02:00"), now, taken={"2026-12"}) == datetime(2027, 1, 1, 2)
    assert next_due(job("week", "07:00"), now, taken={"2026-W53"}) == datetime(2027, 1, 4, 7)
    assert next_due(job("hour"), now, taken={"2026-12-31 08"}) == datetime(2026, 12, 31, 9)


@pytest.mark.django_db
def test_twice_in_a_slot_runs_once_and_the_next_slot_again(settings):
    settings.PERIODIC_JOBS = [
        {"name": "daily", "call": f"{HERE}.counting_job", "every": "day", "at": "01:00"},
        {"name": "hourly", "call": f"{HERE}.counting_job", "every": "hour"},
    ]
    assert run_due(local("2026-12-06 00:59")) and len(CALLS) == 1  # only the hourly one
    assert [r.name for r in run_due(local("2026-12-06 01:00"))] == ["daily", "hourly"]
    assert run_due(local("2026-12-06 01:00")) == []
    assert run_due(local("2026-12-06 01:30")) == []
    assert len(CALLS) == 3
    assert [r.name for r in run_due(local("2026-12-07 01:00"))] == ["daily", "hourly"]
    daily = PeriodicRun.objects.filter(name="daily").order_by("slot")
    assert [(r.slot, r.status, r.summary) for r in daily] == [
        ("2026-12-06", "done", "counted 2"),
        ("2026-12-07", "done", "counted 4"),
    ]


@pytest.mark.django_db
def test_another_runner_that_took_the_slot_first_is_left_alone(settings):
    """Two processes at once: the slot's row is inserted before the job runs, and the unique
    constraint lets only one insert it; the other skips the job."""
    settings.PERIODIC_JOBS = [{"name": "daily", "call": f"{HERE}.counting_job", "every": "day"}]
    PeriodicRun.objects.create(name="daily", slot="2026-12-06")  # the other runner, mid-job
    assert run_due(local("2026-12-06 12:00")) == []
    assert CALLS == []
    with pytest.raises(IntegrityError):
        PeriodicRun.objects.create(name="daily", slot="2026-12-06")


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_the_others_still_run(settings):
    settings.PERIODIC_JOBS = [
        {"name": "first", "call": f"{HERE}.failing_job", "every": "day"},
        {"name": "second", "call": f"{HERE}.counting_job", "every": "day"},
        {"name": "third", "call": f"{HERE}.writing_job", "every": "day"},
    ]
    runs = {r.name: r for r in run_due(local("2026-12-06 03:00"))}
    assert runs["first"].status == "failed" and "the printer is on fire" in runs["first"].error
    assert runs["second"].status == "done"
    assert runs["third"].status == "failed"
    # The failed job's writes went with its transaction.
    assert not PeriodicRun.objects.filter(name="written-by-job").exists()
    stored = PeriodicRun.objects.get(name="first")
    assert stored.status == "failed" and "ValueError" in stored.error and stored.finished_at


@pytest.mark.django_db
def test_a_failed_job_is_tried_again_later_in_its_slot_a_few_times(settings):
    settings.PERIODIC_JOBS = [{"name": "flaky", "call": f"{HERE}.failing_job", "every": "day"}]
    start = local("2026-12-06 03:00")
    run_due(start)
    assert run_due(start + RETRY_AFTER / 2) == []  # not at once: not every minute
    for attempt in range(2, RETRY_ATTEMPTS + 1):
        [run] = run_due(start + (RETRY_AFTER + timedelta(minutes=1)) * attempt)
        assert run.status == "failed"
        assert PeriodicRun.objects.get(name="flaky").attempts == attempt
    assert (
        run_due(start + (RETRY_AFTER + timedelta(minutes=1)) * (RETRY_ATTEMPTS + 2)) == []
    )  # then the next slot
    assert len(CALLS) == RETRY_ATTEMPTS
    assert len(run_due(local("2026-12-07 03:00"))) == 1


@pytest.mark.django_db
def test_the_shipped_jobs_run_on_a_county(county, settings):
    """Every job listed in settings runs once on a county's morning; the store's, the periods'
    and the outcomes' daily jobs succeed."""
    runs = {r.name: r for r in run_due(local("2026-12-06 08:00"))}
    assert set(runs) == {job["name"] for job in settings.PERIODIC_JOBS}
    for name in ("finalise_due", "store_daily", "outcomes_alerts"):
        assert runs[name].status == "done", runs[name].error
    assert runs["finalise_due"].summary == "0 period(s) finalised"
    assert run_due(local("2026-12-06 08:01")) == []


def test_the_startup_check_names_each_bad_job(settings):
    settings.PERIODIC_JOBS = [
        {"name": "ok", "call": f"{HERE}.counting_job", "every": "day", "at": "01:00"},
        {"name": "ok", "call": f"{HERE}.counting_job", "every": "day"},
        {"name": "when", "call": f"{HERE}.counting_job", "every": "fortnight"},
        {"name": "late", "call": f"{HERE}.counting_job", "every": "day", "at": "25:00"},
        {"name": "hourly-at", "call": f"{HERE}.counting_job", "every": "hour", "at": "01:00"},
        {"name": "gone", "call": f"{HERE}.no_such_job", "every": "day"},
        {"name": "typo", "call": f"{HERE}.counting_job", "every": "day", "when": "x"},
        "not a dict",
    ]
    messages = [error.msg for error in check_periodic_jobs()]
    assert all(error.id == "kaoping.E101" for error in check_periodic_jobs())
    text = "\n".join(messages)
    assert "PERIODIC_JOBS[0]" not in text
    assert "PERIODIC_JOBS[1] ('ok'): the name 'ok' is used twice" in text
    assert "PERIODIC_JOBS[2] ('when'): 'every' must be one of" in text
    assert "PERIODIC_JOBS[3] ('late'): 'at' must be a local time HH:MM" in text
    assert "PERIODIC_JOBS[4] ('hourly-at'): 'at' is for day, week and month" in text
    assert "PERIODIC_JOBS[5] ('gone'): 'call'" in text and "cannot be imported" in text
    assert "PERIODIC_JOBS[6] ('typo'): unknown key(s) when" in text
    assert "PERIODIC_JOBS[7] must be a dict" in text
    settings.PERIODIC_JOBS = {"name": "x"}
    assert [e.msg for e in check_periodic_jobs()] == ["PERIODIC_JOBS must be a list of dicts."]


def test_the_shipped_settings_pass_the_check():
    assert check_periodic_jobs() == []


@pytest.mark.django_db
def test_tick_runs_what_is_due_and_lists_the_jobs(settings):
    settings.PERIODIC_JOBS = [
        {"name": "daily", "call": f"{HERE}.counting_job", "every": "day", "at": "00:00"},
        {"name": "broken", "call": f"{HERE}.failing_job", "every": "week", "at": "00:00"},
        {"name": "monthly", "call": f"{HERE}.counting_job", "every": "month", "at": "23:59"},
    ]
    out = StringIO()
    before = StringIO()
    call_command("tick", "--list", stdout=before)
    assert "daily  every day 00:00  never run" in before.getvalue()
    err = StringIO()
    call_command("tick", stdout=out, stderr=err)
    assert "daily [" in out.getvalue() and "done: counted 1" in out.getvalue()
    assert "failed: broken" in err.getvalue()
    again = StringIO()
    call_command("tick", stdout=again)
    assert "daily" not in again.getvalue() and len([c for c in CALLS if c[0] == "counting"]) <= 2
    listed = StringIO()
    call_command("tick", "--list", stdout=listed)
    lines = {line.split()[0]: line for line in listed.getvalue().splitlines()}
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert (
        "done: counted 1" in lines["daily"] and f"next {tomorrow:%Y-%m-%d} 00:00" in lines["daily"]
    )
    assert "every week 00:00" in lines["broken"] and "failed: ValueError" in lines["broken"]
    assert "every month 23:59" in lines["monthly"]


def test_tick_refuses_bad_jobs(settings):
    from django.core.management.base import CommandError

    settings.PERIODIC_JOBS = [{"name": "x", "call": f"{HERE}.counting_job", "every": "often"}]
    with pytest.raises(CommandError, match="'every' must be one of"):
        call_command("tick", stdout=StringIO())


def test_the_server_thread_runs_only_in_a_serving_process():
    child = {"RUN_MAIN": "true"}
    assert server_thread_wanted(enabled=True, argv=["manage.py", "runserver"], environ=child)
    assert server_thread_wanted(
        enabled=True, argv=["kaoping", "runserver", "--noreload"], environ={}
    )
    assert server_thread_wanted(
        enabled=True, argv=["/srv/.venv/bin/gunicorn", "config.wsgi"], environ={}
    )
    # The autoreloader's parent only watches files; its child serves.
    assert not server_thread_wanted(enabled=True, argv=["kaoping", "runserver"], environ={})
    # PERIODIC_IN_SERVER=0, tests, commands (tick itself, migrate, demo) never.
    assert not server_thread_wanted(enabled=False, argv=["kaoping", "runserver"], environ=child)
    assert not server_thread_wanted(enabled=False, argv=["gunicorn", "config.wsgi"], environ={})
    assert not server_thread_wanted(enabled=True, argv=["/x/bin/pytest", "-q"], environ=child)
    for command in ("tick", "migrate", "demo", "shell", "db_worker"):
        assert not server_thread_wanted(enabled=True, argv=["kaoping", command], environ=child)
    assert not server_thread_wanted(enabled=True, argv=[], environ={})


def test_the_server_drains_queued_tasks_only_with_the_database_backend():
    db, immediate = (
        "django_tasks_db.DatabaseBackend",
        "django_tasks.backends.immediate.ImmediateBackend",
    )
    assert periodic.server_worker_wanted(thread_wanted=True, tasks_backend=db)
    assert not periodic.server_worker_wanted(thread_wanted=True, tasks_backend=immediate)
    assert not periodic.server_worker_wanted(thread_wanted=False, tasks_backend=db)


def test_no_thread_in_tests():
    assert periodic._thread is None and periodic._worker is None
    names = {t.name for t in threading.enumerate()}
    assert "kaoping-periodic" not in names and "kaoping-tasks" not in names


def test_a_database_error_in_the_thread_is_logged_not_fatal(monkeypatch, caplog):
    def broken(now=None):
        raise OperationalError("database is locked")

    monkeypatch.setattr(periodic, "run_due", broken)
    assert periodic.tick_safely() == []
    assert "periodic tick failed" in caplog.text


def test_the_thread_loop_ticks_until_stopped(monkeypatch):
    stop = threading.Event()
    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 3:
            stop.set()
        return []

    monkeypatch.setattr(periodic, "tick_safely", tick)
    periodic._loop(stop, seconds=0.001)
    assert len(ticks) == 3


@pytest.mark.django_db
def test_runs_older_than_the_keep_are_forgotten_on_the_hour(settings):
    settings.PERIODIC_JOBS = []
    PeriodicRun.objects.create(name="old", slot="2026-01-01", started_at=local("2026-01-01 01:00"))
    PeriodicRun.objects.create(name="new", slot="2026-12-01", started_at=local("2026-12-01 01:00"))
    run_due(local("2026-12-06 09:01"))
    assert PeriodicRun.objects.count() == 2
    run_due(local("2026-12-06 10:00"))
    assert list(PeriodicRun.objects.values_list("name", flat=True)) == ["new"]


@pytest.mark.django_db
def test_the_overview_says_a_failed_job_runs_again_soon(settings):
    settings.PERIODIC_JOBS = [{"name": "flaky", "call": f"{HERE}.failing_job", "every": "day"}]
    now = local("2026-12-06 09:00")
    run_due(now)
    [row] = periodic.jobs_overview(now)
    assert row["last"].status == "failed"
    assert datetime(2026, 12, 6, 9, 10) <= row["next"] < datetime(2026, 12, 6, 9, 11)  # retried
    PeriodicRun.objects.update(attempts=RETRY_ATTEMPTS)
    [row] = periodic.jobs_overview(now)
    assert row["next"] == datetime(2026, 12, 7)  # given up until the next slot
