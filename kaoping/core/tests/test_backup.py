"""Backup → change → restore gives back the ledger, the results and the evidence files, on the
engine the suite runs on (SQLite always; PostgreSQL when DATABASE_URL says so)."""

import hashlib
import tarfile
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kaoping.core.errors import KaopingError
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, EntrySource, Evidence
from kaoping.ledger.services import entry_record
from kaoping.ledger.tests.declare_fixture import (
    household_subject,
    image_bytes,
    load_household_scheme,
    upload,
)
from kaoping.periods.models import Result
from kaoping.publishing.tests.fixtures import posted_quarter


def media_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def state(settings):
    return {
        "entries": list(Entry.objects.order_by("pk").values_list("pk", "status", "chain_hash")),
        "results": list(Result.objects.order_by("pk").values_list("pk", "total", "grade_code")),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", "file")),
        "files": media_files(Path(settings.MEDIA_ROOT)),
    }


def declare_with_photo(county, scheme, note):
    erin = county.users["erin"]
    entry, _ = entry_record(
        scheme=scheme,
        subject=household_subject(erin),
        item_code="GY01",
        occurred_on=timezone.localdate(),
        note=note,
        acting_user=erin,
        source=EntrySource.DECLARED,
        evidence=[upload(image_bytes((320, 240)), f"{note}.jpg")],
        declared=True,
    )
    return entry


@pytest.mark.django_db(transaction=True)
def test_backup_change_restore_gives_everything_back(live_county, settings, tmp_path):
    county = live_county
    posted_quarter(county)
    households = load_household_scheme(county)
    declare_with_photo(county, households, "拾到钱包")
    before = state(settings)
    assert before["results"] and before["evidence"] and before["files"]

    archive = tmp_path / "nightly.tar.gz"
    out = StringIO()
    call_command("backup", str(archive), stdout=out)
    assert "nightly.tar.gz" in out.getvalue()

    # After the backup: a new entry with its photo, a lost file, a stray one.
    declare_with_photo(county, households, "再次拾到")
    first_file = Path(settings.MEDIA_ROOT) / before["evidence"][0][1]
    first_file.unlink()
    (Path(settings.MEDIA_ROOT) / "stray.txt").write_text("not from the backup")
    assert state(settings) != before

    call_command("restore", str(archive), "--yes", stdout=StringIO())

    assert state(settings) == before
    # The declaration went through the one write: its village's chain is whole again.
    assert Entry.objects.filter(chain_region__startswith="330304").exists()
    assert list(chain_verify(region_prefix="330304")) == []


@pytest.mark.django_db(transaction=True)
def test_a_damaged_or_foreign_archive_changes_nothing(live_county, settings, tmp_path):
    posted_quarter(live_county)
    before = state(settings)
    archive = tmp_path / "good.tar.gz"
    call_command("backup", str(archive), stdout=StringIO())

    # The database inside is replaced by other bytes: its checksum no longer matches.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as good, tarfile.open(damaged, "w:gz") as bad:
        for member in good.getmembers():
            data = good.extractfile(member).read()
            if member.name.startswith("database"):
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            bad.addfile(member, fileobj=BytesIO(data))
    with pytest.raises(CommandError, match="备份已损坏"):
        call_command("restore", str(damaged), "--yes", stdout=StringIO())

    not_a_backup = tmp_path / "photo.tar.gz"
    with tarfile.open(not_a_backup, "w:gz") as other:
        other.add(__file__, arcname="x.py")
    with pytest.raises(CommandError, match="不是考评的备份"):
        call_command("restore", str(not_a_backup), "--yes", stdout=StringIO())

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(archive), stdout=StringIO())
    assert state(settings) == before


@pytest.mark.django_db(transaction=True)
def test_an_archive_from_the_other_engine_is_refused(tmp_path, monkeypatch):
    from kaoping.core import backup

    archive = tmp_path / "b.tar.gz"
    backup.backup_write(archive)
    monkeypatch.setattr(backup, "_engine", lambda: "elsewhere")
    with pytest.raises(KaopingError, match="同类数据库"):
        backup.backup_restore(archive)
