"""Golden cases: each shipped scheme closed on a small ledger whose result is worked out by hand.

The arithmetic is in the comments and the expected numbers are literals, so that a change in
the engine, in the reference or in a scheme file shows up here as a number somebody can check
against the file with pencil and paper. Variants are covered: the three 擂台比武 tracks and the
six party-member classes.
"""

from datetime import date
from decimal import Decimal

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.evaluations.models import LinkService
from kaoping.ledger.models import Entry, MetricValue
from kaoping.people.models import Household, PartyMember, Subject
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.testing import result_node
from kaoping.schemes.models import METRIC_SCALE, SchemeNode

from .close_harness import build_world, load, record, set_tracks, shipped_text

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"
D = Decimal


def times(n, world, subject, item, **kwargs):
    for _ in range(n):
        record(world, subject, item, **kwargs)


def rate(world, subject, item, *labels, on=date(2026, 3, 10)):
    for label in labels:
        record(world, subject, item, label=label, on=on)


def report(period, subject, metric, value):
    MetricValue.objects.create(
        scheme_id=period.scheme_id,
        period_label=period.label,
        subject=subject,
        metric=metric,
        value_scaled=int(D(value) * METRIC_SCALE),
    )


def linking_member(world, name, n):
    """`name` (a head of household) made a party member of their village, linking `n` new
    households of it: `member_household_coverage` is computed from the services they render
    (kaoping.evaluations.linking), never typed in."""
    person = world.county.persons[name]
    village = person.region.parent
    member, _created = PartyMember.objects.get_or_create(
        person=person, defaults={"region": village, "branch": f"{village.name}党支部"}
    )
    member.linked_households.set(
        Household.objects.create(
            region=person.region, number=f"{person.region.code}L{i:03d}", address=f"联系户{i}"
        )
        for i in range(n)
    )
    return member


def serve(member, count, on):
    """`member` serves the first `count` of their linked households on `on`."""
    for household in member.linked_households.order_by("number")[:count]:
        LinkService.objects.create(
            member=member,
            household=household,
            served_on=on,
            note="走访",
            recorded_by=system_actor(),
        )


def open_period(world, label):
    return period_open(scheme=world.scheme, label=label, acting_user=system_actor())


def result(period, subject) -> Result:
    return Result.objects.get(period=period, subject=subject)


def total(period, subject) -> Decimal:
    return period.version.to_points(result(period, subject).total)


def value(period, subject, code) -> Decimal:
    """A node's points: its row, or its empty value when nothing was recorded below it."""
    row = result_node(period, subject, code)
    if row is None:
        node = SchemeNode.objects.get(
            version=period.version, variant=result(period, subject).variant, code=code
        )
        return period.version.to_points(node.empty_value)
    return period.version.to_points(row.value)


def by_village(world) -> dict[str, Subject]:
    return {s.region.code: s for s in world.scored}


