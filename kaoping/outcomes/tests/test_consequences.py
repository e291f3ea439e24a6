"""What a close triggers: interview levels and escalation, shares, pledges, pairings, the bonus
pool, honours and key villages; and that closing again converges instead of duplicating."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.periods.models import ListMembership
from kaoping.periods.services import period_close
from kaoping.periods.tests.scheme_fixture import record

from ..models import (
    BonusPayout,
    BonusPool,
    EventKind,
    ExperienceShare,
    Honour,
    Interview,
    KeyVillage,
    KeyVillageEvent,
    Pairing,
    Pledge,
    PledgeItem,
)
from ..selectors import pairing_months, pairing_months_below, pledge_items_overdue
from ..services import (
    exchange_record,
    interview_record,
    key_village_leave,
    pledge_accept,
    pledge_item_add,
    pledge_item_done,
)
from .fixtures import CONTEST, SPREAD, build_villages, close, load, score, villages

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    build_villages(county)
    scheme = load(county)
    return scheme, villages()


def levels(period):
    return {
        i.subject_id: (i.level, i.repeat_count, i.escalated)
        for i in Interview.objects.filter(period=period)
    }


def test_bottom_three_are_interviewed_at_the_cadence_level_and_escalate_on_repeat(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    bottom = [s[8].pk, s[9].pk, s[10].pk]
    assert levels(jan) == {pk: ("deputy", 1, False) for pk in bottom}
    assert Interview.objects.get(period=jan, subject=s[8]).level_name == "党委副书记约谈"
    # The same three again in February: the second time within two months → one rung up.
    feb = score(scheme, s, SPREAD, "2026-02")
    assert levels(feb) == {pk: ("deputy_mayor", 2, True) for pk in bottom}
    # Third month running: both escalation rules apply → two rungs up.
    mar = score(scheme, s, SPREAD, "2026-03")
    assert {v[0] for v in levels(mar).values()} == {"secretary"}
    assert {v[1] for v in levels(mar).values()} == {3}
    # The quarter starts on its own rung: 镇党委副书记和镇长约谈, first quarter, no escalation.
    q1 = close(scheme, "2026-Q1")
    assert levels(q1) == {pk: ("deputy_mayor", 1, False) for pk in bottom}
    assert set(Interview.objects.filter(period=q1).values_list("level_name", flat=True)) == {
        "镇党委副书记和镇长约谈"
    }


def test_the_repeat_count_and_escalation_need_consecutive_listings(world):
    scheme, s = world
    score(scheme, s, SPREAD, "2026-01")
    score(scheme, s, list(reversed(SPREAD)), "2026-02")  # the bottom three are now the top
    mar = score(scheme, s, SPREAD, "2026-03")
    # Listed in January and March: twice within three months, but "2 within 2" looks only at
    # February (not listed) and "3 within 3" needs a third listing, so nothing escalates.
    for level, repeats, escalated in levels(mar).values():
        assert (level, repeats, escalated) == ("deputy", 2, False)


def test_a_cadence_without_a_level_has_no_interviews(county):
    build_villages(county)
    text = CONTEST.replace(
        "      - {code: deputy_mayor, name: 镇党委副书记和镇长约谈, cadences: [quarter]}\n",
        "      - {code: deputy_mayor, name: 镇党委副书记和镇长约谈}\n",
    )
    scheme = load(county, text)
    s = villages()
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    assert not Interview.objects.filter(period=close(scheme, "2026-Q1")).exists()


def test_top_three_share_experience_monthly(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    shares = ExperienceShare.objects.filter(period=jan).order_by("position")
    assert [(x.subject_id, x.position) for x in shares] == [
        (s[0].pk, 1),
        (s[1].pk, 2),
        (s[2].pk, 3),
    ]


def test_a_pledge_per_black_listed_subject_and_acceptance_stops_the_carry_over(world, county):
    scheme, s = world
    bob = county.users["bob"]
    jan = score(scheme, s, SPREAD, "2026-01")
    pledges = {p.subject_id: p for p in Pledge.objects.filter(period=jan)}
    assert set(pledges) == {s[9].pk, s[10].pk}  # the black list is the bottom two
    pledge = pledges[s[10].pk]
    assert pledge.deadline == timezone.localdate() + timedelta(days=30)
    # February: s[10] climbs off the black list but its January listing is carried over; the
    # open pledge carries on, no second one is made.
    feb_points = SPREAD[:8] + [0, 0, 5]
    feb = score(scheme, s, feb_points, "2026-02")
    carried = ListMembership.objects.get(period=feb, subject=s[10], list_code="black")
    assert carried.carried
    assert Pledge.objects.filter(subject=s[10]).count() == 1
    assert not Pledge.objects.filter(period=feb, subject=s[10]).exists()

    with translation.override("en"), pytest.raises(KaopingError, match="at least 2"):
        pledge_accept(pledge=pledge, acting_user=bob)
    first = pledge_item_add(
        pledge=pledge, text="整治村口垃圾点", owner="村委会主任", acting_user=bob
    )
    pledge_item_add(
        pledge=pledge,
        text="集体经济增收 3%",
        owner="村书记",
        deadline=date(2026, 6, 30),
        acting_user=bob,
    )
    assert first.deadline == pledge.deadline
    pledge_item_done(item=first, acting_user=bob)
    with translation.override("en"), pytest.raises(KaopingError, match="1 item is not done"):
        pledge_accept(pledge=pledge, acting_user=bob)
    with pytest.raises(KaopingError):
        pledge_item_done(item=first, acting_user=bob)  # already done
    for item in pledge.items.filter(status="open"):
        pledge_item_done(item=item, acting_user=bob)
    pledge = pledge_accept(pledge=pledge, acting_user=bob)
    assert pledge.status == "accepted"
    assert not ListMembership.objects.filter(
        subject=s[10], list_code="black", resolved_at__isnull=True
    ).exists()
    assert AuditLog.objects.filter(action="periods.membership.resolved").exists()
    with pytest.raises(KaopingError):
        pledge_item_add(pledge=pledge, text="再加一项", owner="某人", acting_user=bob)
    # March: the carry-over has stopped, and re-closing February keeps the resolution.
    period_close(period=feb, acting_user=system_actor())
    assert not ListMembership.objects.filter(
        period=feb, subject=s[10], list_code="black", resolved_at__isnull=True
    ).exists()
    mar = score(scheme, s, feb_points, "2026-03")
    assert not ListMembership.objects.filter(period=mar, subject=s[10], list_code="black").exists()
    assert Pledge.objects.filter(subject=s[10]).count() == 1


def test_overdue_items_are_found(world, county):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    pledge = Pledge.objects.get(period=jan, subject=s[10])
    late = pledge_item_add(
        pledge=pledge,
        text="修缮党群服务中心",
        owner="村书记",
        deadline=date(2026, 2, 1),
        acting_user=system_actor(),
    )
    pledge_item_add(
        pledge=pledge,
        text="建立议事会",
        owner="村主任",
        deadline=date(2026, 9, 1),
        acting_user=system_actor(),
    )
    assert list(pledge_items_overdue(today=date(2026, 3, 1))) == [late]
    assert list(pledge_items_overdue(county.users["carol"], today=date(2026, 3, 1))) == []
    bob_sees = pledge_items_overdue(county.users["bob"], today=date(2026, 3, 1))
    assert list(bob_sees) == [late]


def test_bonus_pool_is_exact_to_the_fen_with_the_remainder_stated(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    pool = BonusPool.objects.get(period=jan)
    payouts = {p.subject_id: p for p in BonusPayout.objects.filter(pool=pool)}
    # good (×3): 100000 × 3 / 14 = 21428.57 → 21428 fen, losing 8/14; fair (×1): 7142, losing 12/14.
    # 6 fen are left: one each to the five fair villages (larger loss), one to the best good one.
    assert sum(p.amount_fen for p in payouts.values()) == pool.amount_fen == 100000
    assert (pool.remainder_fen, pool.kept_fen, pool.recipients) == (6, 0, 8)
    assert payouts[s[0].pk].amount_fen == 21429 and payouts[s[0].pk].remainder_fen == 1
    assert payouts[s[1].pk].amount_fen == 21428 and payouts[s[1].pk].remainder_fen == 0
    assert {payouts[s[i].pk].amount_fen for i in range(3, 8)} == {7143}
    assert s[8].pk not in payouts  # poor: no weight, no money
    assert str(payouts[s[0].pk].amount) == "214.29"


def test_barred_subjects_get_no_money_and_no_honour(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01", vetoes=[0])
    assert not BonusPayout.objects.filter(period=jan, subject=s[0]).exists()
    assert not Honour.objects.filter(period=jan, subject=s[0]).exists()
    assert (
        sum(BonusPayout.objects.filter(period=jan).values_list("amount_fen", flat=True)) == 100000
    )


def test_honours_from_honour_grades_and_awards(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    honours = sorted(Honour.objects.filter(period=jan).values_list("subject_id", "source", "title"))
    assert honours == sorted(
        [
            (s[0].pk, "grade", "优秀"),
            (s[1].pk, "grade", "优秀"),
            (s[2].pk, "grade", "优秀"),
            (s[0].pk, "award", "擂台之星"),
        ]
    )
    # Honours are given on months only (cadences: [month]).
    for label in ("2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    assert not Honour.objects.filter(period=close(scheme, "2026-Q1")).exists()


def test_key_village_designated_by_rule_and_leaves_when_off_the_lists(world):
    scheme, s = world
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    q1 = close(scheme, "2026-Q1")
    kv = KeyVillage.objects.get(subject=s[10])  # the bottom one of the quarter
    assert (kv.by_rule, kv.period, kv.list_code, kv.left_on) == (True, q1, "focus", None)
    assert kv.exit_criteria == "连续两个月不在末位和黑榜"
    assert kv.events.get().kind == EventKind.DESIGNATED
    # Re-closing the quarter designates nothing twice.
    period_close(period=q1, acting_user=system_actor())
    assert KeyVillage.objects.filter(subject=s[10]).count() == 1
    # Its pledges are accepted, one per period it was black-listed (each ends its own listing's
    # carry-over); April: off the lists, May: off again → two months in a row → it leaves.
    pledges = Pledge.objects.filter(subject=s[10], status="open")
    assert pledges.count() == 4  # January, February, March and the quarter
    for pledge in pledges:
        for text in ("整治村容", "壮大集体经济"):
            pledge_item_done(
                item=pledge_item_add(
                    pledge=pledge, text=text, owner="村书记", acting_user=system_actor()
                ),
                acting_user=system_actor(),
            )
        pledge_accept(pledge=pledge, acting_user=system_actor())
    better = SPREAD[:8] + [0, 1, 7]
    score(scheme, s, better, "2026-04")
    assert KeyVillage.objects.get(pk=kv.pk).left_on is None
    may = score(scheme, s, better, "2026-05")
    kv.refresh_from_db()
    assert (kv.left_on, kv.left_by_rule, kv.left_period) == (timezone.localdate(), True, may)
    assert list(kv.events.values_list("kind", flat=True)) == [
        EventKind.DESIGNATED,
        EventKind.EXIT_MET,
        EventKind.LEFT,
    ]
    # A correction that puts it back at the bottom in May withdraws the exit.
    record(scheme, s[10], "P", "7", on=date(2026, 5, 20), sign=-1)
    period_close(period=may, acting_user=system_actor())
    kv.refresh_from_db()
    assert kv.left_on is None
    assert kv.events.filter(kind=EventKind.EXIT_WITHDRAWN).exists()
    assert not kv.events.filter(kind=EventKind.LEFT).exists()


def test_leaving_by_hand_needs_a_reason(world, county):
    scheme, s = world
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    close(scheme, "2026-Q1")
    kv = KeyVillage.objects.get(subject=s[10])
    with pytest.raises(KaopingError):
        key_village_leave(
            key_village=kv, left_on=timezone.localdate(), reason=" ", acting_user=system_actor()
        )
    kv = key_village_leave(
        key_village=kv,
        left_on=timezone.localdate(),
        reason="集体经济收入翻番,班子整顿到位",
        acting_user=county.users["bob"],
    )
    assert kv.left_on == timezone.localdate() and not kv.left_by_rule
    with pytest.raises(KaopingError):
        key_village_leave(
            key_village=kv, left_on=timezone.localdate(), reason="again", acting_user=system_actor()
        )


def test_pairing_strong_with_weak_and_the_monthly_check(world, county):
    scheme, s = world
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    q1 = close(scheme, "2026-Q1")
    pairs = {(p.strong_id, p.weak_id) for p in Pairing.objects.filter(period=q1)}
    # The best helps the weakest: 1st with the last, 2nd with the next-to-last…
    assert pairs == {(s[0].pk, s[10].pk), (s[1].pk, s[9].pk), (s[2].pk, s[8].pk)}
    pairing = Pairing.objects.get(period=q1, weak=s[10])
    assert (pairing.start, pairing.end, pairing.min_per_month) == (date(2026, 4, 1), None, 2)
    bob = county.users["bob"]
    today = date(2026, 6, 15)
    exchange_record(
        pairing=pairing,
        on=date(2026, 4, 3),
        kind="offline",
        note="观摩",
        acting_user=bob,
        today=today,
    )
    exchange_record(
        pairing=pairing,
        on=date(2026, 4, 20),
        kind="offline",
        note="座谈",
        acting_user=bob,
        today=today,
    )
    exchange_record(
        pairing=pairing,
        on=date(2026, 5, 9),
        kind="offline",
        note="现场指导",
        acting_user=bob,
        today=today,
    )
    exchange_record(
        pairing=pairing,
        on=date(2026, 5, 19),
        kind="online",
        note="视频会",
        acting_user=bob,
        today=today,
    )
    checks = pairing_months([pairing], today=today)[pairing.pk]
    assert [(c.month, c.count, c.complete, c.short) for c in checks] == [
        (date(2026, 4, 1), 2, True, False),
        (date(2026, 5, 1), 1, True, True),  # the online meeting does not count
        (date(2026, 6, 1), 0, False, False),  # June is not over yet
    ]
    below = pairing_months_below(today=today)
    assert (pairing.pk, date(2026, 5, 1)) in {(c.pairing.pk, c.month) for c in below}
    assert all(c.month in (date(2026, 4, 1), date(2026, 5, 1)) for c in below)
    with pytest.raises(KaopingError):
        exchange_record(
            pairing=pairing,
            on=date(2026, 3, 30),
            kind="offline",
            note="早了",
            acting_user=bob,
            today=today,
        )
    with pytest.raises(KaopingError):
        exchange_record(
            pairing=pairing,
            on=date(2026, 7, 1),
            kind="offline",
            note="未来",
            acting_user=bob,
            today=today,
        )


def test_a_new_round_ends_the_previous_pairings(world):
    scheme, s = world
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    q1 = close(scheme, "2026-Q1")
    for label in ("2026-04", "2026-05", "2026-06"):
        score(scheme, s, SPREAD, label)
    q2 = close(scheme, "2026-Q2")
    assert set(Pairing.objects.filter(period=q1).values_list("end", flat=True)) == {
        date(2026, 6, 30)
    }
    assert set(Pairing.objects.filter(period=q2).values_list("start", "end")) == {
        (date(2026, 7, 1), None)
    }
    # Closing the first round again keeps its end at the second round, and makes no duplicates.
    period_close(period=q1, acting_user=system_actor())
    assert Pairing.objects.filter(period=q1).count() == 3
    assert set(Pairing.objects.filter(period=q1).values_list("end", flat=True)) == {
        date(2026, 6, 30)
    }


def test_closing_again_converges_and_keeps_what_was_acted_on(world, county):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")

    def snapshot():
        return (
            sorted(Interview.objects.filter(period=jan).values_list("subject_id", "level")),
            sorted(ExperienceShare.objects.filter(period=jan).values_list("subject_id", flat=True)),
            sorted(Pledge.objects.filter(period=jan).values_list("subject_id", flat=True)),
            sorted(BonusPayout.objects.filter(period=jan).values_list("subject_id", "amount_fen")),
            sorted(Honour.objects.filter(period=jan).values_list("subject_id", "code")),
        )

    before = snapshot()
    period_close(period=jan, acting_user=system_actor())
    assert snapshot() == before
    # The interview of s[8] is held and minuted; s[9]'s is not acted on.
    held = Interview.objects.get(period=jan, subject=s[8])
    interview_record(
        interview=held,
        held_on=date(2026, 2, 5),
        interviewer="镇党委副书记 李明",
        minutes="查摆问题三条,限期一个月整改。",
        acting_user=county.users["bob"],
    )
    # A correction lifts s[8] and s[9] out of the bottom three (and s[9] off the black list).
    record(scheme, s[8], "P", "20", on=date(2026, 1, 20))
    record(scheme, s[9], "P", "20", on=date(2026, 1, 20))
    period_close(period=jan, acting_user=system_actor())
    interviews = {i.subject_id: i for i in Interview.objects.filter(period=jan)}
    assert interviews[s[8].pk].triggered is False  # kept: it was held, with minutes
    assert interviews[s[8].pk].minutes.startswith("查摆问题")
    assert s[9].pk not in interviews  # never acted on: gone
    assert set(interviews) == {s[8].pk, s[6].pk, s[7].pk, s[10].pk}
    assert Interview.objects.filter(period=jan, triggered=True).count() == 3
    assert not Pledge.objects.filter(period=jan, subject=s[9]).exists()
    assert (
        sum(BonusPayout.objects.filter(period=jan).values_list("amount_fen", flat=True)) == 100000
    )
    # Back as it was: the held interview is triggered again, not duplicated.
    record(scheme, s[8], "P", "20", on=date(2026, 1, 21), sign=-1)
    period_close(period=jan, acting_user=system_actor())
    assert Interview.objects.get(period=jan, subject=s[8]).triggered is True
    assert Interview.objects.filter(period=jan, subject=s[8]).count() == 1


def test_a_pledge_with_items_stays_when_its_listing_disappears(world):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    pledge = Pledge.objects.get(period=jan, subject=s[9])
    pledge_item_add(pledge=pledge, text="整改", owner="村书记", acting_user=system_actor())
    record(scheme, s[9], "P", "20", on=date(2026, 1, 20))
    period_close(period=jan, acting_user=system_actor())
    pledge.refresh_from_db()
    assert pledge.triggered is False and PledgeItem.objects.filter(pledge=pledge).count() == 1


def test_interview_minutes_rules(world, county):
    scheme, s = world
    jan = score(scheme, s, SPREAD, "2026-01")
    interview = Interview.objects.get(period=jan, subject=s[10])
    bob = county.users["bob"]
    with pytest.raises(KaopingError) as caught:
        interview_record(interview=interview, held_on=date(2026, 2, 3), acting_user=bob)
    assert "minutes" in caught.value.message_dict
    with pytest.raises(KaopingError):
        interview_record(interview=interview, acting_user=bob)
    interview = interview_record(
        interview=interview, scheduled_on=date(2026, 2, 10), acting_user=bob
    )
    assert interview.status == "scheduled"
    interview = interview_record(
        interview=interview,
        held_on=date(2026, 2, 10),
        minutes="表态:一个月内完成整改。",
        interviewer="镇党委副书记",
        acting_user=bob,
    )
    assert (interview.status, interview.scheduled_on) == ("held", date(2026, 2, 10))
    with pytest.raises(KaopingError):
        interview_record(interview=interview, scheduled_on=date(2026, 3, 1), acting_user=bob)
    assert AuditLog.objects.filter(action="outcomes.interview.recorded").count() == 2


def test_events_written_by_the_close_are_written_once(world):
    scheme, s = world
    for label in ("2026-01", "2026-02", "2026-03"):
        score(scheme, s, SPREAD, label)
    q1 = close(scheme, "2026-Q1")
    period_close(period=q1, acting_user=system_actor())
    period_close(period=q1, acting_user=system_actor())
    assert KeyVillageEvent.objects.filter(period=q1).count() == 1
