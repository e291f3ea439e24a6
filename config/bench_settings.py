"""Settings of the benchmark processes (`kaoping bench`): the project's settings on another database.

Benchmarks never touch the demo or production database. The bench database is a SQLite file
under BENCH_DIR (default DATA_DIR/bench) or, when DATABASE_URL is set, a database of its own on
the same PostgreSQL server; both are named by BENCH_DB_NAME (default kaoping_bench). Every
other setting is the project's, so the close, the import and the pages run as they do in
production on that engine.
"""

import os
from pathlib import Path

import dj_database_url

from .secret import secret_key_from, secret_key_store
from .settings import *  # noqa: F403
from .settings import DATA_DIR, DATABASE_URL, DATABASES

BENCH_DIR = Path(os.environ.get("BENCH_DIR", DATA_DIR / "bench"))
if not SECRET_KEY_SOURCE:  # noqa: F405
    # gunicorn's workers must share one key (a login's hash is checked against it).
    SECRET_KEY, SECRET_KEY_SOURCE = secret_key_from({}, secret_key_store(BENCH_DIR).parent)
BENCH_DB_NAME = os.environ.get("BENCH_DB_NAME", "kaoping_bench")

if DATABASE_URL and "sqlite" not in DATABASES["default"]["ENGINE"]:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["NAME"] = BENCH_DB_NAME
else:
    # SQLite, by default or named by DATABASE_URL: a file under BENCH_DIR, never a bare name
    # (that would land in whatever folder the command was started from).
    DATABASES = {
        "default": {**DATABASES["default"], "NAME": str(BENCH_DIR / f"{BENCH_DB_NAME}.sqlite3")}
    }

MEDIA_ROOT = BENCH_DIR / "media"
# The project's URLs plus a bare view, the yardstick of the web benchmark.
ROOT_URLCONF = "config.bench_urls"
