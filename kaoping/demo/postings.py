"""`build_postings`: the demo's posted and finalised periods, and a key village.

After the year of scoring, the months January–September (and 六比六争's first two quarters) are
posted and finalised, October (and Q3) are posted with their objection window open, so a new user
sees each stage of 考评—晾晒—补短—奖惩. The window of a finalised demo period is moved into the past
before it is finalised: demo history, not a shortcut the product offers.
"""

import time
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from kaoping.outcomes.services import key_village_designate
from kaoping.periods.models import ListMembership, Period, PeriodStatus
from kaoping.periods.services import period_finalise, period_post

MONTHLY = ("household-points", "leitai-biwu", "hong-huang-qi")
FINAL_MONTHS = [f"2026-{m:02d}" for m in range(1, 10)]
POSTED_MONTHS = ["2026-10"]
QUARTERLY = {"liubi-liuzheng": (["2026-Q1", "2026-Q2"], ["2026-Q3"])}
DEMO_TODAY = date(2026, 11, 20)


def _post_and_finalise(period: Period, admin) -> None:
    period = period_post(period=period, acting_user=admin)
    Period.objects.filter(pk=period.pk).update(
        objection_deadline=timezone.now() - timedelta(minutes=1)
    )
    period.refresh_from_db()
    period_finalise(period=period, acting_user=admin)


def build_postings(build) -> None:
    """Post and finalise the demo's past periods; designate a key village by hand."""
    started = time.monotonic()
    admin = get_user_model().objects.get(username="county")
    plan = {code: (FINAL_MONTHS, POSTED_MONTHS) for code in MONTHLY} | QUARTERLY
    finals = posted = 0
    for code, (final_labels, posted_labels) in plan.items():
        periods = {
            p.label: p for p in Period.objects.filter(scheme__code=code, status=PeriodStatus.CLOSED)
        }
        for label in final_labels:
            if label in periods:
                _post_and_finalise(periods[label], admin)
                finals += 1
        for label in posted_labels:
            if label in periods:
                period_post(period=periods[label], acting_user=admin)
                posted += 1
    # The village at the bottom of 六比六争's latest quarter gets help before the year's list is out.
    bottom = (
        ListMembership.objects.filter(period__scheme__code="liubi-liuzheng", kind="black")
        .order_by("-period__start", "-position", "subject_id")
        .select_related("subject", "period__scheme")
        .first()
    )
    if bottom is not None:
        key_village_designate(
            subject=bottom.subject,
            reason=f"{bottom.period.label} 六比六争黑榜末位，党委研究确定为重点村",
            support_team="镇党委副书记牵头，联村部门、驻村第一书记",
            exit_criteria="连续两个季度不在黑榜、不在全区后 12 名",
            scheme=bottom.period.scheme,
            acting_user=admin,
            today=DEMO_TODAY,
        )
    build.out(
        f"  postings: {finals} finalised, {posted} posted, key village: {bottom.subject if bottom else '—'}"
    )
    build.out(f"  ({time.monotonic() - started:.1f} s)")


build_postings.manages_transactions = True
build_postings.scores_only = True
