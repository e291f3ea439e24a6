"""The benchmarks run end to end at a tiny size. They are not tests: no time is asserted here."""

import io
import json
import os

import pytest
from django.core.management import call_command

# The benchmark builds a database of its own on the run's engine (DATABASE_URL).
pytestmark = pytest.mark.database_url


def test_bench_close_import_and_web_complete(tmp_path, monkeypatch):
    from bench.runner import database_drop

    # A bench database of the test's own: a file in tmp_path, or its own PostgreSQL database.
    monkeypatch.setenv("BENCH_DIR", str(tmp_path))
    monkeypatch.setenv("BENCH_DB_NAME", f"kaoping_bench_test_{os.getpid()}")
    results = tmp_path / "results"
    shape = {"households": 60, "entries_per_household": 5, "villages": 4, "out": results}
    out = io.StringIO()
    try:
        call_command("bench", "close", stdout=out, **shape)
        call_command("bench", "import", rows=300, stdout=out, **shape)
        call_command("bench", "web", requests=5, stdout=out, **shape)
    finally:
        database_drop()
    text = out.getvalue()
    assert "LEDGER verify ok" in text  # the generator chains its entries like the ledger does
    assert "RATIO close/raw_sql=" in text
    assert "IMPORT rows=300" in text
    assert "WEB public/bare=" in text
    engine = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    close = json.loads((results / f"close-{engine}.json").read_text())
    assert close["agree"] is True
    assert close["jobs"][0]["results"] == 60
    assert json.loads((results / f"import-{engine}.json").read_text())["ok"] is True
    pages = json.loads((results / f"web-{engine}.json").read_text())["pages"]
    # The bare view, the posting (village, province page 1, rendered for a signed-in reader), the
    # console's shell, the household's phone page, the dashboard and every role's home: each
    # answered without an error. The shell is a yardstick, never counted against the target.
    names = " ".join(p["name"] for p in pages)
    assert len(pages) >= 6 + 1 + 9 and "dashboard" in names
    [shell] = [p for p in pages if p.get("yardstick")]
    assert (
        shell["login"]
        and shell["name"]
        not in json.loads((results / f"web-{engine}.json").read_text())["signed_in_over_p50_target"]
    )
    assert [p["errors"] for p in pages] == [0] * len(pages)
