"""A quarterly village scheme with red, black and progress lists, scored, closed and posted."""

from dataclasses import dataclass
from datetime import date

from kaoping.accounts.scoping import system_actor
from kaoping.core.pinyin import initials
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.models import Period
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.periods.tests.scheme_fixture import record
from kaoping.regions.models import Region
from kaoping.schemes.services import scheme_load

QUARTER_SCHEME = """
code: posting-test
version: 1
name: 六比六争（测试）
subject_kind: village
cadence: quarter
tree:
  - code: BL
    name: 堡垒指数
    max: 50
    children:
      - {code: BL1, name: 组织生活, rule: count, points: 2}
  - code: HJ
    name: 环境指数
    base: 20
    floor: 0
    max: 20
    children:
      - {code: HJ1, name: 环境问题, rule: count, points: -2}
grades:
  - {code: good, name: 优秀, min: 30, min_inclusive: true}
ranking:
  lists:
    - {code: red, name: 红榜, kind: red, count: 2}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 1, carry_over: false}
    - {code: progress, name: 进步榜, kind: progress, count: 1}
posting:
  window_days: 7
"""

HOUSEHOLD_SCHEME = """
code: posting-households
version: 1
name: 农户积分（测试）
subject_kind: household
cadence: month
base: 100
tree:
  - code: ZM
    name: 正面清单
    children:
      - {code: ZM1, name: 志愿服务, rule: count, points: 5}
  - code: FM
    name: 负面清单
    children:
      - {code: FM1, name: 乱倒垃圾, rule: count, points: -5}
ranking:
  lists:
    - {code: red, name: 红榜, kind: red, count: 2}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 2}
"""

# Extra villages so that lists mean something: two more under 东岭街道, one under 西溪镇.
EXTRA_VILLAGES = [
    ("330304001003", "北山村", "330304001"),
    ("330304001004", "东湖村", "330304001"),
    ("330304002002", "溪口村", "330304002"),
]

Q2, Q3 = "2026-Q2", "2026-Q3"


@dataclass
class Posted:
    scheme: object
    previous: Period
    period: Period
    villages: dict  # name → Subject


def add_villages(county) -> None:
    for code, name, parent in EXTRA_VILLAGES:
        if code not in county.regions:
            county.regions[code] = Region.objects.create(
                code=code,
                name=name,
                level="village",
                kind="村",
                parent=county.region(parent),
                initials=initials(name),
            )


def village_scheme(county, text: str = QUARTER_SCHEME):
    add_villages(county)
    version, _created = scheme_load(
        text=text,
        filename="posting.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects_sync(kind="village")
    villages = {
        s.name: s for s in Subject.objects.filter(kind="village").select_related("region__parent")
    }
    return version.scheme, villages


def score(scheme, villages, label: str, points: dict[str, tuple[int, int]]) -> Period:
    """Record (BL1 count, HJ1 count) per village in quarter `label` and close it."""
    year, quarter = int(label[:4]), int(label[-1])
    day = date(year, quarter * 3 - 1, 10)
    for name, (good, bad) in points.items():
        if good:
            record(scheme, villages[name], "BL1", str(good), on=day, note=f"{name}党员大会")
        if bad:
            record(scheme, villages[name], "HJ1", str(bad), on=day, note=f"{name}暗访")
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


# Q2 totals: 南山社区 30, 东岭村 28, 西溪村 26, 北山村 24, 东湖村 22, 溪口村 18.
# Q3 totals: 东岭村 30, 南山社区 28 (red), 溪口村 26 (climbs 3 places: progress), 东湖村 24,
# 北山村 22, 西溪村 10 (black).
Q2_POINTS = {
    "东岭村": (4, 0),
    "南山社区": (5, 0),
    "北山村": (2, 0),
    "东湖村": (1, 0),
    "溪口村": (0, 1),
    "西溪村": (3, 0),
}
Q3_POINTS = {
    "东岭村": (5, 0),
    "南山社区": (4, 0),
    "北山村": (1, 0),
    "东湖村": (2, 0),
    "溪口村": (3, 0),
    "西溪村": (0, 5),
}


def posted_quarter(county, *, post: bool = True) -> Posted:
    scheme, villages = village_scheme(county)
    previous = score(scheme, villages, Q2, Q2_POINTS)
    period = score(scheme, villages, Q3, Q3_POINTS)
    if post:
        period = period_post(period=period, acting_user=county.users["alice"])
    return Posted(scheme=scheme, previous=previous, period=period, villages=villages)


def household_posting(county) -> Period:
    """A posted month of household points: subjects named after the heads of household."""
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="households.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects_sync(kind="household")
    households = list(Subject.objects.filter(kind="household").order_by("id"))
    for n, subject in enumerate(households):
        record(version.scheme, subject, "ZM1" if n % 2 else "FM1", str(n % 3 + 1))
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period_post(period=period, acting_user=system_actor())
