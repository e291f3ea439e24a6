"""Backup and restore: the database and the evidence files in one archive.

`kaoping backup` writes a .tar.gz holding a manifest, the database (SQLite: a consistent copy made
with SQLite's online backup; PostgreSQL: `pg_dump --format=custom`) and every file under
MEDIA_ROOT (evidence photos, goods photos), each with its SHA-256. `kaoping restore` checks the
whole archive before it touches anything, then replaces the database in one step (SQLite's backup
into the live file; `pg_restore --single-transaction`) and only then swaps the media folder, so a
failed restore leaves the data as it was.

The database is copied before the files: a file is stored before the row that names it commits,
so every row in the copy finds its file (the archive may hold a few newer files no row names).
An archive restores on the engine it came from; moving between engines is a different job
(`dumpdata`/`loaddata`), far slower, and not what a nightly backup needs.
"""

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import KaopingError

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    engine: str
    created: str
    database: str
    files: dict[str, str]  # archive path -> sha256
    migrations: dict[str, str]  # app -> last applied migration

    @property
    def media_count(self) -> int:
        return sum(1 for name in self.files if name.startswith("media/"))


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _last_migrations() -> dict[str, str]:
    last: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > last.get(app, ""):
            last[app] = name
    return last


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore from the live connection's settings."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise KaopingError(
            _("%(tool)s is missing: install the PostgreSQL client (postgresql-client).")
            % {"tool": command[0]}
        ) from error
    except subprocess.CalledProcessError as error:
        raise KaopingError(
            _("%(what)s failed: %(detail)s") % {"what": what, "detail": error.stderr.strip()[-500:]}
        ) from error


def _database_copy(target: Path) -> str:
    """A consistent copy of the live database at `target`; returns its name in the archive."""
    if _engine() == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        return "database.sqlite3"
    args, env = _pg_env()
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)]
        + args,
        env,
        "pg_dump",
    )
    return "database.pgdump"


def backup_write(output: Path) -> Manifest:
    """Write the archive to `output` (written beside it first, renamed when complete)."""
    media_root = Path(settings.MEDIA_ROOT)
    output = Path(output)
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        database_file = Path(work) / "database"
        database_name = _database_copy(database_file)
        files = {database_name: _sha256(database_file)}
        media = (
            sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
        )
        for path in media:
            files["media/" + path.relative_to(media_root).as_posix()] = _sha256(path)
        manifest = Manifest(
            engine=_engine(),
            created=timezone.localtime().isoformat(timespec="seconds"),
            database=database_name,
            files=files,
            migrations=_last_migrations(),
        )
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            body = json.dumps(
                {"format": FORMAT, **manifest.__dict__}, ensure_ascii=False, indent=1
            ).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            archive.addfile(info, fileobj=io.BytesIO(body))
            archive.add(database_file, arcname=database_name)
            for path in media:
                archive.add(path, arcname="media/" + path.relative_to(media_root).as_posix())
        os.replace(partial, output)
    return manifest


def _manifest_read(archive: tarfile.TarFile, source: Path) -> Manifest:
    try:
        raw = json.loads(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as error:
        raise KaopingError(
            _("%(file)s is not a kaoping backup (it has no manifest).") % {"file": source}
        ) from error
    if raw.pop("format", None) != FORMAT:
        raise KaopingError(_("This backup was written by another version of kaoping."))
    return Manifest(**raw)


def _extract_checked(archive: tarfile.TarFile, manifest: Manifest, into: Path) -> None:
    """Extract exactly the files the manifest lists, each matching its checksum."""
    members = {m.name: m for m in archive.getmembers() if m.isfile()}
    for name, expected in manifest.files.items():
        member = members.get(name)
        if member is None:
            raise KaopingError(_("The backup is incomplete: %(name)s is missing.") % {"name": name})
        archive.extract(member, into, filter="data")
        if _sha256(into / name) != expected:
            raise KaopingError(
                _("The backup is damaged: %(name)s does not match.") % {"name": name}
            )


def _migrations_check(manifest: Manifest) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = sorted(
        f"{app}.{name}" for app, name in manifest.migrations.items() if (app, name) not in known
    )
    if unknown:
        raise KaopingError(
            _(
                "This backup comes from a newer kaoping (migrations %(names)s are unknown here): "
                "install that version first."
            )
            % {"names": ", ".join(unknown[:5])}
        )


def _database_replace(manifest: Manifest, copy: Path) -> None:
    if manifest.engine == "sqlite":
        source = sqlite3.connect(copy)
        try:
            connection.ensure_connection()
            # One step (pages=-1): the live database is replaced whole or not at all.
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()  # pg_restore drops tables; our idle connection must hold no locks
    args, env = _pg_env()
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
        ]
        + args
        + [str(copy)],
        env,
        "pg_restore",
    )


def backup_restore(source: Path) -> Manifest:
    """Replace the database and the media folder with the archive's; all checked first."""
    source = Path(source)
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 (closed by the `with` below)
    except (OSError, tarfile.TarError) as error:
        raise KaopingError(
            _("%(file)s cannot be read as a kaoping backup: %(error)s")
            % {"file": source, "error": error}
        ) from error
    with archive, tempfile.TemporaryDirectory(dir=media_root.parent) as work:
        manifest = _manifest_read(archive, source)
        if manifest.engine != _engine():
            raise KaopingError(
                _(
                    "This backup was taken from %(theirs)s and this installation uses %(ours)s; "
                    "restore it on the same kind of database."
                )
                % {"theirs": manifest.engine, "ours": _engine()}
            )
        _migrations_check(manifest)
        into = Path(work)
        _extract_checked(archive, manifest, into)
        _database_replace(manifest, into / manifest.database)
        # The database is the archive's now; the media folder follows, swapped by renames.
        restored_media = into / "media"
        restored_media.mkdir(exist_ok=True)
        if media_root.exists():
            media_root.rename(into / "media-before-restore")
        restored_media.rename(media_root)
    cache.clear()  # cached public pages show the data that was replaced
    return manifest


def backup_default_name() -> str:
    return f"kaoping-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz"
