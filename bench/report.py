"""Results as a markdown table and JSON, with the machine they were measured on."""

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

Out = Callable[[str], None]


def rss_mib(maxrss_kib: int) -> float:
    """ru_maxrss is in KiB on Linux."""
    return round(maxrss_kib / 1024, 1)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit


def machine() -> dict:
    """The machine, and how busy it is (other work shares these cores)."""
    import django

    versions = {"python": sys.version.split()[0], "django": django.get_version()}
    try:
        import sqlite3

        versions["sqlite"] = sqlite3.sqlite_version
    except ImportError:  # pragma: no cover
        pass
    try:
        import duckdb

        versions["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **versions,
    }


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(
    out_dir: Path,
    name: str,
    result: dict,
    header: list[str],
    rows: list[list],
    notes: list[str],
    echo: Out,
) -> None:
    """`name`.json (everything) and `name`.md (the table, the notes, the machine) in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine()
    table = markdown_table(header, rows)
    box = result["machine"]
    machine_line = (
        f"{box['cpu']}, {box['cores']} cores, {box['memory_gib']} GiB; load average "
        f"{' / '.join(str(x) for x in box['load_average'])} at the end; commit {box['commit']}; "
        f"{box['at']}"
    )
    text = "\n".join([table, "", *(f"- {n}" for n in notes), f"- machine: {machine_line}", ""])
    (out_dir / f"{name}.md").write_text(text, encoding="utf-8")
    (out_dir / f"{name}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    echo("")
    for line in text.splitlines():
        echo(line)
    echo(f"written: {out_dir / name}.md, {out_dir / name}.json")
