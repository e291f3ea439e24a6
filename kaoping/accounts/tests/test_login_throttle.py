"""The login throttle: failures counted per (username, address), a lockout that ends by itself."""

import time

import pytest

from kaoping.accounts.services import (
    login_failure_record,
    login_failures_clear,
    login_is_blocked,
)


@pytest.fixture(autouse=True)
def _three_tries(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900


def fail(times: int, username: str = "carol", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        login_failure_record(username=username, address=address)


def blocked(username: str = "carol", address: str = "10.0.0.1") -> bool:
    return login_is_blocked(username=username, address=address)


def test_blocked_at_the_limit_not_before():
    assert not blocked()
    fail(2)
    assert not blocked()
    fail(1)
    assert blocked()


def test_counted_per_username_and_address():
    fail(3)
    assert blocked()
    assert blocked(username="CAROL")  # usernames are counted case-insensitively
    assert not blocked(address="10.0.0.2")  # another machine may still try
    assert not blocked(username="carla")


def test_a_good_login_clears_the_count():
    fail(2)
    login_failures_clear(username="Carol", address="10.0.0.1")
    fail(2)
    assert not blocked()


def test_the_lockout_ends_after_the_window(monkeypatch):
    from django.core.cache.backends import locmem

    fail(3)
    assert blocked()
    later = time.time() + 901

    class Clock:
        @staticmethod
        def time():
            return later

    monkeypatch.setattr(locmem, "time", Clock)
    assert not blocked()
