"""`build_postings`: the demo's posted and finalised periods, and a key village.

After the year of scoring, the months January–September (and 六比六争's first two quarters) are
posted and finalised, October (and Q3) are posted with their objection window open, so a new user
sees each stage of 考评—晾晒—补短—奖惩. The window of a finalised demo period is moved into the past
before it is finalised: demo history, not a shortcut the product offers.

The contest's year 2025 (months, quarters and the year, `scoring.HISTORY`) is posted and
finalised too, and what its closes triggered is recorded as done, as the townships did it: the
monthly and quarterly interviews and sharings, and the annual 表态发言 at the 全镇大会 of January
2026. So the annual ladder shows on the year's consequences page and the year's posting.
"""

import time
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kaoping.outcomes.models import ExperienceShare, Interview, InterviewStatus, ShareStatus
from kaoping.outcomes.services import key_village_designate
from kaoping.periods.models import ListMembership, Period, PeriodStatus
from kaoping.periods.services import period_finalise, period_post

from .scoring import CADENCE_ORDER, HISTORY, YEAR_START

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


def _post_history(admin) -> int:
    """Post and finalise the closed periods before YEAR_START (the contest's 2025), shortest
    cadence first, and record what their closes triggered as done. Returns the periods."""
    periods = sorted(
        Period.objects.filter(
            scheme__code__in=HISTORY, status=PeriodStatus.CLOSED, end__lt=YEAR_START
        ),
        key=lambda p: (CADENCE_ORDER.index(p.cadence), p.start),
    )
    for period in periods:
        _post_and_finalise(period, admin)
    with transaction.atomic():
        for period in periods:
            # A month's interview a fortnight after its close, a quarter's within the month;
            # the year's 表态发言 at the town meeting in late January.
            held = period.end + timedelta(days=24 if period.cadence == "year" else 14)
            Interview.objects.filter(period=period, status=InterviewStatus.PENDING).update(
                status=InterviewStatus.HELD,
                scheduled_on=held,
                held_on=held,
                interviewer="镇党委",
                minutes=HISTORY_MINUTES[period.cadence],
                recorded_by=admin,
                recorded_at=timezone.now(),
            )
            ExperienceShare.objects.filter(period=period, status=ShareStatus.PENDING).update(
                status=ShareStatus.HELD,
                held_on=period.end + timedelta(days=10),
                topic="擂台赛经验交流",
            )
    return len(periods)


HISTORY_MINUTES = {
    "month": "指出当月短板,村书记说明原因并提出下月整改措施。",
    "quarter": "听取村书记季度工作汇报,逐项明确整改事项和完成时限。",
    "half_year": "听取村书记半年工作汇报,明确整改事项。",
    "year": "在全镇大会上作表态发言,对照年度排名查找差距,公开承诺整改目标和时限。",
}


def build_postings(build) -> None:
    """Post and finalise the demo's past periods; designate a key village by hand."""
    started = time.monotonic()
    admin = get_user_model().objects.get(username="county")
    history = _post_history(admin)
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
        f"  postings: {finals} finalised, {posted} posted, {history} of the year before "
        f"finalised, key village: {bottom.subject if bottom else '—'}"
    )
    build.out(f"  ({time.monotonic() - started:.1f} s)")


build_postings.manages_transactions = True
build_postings.scores_only = True
