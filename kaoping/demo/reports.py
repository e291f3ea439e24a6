"""`build_reports`: the county's report schedule and one report already made.

The county sends the 考评通报 of 六比六争 (the village scheme) to the county and township admins
after each close; the schedule has sent nothing yet, so the demo server's periodic runner
(`reports_due`, hourly, first at start) builds the bulletin of the newest closed quarter and
delivers it to their inboxes (the township admins receive their township's part). One bulletin,
of the newest quarter for the demo township (景山街道: a county's is a few hundred rows, and
WeasyPrint takes seconds per hundred), is made by the township admin here, so the report list and
its files are there before the runner has run.
"""

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import system_actor
from kaoping.periods.models import Period, PeriodStatus
from kaoping.regions.models import Region
from kaoping.reports.models import ReportKind, ReportSchedule
from kaoping.reports.services import report_build, report_create, schedule_save
from kaoping.schemes.models import Scheme

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

VILLAGE_SCHEME = "liubi-liuzheng"


def build_reports(build: "Build") -> None:
    from kaoping.demo.generator import COUNTY_CODE

    scheme = Scheme.objects.filter(code=VILLAGE_SCHEME).first()
    if scheme is None:
        return
    county = Region.objects.get(code=COUNTY_CODE)
    system = system_actor()
    with transaction.atomic():
        if not ReportSchedule.objects.filter(scheme=scheme, kind=ReportKind.BULLETIN).exists():
            schedule_save(
                kind=ReportKind.BULLETIN,
                scheme=scheme,
                region=county,
                recipients=[Role.COUNTY_ADMIN, Role.TOWNSHIP_STAFF],
                when="after_close",
                acting_user=system,
            )
    newest = (
        Period.objects.filter(scheme=scheme, cadence=scheme.cadence)
        .exclude(status=PeriodStatus.OPEN)
        .order_by("-start")
        .first()
    )
    staff = get_user_model().objects.filter(username="township").first()
    if newest is None or staff is None:
        return
    township = staff.role_assignments.get().region
    with transaction.atomic():
        report = report_create(
            kind=ReportKind.BULLETIN,
            scheme=scheme,
            period=newest,
            region=township,
            acting_user=staff,
        )
    report = report_build(report=report, acting_user=staff)
    build.out(f"reports: {report.title} ({report.status})")


build_reports.scores_only = True
build_reports.manages_transactions = True
