"""Background work of reports. A task takes ids, calls one service, and may run twice."""

from django.contrib.auth import get_user_model
from django_tasks import task

from .models import Report
from .services import report_build


@task()
def report_build_task(report_id: int, user_id: int) -> str:
    """Build a queued report as the person who asked for it; returns its status.

    Idempotent: a report that is no longer queued is left as it is (see `report_build`).
    """
    report = Report.objects.select_related("region", "scheme", "period").get(pk=report_id)
    user = get_user_model().objects.get(pk=user_id)
    return str(report_build(report=report, acting_user=user).status)
