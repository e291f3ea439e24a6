"""Lists, flags, streaks and awards computed at the close; the posting lifecycle."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.ledger.services import entry_record
from kaoping.periods.models import ListMembership, Period
from kaoping.periods.services import (
    period_close,
    period_finalise,
    period_open,
    period_post,
    period_reopen,
    periods_finalise_due,
)
from kaoping.regions.models import Region
from kaoping.schemes.services import scheme_load

from .scheme_fixture import record

pytestmark = pytest.mark.django_db

SCHEME = """
code: lists
version: 1
name: 榜单测试
subject_kind: village
cadence: month
tree:
  - code: A
    name: 工作
    children:
      - {code: P, name: 得分, rule: count, points: 1}
      - {code: BAR, name: 失信, rule: veto, effect: bar}
ranking:
  lists:
    - {code: red, name: 红榜, kind: red, count: 2, min: 3, min_inclusive: true}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 2}
    - {code: red_x, name: 红榜（同分不进）, kind: mark, count: 2, at_cutoff: exclude}
    - {code: top_pct, name: 前三成, kind: flag, percent: 30}
    - {code: climb, name: 进步榜, kind: progress, count: 1}
  streaks:
    - {code: champ, name: 常胜将军, list: red, periods: 2}
  awards:
    - code: prize
      name: 奖项
      allocation: fill_down
      tiers:
        - {code: first, name: 一等, quota: 1, min: 5}
        - {code: second, name: 二等, quota: 2}
posting:
  window_days: 3