def test_household_points(county):
    world = build_world(shipped_text("household-points.yaml"), "household-points.yaml", county)
    homes = [s for s in world.scored if s.region.code.startswith(DONGLING)]  # four households
    a, b, c, d = homes
    e, f = [s for s in world.scored if s.region.code.startswith(NANSHAN)]

    # a: base 100; 见义勇为 +10; 美丽庭院 +3; 志愿服务 7 × 1 = 7, capped at 5;
    #    乱倒垃圾 2 × −2 = −4 (a third one recorded and reversed does not count).
    record(world, a, "GY02")
    record(world, a, "JS01")
    times(7, world, a, "GY04")
    times(2, world, a, "HW01")
    wrong = record(world, a, "HW01")
    Entry.objects.filter(pk=record(world, a, "HW01", sign=-1).pk).update(reverses=wrong)
    # → 正面 10 + 5 + 3 = 18, 负面 −4: 100 + 18 − 4 = 114.
    # b: 拾金不昧 +2 → 102 before the veto; 刑事处罚 (effect zero) → 0.
    record(world, b, "GY03")
    record(world, b, "FJ01")
    # c: 捐款 2.5 百元 × 1 = 2.5 → 0 decimals, half up → 3: 103.
    record(world, c, "GY05", "2.5")
    # d: 大操大办 11 × −10 = −110: 100 − 110 = −10 → floor 0 (not a veto: not zeroed).
    times(11, world, d, "FF01")
    # e: 邪教 (effect bar): 100, barred. f: 骗取低保 (effect grade): forced 待提升户.
    record(world, e, "FJ02")
    record(world, f, "FJ04")
    # An entry in April and an unapproved one change nothing.
    record(world, a, "GY02", on=date(2026, 4, 1))
    Entry.objects.create(
        scheme=world.scheme, subject=a, item_code="GY02", occurred_on=date(2026, 3, 5)
    )

    period = open_period(world, "2026-03")
    period_close(period=period, acting_user=system_actor())

    assert total(period, a) == 114
    assert value(period, a, "GY04") == 5  # the cap
    assert value(period, a, "ZM1") == 15  # 见义勇为 10 + 志愿服务 5
    assert value(period, a, "ZM") == 18
    assert value(period, a, "FM") == -4
    assert (total(period, b), result(period, b).zeroed) == (0, True)
    assert period.version.to_points(result(period, b).raw_total) == 102
    assert total(period, c) == 103
    assert value(period, c, "GY05") == 3
    assert (total(period, d), result(period, d).zeroed) == (0, False)
    assert (total(period, e), result(period, e).barred) == (100, True)
    assert (result(period, f).grade_code, result(period, f).grade_forced) == ("daitisheng", True)
    # Grades are given per year only: a month has none unless a veto forces one.
    assert result(period, a).grade_code == ""
    # Ranked inside the village: a 114, c 103, then b and d tie at 0 (competition: 3, 3).
    ranks = [result(period, s).rank for s in (a, c, b, d)]
    assert ranks == [1, 2, 3, 3]
    assert result(period, e).rank_group == NANSHAN


def test_hong_huang_qi(county):
    world = build_world(shipped_text("hong-huang-qi.yaml"), "hong-huang-qi.yaml", county)
    v = by_village(world)
    a, b, c = v[DONGLING], v[NANSHAN], v[XIXI]
    for village in (a, b):
        # 镇领导班子评议 (好 1 + 较好 0.85 + 一般 0.7) / 3 = 0.85 × 20 = 17.0
        rate(world, village, "ZD01.1", "好", "较好", "一般")
        record(world, village, "ZD02.1")  # 交办任务 20 − 4 = 16 → 重点工作 33
        record(world, village, "ZL01.1")  # 信访 10 − 3 = 7
        rate(world, village, "ZL02.1", "好")  # 10 → 基层治理 17
        rate(world, village, "MS02.1", "基本满意")  # 0.8 × 10 = 8 → 民生 10 + 8 = 18
        times(2, world, village, "JF01")  # 2 × 3 = 6 → 加分 max 5
    record(world, b, "FJ01")  # bar: no 红旗
    # c: (较好 0.85 + 一般 0.7 + 差 0.5) / 3 × 20 = 13.666… → 13.7 (one decimal, half up)
    rate(world, c, "ZD01.1", "较好", "一般", "差")
    # 党员联户覆盖率 = linked households served in the month ÷ linked households:
    # a: 19 of 20 = 95.00 → [95, ∞) → 10;  b: 18 of 19 = 94.74 → [80, 95) → 7.
    serve(linking_member(world, "王建国", 20), 19, date(2026, 3, 12))
    serve(linking_member(world, "陈明", 19), 18, date(2026, 3, 31))
    period = open_period(world, "2026-03")
    period_close(period=period, acting_user=system_actor())

    # a: 33 + (10 + 主题党日 10) + 17 + 18 + 5 = 93.0 → 红旗 (≥ 90).
    assert total(period, a) == D("93.0")
    assert result(period, a).grade_code == "hongqi"
    assert value(period, a, "ZD01.1") == 17
    assert value(period, a, "JF") == 5
    # b: 93 − 3 = 90.0, inside 红旗 [90, ∞), but barred: no grade at all.
    assert total(period, b) == 90
    assert (result(period, b).grade_code, result(period, b).barred) == ("", True)
    # c: 13.7 + 20 + 主题党日 10 + 信访 10 + 人居 10 = 63.7 → 黄旗 (< 75).
    assert value(period, c, "ZD01.1") == D("13.7")
    assert total(period, c) == D("63.7")
    assert result(period, c).grade_code == "huangqi"
    # Ranked inside the township: a and b in 东岭街道, c alone in 西溪镇.
    assert [result(period, s).rank for s in (a, b, c)] == [1, 2, 1]

    # April, on the bounds: 红旗 is ≥ 90 (90 included), 黄旗 < 75 (75 excluded). The empty
    # month is 50 (交办 20, 主题党日 10, 信访 10, 人居 10).
    on = date(2026, 4, 8)
    rate(world, a, "ZD01.1", "好", on=on)  # 20
    rate(world, a, "ZL02.1", "好", on=on)  # 10
    rate(world, a, "MS02.1", "满意", on=on)  # 10 → 90.0
    rate(world, b, "ZD01.1", "好", on=on)  # 20
    record(world, b, "JF01", on=on)  # 3
    record(world, b, "JF02", on=on)  # 2 → 75.0
    rate(world, c, "ZD01.1", "一般", on=on)  # 14
    rate(world, c, "MS02.1", "满意", on=on)  # 10 → 74.0
    april = open_period(world, "2026-04")
    period_close(period=april, acting_user=system_actor())
    assert [total(april, s) for s in (a, b, c)] == [90, 75, 74]
    # 75 is 达标 (no flag; [75, 90) shares the bonus pool at the lower weight).
    assert [result(april, s).grade_code for s in (a, b, c)] == ["hongqi", "dabiao", "huangqi"]


