"""Background work of periods. Each task takes ids, calls one service, and may run twice."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from kaoping.core.errors import KaopingError
from kaoping.core.leases import lease_release
from kaoping.core.models import Progress
from kaoping.core.progress import progress_finish

from .models import Period
from .services import period_close

logger = logging.getLogger(__name__)


def close_key(period_id: int) -> str:
    """The lease and progress key of a period's close: one close of a period at a time."""
    return f"period.close:{period_id}"


@task()
def period_close_task(period_id: int, user_id: int, progress_id: int) -> str:
    """Close a period as the person who asked, telling `progress` how far it is; the status.

    Idempotent: a progress no longer running (done, failed) is left as it is, so a task run
    twice closes once. The close and the progress's "done" commit together; on a refusal or a
    failure the previous results stand and the progress says why. Releases the close's lease
    (taken by the page that queued it) either way.
    """
    progress = Progress.objects.get(pk=progress_id)
    if progress.status != Progress.Status.RUNNING:
        return str(progress.status)
    try:
        period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
        user = get_user_model().objects.get(pk=user_id)
        with transaction.atomic(durable=True):
            counts = period_close(period=period, acting_user=user, progress=progress)
            progress.message = _("Closed: %(results)d results.") % counts
            progress_finish(progress, url=reverse("periods:detail", args=[period_id]))
    except (KaopingError, PermissionDenied) as exc:
        error = " ".join(getattr(exc, "messages", [])) or _("You may not close this period.")
        progress_finish(progress, url=reverse("periods:close", args=[period_id]), error=error)
    except Exception:
        logger.exception("closing period %s failed", period_id)
        progress_finish(
            progress,
            url=reverse("periods:close", args=[period_id]),
            error=_("The close failed and the previous results stand; the server log has why."),
        )
    finally:
        lease_release(close_key(period_id))
    return str(progress.status)