"""


@pytest.fixture
def world(county):
    # Ten villages under 东岭街道 so cut-offs, percents and ties mean something.
    township = county.region("330304001")
    for n in range(3, 11):
        Region.objects.create(
            code=f"330304001{n:03d}", name=f"第{n}村", level="village", kind="村", parent=township
        )
    version, _ = scheme_load(
        text=SCHEME,
        filename="lists.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    from kaoping.people.models import Subject

    subjects = list(
        Subject.objects.filter(kind="village").select_related("region").order_by("region__code")
    )
    return version.scheme, subjects


def score(scheme, subjects, points, label="2026-03", vetoes=()):
    start = Period.objects.filter(scheme=scheme, label=label).first()
    day = date(int(label[:4]), int(label[5:]), 10)
    for subject, n in zip(subjects, points, strict=False):
        if n:
            record(scheme, subject, "P", str(n), on=day)
    for index in vetoes:
        record(scheme, subjects[index], "BAR", on=day)
    period = start or period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def members(period, code):
    return sorted(
        m.subject.region.name
        for m in ListMembership.objects.filter(period=period, list_code=code).select_related(
            "subject__region"
        )
    )


def names(subjects, *indexes):
    return sorted(subjects[i].region.name for i in indexes)


def test_top_with_threshold_ties_and_exclusivity(world):
    scheme, s = world
    # 11 villages: 9, 7, 7, 5, 4, 3, 2, 1, 1, 0, 0
    period = score(scheme, s, [9, 7, 7, 5, 4, 3, 2, 1, 1, 0, 0])
    assert members(period, "red") == names(s, 0, 1, 2)  # tie at place 2 takes both
    assert members(period, "red_x") == names(s, 0)  # …or neither
    assert members(period, "black") == names(s, 9, 10)
    assert members(period, "top_pct") == names(s, 0, 1, 2)  # ⌊11 × 30 %⌋ = 3
    assert (
        ListMembership.objects.filter(period=period, list_code="red")
        .values_list("position", flat=True)
        .order_by("position")[0]
        == 1
    )


def test_threshold_and_barred_keep_subjects_off_the_red_list(world):
    scheme, s = world
    period = score(scheme, s, [9, 2, 2, 1], vetoes=[0])
    assert members(period, "red") == []  # 9 is barred; 2 < the minimum of 3


def test_nobody_is_red_and_black_at_once(world):
    scheme, s = world
    for subject in s[3:]:
        subject.active = False
        subject.save(update_fields=["active"])
    period = score(scheme, s[:3], [5, 4, 3])  # three villages: bottom 2 and top 2 overlap
    assert members(period, "black") == names(s, 1, 2)
    assert members(period, "red") == names(s, 0)


def test_black_listing_carries_over_until_resolved(world):
    scheme, s = world
    march = score(scheme, s, [9, 7, 7, 5, 4, 3, 2, 1, 1, 0, 0])
    april = score(scheme, s, [0, 0, 7, 5, 4, 3, 2, 1, 1, 9, 9], label="2026-04")
    carried = ListMembership.objects.filter(period=april, list_code="black", carried=True)
    assert sorted(m.subject.region.name for m in carried) == names(s, 9, 10)
    ListMembership.objects.filter(period=march, subject=s[9], list_code="black").update(
        resolved_at=timezone.now()
    )
    period_close(period=april, acting_user=system_actor())
    assert sorted(
        m.subject.region.name
        for m in ListMembership.objects.filter(period=april, list_code="black", carried=True)
    ) == names(s, 10)


def test_progress_and_streak(world):
    scheme, s = world
    score(scheme, s, [9, 7, 7, 5, 4, 3, 2, 1, 1, 0, 0])
    april = score(scheme, s, [9, 7, 0, 5, 4, 3, 2, 1, 1, 0, 20], label="2026-04")
    assert members(april, "climb") == names(s, 10)  # from the bottom to the top
    assert members(april, "champ") == names(s, 0, 1)  # red in March and in April


def test_awards_fill_down_with_minimum(world):
    scheme, s = world
    period = score(scheme, s, [4, 7, 6, 5])
    tiers = dict(
        ListMembership.objects.filter(period=period, list_code="prize").values_list(
            "subject_id", "tier"
        )
    )
    assert tiers == {s[1].pk: "first", s[2].pk: "second", s[3].pk: "second"}


def test_lifecycle_post_window_finalise_and_reopen(world, county):
    scheme, s = world
    period = score(scheme, s, [1])
    with pytest.raises(KaopingError):
        period_finalise(period=period, acting_user=system_actor())  # not posted yet
    period = period_post(period=period, acting_user=county.users["alice"])
    assert period.status == "posted"
    assert period.objection_deadline - period.posted_at == timedelta(days=3)
    with pytest.raises(KaopingError, match="2026|until"):
        period_finalise(period=period, acting_user=system_actor())
    # A correction during the window keeps it posted.
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    assert period.status == "posted"
    later = period.objection_deadline + timedelta(minutes=1)
    assert (
        periods_finalise_due(now=later, acting_user=system_actor()) == [period]
        or Period.objects.get(pk=period.pk).status == "final"
    )
    period.refresh_from_db()
    assert period.status == "final"
    with pytest.raises(KaopingError):  # nothing more is recorded in a final period
        entry_record(
            scheme=scheme,
            subject=s[0],
            item_code="P",
            occurred_on=date(2026, 3, 11),
            acting_user=county.users["bob"],
        )
    with pytest.raises(KaopingError):
        period_reopen(period=period, reason=" ", acting_user=county.users["alice"])
    period = period_reopen(
        period=period, reason="群众异议属实，需重新核分", acting_user=county.users["alice"]
    )
    assert (period.status, period.posted_at) == ("open", None)
    assert AuditLog.objects.filter(
        action="periods.period.reopen", after__reason="群众异议属实，需重新核分"
    ).exists()
    # Reopened, the ledger takes entries dated in it again (its seal was lifted).
    entry, created = entry_record(
        scheme=scheme,
        subject=s[0],
        item_code="P",
        occurred_on=date(2026, 3, 11),
        acting_user=county.users["bob"],
    )
    assert created and entry.pk


def test_a_stale_transition_is_refused(world, county):
    scheme, s = world
    period = score(scheme, s, [1])
    stale = Period.objects.get(pk=period.pk)
    period_post(period=period, acting_user=system_actor())
    with pytest.raises(KaopingError):
        period_post(period=stale, acting_user=system_actor())


def test_finalise_due_command_finalises_only_expired_windows(world, capsys):
    from django.core.management import call_command

    scheme, s = world
    period = score(scheme, s, [1])
    period_post(period=period, acting_user=system_actor())
    call_command("finalise_due")
    assert Period.objects.get(pk=period.pk).status == "posted"
    Period.objects.filter(pk=period.pk).update(
        objection_deadline=timezone.now() - timedelta(minutes=1)
    )
    call_command("finalise_due")
    assert Period.objects.get(pk=period.pk).status == "final"
    assert "1 period(s) finalised" in capsys.readouterr().out
