"""The zh_Hans catalog is complete: every UI string in the code has a committed translation."""

import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from kaoping.testing import require_tool

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_ui_string_is_translated(tmp_path, monkeypatch):
    require_tool("msgattrib", "gettext")
    # Extract from a copy of the tree so the committed catalog is compared, not rewritten.
    ignore = shutil.ignore_patterns("__pycache__", "vendor", "*.pyc")
    shutil.copytree(Path(settings.BASE_DIR) / "kaoping", tmp_path / "kaoping", ignore=ignore)
    shutil.copytree(Path(settings.BASE_DIR) / "locale", tmp_path / "locale")
    monkeypatch.chdir(tmp_path)
    call_command(
        "makemessages", locale=["zh_Hans"], no_obsolete=True, no_location=True, verbosity=0
    )
    extracted = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(extracted)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(extracted)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = [
        line
        for line in untranslated.splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'
    ]
    fuzzy_ids = [
        line for line in fuzzy.splitlines() if line.startswith("msgid ") and line != 'msgid ""'
    ]
    assert not missing, "untranslated (run `make messages` and fill locale/zh_Hans): " + ", ".join(
        missing
    )
    assert not fuzzy_ids, "fuzzy translations to check: " + ", ".join(fuzzy_ids)


def test_compiled_catalog_is_current():
    po = CATALOG / "django.po"
    mo = CATALOG / "django.mo"
    assert mo.exists(), "run `make messages` to compile the catalog"
    assert mo.stat().st_size > 0 and po.stat().st_size > 0


def test_default_language_is_chinese(client, db):
    html = client.get("/login/").content.decode()
    assert '<html lang="zh-CN">' in html
    assert "登录" in html


def test_an_english_phone_still_gets_chinese(client, db):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in html
