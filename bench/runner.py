"""The parent side of a benchmark: the bench database's life, and steps run in child processes.

Each measured step runs in a fresh child process (`python -m bench.step`) on the bench settings,
so that its peak RSS (ru_maxrss, read by the child right after the timed work) is its own and
not the high-water mark of whatever ran before it in the same process. The parent never opens
the bench database through Django; it only creates or drops it.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from .data import Shape

RESULT_PREFIX = "BENCH-RESULT "
Out = Callable[[str], None]


def bench_database() -> dict:
    """The bench database as config.bench_settings defines it (read, never connected here)."""
    from config import bench_settings

    return dict(bench_settings.DATABASES["default"])


def engine_name() -> str:
    return "postgresql" if "postgresql" in bench_database()["ENGINE"] else "sqlite"


def child_env() -> dict:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.bench_settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def run_step(name: str, out: Out, **kwargs) -> dict:
    """Run bench.step `name` in a child process; its progress lines go to `out`."""
    command = [sys.executable, "-m", "bench.step", name, json.dumps(kwargs)]
    return _run(command, out)


def _run(command: list[str], out: Out, *, result_expected: bool = True) -> dict:
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        command,
        cwd=root,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    result = None
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip("\n")
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
        else:
            out(line)
            tail = [*tail[-30:], line]
    code = process.wait()
    if code != 0 or (result is None and result_expected):
        raise RuntimeError(f"{' '.join(command[2:4])} failed (exit {code}):\n" + "\n".join(tail))
    return result or {}


def _postgres(dbname: str, **options):
    """A plain psycopg connection to `dbname` on the bench database's server."""
    import psycopg

    db = bench_database()
    return psycopg.connect(
        dbname=dbname,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        **options,
    )


def _postgres_admin():
    return _postgres("postgres", autocommit=True)


def database_exists() -> bool:
    db = bench_database()
    if engine_name() == "sqlite":
        return Path(db["NAME"]).exists()
    with _postgres_admin() as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        return found.fetchone() is not None


def database_recreate(out: Out) -> None:
    """Drop the bench database (never any other) and create it empty."""
    database_drop()
    name = bench_database()["NAME"]
    if engine_name() == "sqlite":
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(path.parent / "media", ignore_errors=True)
    else:
        from psycopg import sql

        with _postgres_admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    out(f"bench database {name} created empty")


def database_drop() -> None:
    """Drop the bench database (tests drop theirs when done)."""
    name = bench_database()["NAME"]
    if engine_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        return
    if not name.startswith("kaoping_bench"):
        raise RuntimeError(f"refusing to drop {name}: bench databases are named kaoping_bench*")
    from psycopg import sql

    with _postgres_admin() as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _read(query: str) -> list[tuple] | None:
    """Rows of a query on the bench database, read with the plain driver (no child process
    needed); None when it cannot be answered (no such table yet: an empty or half-built
    database)."""
    db = bench_database()
    try:
        if engine_name() == "sqlite":
            import sqlite3

            with closing(sqlite3.connect(db["NAME"])) as connection:
                return connection.execute(query).fetchall()
        with _postgres(db["NAME"]) as connection:
            return connection.execute(query).fetchall()
    except Exception:
        return None


def read_manifest() -> dict | None:
    """The bench database's manifest."""
    from .data import MANIFEST

    rows = _read(f"SELECT value FROM {MANIFEST} WHERE name = 'build'")
    return json.loads(rows[0][0]) if rows else None


def migrations_pending() -> bool:
    """Whether a migration on disk is not yet applied to the bench database (a child process
    running `migrate` only to find nothing to do costs seconds on every reuse)."""
    from django.db.migrations.loader import MigrationLoader

    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = _read("SELECT app, name FROM django_migrations")
    return applied is None or bool(on_disk - set(applied))


def prepare(shape: Shape, out: Out) -> dict:
    """The manifest of a bench database holding `shape`, built now unless it already is."""
    if database_exists():
        found = read_manifest()
        if found and found["shape"] == shape.key():
            out(f"reusing the bench data ({shape.households:,} households)")
            if migrations_pending():
                migrate(out)  # the schema follows the code (an index added since the build)
            return found
    started = time.perf_counter()
    database_recreate(out)
    migrate(out)
    out(
        f"migrated in {time.perf_counter() - started:.0f} s; generating {shape.households:,} households"
    )
    return run_step("build", out, shape=shape.key())["manifest"]


def migrate(out: Out) -> None:
    command = [sys.executable, "-m", "kaoping", "migrate", "--noinput", "-v", "0"]
    _run(command, out, result_expected=False)
