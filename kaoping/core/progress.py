"""Progress of long work (a close, a report, an import), for a page that polls it and survives a
reload: `/progress/<pk>/` (kaoping.core.views.progress_view) shows a bar until the work is done,
then links to its result page.

    progress = progress_start(kind="report.build", label="…", total=n, user_id=user.pk)
    for i, part in enumerate(parts, start=1):
        ...
        progress_step(progress, done=i, message="…")
    progress_finish(progress, url=reverse(...))          # or progress_finish(progress, error="…")

Call `progress_start` outside the work's transaction (a row created inside it is invisible to the
polling page until the work commits). A step is one conditional UPDATE, committed at once when no
transaction is open. Inside a transaction (the close runs in a single one) a step written by the
caller's connection would only be seen at commit, so:

- on PostgreSQL the step is written through a second connection of this thread, in autocommit, so
  the page sees it while the work's transaction is still open;
- on SQLite a second connection cannot write while the work holds the write lock (it would wait
  for the lock the work holds), so a step inside a transaction is kept on the object and written
  by the next step taken outside one, or by `progress_finish`. The page then shows the work as
  running, and done when it commits.

Steps are also thinned out: at most one write per STEP_SECONDS, and always the last one.
Always end with `progress_finish` (in a `finally` or an `except`): a progress left running shows
as stopped once it has not moved for LEASE_STALE_SECONDS.
"""

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from .models import Progress

STEP_SECONDS = 0.5
_side = threading.local()


def progress_start(
    *, kind: str, label: str, total: int, user_id: int | None = None, key: str = ""
) -> Progress:
    """A running Progress of `total` steps, shown to `user_id` (and superusers) alone. `key` names
    the object the work is about ("period.close:12"), so that a page finds it again."""
    return Progress.objects.create(
        kind=kind,
        key=key,
        label=label[:200],
        total=max(0, int(total)),
        started_by_id=user_id,
    )


def progress_step(progress: Progress, *, done: int, message: str = "") -> None:
    """Record that `done` of `progress.total` steps are done; cheap enough to call per batch."""
    progress.done = max(0, int(done))
    progress.message = message[:200]
    last = progress.total and progress.done >= progress.total
    now = time.monotonic()
    written = getattr(progress, "_written_at", None)
    if not last and written is not None and now - written < STEP_SECONDS:
        return
    if connection.in_atomic_block:
        if connection.vendor != "postgresql":
            return  # SQLite: see the module's docstring; the next step outside writes it
        _step_aside(progress)
    else:
        Progress.objects.filter(pk=progress.pk, status=Progress.Status.RUNNING).update(
            done=progress.done, message=progress.message, updated_at=timezone.now()
        )
    progress._written_at = now


def progress_finish(progress: Progress, *, url: str = "", error: str = "") -> None:
    """Mark the work done (all steps, a link to `url`) or failed with `error`, once.

    Written by the caller's connection: called inside the work's transaction, it commits with the
    work, so the page never shows "done" for work that was rolled back."""
    fields = {"url": url[:500], "error": error, "updated_at": timezone.now()}
    if error:
        fields["status"] = Progress.Status.FAILED
        fields["done"] = progress.done
    else:
        fields["status"] = Progress.Status.DONE
        fields["done"] = max(progress.done, progress.total)
    fields["message"] = progress.message
    Progress.objects.filter(pk=progress.pk, status=Progress.Status.RUNNING).update(**fields)
    for name, value in fields.items():
        setattr(progress, name, value)
    _close_side()


def progress_running(*, kind: str, key: str) -> Progress | None:
    """The latest running Progress of `kind` about `key` that moved within
    LEASE_STALE_SECONDS (an older one belongs to a process that died), if any."""
    fresh = timezone.now() - timedelta(seconds=settings.LEASE_STALE_SECONDS)
    return (
        Progress.objects.filter(
            kind=kind, key=key, status=Progress.Status.RUNNING, updated_at__gte=fresh
        )
        .order_by("-created_at", "-id")
        .first()
    )


def progress_visible(progress: Progress, user) -> bool:
    """Whether `user` may follow `progress`: its starter, or a superuser."""
    return bool(user.is_authenticated and (user.is_superuser or progress.started_by_id == user.pk))


def _step_aside(progress: Progress) -> None:
    """Write a step through this thread's second connection (PostgreSQL), in autocommit."""
    side = getattr(_side, "connection", None)
    if side is None:
        side = connections.create_connection(DEFAULT_DB_ALIAS)
        _side.connection = side
    table = connection.ops.quote_name(Progress._meta.db_table)
    with side.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET done = %s, message = %s, updated_at = %s "  # noqa: S608
            "WHERE id = %s AND status = %s",
            [progress.done, progress.message, timezone.now(), progress.pk, "running"],
        )


def _close_side() -> None:
    side = getattr(_side, "connection", None)
    if side is not None:
        side.close()
        _side.connection = None
