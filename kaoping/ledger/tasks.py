"""Background work of the ledger. Each task takes ids, calls one service, and may run twice."""

from django.contrib.auth import get_user_model
from django_tasks import task

from .imports import import_commit
from .models import ImportJob


@task()
def import_commit_task(job_id: int, user_id: int) -> str:
    """Import a checked file (all rows or none); returns the job's status.

    Idempotent: an imported or failed job is left as it is (see `import_commit`). It acts as the
    person who queued it, whose area the rows are checked against again. Not wrapped in a
    transaction: `import_commit` commits its progress as it goes and writes in one of its own.
    """
    job = ImportJob.objects.select_related("scheme").get(pk=job_id)
    user = get_user_model().objects.get(pk=user_id)
    return str(import_commit(job, acting_user=user).status)
