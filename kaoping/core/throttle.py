"""Counters for the throttles (login lockouts, objection limits), shared by every web worker.

They live in the cache alias `limits` (config/settings.py): the Redis of CACHE_URL in
production, else a table in the database (`kaoping_limits_cache`, created by `migrate`). Either
is seen by all worker processes, unlike the per-process memory cache that serves the page
cache, so a limit of 5 is 5 however many workers answer. Counting is atomic: `add()` starts a
window, `incr()` counts in it (Redis INCR; for the database, `AtomicDatabaseCache.incr`).
"""

import base64
import pickle

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now

ALIAS = "limits"


def bump(key: str, window: int) -> int:
    """Count one more in the window that the first count opened; the new count."""
    cache = caches[ALIAS]
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window closed between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def give_back(key: str) -> None:
    """Undo one count (an attempt that turned out well), never below zero."""
    cache = caches[ALIAS]
    try:
        if cache.decr(key) < 0:
            cache.delete(key)
    except ValueError:
        pass


def count(key: str) -> int:
    return caches[ALIAS].get(key, 0)


def reset(key: str) -> None:
    caches[ALIAS].delete(key)


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache, with an `incr()` that two processes cannot interleave.

    Django's own reads the value and then writes it back, so two workers counting at once both
    write n+1. Here the row is read and rewritten in one transaction holding its lock (SELECT …
    FOR UPDATE on PostgreSQL; on SQLite every transaction takes the write lock at BEGIN, see
    SQLITE_OPTIONS). The expiry is kept: a window is not stretched by counting in it.
    """

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, key_col, value_col = quote(self._table), quote("cache_key"), quote("value")
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_col} FROM {table} WHERE {key_col} = %s "  # noqa: S608
                f"AND {quote('expires')} > %s{lock}",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_col} = %s WHERE {key_col} = %s",  # noqa: S608
                [encoded, key],
            )
        return value
