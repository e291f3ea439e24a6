"""The visits benchmark runs end to end at a tiny size (no time is asserted: it is not a test of
speed, only that the selector and the raw SQL baseline agree)."""

import io
import json
import os

import pytest
from django.core.management import call_command

# The benchmark builds a database of its own on the run's engine (DATABASE_URL).
pytestmark = pytest.mark.database_url


def test_bench_visits_completes_and_agrees(tmp_path, monkeypatch):
    from bench.runner import database_drop

    monkeypatch.setenv("BENCH_DIR", str(tmp_path))
    # The same name as test_bench_smoke's: config.bench_settings reads it once per process, and
    # both files may run in one pytest worker (the database is recreated and dropped each time).
    monkeypatch.setenv("BENCH_DB_NAME", f"kaoping_bench_test_{os.getpid()}")
    results = tmp_path / "results"
    out = io.StringIO()
    try:
        call_command(
            "bench",
            "visits",
            households=120,
            entries_per_household=1,
            villages=2,
            out=results,
            stdout=out,
        )
    finally:
        database_drop()
    assert "RATIO visits kaoping/raw_sql=" in out.getvalue()
    engine = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    result = json.loads((results / f"visits-{engine}.json").read_text())
    assert result["agree"] is True
    assert result["kaoping"]["households"] == 120 and result["kaoping"]["grids"] >= 2
    assert 0 < result["kaoping"]["visited"] < 120
