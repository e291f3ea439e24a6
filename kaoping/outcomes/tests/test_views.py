"""Consequence pages by persona: in scope, read-only, out of scope (404), anonymous (login).

Denied writes change nothing. The world: January closed with 东岭村 (carol's) and 西溪村
(oscar's) at the very bottom — interviewed and black-listed — 第10村 third from the bottom.
bob is township staff of 东岭街道, which holds 东岭村 and 第10村 but not 西溪村.
"""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog

from ..models import (
    Exchange,
    ExperienceShare,
    Interview,
    KeyVillage,
    Pairing,
    Pledge,
    PledgeItem,
)
from ..services import key_village_designate, pledge_item_add
from .fixtures import build_villages, load, score, villages

pytestmark = pytest.mark.django_db

# 西溪村 1, 东岭村 0, 南山社区 10, 第3村 9 … 第10村 2
POINTS = [1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2]


@pytest.fixture
def world(county):
    build_villages(county)
    scheme = load(county)
    s = villages()
    jan = score(scheme, s, POINTS, "2026-01")
    dongling, xixi, nanshan, tenth = s[1], s[0], s[2], s[10]
    pairing = Pairing.objects.create(
        period=jan,
        scheme=scheme,
        strong=nanshan,
        weak=dongling,
        start=date(2026, 2, 1),
    )
    far_pairing = Pairing.objects.create(
        period=jan, scheme=scheme, strong=s[3], weak=xixi, start=date(2026, 2, 1)
    )
    kv = key_village_designate(
        subject=dongling, reason="连续黑榜", acting_user=county.users["alice"]
    )
    far_kv = key_village_designate(
        subject=xixi, reason="连续黑榜", acting_user=county.users["alice"]
    )
    return {
        "period": jan,
        "mine": Interview.objects.get(period=jan, subject=dongling),
        "tenth": Interview.objects.get(period=jan, subject=tenth),
        "far": Interview.objects.get(period=jan, subject=xixi),
        "pledge": Pledge.objects.get(period=jan, subject=dongling),
        "far_pledge": Pledge.objects.get(period=jan, subject=xixi),
        "pairing": pairing,
        "far_pairing": far_pairing,
        "kv": kv,
        "far_kv": far_kv,
    }


def url(name, obj=None):
    return reverse(f"outcomes:{name}", args=[obj.pk] if obj is not None else [])


# -- anonymous ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("index", None),
        ("badge", None),
        ("period", "period"),
        ("interview", "mine"),
        ("pledge", "pledge"),
        ("pairing", "pairing"),
        ("key_villages", None),
        ("key_village", "kv"),
    ],
)
def test_anonymous_is_sent_to_log_in(world, client, name, key):
    response = client.get(url(name, world[key] if key else None))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_anonymous_writes_change_nothing(world, client):
    response = client.post(
        url("interview", world["mine"]), {"held_on": "2026-02-01", "minutes": "x"}
    )
    assert response.status_code == 302
    assert Interview.objects.get(pk=world["mine"].pk).status == "pending"


# -- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [("alice", 200), ("bob", 200), ("carol", 200), ("clara", 200), ("dave", 403), ("erin", 403)],
)
def test_index_by_persona(world, client_for, county, username, status):
    assert client_for(county, username).get(url("index")).status_code == status


def test_period_overview_shows_what_the_user_may_see(world, client_for, county):
    period = world["period"]
    seen = {}
    for username in ("alice", "bob", "carol", "oscar"):
        response = client_for(county, username).get(url("period", period))
        assert response.status_code == 200
        seen[username] = {i.subject.name for i in response.context["interviews"]}
    assert seen["alice"] == {"东岭村", "西溪村", "第10村"}
    assert seen["bob"] == {"东岭村", "第10村"}
    assert seen["carol"] == {"东岭村"}
    assert seen["oscar"] == {"西溪村"}
    html = client_for(county, "bob").get(url("period", period)).content.decode()
    assert "党委副书记约谈" in html and "东岭村" in html and "西溪村" not in html


def test_period_overview_lists_payouts_with_the_remainder_line(world, client_for, county):
    response = client_for(county, "alice").get(url("period", world["period"]))
    pool = response.context["pool"]
    assert pool.amount_fen == 100000
    assert response.context["payout_sum"] + pool.kept_fen == pool.amount_fen
    html = response.content.decode()
    assert 'class="small remainder"' in html


def test_period_overview_query_count(world, client_for, county, django_assert_max_num_queries):
    client = client_for(county, "alice")
    client.get(url("period", world["period"]))  # warm the session
    with django_assert_max_num_queries(20):
        client.get(url("period", world["period"]))


def test_period_overview_needs_the_outcome_right(world, client_for, county):
    assert client_for(county, "dave").get(url("period", world["period"])).status_code == 403


