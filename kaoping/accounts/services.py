"""Login throttling: counters in the cache, keyed by username and client address."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}|{address}".encode()).hexdigest()[:32]
    return f"kaoping:login-failures:{digest}"


def login_is_blocked(*, username: str, address: str) -> bool:
    return cache.get(_key(username, address), 0) >= settings.LOGIN_MAX_FAILURES


def login_failure_record(*, username: str, address: str) -> None:
    key = _key(username, address)
    # add() then incr() is atomic on every cache backend we support; the window starts at the
    # first failure, so a blocked user waits at most LOGIN_LOCKOUT_SECONDS.
    cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_key(username, address))
