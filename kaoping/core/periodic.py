"""The one periodic runner: `run_due()` runs every job of `settings.PERIODIC_JOBS` whose slot has
come, at most once per slot, however many runners call it and however often.

A job is a dict:

    {"name": "finalise_due", "call": "kaoping.periods.jobs.finalise_due_job",
     "every": "day", "at": "01:10"}

- `every`: minute, hour, day, week (Monday), month (the 1st); `at` ("HH:MM", local time,
  settings.TIME_ZONE) only for day, week and month: the slot comes at that time and stays due
  until its end, so a runner that was down at 01:10 runs the job at its next tick that day;
- `call(*, now) -> str | None`, a one-line summary; it runs in a durable transaction of its own
  unless the job says `"atomic": False` (it commits its work in chunks itself).

Callers: `kaoping tick` (a cron line or a systemd timer in production), and in the embedded
default a daemon thread of the server process (`server_thread_start`, every 60 s).

Once per slot: a `PeriodicRun(name, slot)` row is inserted before the job runs; its unique
constraint makes a second runner (another process, the same process a second later) skip the
job. A failed run is recorded with its error and does not stop the other jobs; it is tried again
in the same slot by a later tick, RETRY_AFTER after it failed, up to RETRY_ATTEMPTS runs in all
(a transient failure of a daily job must not wait a day, a persistent one must not run every
minute), and then in the next slot. A run whose process died stays "running" and its job runs in
the next slot.
"""

import logging
import os
import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.core import checks
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PeriodicRun

logger = logging.getLogger(__name__)

EVERY = ("minute", "hour", "day", "week", "month")
KEYS = {"name", "call", "every", "at", "atomic"}
RETRY_AFTER = timedelta(minutes=10)
RETRY_ATTEMPTS = 3
KEEP = timedelta(days=90)
TICK_SECONDS = 60
_AT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Job:
    name: str
    call: str
    every: str
    at: clock
    atomic: bool = True

    @property
    def schedule(self) -> str:
        if self.every in ("minute", "hour"):
            return self.every
        return f"{self.every} {self.at:%H:%M}"


def jobs() -> list[Job]:
    """The jobs of settings.PERIODIC_JOBS (checked at startup by `check_periodic_jobs`)."""
    return [
        Job(
            name=raw["name"],
            call=raw["call"],
            every=raw["every"],
            at=_parse_at(raw.get("at", "00:00")),
            atomic=raw.get("atomic", True),
        )
        for raw in settings.PERIODIC_JOBS
    ]


def _parse_at(text: str) -> clock:
    hour, minute = _AT.match(text).groups()
    return clock(int(hour), int(minute))


# --- the schedule, in naive local time --------------------------------------------------------


def slot_start(job: Job, local: datetime) -> tuple[str, datetime]:
    """The slot `local` falls in, and the local time the job becomes due in it."""
    if job.every == "minute":
        return f"{local:%Y-%m-%d %H:%M}", local.replace(second=0, microsecond=0)
    if job.every == "hour":
        return f"{local:%Y-%m-%d %H}", local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if job.every == "day":
        slot = day.isoformat()
    elif job.every == "week":
        year, week, weekday = day.isocalendar()
        slot, day = f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)
    else:
        slot, day = f"{day:%Y-%m}", day.replace(day=1)
    return slot, datetime.combine(day, job.at)


def slot_due(job: Job, local: datetime) -> str | None:
    """The slot to run at `local`, or None while its `at` has not come."""
    slot, start = slot_start(job, local)
    return slot if local >= start else None


def next_start(job: Job, local: datetime) -> datetime:
    """When the slot after the one `local` falls in becomes due (local time)."""
    _slot, start = slot_start(job, local)
    if job.every == "minute":
        return start + timedelta(minutes=1)
    if job.every == "hour":
        return start + timedelta(hours=1)
    if job.every == "day":
        following = start.date() + timedelta(days=1)
    elif job.every == "week":
        following = start.date() + timedelta(days=7)
    else:
        first = start.date()
        following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return datetime.combine(following, job.at)


def next_due(job: Job, now: datetime, taken: set[str]) -> datetime:
    """When the job will run next (local, naive), given the slots it has run in."""
    local = _local(now)
    slot, start = slot_start(job, local)
    if slot not in taken:
        return max(start, local)
    return next_start(job, local)


def _local(now: datetime) -> datetime:
    return timezone.localtime(now).replace(tzinfo=None)


# --- running ----------------------------------------------------------------------------------


