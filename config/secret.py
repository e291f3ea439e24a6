"""Where SECRET_KEY comes from, and the refusal to serve on a key nobody chose.

The key signs sessions' login hashes, password-reset links and the objection address hashes,
so a key anyone can read in the source would let anyone forge them. In order: the SECRET_KEY
environment variable (production), a key stored in DATA_DIR/secret_key (`kaoping demo` writes
one for the quick start), or a random key for this process alone (tests, one-off commands). The
WSGI and ASGI entry points refuse to start on that last one unless DEBUG is on.
"""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

KEY_FILE = "secret_key"
# Keys that have been public (in this repository's history and examples): never a key.
PUBLIC_KEYS = frozenset(
    {"kaoping-insecure-development-key-change-me", "change-me-to-a-long-random-string"}
)


def secret_key_from(environ: Mapping[str, str], data_dir: Path) -> tuple[str, str]:
    """(key, where it came from); where is "" for a random key of this process alone."""
    key = environ.get("SECRET_KEY", "").strip()
    if key and key not in PUBLIC_KEYS:
        return key, "environment"
    path = Path(data_dir) / KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    if key:
        return key, str(path)
    return secrets.token_urlsafe(50), ""


def secret_key_store(data_dir: Path) -> Path:
    """Write a random key to DATA_DIR/secret_key (readable by its owner alone) unless one is
    there; the settings read it at the next start."""
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: processes starting together
    # (gunicorn's workers) all end up reading the one key that won.
    draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(50) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path


def secret_key_required() -> None:
    """Refuse to serve with DEBUG off on a key chosen by nobody (see the module docstring)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.DEBUG and not settings.SECRET_KEY_SOURCE:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), or, on a "
            f"laptop, run `kaoping demo` once: it stores a key in {settings.DATA_DIR / KEY_FILE}."
        )
