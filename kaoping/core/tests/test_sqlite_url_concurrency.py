"""Issue 19, case 5 replayed: SQLite named by `DATABASE_URL=sqlite://…` keeps WAL, IMMEDIATE
transactions and the busy timeout, so two processes writing at once both succeed (before, 46 of
122 concurrent requests failed with "database is locked"). The writes are audit rows, whose
per-county chain head both processes lock, so the chain must also come out whole."""

import os
import subprocess
import sys
from pathlib import Path

WRITES = 40

WRITER = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.db import transaction
from kaoping.core.audit import audit_record
for n in range({writes}):
    with transaction.atomic():
        audit_record(actor=None, action="test.concurrent", region_code="330304",
                     object_repr=f"{{os.getpid()}}-{{n}}")
"""


def kaoping(env, *args, check=True, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "kaoping", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        **kwargs,
    )


def test_two_processes_write_at_once_through_a_sqlite_url(tmp_path):
    database = tmp_path / "kaoping.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DATA_DIR": str(tmp_path),
        "SQLITE_TIMEOUT": "60",
    }
    kaoping(env, "migrate", "--noinput", "-v", "0")
    code = WRITER.format(writes=WRITES)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            cwd=Path(__file__).resolve().parents[3],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for writer in writers:
        _out, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors[-2000:]

    count = kaoping(
        env,
        "shell",
        "-c",
        "from kaoping.core.models import AuditLog;"
        "print(AuditLog.objects.filter(action='test.concurrent').count())",
    )
    assert count.stdout.split()[-1] == str(2 * WRITES)  # after the shell's own banner
    assert kaoping(env, "audit", "verify").returncode == 0