def run_due(now: datetime | None = None) -> list[PeriodicRun]:
    """Run each job whose slot has come and that no runner has run in it; the runs made."""
    now = now or timezone.now()
    local = _local(now)
    made = []
    for job in jobs():
        slot = slot_due(job, local)
        if slot is None:
            continue
        run = _claim(job, slot, now)
        if run is not None:
            made.append(_run(job, run, now))
    if local.minute == 0:  # once an hour is often enough
        runs_prune(now)
    return made


def _claim(job: Job, slot: str, now: datetime) -> PeriodicRun | None:
    """Take the job's slot; None when another runner has it (or ran it, or it failed lately)."""
    try:
        with transaction.atomic():
            return PeriodicRun.objects.create(name=job.name, slot=slot, started_at=now)
    except IntegrityError:
        pass
    # A failed run is taken again by exactly one runner: a conditional update.
    retried = PeriodicRun.objects.filter(
        name=job.name,
        slot=slot,
        status=PeriodicRun.Status.FAILED,
        attempts__lt=RETRY_ATTEMPTS,
        finished_at__lte=now - RETRY_AFTER,
    ).update(
        status=PeriodicRun.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        finished_at=None,
    )
    if not retried:
        return None
    return PeriodicRun.objects.get(name=job.name, slot=slot)


def _run(job: Job, run: PeriodicRun, now: datetime) -> PeriodicRun:
    began = time.monotonic()
    try:
        call = import_string(job.call)
        if job.atomic:
            with transaction.atomic(durable=True):
                summary = call(now=now)
        else:
            summary = call(now=now)
    except Exception as exc:
        logger.exception("periodic job %s failed in slot %s", job.name, run.slot)
        run.status = PeriodicRun.Status.FAILED
        run.summary = ""
        run.error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
    else:
        run.status = PeriodicRun.Status.DONE
        run.summary = str(summary or "").replace("\n", " ")[:500]
        run.error = ""
    run.finished_at = now + timedelta(seconds=time.monotonic() - began)
    PeriodicRun.objects.filter(pk=run.pk).update(
        status=run.status, summary=run.summary, error=run.error, finished_at=run.finished_at
    )
    return run


def jobs_overview(now: datetime | None = None) -> list[dict]:
    """Each job with its schedule, its last run and when it runs next (for `kaoping tick --list`)."""
    now = now or timezone.now()
    local = _local(now)
    rows = []
    for job in jobs():
        runs = PeriodicRun.objects.filter(name=job.name)
        last = runs.order_by("-started_at", "-id").first()
        slot, _start = slot_start(job, local)
        current = runs.filter(slot=slot).first()
        # The current slot is spent unless its run failed and may still be tried again.
        spent = current is not None and (
            current.status != PeriodicRun.Status.FAILED or current.attempts >= RETRY_ATTEMPTS
        )
        following = next_due(job, now, {slot} if spent else set())
        if current is not None and not spent and current.finished_at:
            following = max(following, _local(current.finished_at + RETRY_AFTER))
        rows.append({"job": job, "last": last, "next": following})
    return rows


def runs_prune(now: datetime) -> int:
    """Forget runs older than KEEP (a minute job leaves 1440 rows a day)."""
    deleted, _by_model = PeriodicRun.objects.filter(started_at__lt=now - KEEP).delete()
    return deleted


# --- the embedded default: a thread of the server ---------------------------------------------


def server_thread_wanted(*, enabled: bool, argv: list[str], environ: dict) -> bool:
    """Whether this process is a server that should run the periodic thread.

    `enabled` is settings.PERIODIC_IN_SERVER. Only the serving process: runserver's child (the
    autoreloader's parent only watches files; RUN_MAIN=true marks the child) or runserver
    --noreload, and gunicorn; never pytest, `kaoping tick`, migrate or a shell.
    """
    if not enabled or "pytest" in os.path.basename(argv[0] if argv else ""):
        return False
    program = os.path.basename(argv[0]) if argv else ""
    if "gunicorn" in program:
        return True
    if len(argv) > 1 and argv[1] == "runserver":
        return environ.get("RUN_MAIN") == "true" or "--noreload" in argv
    return False


def server_worker_wanted(*, thread_wanted: bool, tasks_backend: str) -> bool:
    """Whether the server also runs queued background tasks (TASKS_BACKEND=db) in a thread.

    With the immediate backend tasks run in the request and there is nothing to drain. With the
    database backend and the periodic thread on (the embedded default asked for background work:
    SQLite, TASKS_BACKEND=db, no `kaoping db_worker`), the server drains the queue itself, so a
    close or a report runs in the background while its progress page follows it. Production
    sets PERIODIC_IN_SERVER=0 (or leaves it off with PostgreSQL) and runs `kaoping db_worker`.
    Several gunicorn workers draining at once is safe: the queue hands each task to one.
    """
    return thread_wanted and tasks_backend == "django_tasks_db.DatabaseBackend"


