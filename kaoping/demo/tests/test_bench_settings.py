"""Where the bench database lives: never in the folder the command was started from."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHOW = (
    "import json; from config import bench_settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'],"
    " 'name': str(s.DATABASES['default']['NAME'])}))"
)


def bench_database(tmp_path, database_url: str) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "BENCH_DIR": str(tmp_path / "bench"),
        "DATABASE_URL": database_url,
    }
    shown = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_an_sqlite_database_url_puts_the_bench_file_under_bench_dir(tmp_path):
    found = bench_database(tmp_path, f"sqlite:///{tmp_path}/main.sqlite3")
    assert "sqlite3" in found["engine"]
    assert found["name"] == str(tmp_path / "bench" / "kaoping_bench.sqlite3")


def test_without_database_url_too(tmp_path):
    assert bench_database(tmp_path, "")["name"] == str(tmp_path / "bench" / "kaoping_bench.sqlite3")


def test_postgresql_gets_a_database_of_its_own_on_the_same_server(tmp_path):
    found = bench_database(tmp_path, "postgres://postgres@127.0.0.1:5432/kaoping")
    assert "postgresql" in found["engine"]
    assert found["name"] == "kaoping_bench"
