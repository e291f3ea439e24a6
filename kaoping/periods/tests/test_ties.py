"""Ties at list cut-offs and award quotas share the same fate, whatever the subject ids and
however many subjects tie (issue: `_awards` once read only the first `places × 3` candidates),
for lists and awards on the total and on a node's value (`node:`) alike."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Subject
from kaoping.periods.lists import _allocate
from kaoping.periods.models import ListMembership, Period
from kaoping.periods.services import period_close, period_open
from kaoping.regions.models import Region
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load

from .close_harness import rolled_back
from .scheme_fixture import record

pytestmark = pytest.mark.django_db

SCHEME = """
code: ties
version: 1
name: 并列
subject_kind: village
cadence: year
tree:
  - {code: P, name: 得分, rule: count, points: 1}
  - code: G
    name: 评议
    base: 10
    children:
      - {code: Q, name: 评议分, rule: count, points: 1}
ranking:
  within: township
  lists:
    - {code: red, name: 红榜, kind: red, count: 2}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 2}
    - {code: pct, name: 前三成, kind: flag, percent: 30}
    - {code: q_top, name: 评议前二, kind: flag, count: 2, node: G}
    - {code: q_low, name: 评议末位, kind: mark, pick: bottom, count: 1, node: Q, at_cutoff: exclude}
    - {code: q_pct, name: 评议前四成, kind: mark, percent: 40, node: Q, min: 1, min_inclusive: true}
  awards:
    - code: down
      name: 依次评
      allocation: fill_down
      tiers:
        - {code: first, name: 一等, quota: 1}
        - {code: second, name: 二等, quota: 1}
    - code: slot
      name: 对号入座
      allocation: slots
      tiers:
        - {code: first, name: 一等, quota: 1}
        - {code: second, name: 二等, quota: 1, min: 60}
    - code: q_star
      name: 评议之星
      node: G
      tiers:
        - {code: star, name: 之星, quota: 2, min: 11}
        - {code: hope, name: 新星, quota: 1}
    - code: q_slot
      name: 评议对号
      node: Q
      allocation: slots
      tiers:
        - {code: first, name: 一等, quota: 1}
        - {code: second, name: 二等, quota: 2, min: 1}
