"""Lists whose `count` a small ranking group cannot meet (`ranking.shortfall`), award tiers
without a quota and awards that do not stack (`ranking.awards_stack`), as docs/schemes.md §11
states them: the worked examples close to their stated lists, awards and warnings, and the close
equals the plain-Python reference `lists.reference` whatever the totals, ties and subject ids."""

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.people.models import Subject
from kaoping.periods.lists import Ranked, reference, shortfall_messages
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.periods.services import period_close, period_open, period_rebind
from kaoping.regions.models import Region
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

from .close_harness import rolled_back
from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db


def _load(county, text: str):
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _close(scheme, times: dict, label="2026-03") -> Period:
    """Close the month with `times` entries of GZ (10 points each) per subject."""
    for subject, n in times.items():
        if n:
            record(scheme, subject, "GZ", str(n), on=date(2026, 3, 10))
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    return period


def _on(period) -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {}
    for code, subject_id, tier in ListMembership.objects.filter(period=period).values_list(
        "list_code", "subject_id", "tier"
    ):
        found.setdefault(code, {})[subject_id] = tier
    return found


# -- the worked examples ------------------------------------------------------------------------


def test_the_shortfall_example_in_the_docs_closes_with_its_warnings(county):
    scheme = _load(county, docs_example("shortfall-example"))
    jia, yi, bing = village_subjects(county).values()  # 东岭街道 甲 乙, 西溪镇 丙
    period = _close(scheme, {jia: 9, yi: 6, bing: 8})
    assert period.status == PeriodStatus.CLOSED
    on = _on(period)
    # Black first: 乙 at the bottom of 东岭街道, 丙 alone in 西溪镇; red: only 甲 is left.
    assert on["black"] == {yi.pk: "", bing.pk: ""}
    assert on["red"] == {jia.pk: ""}
    assert period.list_shortfalls == [
        {"list": "red", "name": "红榜", "group": "330304001", "wanted": 2, "got": 1},
        {"list": "red", "name": "红榜", "group": "330304002", "wanted": 2, "got": 0},
    ]
    messages = shortfall_messages(period.list_shortfalls)
    assert len(messages) == 2
    for text, group, got in zip(messages, ("东岭街道", "西溪镇"), ("1", "0"), strict=True):
        assert "红榜" in text and group in text and "2" in text and got in text
    # Closing again judges again: a red list of one place and a black list of half of each group.
    again = _load(
        county,
        docs_example("shortfall-example")
        .replace("version: 1", "version: 2")
        .replace("kind: red, count: 2", "kind: red, count: 1")
        .replace("pick: bottom, count: 1", "pick: bottom, percent: 50"),
    )
    assert again == scheme
    period_rebind(period=period, version=scheme.versions.get(number=2), acting_user=system_actor())
    period.refresh_from_db()
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    # 西溪镇's only village is on the black list: its red list of one still cannot be filled.
    assert period.list_shortfalls == [
        {"list": "red", "name": "红榜", "group": "330304002", "wanted": 1, "got": 0}
    ]


def test_refuse_closes_nothing_and_names_the_list_and_group(county):
    scheme = _load(
        county, docs_example("shortfall-example").replace("shortfall: warn", "shortfall: refuse")
    )
    jia, yi, bing = village_subjects(county).values()
    for subject, n in ((jia, 9), (yi, 6), (bing, 8)):
        record(scheme, subject, "GZ", str(n), on=date(2026, 3, 10))
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    with pytest.raises(KaopingError) as refused:
        period_close(period=period, acting_user=system_actor())
    text = " ".join(refused.value.messages)
    assert "ranking.shortfall" in text
    assert "东岭街道" in text and "西溪镇" in text and "红榜" in text
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN and period.list_shortfalls == []
    assert not Result.objects.filter(period=period).exists()
    assert not ListMembership.objects.filter(period=period).exists()


def test_the_award_stack_example_in_the_docs_closes_as_stated(county):
    text = docs_example("award-stack-example")
    scheme = _load(county, text)
    jia, yi, bing = village_subjects(county).values()
    period = _close(scheme, {jia: 9, yi: 7, bing: 5})
    # 示范村 甲; 先进村 has no quota and a minimum of 60: 甲 and 乙 meet it, 甲 already holds
    # an award, so only 乙.
    assert _on(period) == {"model": {jia.pk: "model"}, "good": {yi.pk: "good"}}
    stacked = _load(
        county, text.replace("version: 1", "version: 2").replace("awards_stack: false", "")
    )
    period_rebind(period=period, version=stacked.versions.get(number=2), acting_user=system_actor())
    period.refresh_from_db()
    period_close(period=period, acting_user=system_actor())
    assert _on(period) == {"model": {jia.pk: "model"}, "good": {jia.pk: "good", yi.pk: "good"}}


def test_a_tier_with_neither_quota_nor_min_must_be_the_last(county):
    text = docs_example("award-stack-example").replace(
        "        - {code: good, name: 先进村, min: 60, min_inclusive: true}",
        "        - {code: good, name: 先进村}\n        - {code: fine, name: 合格村, quota: 1}",
    )
    with pytest.raises(SchemeError) as refused:
        _load(county, text)
    # The line of the open tier, and what to do about it.
    assert "第 18 行" in str(refused.value) and "先进村" in str(refused.value)
    assert "quota" in str(refused.value) and "min" in str(refused.value)


# -- the close equals the reference -------------------------------------------------------------