@pytest.mark.parametrize(
    ("username", "key", "status"),
    [
        ("alice", "far", 200),
        ("bob", "mine", 200),
        ("bob", "far", 404),
        ("carol", "mine", 200),
        ("carol", "tenth", 404),
        ("oscar", "mine", 404),
        ("dave", "mine", 404),
    ],
)
def test_interview_page_by_persona(world, client_for, county, username, key, status):
    assert client_for(county, username).get(url("interview", world[key])).status_code == status


@pytest.mark.parametrize(
    ("username", "key", "status"),
    [
        ("bob", "pledge", 200),
        ("bob", "far_pledge", 404),
        ("carol", "pledge", 200),
        ("clara", "pledge", 200),
        ("oscar", "pledge", 404),
    ],
)
def test_pledge_page_by_persona(world, client_for, county, username, key, status):
    assert client_for(county, username).get(url("pledge", world[key])).status_code == status


@pytest.mark.parametrize(
    ("username", "key", "status"),
    [("bob", "pairing", 200), ("bob", "far_pairing", 404), ("carol", "pairing", 200)],
)
def test_pairing_page_by_persona(world, client_for, county, username, key, status):
    assert client_for(county, username).get(url("pairing", world[key])).status_code == status


@pytest.mark.parametrize(
    ("username", "key", "status"),
    [("bob", "kv", 200), ("bob", "far_kv", 404), ("carol", "kv", 200), ("oscar", "kv", 404)],
)
def test_key_village_page_by_persona(world, client_for, county, username, key, status):
    assert client_for(county, username).get(url("key_village", world[key])).status_code == status


def test_key_village_list_is_scoped(world, client_for, county):
    response = client_for(county, "bob").get(url("key_villages"))
    assert [kv.subject.name for kv in response.context["active"]] == ["东岭村"]
    assert client_for(county, "dave").get(url("key_villages")).status_code == 403


# -- interview minutes --------------------------------------------------------------------------


def test_township_staff_record_minutes(world, client_for, county):
    interview = world["mine"]
    response = client_for(county, "bob").post(
        url("interview", interview),
        {
            "held_on": "2026-02-05",
            "interviewer": "镇党委副书记 李明",
            "minutes": "表态发言,限期整改。",
        },
    )
    assert response.status_code == 302
    interview.refresh_from_db()
    assert (interview.status, interview.minutes) == ("held", "表态发言,限期整改。")
    assert interview.recorded_by == county.users["bob"]


def test_minutes_form_reports_what_is_missing(world, client_for, county):
    response = client_for(county, "bob").post(
        url("interview", world["mine"]), {"held_on": "2026-02-05"}
    )
    assert response.status_code == 200 and response.context["form"].errors["minutes"]
    assert Interview.objects.get(pk=world["mine"].pk).status == "pending"


@pytest.mark.parametrize(("username", "status"), [("carol", 403), ("clara", 403), ("oscar", 404)])
def test_minutes_refused_change_nothing(world, client_for, county, username, status):
    before = AuditLog.objects.count()
    response = client_for(county, username).post(
        url("interview", world["mine"]), {"held_on": "2026-02-05", "minutes": "不该写入"}
    )
    assert response.status_code == status
    assert Interview.objects.get(pk=world["mine"].pk).minutes == ""
    assert AuditLog.objects.count() == before


# -- pledges ------------------------------------------------------------------------------------


def test_the_secretary_writes_and_ticks_off_the_village_pledge(world, client_for, county):
    pledge = world["pledge"]
    client = client_for(county, "carol")
    response = client.post(
        url("pledge", pledge),
        {"text": "完成村口垃圾点整治", "owner": "村委会主任", "deadline": "2026-03-31"},
    )
    assert response.status_code == 302
    item = PledgeItem.objects.get(pledge=pledge)
    assert (item.owner, item.deadline, item.created_by) == (
        "村委会主任",
        date(2026, 3, 31),
        county.users["carol"],
    )
    assert client.post(url("pledge_item_done", item)).status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.done_by == county.users["carol"]
    # …but accepting the rectification is for the township.
    assert client.post(url("pledge_accept", pledge)).status_code == 403
    assert Pledge.objects.get(pk=pledge.pk).status == "open"


def test_the_township_accepts_a_finished_pledge(world, client_for, county):
    pledge = world["pledge"]
    for text in ("整治村容", "规范三务公开"):
        item = pledge_item_add(pledge=pledge, text=text, owner="村书记", acting_user=system_actor())
        PledgeItem.objects.filter(pk=item.pk).update(status="done")
    response = client_for(county, "bob").post(url("pledge_accept", pledge), follow=True)
    assert response.status_code == 200
    assert Pledge.objects.get(pk=pledge.pk).status == "accepted"