def test_leitai_biwu_tracks(county):
    world = build_world(shipped_text("leitai-biwu.yaml"), "leitai-biwu.yaml", county)
    v = by_village(world)
    tracks = {DONGLING: "示范", NANSHAN: "创优", XIXI: "强基"}
    set_tracks([v[code] for code in tracks], list(tracks.values()))
    for village in v.values():
        rate(world, village, "DJ", "优秀", "良好")  # (1 + 0.85) / 2 = 0.925
        rate(world, village, "CY", "良好")  # 0.85
        rate(world, village, "HJ", "一般", "较差", "优秀")  # (0.7 + 0.5 + 1) / 3 = 0.7333…
        rate(world, village, "ZL", "优秀")  # 1; 民生 not rated: 0
    period = open_period(world, "2026-03")
    period_close(period=period, acting_user=system_actor())

    # 示范 (20/30/15/15/20): 18.5 + 25.5 + 11.0 + 0 + 20 = 75.00
    assert total(period, v[DONGLING]) == D("75.00")
    assert value(period, v[DONGLING], "HJ") == D("11.00")
    # 创优 = default (25/20/20/15/20): 23.125 → 23.13, 17, 14.666… → 14.67, 0, 20 = 74.80
    assert total(period, v[NANSHAN]) == D("74.80")
    assert value(period, v[NANSHAN], "DJ") == D("23.13")
    # 强基 (30/15/20/15/20): 27.75 + 12.75 + 14.67 + 0 + 20 = 75.17
    assert total(period, v[XIXI]) == D("75.17")
    assert value(period, v[XIXI], "CY") == D("12.75")
    for code, track in tracks.items():
        r = result(period, v[code])
        assert (r.variant, r.rank_group, r.rank, r.grade_code) == (track, track, 1, "")


