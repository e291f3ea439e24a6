"""Public pages cached whole, until what they show changes.

A posted list (公示) is read by a whole county from the notice board's QR code and changes only
when its period does: re-closed after an upheld objection, posted, finalised, reopened, or an
objection filed or decided. The services that make those changes call `changed("period", pk)`,
which moves the period's generation on (now and at commit); pages are cached under
the generation they were rendered in. A hit costs two cache reads and no query.

Every entry also expires after PUBLIC_PAGE_CACHE_SECONDS: the default cache (LocMemCache) is one
per process, so a change made in one gunicorn worker reaches the others' caches only then.
Production sets CACHE_URL to Redis, where every worker sees the new generation at once.

Only anonymous readers are served from the cache: a request with a session or pending messages
gets the page rendered for it, and a response that sets a cookie is never stored.
"""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction


def _generation_key(namespace: str, ident) -> str:
    return f"pagecache:{namespace}:{ident}:generation"


def changed(namespace: str, ident) -> None:
    """What the pages of (namespace, ident) show has changed: drop them.

    The generation moves now, so that later reads in this transaction see the change, and again
    when it commits: a page rendered from the old rows in between would otherwise stay cached
    under the new generation.
    """

    def bump() -> None:
        key = _generation_key(namespace, ident)
        try:
            cache.incr(key)
        except ValueError:  # not cached yet, or evicted: any new value differs from the pages'
            cache.set(key, 1, None)

    bump()
    transaction.on_commit(bump)


def _anonymous(request) -> bool:
    return request.method in ("GET", "HEAD") and not (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or CookieStorage.cookie_name in request.COOKIES
    )


def cached_page(namespace: str, kwarg: str = "pk") -> Callable:
    """Cache a view's successful responses to anonymous readers per (namespace, kwarg) generation."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
            if not seconds or not _anonymous(request):
                return view(request, *args, **kwargs)
            ident = kwargs[kwarg]
            generation = cache.get(_generation_key(namespace, ident), 0)
            path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
            key = f"pagecache:{namespace}:{ident}:{generation}:{request.method}:{path}"
            response = cache.get(key)
            if response is None:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies:
                    if hasattr(response, "render"):
                        response.render()
                    cache.set(key, response, seconds)
            return response

        return wrapper

    return decorate
