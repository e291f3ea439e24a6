"""The refusal to serve on a SECRET_KEY nobody chose, and where the key comes from
(config/secret.py; the demo stores one for the quick start)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.secret import secret_key_from, secret_key_required, secret_key_store


def test_the_key_comes_from_the_environment_then_the_data_dir_then_nowhere(tmp_path):
    assert secret_key_from({"SECRET_KEY": "k" * 50}, tmp_path) == ("k" * 50, "environment")
    public = secret_key_from({"SECRET_KEY": "change-me-to-a-long-random-string"}, tmp_path)
    assert public[1] == ""  # a key printed in the examples is no key
    key, source = secret_key_from({}, tmp_path)
    assert source == "" and len(key) >= 50
    path = secret_key_store(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    stored = path.read_text().strip()
    assert secret_key_from({}, tmp_path) == (stored, str(path))
    assert secret_key_store(tmp_path).read_text().strip() == stored  # kept, not replaced


def test_a_server_without_debug_refuses_a_key_nobody_chose(settings):
    settings.DEBUG, settings.SECRET_KEY_SOURCE = False, ""
    with pytest.raises(ImproperlyConfigured) as caught:
        secret_key_required()
    assert "SECRET_KEY" in str(caught.value) and "kaoping demo" in str(caught.value)
    settings.DEBUG = True
    secret_key_required()
    settings.DEBUG, settings.SECRET_KEY_SOURCE = False, "environment"
    secret_key_required()


def test_the_wsgi_entry_point_refuses_to_start_without_a_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    code = "import config.wsgi"
    root = str(Path(__file__).resolve().parents[3])
    refused = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "SECRET_KEY is not set" in refused.stderr
    env["SECRET_KEY"] = "x" * 60
    started = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr[-2000:]


def test_the_demo_stores_a_key_for_the_quick_start(settings, tmp_path):
    from django.core.management import CommandError, call_command

    settings.DATA_DIR, settings.SECRET_KEY_SOURCE = tmp_path, ""
    with pytest.raises(CommandError):  # stops at the size check, after the key is stored
        call_command("demo", "--households", "1")
    stored = (tmp_path / "secret_key").read_text().strip()
    assert len(stored) >= 50 and secret_key_from({}, tmp_path)[0] == stored
