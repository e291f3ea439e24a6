"""kill -9 during an import commit and during a close, on the engine the suite runs on (a SQLite
file in a temporary directory; with DATABASE_URL set, a PostgreSQL database of its own, created
and dropped here). After each kill the data is as it was before (entries, chains, results,
periods; `kaoping ledger verify` passes), the job stuck in "committing" is taken over through
its stale lease, and the rerun ends with exactly what an uninterrupted run gives."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

# Its subprocesses use the run's DATABASE_URL (databases of their own on PostgreSQL).
pytestmark = [pytest.mark.faults, pytest.mark.database_url]

ROOT = Path(settings.BASE_DIR)
KAOPING = [sys.executable, "-m", "django"]
HOUSEHOLDS, ROWS = 1500, 4000

SETUP = """
import sys
from datetime import date
import django
django.setup()
from django.db import transaction
from kaoping.accounts.scoping import system_actor
from kaoping.ledger.testing import HOUSEHOLD_SCHEME, generated_rows, import_workbook, make_households
from kaoping.schemes.services import scheme_load
from kaoping.testing import build_small_county
with transaction.atomic():
    county = build_small_county()
    text = HOUSEHOLD_SCHEME.replace("code: hh-import", "code: hh-fault")
    scheme_load(text=text + "review:\\n  auto_approve: [imported]\\n", filename="s.yaml",
                region=county.region("330304"), acting_user=system_actor())
    numbers = make_households(county.region("330304001001"), int(sys.argv[2]))
rows = generated_rows(numbers, count=int(sys.argv[3]), start=date(2026, 3, 1))
open(sys.argv[1], "wb").write(import_workbook(rows))
"""

SNAPSHOT = """
import json
import django
django.setup()
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, ImportJob, LedgerChain
from kaoping.periods.models import Period, Result
def rows(queryset, drop):
    fields = [f.attname for f in queryset.model._meta.concrete_fields if f.attname not in drop
              and f.get_internal_type() != "DateTimeField" and "hash" not in f.attname]
    return sorted(list(map(str, r)) for r in queryset.values_list(*fields))
print(json.dumps({
    "entries": rows(Entry.objects.all(), {"id", "import_job_id", "idempotency_key", "digest"}),
    "chains": sorted(list(c) for c in LedgerChain.objects.values_list("region_code", "length")),
    "periods": sorted(list(p) for p in Period.objects.values_list("label", "status")),
    "results": rows(Result.objects.all(), {"id", "period_id"}),
    "jobs": sorted(ImportJob.objects.values_list("status", flat=True)),
    "verify": [str(p) for p in chain_verify()],
}))
"""

RECOVER = """
import django
django.setup()
from kaoping.ledger.imports import import_commit, import_queue
from kaoping.ledger.models import ImportJob
for job in ImportJob.objects.filter(status="committing"):
    assert import_queue(job=job, acting_user=job.uploaded_by), "a stuck import was not taken over"
    job = import_commit(job, acting_user=job.uploaded_by)
    assert job.status == "committed", job.errors