"""

VILLAGES = 9


def _world(county):
    township = county.region("330304001")
    for n in range(3, VILLAGES + 1):
        Region.objects.create(
            code=f"330304001{n:03d}", name=f"第{n}村", level="village", kind="村", parent=township
        )
    version, _created = scheme_load(
        text=SCHEME,
        filename="ties.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects = list(
        Subject.objects.filter(kind="village", region__code__startswith="330304001")
        .select_related("region")
        .order_by("region__code")
    )
    assert len(subjects) == VILLAGES
    return version.scheme, subjects


def _close(scheme, subjects, scores, marks=None) -> Period:
    """Close the year with `scores` of P (and `marks` of Q, if given) per subject."""
    for subject, points in zip(subjects, scores, strict=True):
        if points:
            record(scheme, subject, "P", str(points), on=date(2026, 6, 1))
    for subject, points in zip(subjects, marks or [0] * len(subjects), strict=True):
        if points:
            record(scheme, subject, "Q", str(points), on=date(2026, 6, 1))
    period = period_open(scheme=scheme, label="2026", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def _fates(period) -> dict[int, frozenset]:
    fates: dict[int, set] = {}
    for subject_id, code, tier in ListMembership.objects.filter(period=period).values_list(
        "subject_id", "list_code", "tier"
    ):
        fates.setdefault(subject_id, set()).add((code, tier))
    return {k: frozenset(v) for k, v in fates.items()}


def test_eight_tied_villages_all_get_the_first_tier(county):
    scheme, subjects = _world(county)
    period = _close(scheme, subjects, [90] * 4 + [70] + [90] * 4)
    tiers = {
        (m.list_code, m.subject_id): m.tier
        for m in ListMembership.objects.filter(period=period, kind="award")
    }
    top = [s.pk for i, s in enumerate(subjects) if i != 4]
    for code in ("down", "slot"):
        assert [tiers.get((code, pk)) for pk in top] == ["first"] * 8, code
    # fill_down: the second tier goes to the best not yet placed (70); slots: the tie took
    # slot 1, the 70 ranks 9th, past both slots.
    assert tiers.get(("down", subjects[4].pk)) == "second"
    assert ("slot", subjects[4].pk) not in tiers


@settings(max_examples=60, deadline=None, database=None)
@given(
    totals=st.lists(st.integers(0, 4), min_size=1, max_size=30),
    allocation=st.sampled_from(["fill_down", "slots"]),
    quotas=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    mins=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=3, max_size=3),
    data=st.data(),
)
def test_allocation_depends_on_totals_only(totals, allocation, quotas, mins, data):
    """The tier of a subject is a function of its total; ids and tie sizes do not matter."""
    rule = load_scheme_text(
        "code: a\nversion: 1\nname: a\nsubject_kind: village\ncadence: year\n"
        "tree:\n  - {code: P, name: p, rule: count, points: 1}\n"
        "ranking:\n  awards:\n    - code: w\n      name: w\n"
        f"      allocation: {allocation}\n      tiers:\n"
        + "".join(
            f"        - {{code: t{i}, name: t{i}, quota: {q}"
            + (f", min: {mins[i]}" if mins[i] is not None else "")
            + "}\n"
            for i, q in enumerate(quotas)
        )
    ).ranking.awards[0]
    ids = data.draw(st.permutations(range(100, 100 + len(totals))))
    ranked = sorted(zip(ids, totals, strict=True), key=lambda p: (-p[1], p[0]))
    ordered = [(sid, 1 + sum(1 for t in totals if t > total), total) for sid, total in ranked]
    fate = {sid: tier for sid, _rank, _total, tier in _allocate(rule, iter(ordered), 1)}
    by_total: dict[int, set] = {}
    for sid, total in zip(ids, totals, strict=True):
        by_total.setdefault(total, set()).add(fate.get(sid))
    assert all(len(f) == 1 for f in by_total.values()), by_total
    # The same totals under other ids give the same fate to each total.
    again_ids = data.draw(st.permutations(range(500, 500 + len(totals))))
    ranked = sorted(zip(again_ids, totals, strict=True), key=lambda p: (-p[1], p[0]))
    again = [(sid, 1 + sum(1 for t in totals if t > total), total) for sid, total in ranked]
    fate2 = {sid: tier for sid, _r, _t, tier in _allocate(rule, iter(again), 1)}
    for sid, sid2 in zip(ids, again_ids, strict=True):
        assert fate.get(sid) == fate2.get(sid2)


def test_lists_and_awards_never_depend_on_subject_ids(county):
    scheme, subjects = _world(county)

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        scores=st.lists(st.sampled_from([0, 60, 70, 90]), min_size=VILLAGES, max_size=VILLAGES),
        marks=st.lists(st.sampled_from([0, 1, 3]), min_size=VILLAGES, max_size=VILLAGES),
        order=st.permutations(range(VILLAGES)),
    )
    def example(scores, marks, order):
        # A subject's fate on every list and award is a function of its total and its node
        # values, here of (P, Q): the pairs, not the subjects holding them.
        pairs = list(zip(scores, marks, strict=True))
        with rolled_back():
            fates = _fates(_close(scheme, subjects, scores, marks))
        # Every tie shares one fate.
        by_pair: dict[tuple, set] = {}
        for subject, pair in zip(subjects, pairs, strict=True):
            by_pair.setdefault(pair, set()).add(fates.get(subject.pk, frozenset()))
        assert all(len(f) == 1 for f in by_pair.values()), by_pair
        # The same pairs given to other subjects (other ids): each pair keeps its fate.
        moved = [pairs[i] for i in order]
        with rolled_back():
            moved_fates = _fates(
                _close(scheme, subjects, [p for p, _q in moved], [q for _p, q in moved])
            )
        for subject, pair in zip(subjects, moved, strict=True):
            assert moved_fates.get(subject.pk, frozenset()) == next(iter(by_pair[pair]))

    example()


def test_node_lists_and_awards_share_fates_among_ties(county):
    """Ranked by G (10 + Q) and Q, not by the total: three villages tie on Q = 3 whatever
    their totals, and take the places of a quota of two together."""
    scheme, subjects = _world(county)
    scores = [90, 0, 60, 70, 0, 60, 90, 0, 0]
    marks = [3, 3, 1, 0, 3, 1, 0, 0, 0]
    period = _close(scheme, subjects, scores, marks)
    on = {
        code: {
            subjects.index(s): tier
            for s in subjects
            for c, tier in _fates(period).get(s.pk, ())
            if c == code
        }
        for code in ("q_top", "q_low", "q_pct", "q_star", "q_slot")
    }
    # q_top: the best two by G = 13, 13, 13 (a tie of three at the cut-off: all in).
    assert sorted(on["q_top"]) == [0, 1, 4]
    # q_low: the bottom one by Q is a tie of four at 0, and `at_cutoff: exclude` keeps it out.
    assert on["q_low"] == {}
    # q_pct: ⌊9 × 40 %⌋ = 3 places by Q, with Q ≥ 1: the three at 3 (the ones at 1 are 4th).
    assert sorted(on["q_pct"]) == [0, 1, 4]
    # q_star (fill_down on G): the quota of two stops inside a tie of three, which all take
    # the first tier; the next best (G = 11, a tie of two) takes the second together.
    assert on["q_star"] == {0: "star", 1: "star", 4: "star", 2: "hope", 5: "hope"}
    # q_slot (slots on Q): the tie of three takes slot 1 (first); the 1s rank 4th and 5th,
    # past the three slots.
    assert on["q_slot"] == {0: "first", 1: "first", 4: "first"}
    values = dict(
        ListMembership.objects.filter(period=period, list_code="q_star").values_list(
            "subject_id", "value"
        )
    )
    # The value kept is the node's (scaled), not the total: 13 for the 3s, 11 for the 1s.
    assert values[subjects[0].pk] == 13 * period.version.scale
    assert values[subjects[2].pk] == 11 * period.version.scale