PROPERTY = """
code: counts
version: 1
name: 名额
subject_kind: village
cadence: month
tree:
  - {{code: GZ, name: 日常工作, rule: count, points: 10}}
ranking:
  within: township
  ties: {ties}
  awards_stack: {stack}
  lists:
    - {{code: red, name: 红榜, kind: red, count: 4}}
    - {{code: black, name: 黑榜, kind: black, pick: bottom, count: 2}}
    - {{code: flag, name: 前三成, kind: flag, percent: 30}}
    - {{code: good, name: 良好, kind: mark, count: 5, min: 30, min_inclusive: false, require: any}}
    - {{code: low, name: 靠后, kind: mark, pick: bottom, count: 1, at_cutoff: exclude, max: 40, max_inclusive: true}}
  awards:
    - code: prize
      name: 评优
      allocation: {allocation}
      tiers:
        - {{code: first, name: 一等, quota: 1, min: 50}}
        - {{code: merit, name: 优秀, min: 30}}
        - {{code: rest, name: 鼓励}}
    - code: star
      name: 之星
      from_lists: [red]
      tiers:
        - {{code: star, name: 之星, quota: 2}}
"""

# 东岭街道: its two villages and four more; 西溪镇: its one and two more.
EXTRA = {"330304001": 4, "330304002": 2}


def _villages(county) -> list[Subject]:
    for township, n in EXTRA.items():
        for k in range(n):
            Region.objects.create(
                code=f"{township}{k + 11:03d}",
                name=f"新{k + 1}村",
                level="village",
                kind="村",
                parent=county.region(township),
            )
    village_subjects(county)  # makes the village subjects
    return list(Subject.objects.filter(kind="village").select_related("region").order_by("pk"))


def test_the_close_equals_the_reference_whatever_the_ids(county):
    subjects = _villages(county)

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        times=st.lists(
            st.sampled_from([0, 2, 3, 4, 6, 9]), min_size=len(subjects), max_size=len(subjects)
        ),
        ties=st.sampled_from(["competition", "dense"]),
        stack=st.booleans(),
        allocation=st.sampled_from(["fill_down", "slots"]),
        order=st.permutations(range(len(subjects))),
    )
    def example(times, ties, stack, allocation, order):
        text = PROPERTY.format(ties=ties, stack="true" if stack else "false", allocation=allocation)
        spec = load_scheme_text(text)
        # The same totals given to other subjects (other ids): the close still equals the
        # reference, which is a function of the totals only.
        for given_times in (times, [times[i] for i in order]):
            with rolled_back():
                scheme = _load(county, text)
                period = _close(scheme, dict(zip(subjects, given_times, strict=True)))
                scale = period.version.scale
                rows = [
                    Ranked(s.pk, s.region.code[:9], n * 10 * scale)
                    for s, n in zip(subjects, given_times, strict=True)
                ]
                expected, shortfalls = reference(spec, rows, scale)
                written = set(
                    ListMembership.objects.filter(period=period).values_list(
                        "list_code", "subject_id", "tier"
                    )
                )
                assert written == expected
                assert period.list_shortfalls == shortfalls

    example()


@settings(max_examples=80, deadline=None, database=None)
@given(
    totals=st.lists(st.integers(0, 5), min_size=1, max_size=25),
    allocation=st.sampled_from(["fill_down", "slots"]),
    tiers=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(1, 3)), st.one_of(st.none(), st.integers(0, 5))),
        min_size=1,
        max_size=3,
    ),
    data=st.data(),
)
def test_tiers_without_a_quota_give_ties_one_fate(totals, allocation, tiers, data):
    """Every subject meeting an unlimited tier's minimum and not placed above gets it (or, in
    `slots`, a tier from it on); ties share one fate, whatever the ids."""
    if any(q is None and m is None for q, m in tiers[:-1]):
        tiers = [(q if q is not None or m is not None else 1, m) for q, m in tiers[:-1]] + tiers[
            -1:
        ]
    award = {
        "code": "w",
        "name": "w",
        "allocation": allocation,
        "tiers": [
            {"code": f"t{i}", "name": f"t{i}"}
            | ({"quota": q} if q is not None else {})
            | ({"min": m} if m is not None else {})
            for i, (q, m) in enumerate(tiers)
        ],
    }
    spec = load_scheme_text(
        "code: a\nversion: 1\nname: a\nsubject_kind: village\ncadence: year\n"
        "tree:\n  - {code: P, name: p, rule: count, points: 1}\n"
        f"ranking:\n  awards:\n    - {json.dumps(award)}\n"
    )
    ids = data.draw(st.permutations(range(100, 100 + len(totals))))
    rows = [Ranked(sid, "", total) for sid, total in zip(ids, totals, strict=True)]
    on, _short = reference(spec, rows, 1)
    fate = {sid: tier for _code, sid, tier in on}
    by_total: dict[int, set] = {}
    for sid, total in zip(ids, totals, strict=True):
        by_total.setdefault(total, set()).add(fate.get(sid))
    assert all(len(f) == 1 for f in by_total.values()), by_total
    rule = spec.ranking.awards[0]
    if allocation == "fill_down":
        # The first unlimited tier takes everybody unplaced above it who meets its minimum.
        first_open = next((i for i, t in enumerate(rule.tiers) if t.quota is None), None)
        if first_open is not None:
            tier = rule.tiers[first_open]
            above = {f"t{i}" for i in range(first_open)}
            for sid, total in zip(ids, totals, strict=True):
                if fate.get(sid) not in above and (tier.min is None or total >= tier.min):
                    assert fate.get(sid) == tier.code, (sid, total, fate)
