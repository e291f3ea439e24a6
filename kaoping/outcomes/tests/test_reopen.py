"""Reopening a period voids what its close created; closing it again does not duplicate."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog
from kaoping.periods.models import ListMembership, Result
from kaoping.periods.services import period_close, period_reopen

from ..models import (
    BonusPayout,
    ExperienceShare,
    Honour,
    Interview,
    InterviewStatus,
    Pledge,
    PledgeStatus,
)
from ..services import interview_record, pledge_accept, pledge_item_add, pledge_item_done
from .fixtures import SPREAD, build_villages, load, score, villages

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    build_villages(county)
    return load(county), villages()


def test_reopen_voids_lists_results_and_what_nobody_acted_on(world, county):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    assert Interview.objects.filter(period=jan).count() == 3
    assert ExperienceShare.objects.filter(period=jan).exists()
    assert Pledge.objects.filter(period=jan).count() == 2
    assert BonusPayout.objects.filter(period=jan).exists()
    # s[8]'s interview is held; nobody has touched the others yet.
    interview_record(
        interview=Interview.objects.get(period=jan, subject=s[8]),
        held_on=date(2026, 2, 5),
        interviewer="镇党委副书记 李明",
        minutes="查摆问题三条。",
        acting_user=county.users["bob"],
    )
    period_reopen(period=jan, reason="数据未录完就关闭了", acting_user=county.users["alice"])

    assert not Result.objects.filter(period=jan).exists()
    assert not ListMembership.objects.filter(period=jan).exists()
    assert list(Interview.objects.filter(period=jan).values_list("subject_id", "triggered")) == [
        (s[8].pk, False)
    ]  # kept, as a record of what was done, but no longer triggered
    assert not ExperienceShare.objects.filter(period=jan).exists()
    assert not Pledge.objects.filter(period=jan).exists()
    assert not BonusPayout.objects.filter(period=jan).exists()
    assert not Honour.objects.filter(period=jan).exists()
    row = AuditLog.objects.get(action="outcomes.consequences.voided")
    assert row.after["reason"] == "数据未录完就关闭了"
    assert row.after["voided"]["interviews"] == 2
    assert row.after["kept_acted_on"] == {"interviews": 1}
    assert AuditLog.objects.filter(action="periods.period.voided").exists()

    # Closed again: everything comes back once, the held interview triggered again.
    period_close(period=jan, acting_user=system_actor())
    assert Interview.objects.filter(period=jan).count() == 3
    held = Interview.objects.get(period=jan, subject=s[8])
    assert held.triggered and held.status == InterviewStatus.HELD
    assert Pledge.objects.filter(period=jan).count() == 2
    assert ListMembership.objects.filter(period=jan, list_code="bottom3").count() == 3


def test_an_accepted_pledge_still_resolves_its_listing_after_a_reopening(world, county):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    pledge = Pledge.objects.get(period=jan, subject=s[10])
    for text in ("整改一", "整改二"):
        item = pledge_item_add(
            pledge=pledge, text=text, owner="村书记", acting_user=county.users["bob"]
        )
        pledge_item_done(item=item, acting_user=county.users["bob"])
    pledge_accept(pledge=pledge, acting_user=county.users["bob"])
    period_reopen(period=jan, reason="更正", acting_user=county.users["alice"])
    assert Pledge.objects.get(pk=pledge.pk).status == PledgeStatus.ACCEPTED  # acted on: kept
    period_close(period=jan, acting_user=system_actor())
    listing = ListMembership.objects.get(period=jan, subject=s[10], list_code="black")
    assert listing.resolved_at is not None
    assert Pledge.objects.filter(period=jan, subject=s[10]).count() == 1
