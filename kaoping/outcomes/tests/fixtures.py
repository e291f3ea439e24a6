"""A contest scheme with lists and every consequence, eleven villages, and helpers to close."""

from datetime import date

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Subject
from kaoping.periods.models import Period
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import record
from kaoping.regions.models import Region
from kaoping.schemes.calendar import period_dates
from kaoping.schemes.services import scheme_load

CONTEST = """
code: contest
version: 1
name: 擂台测试
subject_kind: village
cadence: month
tree:
  - code: A
    name: 工作
    children:
      - {code: P, name: 得分, rule: count, points: 1}
      - {code: BAR, name: 失信, rule: veto, effect: bar}
grades:
  - {code: good, name: 优秀, honour: true, min: 8, min_inclusive: true}
  - {code: fair, name: 合格, min: 3, min_inclusive: true, max: 8, max_inclusive: false}
  - {code: poor, name: 较差, max: 3, max_inclusive: false}
rollups:
  - {cadence: quarter, method: mean}
ranking:
  lists:
    - {code: top3, name: 前三名, kind: red, count: 3}
    - {code: bottom3, name: 后三名, kind: black, pick: bottom, count: 3, carry_over: false}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 2}
    - {code: focus, name: 末位, kind: mark, pick: bottom, count: 1}
  awards:
    - code: star
      name: 擂台之星
      tiers:
        - {code: star, name: 擂台之星, quota: 1}
consequences:
  share: {lists: [top3], cadences: [month]}
  interviews:
    list: bottom3
    levels:
      - {code: deputy, name: 党委副书记约谈, cadences: [month]}
      - {code: deputy_mayor, name: 镇党委副书记和镇长约谈, cadences: [quarter]}
      - {code: secretary, name: 党委书记约谈}
    escalate:
      - {repeats: 2, within: 2}
      - {repeats: 3, within: 3}
  pledges: {list: black, deadline_days: 30, items_min: 2}
  pairing: {strong_list: top3, weak_list: bottom3, min_exchanges_per_month: 2, cadences: [quarter]}
  bonus_pool:
    amount: 1000.00
    by_grade: {good: 3, fair: 1}
    remainder: largest_remainder
    cadences: [month]
  honours: {awards: [star], cadences: [month]}
  key_villages:
    designate: {list: focus, cadences: [quarter]}
    exit: {periods: 2, lists: [focus, black]}
    criteria: 连续两个月不在末位和黑榜
"""

# Points that put the eleven villages in a clear order, best first (no ties at any cut-off).
SPREAD = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]


def build_villages(county, extra: int = 8) -> None:
    """Eight more villages under 东岭街道, so the county has eleven (ten in bob's township)."""
    township = county.region("330304001")
    for n in range(3, 3 + extra):
        Region.objects.create(
            code=f"330304001{n:03d}", name=f"第{n}村", level="village", kind="村", parent=township
        )


def load(county, text: str = CONTEST, filename: str = "contest.yaml"):
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def villages() -> list[Subject]:
    """The village subjects in a fixed order: 西溪村 first (so it tops the spread), then the rest."""
    from kaoping.people.services import subjects_sync

    subjects_sync(kind="village")
    rows = list(Subject.objects.filter(kind="village").select_related("region"))
    return sorted(rows, key=lambda s: (s.region.code != "330304002001", s.region.code))


def score(scheme, subjects, points, label: str, *, vetoes=(), user=None) -> Period:
    """Record `points` for the subjects in month `label` and close it."""
    start, _end = period_dates("month", label)
    day = date(start.year, start.month, 10)
    for subject, n in zip(subjects, points, strict=False):
        if n:
            record(scheme, subject, "P", str(n), on=day)
    for index in vetoes:
        record(scheme, subjects[index], "BAR", on=day)
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=user or system_actor())
    return period


def close(scheme, label: str, user=None) -> Period:
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=user or system_actor())
    return period