def test_accepting_an_unfinished_pledge_says_why(world, client_for, county):
    pledge = world["pledge"]
    response = client_for(county, "bob").post(url("pledge_accept", pledge), follow=True)
    assert Pledge.objects.get(pk=pledge.pk).status == "open"
    assert any("2" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize(
    ("username", "key", "status"),
    [("clara", "pledge", 403), ("oscar", "pledge", 404), ("carol", "far_pledge", 404)],
)
def test_pledge_writes_refused_change_nothing(world, client_for, county, username, key, status):
    pledge = world[key]
    item = pledge_item_add(
        pledge=pledge, text="已有事项", owner="村书记", acting_user=system_actor()
    )
    client = client_for(county, username)
    assert client.post(url("pledge", pledge), {"text": "x", "owner": "y"}).status_code == status
    assert client.post(url("pledge_item_done", item)).status_code == status
    assert client.post(url("pledge_accept", pledge)).status_code in (403, 404)
    assert PledgeItem.objects.filter(pledge=pledge).count() == 1
    assert PledgeItem.objects.get(pk=item.pk).status == "open"
    assert Pledge.objects.get(pk=pledge.pk).status == "open"


# -- pairings -----------------------------------------------------------------------------------


def test_township_staff_log_exchanges(world, client_for, county):
    pairing = world["pairing"]
    response = client_for(county, "bob").post(
        url("pairing", pairing), {"on": "2026-02-10", "kind": "offline", "note": "现场观摩"}
    )
    assert response.status_code == 302
    assert Exchange.objects.filter(pairing=pairing).count() == 1
    response = client_for(county, "bob").get(url("pairing", pairing))
    checks = response.context["checks"]
    assert (checks[0].month, checks[0].count) == (date(2026, 2, 1), 1)


@pytest.mark.parametrize(("username", "status"), [("carol", 403), ("oscar", 404)])
def test_exchange_refused_changes_nothing(world, client_for, county, username, status):
    response = client_for(county, username).post(
        url("pairing", world["pairing"]), {"on": "2026-02-10", "kind": "offline", "note": "x"}
    )
    assert response.status_code == status
    assert not Exchange.objects.exists()


# -- key villages -------------------------------------------------------------------------------


def test_township_staff_designate_update_and_record_the_exit(world, client_for, county):
    client = client_for(county, "bob")
    today = timezone.localdate()
    tenth = Interview.objects.get(pk=world["tenth"].pk).subject
    response = client.post(
        url("key_villages"),
        {"subject": tenth.pk, "reason": "集体经济薄弱", "support_team": "张三（镇联村干部）\n李四"},
    )
    assert response.status_code == 302
    kv = KeyVillage.objects.get(subject=tenth, left_on__isnull=True)
    assert kv.team == ["张三（镇联村干部）", "李四"] and kv.designated_by == county.users["bob"]
    # Out of bob's township: not offered, refused.
    response = client.post(url("key_villages"), {"subject": world["far"].subject_id, "reason": "x"})
    assert response.status_code == 200 and response.context["form"].errors["subject"]
    response = client.post(
        url("key_village", kv), {"support_team": "王五", "exit_criteria": "连续两季度不在黑榜"}
    )
    assert response.status_code == 302
    kv.refresh_from_db()
    assert kv.support_team == "王五" and kv.exit_criteria == "连续两季度不在黑榜"
    response = client.post(
        url("key_village", kv),
        {"action": "leave", "left_on": today.isoformat(), "reason": "整转晋位"},
    )
    assert response.status_code == 302
    kv.refresh_from_db()
    assert kv.left_on == today
    assert list(kv.events.values_list("kind", flat=True)) == [
        "designated",
        "support",
        "criteria",
        "left",
    ]


@pytest.mark.parametrize(("username", "status"), [("carol", 403), ("oscar", 404)])
def test_key_village_writes_refused_change_nothing(world, client_for, county, username, status):
    kv = world["kv"]
    client = client_for(county, username)
    assert client.post(url("key_village", kv), {"support_team": "不该写入"}).status_code == status
    assert (
        client.post(
            url("key_village", kv), {"action": "leave", "left_on": "2026-06-30", "reason": "x"}
        ).status_code
        == status
    )
    kv.refresh_from_db()
    assert kv.support_team == "" and kv.left_on is None
    before = KeyVillage.objects.count()
    response = client.post(url("key_villages"), {"subject": kv.subject_id, "reason": "x"})
    assert response.status_code == 403
    assert KeyVillage.objects.count() == before


# -- badge --------------------------------------------------------------------------------------


def test_badge_counts_overdue_items_in_scope(world, client_for, county):
    pledge_item_add(
        pledge=world["pledge"],
        text="早该完成",
        owner="村书记",
        deadline=date(2026, 2, 1),
        acting_user=system_actor(),
    )
    assert client_for(county, "bob").get(url("badge")).content.decode().count("badge") == 1
    # oscar's village has no overdue items… but its pairing has had months without exchanges.
    html = client_for(county, "erin").get(url("badge")).content.decode()
    assert html == ""


def test_menu_links_to_consequences_only_for_those_who_may_see_them(world, client_for, county):
    assert "/outcomes/" in client_for(county, "bob").get("/").content.decode()
    assert "/outcomes/" not in client_for(county, "dave").get("/").content.decode()


# -- experience sharing -------------------------------------------------------------------------


def test_township_staff_record_a_sharing(world, client_for, county):
    share = ExperienceShare.objects.get(period=world["period"], subject__region__name="第3村")
    response = client_for(county, "bob").post(url("share_held", share), {"topic": "村级活动场所"})
    assert response.status_code == 302
    share.refresh_from_db()
    assert (share.status, share.topic, share.held_on) == (
        "held",
        "村级活动场所",
        timezone.localdate(),
    )
    # Recorded once; a second time says so and changes nothing.
    client_for(county, "bob").post(url("share_held", share), {"topic": "再来"})
    share.refresh_from_db()
    assert share.topic == "村级活动场所"


@pytest.mark.parametrize(("username", "status"), [("clara", 403), ("carol", 403), ("oscar", 404)])
def test_sharing_refused_changes_nothing(world, client_for, county, username, status):
    # 东岭村 shares too (say it is on a second list): its own secretary may not record it.
    share = ExperienceShare.objects.create(
        period=world["period"], subject=world["mine"].subject, list_code="top3", position=4
    )
    assert client_for(county, username).post(url("share_held", share)).status_code == status
    share.refresh_from_db()
    assert share.status == "pending"


def test_key_village_list_query_count_does_not_grow_with_villages(world, client_for, county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(county, "alice")
    counts = []
    for more in ([], villages()[3:7]):
        for subject in more:
            key_village_designate(subject=subject, reason="连续黑榜", acting_user=system_actor())
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("key_villages"))
        counts.append(len(queries))
    assert len(response.context["active"]) == 6
    assert counts[0] == counts[1]


def test_period_overview_query_count_does_not_grow_with_consequences(world, client_for, county):
    """Every section of the period's page (interviews, shares, pledges with items, pairings with
    exchanges, payouts, honours) gets rows for 3 new villages, then for 9 in all: the same count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kaoping.people.models import Subject
    from kaoping.people.services import subjects_sync
    from kaoping.regions.models import Region

    from ..models import BonusPayout, BonusPool, Honour

    period = world["period"]
    pool = BonusPool.objects.get(period=period)
    strong = world["pairing"].strong
    township = county.region("330304001")
    made = 0

    def add(n):
        nonlocal made
        codes = [f"330304001{900 + made + i:03d}" for i in range(n)]
        made += n
        for code in codes:
            Region.objects.create(
                code=code, name=f"新{code[-3:]}村", level="village", kind="村", parent=township
            )
        subjects_sync(kind="village")
        for subject in Subject.objects.filter(region__code__in=codes):
            Interview.objects.create(
                period=period,
                subject=subject,
                list_code="bottom3",
                level="deputy",
                level_name="约谈",
            )
            ExperienceShare.objects.create(period=period, subject=subject, list_code="top3")
            pledge = Pledge.objects.create(
                period=period,
                subject=subject,
                scheme=period.scheme,
                list_code="black",
                deadline=date(2026, 3, 2),
            )
            for text in ("整改环境", "补开会议"):
                PledgeItem.objects.create(
                    pledge=pledge, text=text, owner="书记", deadline=date(2026, 3, 2)
                )
            pairing = Pairing.objects.create(
                period=period,
                scheme=period.scheme,
                strong=strong,
                weak=subject,
                start=date(2026, 2, 1),
            )
            Exchange.objects.create(pairing=pairing, on=date(2026, 2, 5), note="现场交流")
            BonusPayout.objects.create(
                period=period,
                subject=subject,
                pool=pool,
                basis="fair",
                weight=10000,
                total=0,
                rank=99,
                amount_fen=0,
            )
            Honour.objects.create(
                period=period, subject=subject, source="award", code="star:star", title="擂台之星"
            )

    client = client_for(county, "alice")
    client.get(url("period", period))  # warm the session
    counts = []
    for n in (3, 6):
        add(n)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("period", period))
        counts.append(len(queries))
    assert response.status_code == 200
    assert len(response.context["pairings"]) == Pairing.objects.filter(period=period).count()
    assert len(response.context["interviews"]) == Interview.objects.filter(period=period).count()
    assert counts[0] == counts[1]
