"""The login throttle: attempts counted per (username, address) and per address in the workers'
shared cache (kaoping.core.throttle), lockouts that end by themselves."""

import datetime

import pytest
from django.urls import reverse

from kaoping.accounts.services import (
    BLOCKED_ACCOUNT,
    BLOCKED_ADDRESS,
    login_attempt_begin,
    login_attempt_succeeded,
    login_is_blocked,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 10
    settings.LOGIN_ADDRESS_LOCKOUT_SECONDS = 900


def fail(times: int, username: str = "carol", address: str = "10.0.0.1") -> list:
    return [login_attempt_begin(username=username, address=address) for _ in range(times)]


def blocked(username: str = "carol", address: str = "10.0.0.1") -> bool:
    return login_is_blocked(username=username, address=address)


def test_blocked_at_the_limit_not_before():
    assert not blocked()
    assert fail(2) == [None, None]
    assert not blocked()
    assert fail(1) == [None]
    assert blocked()
    assert fail(1) == [BLOCKED_ACCOUNT]


def test_counted_per_username_and_address():
    fail(3)
    assert blocked()
    assert blocked(username="CAROL")  # usernames are counted case-insensitively
    assert not blocked(address="10.0.0.2")  # another machine may still try
    assert not blocked(username="carla")


def test_a_good_login_clears_the_account_count():
    fail(2)
    login_attempt_succeeded(username="Carol", address="10.0.0.1")
    fail(2)
    assert not blocked()


def test_many_usernames_from_one_address_lock_the_address():
    # 10 failures spread over 5 usernames: none reaches its own limit of 3, the address's 10 does.
    outcomes = [login_attempt_begin(username=f"user{n % 5}", address="10.0.0.9") for n in range(11)]
    assert outcomes[:10] == [None] * 10
    assert outcomes[10] == BLOCKED_ADDRESS
    assert blocked(username="someone-else", address="10.0.0.9")
    assert not blocked(username="someone-else", address="10.0.0.8")


def test_a_good_login_does_not_reset_the_address_count():
    fail(2, username="eve", address="10.0.0.9")
    for _ in range(4):  # a valid account signing in again and again gives back only its own
        login_attempt_begin(username="carol", address="10.0.0.9")
        login_attempt_succeeded(username="carol", address="10.0.0.9")
    outcomes = [login_attempt_begin(username=f"user{n}", address="10.0.0.9") for n in range(9)]
    assert outcomes[:8] == [None] * 8 and outcomes[8] == BLOCKED_ADDRESS


def test_the_lockout_ends_after_the_window(monkeypatch):
    from django.core.cache.backends import db as db_cache

    fail(3)
    assert blocked()
    later = db_cache.tz_now() + datetime.timedelta(seconds=901)
    monkeypatch.setattr(db_cache, "tz_now", lambda: later)
    assert not blocked()


def test_the_address_lockout_is_a_clear_chinese_message(county, client):
    for n in range(10):
        client.post(reverse("login"), {"username": f"nobody{n}", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "carol", "password": "pw"})
    assert "_auth_user_id" not in client.session
    assert "此网络登录失败次数过多" in response.content.decode()


def test_a_post_without_a_password_does_not_clear_a_lockout(county, client):
    for _ in range(3):
        client.post(reverse("login"), {"username": "carol", "password": "wrong"})
    client.post(reverse("login"), {"username": "carol", "password": ""})
    client.post(reverse("login"), {"username": "carol", "password": "pw"})
    assert "_auth_user_id" not in client.session
