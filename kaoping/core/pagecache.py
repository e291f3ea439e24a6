"""Public pages cached whole, until what they show changes.

A posted list (公示) is read by a whole county from the notice board's QR code and changes only
when its period does: re-closed after an upheld objection, posted, finalised, reopened, or an
objection filed or decided. The services that make those changes call `changed("period", pk)`,
which moves the period's generation on (now and at commit); pages are cached under
the generation they were rendered in. A hit costs two cache reads and no query.

Every entry also expires after PUBLIC_PAGE_CACHE_SECONDS: the default cache (LocMemCache) is one
per process, so a change made in one gunicorn worker reaches the others' caches only then.
Production sets CACHE_URL to Redis, where every worker sees the new generation at once.

A public page shows nothing of who reads it but the messages waiting for them: a reader with none
(anonymous or signed in) is served from the cache; one with a message pending (in its cookie)
gets the page rendered, and a response that sets a cookie is never stored. Console pages keep the costly parts of what they show instead (`cached_value`: the
count of a closed period's results, the ids on one page of them, a closed period's rendered
standing), under the same generations and expiry: the same `changed` drops them.
"""

import hashlib
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import transaction
from django.utils.functional import cached_property


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


def _same_for_every_reader(request) -> bool:
    """A GET or HEAD from a reader with no message waiting (messages wait in their cookie: the
    fallback storage reads the session only for what the cookie says did not fit), signed in or
    not: it gets what every reader gets."""
    return request.method in ("GET", "HEAD") and CookieStorage.cookie_name not in request.COOKIES


def cached_page(namespace: str, kwarg: str = "pk") -> Callable:
    """Cache a public view's successful responses per (namespace, kwarg) generation, for every
    reader with no message waiting."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
            if not seconds or not _same_for_every_reader(request):
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


_MISSING = object()


def cached_value(namespace: str, idents: Iterable, key: str, compute: Callable):
    """`compute()`, kept until any of the (namespace, ident) it derives from changes (or for
    PUBLIC_PAGE_CACHE_SECONDS). `key` names the value among those of the same idents; whatever
    it depends on besides them (the reader's scope, a filter, a page number) belongs in it."""
    seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
    if not seconds:
        return compute()
    idents = sorted(idents)
    generations = cache.get_many([_generation_key(namespace, ident) for ident in idents])
    stamp = ",".join(
        f"{ident}.{generations.get(_generation_key(namespace, ident), 0)}" for ident in idents
    )
    # Hashed with the generations: a value read from many periods (a year's dashboard) would
    # otherwise name them all in a key longer than caches take (memcached: 250 characters).
    digest = hashlib.sha256(f"{stamp}|{key}".encode()).hexdigest()[:40]
    full_key = f"pagecache:{namespace}:value:{digest}"
    value = cache.get(full_key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(full_key, value, seconds)
    return value


class CachedPaginator(Paginator):
    """A Paginator over a closed period's rows that keeps the count, and the ids on each page,
    with `cached_value`: the rows themselves are read again by those ids (a few rows by primary
    key), so that names and places stay current and the queryset's own restriction still applies.

    The count and the ordered scan over a province's results are what a list page costs; they
    change only when the period does. `key` says what else the queryset depends on (the
    reader's scope, a filter); `idents` the periods it reads."""

    def __init__(self, object_list, per_page, *, namespace: str, idents: Iterable, key: str):
        super().__init__(object_list, per_page)
        self.cache_namespace, self.cache_idents, self.cache_key = namespace, list(idents), key

    def _cached(self, name: str, compute: Callable):
        return cached_value(
            self.cache_namespace, self.cache_idents, f"{self.cache_key}|{name}", compute
        )

    @cached_property
    def count(self) -> int:
        return self._cached("count", self.object_list.count)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        ids = self._cached(
            f"page:{number}:{self.per_page}",
            lambda: list(self.object_list.values_list("pk", flat=True)[bottom:top]),
        )
        by_id = {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}
        return self._get_page([by_id[pk] for pk in ids if pk in by_id], number, self)


def paginator_number(paginator: Paginator, number) -> int:
    """The page `Paginator.get_page(number)` would give, without reading its rows: the first
    for a number that is not one, the last for one past the end."""
    try:
        return paginator.validate_number(number or 1)
    except PageNotAnInteger:
        return 1
    except EmptyPage:
        return paginator.num_pages
