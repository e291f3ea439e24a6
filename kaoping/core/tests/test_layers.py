"""The layers of docs/architecture.md hold, and an upward import breaks them.

`lint-imports` (import-linter, configured in .importlinter) is what CI runs; these tests make
sure the contract is really checked: on the tree as it is, and on a copy with one upward import.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_the_tree_keeps_its_layers():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.mo", "static", "templates", "migrations")
    for name in ("kaoping", "config", "bench"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    # The ledger reaching up into the close: what the layers exist to prevent.
    ledger_models = copy / "kaoping" / "ledger" / "models.py"
    ledger_models.write_text(
        "from kaoping.periods.models import Period  # noqa\n" + ledger_models.read_text()
    )
    result = _lint(copy)
    assert result.returncode != 0
    assert "kaoping.ledger is not allowed to import kaoping.periods" in result.stdout