def test_liubi_liuzheng(county):
    world = build_world(shipped_text("liubi-liuzheng.yaml"), "liubi-liuzheng.yaml", county)
    v = by_village(world)
    a, b, c = v[DONGLING], v[NANSHAN], v[XIXI]
    on = date(2026, 2, 14)  # a quarterly scheme: 2026-Q1
    times(2, world, a, "BL01.1", on=on)  # 班子运行 15 − 2 × 2 = 11
    times(3, world, a, "BL03.1", on=on)  # 10 − 3 × 5 = −5 → floor 0
    rate(world, a, "BL07.1", "好", "较好", on=on)  # 0.925 × 15 = 13.875 → 13.88
    times(2, world, a, "JJ02.1", on=on)  # 2 × 5 = 10 → cap 5
    times(3, world, a, "JJ02.2", on=on)  # 3 × 5 = 15 → cap 10 → 项目 15 (max 15)
    record(world, a, "JJ03.2", "1.25", on=on)  # 1.25 × −2 = −2.5 → 20 − 2.5 = 17.5
    record(world, a, "HJ05.1", "12", on=on)  # 12 × 1 = 12 → cap 10
    rate(world, a, "QL04.1", "差", on=on)  # 0.5 × 15 = 7.5
    record(world, a, "QL05.V", on=on)  # bar
    record(world, b, "PA03.V", on=on)  # grade: 不合格
    # 党员联户覆盖率, the quarter's services: 17 of 20 households = 85.00 → [85, 95) → 10
    # (served in January and March; April's service is the next quarter's).
    member = linking_member(world, "王建国", 20)
    serve(member, 10, date(2026, 1, 5))
    serve(member, 17, date(2026, 3, 28))
    serve(member, 20, date(2026, 4, 1))
    period = open_period(world, "2026-Q1")
    report(period, a, "collective_income_growth", "4.9999")  # [0, 5) → 15
    report(period, b, "visit_coverage", "95")  # [95, ∞) → 15
    period_close(period=period, acting_user=system_actor())

    # With nothing recorded a village keeps its bases: 堡垒 70, 经济 60, 平安 70, 环境 65,
    # 文明 35, 清廉 70 = 370.
    assert total(period, c) == D("370.00")
    assert result(period, c).grade_code == "hege"  # [360, 480)
    # a: 堡垒 11 + 15 + 0 + 10 + 10 + 10 + 13.88 + 10 = 79.88
    #    经济 15 + 15 + 17.5 + 15 + 10 + 15 = 87.5;  平安 70;  环境 65 + 10 = 75;  文明 35;
    #    清廉 70 + 7.5 = 77.5  →  424.88 → 合格, barred (合格 is no honour, so it stays).
    assert value(period, a, "BL03") == 0
    assert value(period, a, "BL07.1") == D("13.88")
    assert value(period, a, "BL") == D("79.88")
    assert value(period, a, "JJ") == D("87.5")
    assert total(period, a) == D("424.88")
    assert (result(period, a).grade_code, result(period, a).barred) == ("hege", True)
    # b: 370 + 15 = 385 → 合格 by total, forced to 不合格 by the veto.
    assert total(period, b) == 385
    assert (result(period, b).grade_code, result(period, b).grade_forced) == ("buhege", True)
    assert [result(period, s).rank for s in (a, b, c)] == [1, 2, 3]  # the whole county