"""


class Engine:
    """One database of the engine the suite runs on, copied by file or by template."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.base_url = os.environ.get("DATABASE_URL", "")
        self.pg = self.base_url.startswith("postgres")
        self.created: list[str] = []

    def env(self, name: str, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(self.tmp),
            "SECRET_KEY": "fault-test-secret-key-not-for-production-0123456789",
            "PYTHONPATH": str(ROOT),
        }
        if self.pg:
            env["DATABASE_URL"] = self.base_url.rsplit("/", 1)[0] + "/" + name
        else:
            env["SQLITE_PATH"] = str(self.tmp / f"{name}.sqlite3")
        return env | extra

    def admin(self, sql: str) -> None:
        import psycopg

        url = self.base_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql)

    def create_empty(self, name: str) -> None:
        if self.pg:
            self.admin(f'DROP DATABASE IF EXISTS "{name}"')
            self.admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)

    def copy(self, source: str, target: str) -> None:
        if self.pg:
            self.admin(f'DROP DATABASE IF EXISTS "{target}"')
            self.admin(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
            self.created.append(target)
        else:
            shutil.copy(self.tmp / f"{source}.sqlite3", self.tmp / f"{target}.sqlite3")

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(engine: Engine, db: str, args: list[str], **extra) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args, cwd=ROOT, env=engine.env(db, **extra), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def script(engine: Engine, db: str, source: str, *args: str, **extra) -> str:
    return run(engine, db, [sys.executable, "-c", source, *args], **extra).stdout


def snapshot(engine: Engine, db: str) -> dict:
    return json.loads(script(engine, db, SNAPSHOT))


def timed(engine: Engine, db: str, args: list[str]) -> float:
    started = time.monotonic()
    run(engine, db, args)
    return time.monotonic() - started


def begun(jobs: list[str]) -> list[str]:
    """The import jobs whose commit began: a kill while a file is still being checked leaves
    that job previewed, with nothing written (which the checks of the ledger above prove)."""
    return [status for status in jobs if status != "previewed"]


def killed(engine: Engine, db: str, args: list[str], after: float, **extra) -> bool:
    """Start `args`, SIGKILL it after `after` seconds; True if it was still running then."""
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=engine.env(db, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


@pytest.fixture
def engine(tmp_path):
    found = Engine(tmp_path)
    yield found
    if found.pg:
        found.drop_all()


def test_kill_9_during_an_import_commit_and_a_close_loses_and_half_writes_nothing(engine):
    tag = uuid.uuid4().hex[:8]
    base, ref, work = (f"kaoping_fault_{tag}_{n}" for n in ("base", "ref", "work"))
    workbook = str(engine.tmp / "entries.xlsx")
    engine.create_empty(base)
    run(engine, base, KAOPING + ["migrate", "-v0"])
    script(engine, base, SETUP, workbook, str(HOUSEHOLDS), str(ROWS))
    import_args = KAOPING + ["import_entries", "hh-fault", workbook, "--user", "carol", "--commit"]
    close_args = KAOPING + ["close", "hh-fault", "2026-03"]

    # The uninterrupted run, and how long each step takes on this machine.
    engine.copy(base, ref)
    import_seconds = timed(engine, ref, import_args)
    after_import = snapshot(engine, ref)
    close_seconds = timed(engine, ref, close_args)
    after_close = snapshot(engine, ref)
    assert len(after_import["entries"]) == ROWS and after_import["verify"] == []
    assert len(after_close["results"]) > HOUSEHOLDS  # with the small county's own households
    print(f"import {import_seconds:.1f} s, close {close_seconds:.1f} s")

    engine.copy(base, work)
    before = snapshot(engine, work)
    landed = 0
    # Kill the import while it checks and writes. Another test running beside this one makes
    # a run slower or faster than the timed one (most of which is Django starting), so the kill
    # moves later until it finds the job stuck in "committing" — past the timed duration too, for
    # a machine busier now than when it was timed; a run that finishes first ends the search.
    # Every kill leaves all of the import or none of it.
    stuck = None
    for share in (0.2, 0.35, 0.5, 0.65, 0.8, 1.0, 1.3, 1.7, 2.2):
        if not killed(engine, work, import_args, after=import_seconds * share):
            break  # it finished: nothing was interrupted
        state = snapshot(engine, work)
        if state["entries"]:
            assert state["entries"] == after_import["entries"], f"a kill at {share} half-wrote"
            break
        assert state | {"jobs": []} == before | {"jobs": []}, f"a kill at {share} wrote"
        if begun(state["jobs"]) == ["committing"]:  # stuck, until taken over
            landed += 1
            stuck = state
            break
    recover = [sys.executable, "-c", RECOVER]
    if stuck and killed(engine, work, recover, after=import_seconds * 0.4, LEASE_STALE_SECONDS="0"):
        landed += 1
        state = snapshot(engine, work)
        assert state == stuck or state["entries"] == after_import["entries"]
    script(engine, work, RECOVER, LEASE_STALE_SECONDS="0")
    recovered = snapshot(engine, work)
    assert recovered["verify"] == []
    assert recovered["entries"] == after_import["entries"]
    assert recovered["chains"] == after_import["chains"]
    assert begun(recovered["jobs"]) == ["committed"]

    # Kill the close at a few points: it has written all of it or nothing; then close again.
    mid_close = 0
    for share in (0.4, 0.6, 0.8):
        if killed(engine, work, close_args, after=close_seconds * share):
            state = snapshot(engine, work)
            assert state in (recovered, after_close), "a killed close left part of its work"
            mid_close += state == recovered
    run(engine, work, close_args)
    assert snapshot(engine, work) == after_close
    assert landed + mid_close >= 1, "no kill landed while the work was under way"
