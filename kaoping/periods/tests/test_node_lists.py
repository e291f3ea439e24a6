"""Lists and awards ranked by a node's value (`node:`), as docs/schemes.md §11 “按单项排名”
states them: the worked example closes to its stated lists, and a list made on a composite
roll-up's own assessment ranks by the item recorded at that level."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.periods.models import ListMembership, Result
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db


def _members(period) -> dict[str, dict[int, tuple[str, int]]]:
    found: dict[str, dict[int, tuple[str, int]]] = {}
    for code, subject_id, tier, value in ListMembership.objects.filter(period=period).values_list(
        "list_code", "subject_id", "tier", "value"
    ):
        found.setdefault(code, {})[subject_id] = (tier, value)
    return found


def test_the_node_example_in_the_docs_closes_as_stated(county):
    version, _created = scheme_load(
        text=docs_example("node-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    on = date(2026, 3, 10)
    for subject, times, masses, mutual in (
        (jia, 5, "4.5", "3.5"),
        (yi, 1, "4.5", "4"),
        (bing, 8, "3", "3"),
    ):
        record(scheme, subject, "GZ", str(times), on=on)
        record(scheme, subject, "PY1", masses, on=on)
        record(scheme, subject, "PY2", mutual, on=on)
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    scale = period.version.scale
    results = {r.subject_id: (r.total, r.rank) for r in Result.objects.filter(period=period)}
    # 甲 210 (PY 160), 乙 180 (PY 170), 丙 200 (PY 120): 甲 leads on the total.
    assert results == {jia.pk: (210 * scale, 1), yi.pk: (180 * scale, 3), bing.pk: (200 * scale, 2)}
    lists = _members(period)
    # 群众满意: the first by PY1 is a tie of 甲 and 乙 at 90; both are on it, with the node's value.
    assert lists["qunzhong"] == {jia.pk: ("", 90 * scale), yi.pk: ("", 90 * scale)}
    # 互评靠后: the last by PY2 and below 70: 丙 at 60.
    assert lists["dibu"] == {bing.pk: ("", 60 * scale)}
    # 评议之星: one place by PY with at least 160: 乙 (170); 甲's 160 meets the minimum, the
    # quota is full.
    assert lists["star"] == {yi.pk: ("star", 170 * scale)}


def test_a_node_list_on_a_composite_roll_up_ranks_its_own_assessment(county):
    """A half-year of a composite with `self`: the node's values are those recorded at that
    level (cadence half_year), not the months'; a subject with no entry there counts 0."""
    text = docs_example("node-example").replace(
        "ranking:\n",
        "rollups:\n  - cadence: half_year\n    method: composite\n    parts:\n"
        "      - {source: self, aggregate: value, weight: 1}\n"
        "ranking:\n",
    )
    text = text.replace(
        "    - {code: qunzhong, name: 群众满意, kind: flag, count: 1, node: PY1}",
        "    - {code: qunzhong, name: 群众满意, kind: flag, count: 1, node: PY1, cadences: [month]}\n"
        "    - {code: huping, name: 互评优秀, kind: flag, count: 1, node: PY2, cadences: [half_year]}",
    )
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    # In the months 甲 has the best 互评 by far; at the half-year level 乙 has it.
    record(scheme, jia, "PY2", "5", on=date(2026, 2, 10))
    record(scheme, yi, "PY2", "4", on=date(2026, 6, 20), cadence="half_year")
    record(scheme, bing, "PY2", "3", on=date(2026, 6, 20), cadence="half_year")
    for month in range(1, 7):
        period = period_open(scheme=scheme, label=f"2026-{month:02d}", acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
    half = period_open(scheme=scheme, label="2026-H1", acting_user=system_actor())
    period_close(period=half, acting_user=system_actor())
    lists = _members(half)
    scale = half.version.scale
    assert lists["huping"] == {yi.pk: ("", 80 * scale)}
    assert "qunzhong" not in lists  # made on months only


def test_carry_over_and_streaks_work_on_a_node_list(county):
    text = docs_example("node-example").replace(
        "  awards:\n",
        "    - {code: low, name: 互评末位, kind: black, pick: bottom, count: 1, node: PY2}\n"
        "  streaks:\n"
        "    - {code: low2, name: 连续两月互评末位, list: low, periods: 2}\n"
        "  awards:\n",
    )
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    # March: 丙 has no 互评 at all (0) and is last; April: 甲 is last (2 × 20 = 40).
    for subject, march, april in ((jia, "4", "2"), (yi, "3", "3"), (bing, None, "4")):
        if march:
            record(scheme, subject, "PY2", march, on=date(2026, 3, 10))
        record(scheme, subject, "PY2", april, on=date(2026, 4, 10))
    # 丙 scores best on the total in March all the same.
    record(scheme, bing, "GZ", "20", on=date(2026, 3, 10))
    months = []
    for label in ("2026-03", "2026-04"):
        period = period_open(scheme=scheme, label=label, acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
        months.append(period)
    scale = months[0].version.scale
    march, april = (_members(p) for p in months)
    assert march["low"] == {bing.pk: ("", 0)}
    rows = {
        m.subject_id: (m.carried, m.value)
        for m in ListMembership.objects.filter(period=months[1], list_code="low")
    }
    # 甲 is listed anew; 丙's unresolved listing is carried, with its April 互评 (80).
    assert rows == {jia.pk: (False, 40 * scale), bing.pk: (True, 80 * scale)}
    assert set(april["low2"]) == {bing.pk}
