"""The throttles' counters: one count per call, in a window that counting does not stretch, in a
cache that every worker process shares (the database without Redis). Across real processes:
kaoping/core/tests/test_limits_two_workers.py."""

import datetime

import pytest
from django.core.cache import caches
from django.core.cache.backends import db as db_cache
from django.db import connection

from kaoping.core import throttle
from kaoping.core.throttle import AtomicDatabaseCache

pytestmark = pytest.mark.django_db


def _expires(key: str):
    cache = caches[throttle.ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT expires FROM kaoping_limits_cache WHERE cache_key = %s",
            [cache.make_key(key)],
        )
        return cursor.fetchone()[0]


def test_without_redis_the_counters_live_in_the_shared_database():
    # The default settings (no CACHE_URL): not a per-process memory cache.
    assert isinstance(caches[throttle.ALIAS], AtomicDatabaseCache)


def test_bump_counts_one_a_call_and_reset_starts_again():
    assert [throttle.bump("k", 60) for _ in range(4)] == [1, 2, 3, 4]
    assert throttle.count("k") == 4
    throttle.reset("k")
    assert throttle.count("k") == 0
    assert throttle.bump("k", 60) == 1


def test_counting_does_not_stretch_the_window(monkeypatch):
    throttle.bump("k", 60)
    opened = _expires("k")
    later = db_cache.tz_now() + datetime.timedelta(seconds=30)
    monkeypatch.setattr(db_cache, "tz_now", lambda: later)
    monkeypatch.setattr("kaoping.core.throttle.tz_now", lambda: later)
    assert throttle.bump("k", 60) == 2
    assert _expires("k") == opened


def test_a_closed_window_starts_a_new_count(monkeypatch):
    throttle.bump("k", 60)
    throttle.bump("k", 60)
    later = db_cache.tz_now() + datetime.timedelta(seconds=61)
    monkeypatch.setattr(db_cache, "tz_now", lambda: later)
    monkeypatch.setattr("kaoping.core.throttle.tz_now", lambda: later)
    assert throttle.count("k") == 0
    with pytest.raises(ValueError):
        caches[throttle.ALIAS].incr("k")  # an expired row is not counted on
    assert throttle.bump("k", 60) == 1


def test_incr_of_a_missing_key_is_a_value_error_as_django_documents():
    with pytest.raises(ValueError):
        caches[throttle.ALIAS].incr("missing")


def test_give_back_never_goes_below_zero():
    throttle.bump("k", 60)
    throttle.give_back("k")
    throttle.give_back("k")
    throttle.give_back("never-counted")
    assert throttle.count("k") == 0
    assert throttle.bump("k", 60) == 1