def test_qianfen_team(county):
    world = build_world(shipped_text("qianfen-team.yaml"), "qianfen-team.yaml", county)
    v = by_village(world)
    a, b, c = v[DONGLING], v[NANSHAN], v[XIXI]
    on = date(2026, 5, 20)  # half-yearly: 2026-H1
    record(world, a, "DL1.1.1", on=on)  # 组织建设 50 − 5 = 45 → 党的建设 145
    times(6, world, a, "DL2.2.1", on=on)  # 6 × 10 = 60 → cap 50
    record(world, a, "DL3.3.3", on=on)  # 安全 50 − 25 = 25
    record(world, a, "DL4.2.1", "37.5", on=on)  # 37.5 件 × 1 = 37.5
    rate(world, a, "DX01", "好", "好", "较好", on=on)  # (1 + 1 + 0.85) / 3 × 60 = 57
    rate(world, a, "DX05", "满意", "基本满意", on=on)  # 0.875 × 80 = 70
    rate(world, a, "DX06", "一般", on=on)  # 0.7 × 80 = 56
    times(2, world, a, "JF01", on=on)  # 40
    record(world, a, "JF03", on=on)  # + 15 = 55 → 加分 max 50
    record(world, a, "KF01", on=on)  # −20
    for item in ("DX01", "DX02", "DX03", "DX04", "DX06"):
        rate(world, b, item, "好", on=on)
    rate(world, b, "DX05", "满意", on=on)  # 定性 60 × 4 + 80 + 80 = 400
    record(world, b, "KF07", on=on)  # grade: 不合格
    times(5, world, c, "KF02", on=on)  # 5 × −50 = −250 → 扣分 floor −200

    # 农户积分参与率 is computed by the close: 3 of 东岭村's 4 households have an approved
    # points entry in the half year → 75 % → [75, 90) → 35.
    households = load(county, shipped_text("household-points.yaml"), "household-points.yaml")
    homes = Subject.objects.filter(kind="household", region__code__startswith=DONGLING)
    for home in homes.order_by("id")[:3]:
        Entry.objects.create(
            scheme=households.scheme,
            subject=home,
            item_code="GY03",
            occurred_on=date(2026, 2, 2),
            status="approved",
        )

    period = open_period(world, "2026-H1")
    report(period, a, "collective_income_growth", "10")  # [10, ∞) → 60
    report(period, a, "visit_coverage", "84.9999")  # [70, 85) → 20
    period_close(period=period, acting_user=system_actor())

    # a: 定量 145 + (60 + 50 + 40) + (20 + 50 + 25) + (50 + 37.5 + 35) = 512.5
    #    定性 57 + 70 + 56 = 183; 加分 50; 扣分 −20  →  725.5 → 基本合格 [600, 750)
    assert value(period, a, "DL2") == 150
    assert value(period, a, "DL4.3.1") == 35
    assert value(period, a, "DL") == D("512.5")
    assert value(period, a, "DX") == 183
    assert total(period, a) == D("725.5")
    assert result(period, a).grade_code == "jibenhege"
    # b: 340 + 400 = 740 → 基本合格 by total, forced to 不合格.
    assert total(period, b) == 740
    assert (result(period, b).grade_code, result(period, b).grade_forced) == ("buhege", True)
    # c: 340 − 200 = 140 → 不合格.
    assert value(period, c, "KF") == -200
    assert total(period, c) == 140
    assert result(period, c).grade_code == "buhege"
    assert result(period, c).grade_forced is False