_thread: threading.Thread | None = None
_worker: threading.Thread | None = None


def server_thread_start() -> threading.Thread | None:
    """Start the periodic thread if this process wants one (see `server_thread_wanted`), and
    the task-draining thread beside it when `server_worker_wanted`."""
    global _thread, _worker
    wanted = server_thread_wanted(
        enabled=getattr(settings, "PERIODIC_IN_SERVER", False),
        argv=sys.argv,
        environ=dict(os.environ),
    )
    if not wanted or _thread is not None:
        return None
    _thread = threading.Thread(target=_loop, name="kaoping-periodic", daemon=True)
    _thread.start()
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if server_worker_wanted(thread_wanted=True, tasks_backend=backend):
        _worker = threading.Thread(target=_drain, name="kaoping-tasks", daemon=True)
        _worker.start()
    return _thread


def _drain(stop: threading.Event | None = None) -> None:
    """Run queued tasks (django-tasks' database backend) as `kaoping db_worker` would; a
    database error is logged and the worker started again a little later."""
    from django_tasks_db.management.commands.db_worker import Worker

    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            Worker(
                queue_names=["*"],
                interval=1,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"server-{os.getpid()}",
                excluded_queue_names=[],
            ).run()
        except Exception:
            logger.exception("the server's task worker failed; starting it again")
        finally:
            connections.close_all()
        stop.wait(5)


def _loop(stop: threading.Event | None = None, seconds: float = TICK_SECONDS) -> None:
    stop = stop or threading.Event()
    # The first tick a few seconds in: let the server finish starting.
    wait = min(seconds, 5)
    while not stop.wait(wait):
        tick_safely()
        wait = seconds


def tick_safely() -> list[PeriodicRun]:
    """One tick of the server's thread: errors are logged, never fatal; its connection closed."""
    try:
        close_old_connections()
        return run_due()
    except Exception:
        logger.exception("periodic tick failed; trying again in %s s", TICK_SECONDS)
        return []
    finally:
        connections.close_all()


# --- the startup check ------------------------------------------------------------------------


def periodic_jobs_problems(raw) -> list[str]:
    """What is wrong with a PERIODIC_JOBS value, one message per problem."""
    if not isinstance(raw, (list, tuple)):
        return ["PERIODIC_JOBS must be a list of dicts."]
    problems, names = [], set()
    for index, job in enumerate(raw):
        where = f"PERIODIC_JOBS[{index}]"
        if not isinstance(job, dict):
            problems.append(f"{where} must be a dict, not {type(job).__name__}.")
            continue
        name = job.get("name")
        if isinstance(name, str) and name:
            where = f"{where} ({name!r})"
        unknown = sorted(set(job) - KEYS)
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {sorted(KEYS)}."
            )
        if not isinstance(name, str) or not name or len(name) > 80:
            problems.append(f"{where}: 'name' must be a non-empty string of at most 80 characters.")
        elif name in names:
            problems.append(f"{where}: the name {name!r} is used twice.")
        else:
            names.add(name)
        call = job.get("call")
        if not isinstance(call, str) or "." not in call:
            problems.append(f"{where}: 'call' must be a dotted path to a function.")
        else:
            try:
                function = import_string(call)
            except ImportError as exc:
                problems.append(f"{where}: 'call' {call!r} cannot be imported ({exc}).")
            else:
                if not callable(function):
                    problems.append(f"{where}: 'call' {call!r} is not callable.")
        every = job.get("every")
        if every not in EVERY:
            problems.append(f"{where}: 'every' must be one of {', '.join(EVERY)}, not {every!r}.")
        if "at" in job:
            at = job["at"]
            if every in ("minute", "hour"):
                problems.append(f"{where}: 'at' is for day, week and month jobs only.")
            elif not isinstance(at, str) or not _AT.match(at):
                problems.append(f"{where}: 'at' must be a local time HH:MM, not {at!r}.")
        if "atomic" in job and not isinstance(job["atomic"], bool):
            problems.append(f"{where}: 'atomic' must be true or false.")
    return problems


@checks.register()
def check_periodic_jobs(app_configs=None, **kwargs):
    return [
        checks.Error(message, hint="See kaoping/core/periodic.py.", id="kaoping.E101")
        for message in periodic_jobs_problems(getattr(settings, "PERIODIC_JOBS", []))
    ]