def test_qianfen_cadre(county):
    world = build_world(shipped_text("qianfen-cadre.yaml"), "qianfen-cadre.yaml", county)
    a, b, c, d = world.scored  # 王建国 and 张伟 (东岭村), 陈明 (南山社区), 赵强 (西溪村)
    on = date(2026, 9, 1)  # 2026-H2
    for cadre in (a, d):
        # 分管工作评议 (1 + 0.85 + 0.7 + 0.4) / 4 = 0.7375 × 100 = 73.75 → 73.8
        rate(world, cadre, "DL1.1.1", "好", "较好", "一般", "差", on=on)
        record(world, cadre, "DL1.2.1", on=on)  # 差错 50 − 5 = 45 → 岗位职责 118.8
        times(6, world, cadre, "DL3.1.1", on=on)  # 6 × 20 = 120 → cap 100 → 重点工作 150
        rate(world, cadre, "DX03", "好", on=on)  # 80
        rate(world, cadre, "DX06", "不满意", on=on)  # 0.3 × 80 = 24
        record(world, cadre, "JF04", on=on)  # 5
    record(world, d, "KF06", on=on)  # grade: 不称职
    times(3, world, c, "KF03", on=on)  # 3 × −100 = −300 → floor −200
    period = open_period(world, "2026-H2")
    for cadre in (a, d):
        report(period, cadre, "visit_coverage", "95")  # → 80, 包联任务 80 + 70 = 150
        report(period, cadre, "member_points_percentile", "20")  # (−∞, 20] → 40
    report(period, b, "member_points_percentile", "20.0001")  # (20, 50] → 30
    period_close(period=period, acting_user=system_actor())

    # a: 定量 118.8 + 150 + 150 + (60 + 50 + 40) = 568.8; 定性 104; 加分 5 → 677.8 → 基本称职
    assert value(period, a, "DL1.1.1") == D("73.8")
    assert value(period, a, "DL4") == 150
    assert total(period, a) == D("677.8")
    assert result(period, a).grade_code == "jibenchengzhi"
    # b: the empty 280 + 30 = 310 → 不称职. c: 280 − 200 = 80.
    assert value(period, b, "DL4.3.1") == 30
    assert total(period, b) == 310
    assert result(period, b).grade_code == "buchengzhi"
    assert total(period, c) == 80
    # d: as a (677.8), forced to 不称职.
    assert total(period, d) == D("677.8")
    assert (result(period, d).grade_code, result(period, d).grade_forced) == ("buchengzhi", True)
    # Ranked inside the township: a, b, c in 东岭街道 (677.8, 310, 80); d alone in 西溪镇.
    assert [result(period, s).rank for s in (a, b, c, d)] == [1, 2, 3, 1]


def test_party_member_classes(county):
    world = build_world(
        shipped_text("party-member-points.yaml"), "party-member-points.yaml", county
    )
    members = world.scored  # six party members
    classes = ["A", "B", "C", "D", "E", "F"]
    set_tracks(members, classes)
    m = dict(zip(classes, members, strict=True))
    for member in members:
        times(2, world, member, "YW01")  # −3 each (F: −1); D does not take it
        times(3, world, member, "YW09")  # −1 each (A: −2); D and F do not take it
        record(world, member, "YW11")  # −3, only class D takes it
        record(world, member, "DF03", "7")  # 7 人 × 1 = 7 → cap 5
        times(4, world, member, "FW07")  # 4 × 2 = 8 → cap 6
        times(2, world, member, "DF01")  # 2 × 5 = 10 → 作用发挥 5 + 10 + 6 = 21 → max 20
        record(world, member, "JL02")  # −5
    times(5, world, m["A"], "YW06")  # A: −25 more
    times(5, world, m["F"], "YW06")  # F: 5 × −2 = −10 more
    record(world, m["E"], "JL11")  # grade veto: 不合格
    period = open_period(world, "2026-03")
    period_close(period=period, acting_user=system_actor())

    # 履行义务 (floor −30; F: −10):
    #   A −6 − 6 − 25 = −37 → −30;  B, C, E −6 − 3 = −9;  D −3;  F −2 − 10 = −12 → −10
    expected_duties = {"A": -30, "B": -9, "C": -9, "D": -3, "E": -9, "F": -10}
    # total = 100 + 履行义务 + 20 − 5
    expected_totals = {"A": 85, "B": 106, "C": 106, "D": 112, "E": 106, "F": 105}
    for cls, member in m.items():
        assert value(period, member, "YW") == expected_duties[cls], cls
        assert value(period, member, "ZY") == 20, cls
        assert total(period, member) == expected_totals[cls], cls
        r = result(period, member)
        assert (r.variant, r.rank_group, r.rank) == (cls, cls, 1)
    assert value(period, m["A"], "YW09") == -6  # A: 3 × −2
    assert value(period, m["F"], "YW01") == -2  # F: 2 × −1
    # Excluded items have no row and are worth nothing for the class.
    assert result_node(period, m["D"], "YW01") is None
    # Grades are yearly; the veto forces 不合格 on the month as docs/schemes.md §7 says.
    assert result(period, m["B"]).grade_code == ""
    assert (result(period, m["E"]).grade_code, result(period, m["E"]).grade_forced) == (
        "buhege",
        True,
    )
