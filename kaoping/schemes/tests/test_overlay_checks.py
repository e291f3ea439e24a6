"""Overlays in the file (docs/schemes.md §10, `overlays`): what a subject's tree is made of and
every problem the checks refuse at the overlay's line. That the regions exist is checked at load
time against the region table (kaoping/periods/tests/test_overlays.py)."""

from decimal import Decimal

import pytest

from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.spec import SchemeError

BASE = """\
code: ov
version: 1
name: 叠加
subject_kind: household
cadence: month
decimals: 0
base: 100
tree:
  - code: ZM
    name: 加分
    section: bonus
    max: 30
    children:
      - {code: A1, name: 志愿服务, rule: count, points: 2}
      - {code: A2, name: 无偿献血, rule: count, points: 3}
  - code: FM
    name: 扣分
    section: deduction
    children:
      - {code: B1, name: 乱倒垃圾, rule: count, points: -2}
"""


def _refused(text: str) -> list:
    with pytest.raises(SchemeError) as refused:
        load_scheme_text(text, filename="ov.yaml")
    return refused.value.problems


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_subject_takes_its_townships_overlays_then_its_villages():
    spec = load_scheme_text(
        BASE
        + """\
overlays:
  - region: 330304001001
    name: 村规民约
    under: FM
    add:
      - {code: C1, name: 违反村规民约, rule: count, points: -5}
    items:
      A1: {points: 4}
  - region: 330304001
    name: 街道
    under: ZM
    add:
      - {code: T1, name: 街道活动, rule: count, points: 1}
    items:
      A1: {points: 3}
    exclude: [A2]
""",
        filename="ov.yaml",
    )
    assert spec.overlay_regions() == ["330304001", "330304001001"]
    assert spec.variant_for("", "330304001001007") == "@330304001001"  # a grid of the village
    assert spec.variant_for("", "330304001002") == "@330304001"
    assert spec.variant_for("", "330304002001") == ""
    assert spec.variant_keys() == ["", "@330304001", "@330304001001"]

    def points(key):
        return {r.code: r.points for r in spec.flatten(key) if r.is_item}

    # The village is applied after its township (whatever the file's order): its A1 wins; the
    # township's exclusion of A2 holds for the village too.
    assert points("@330304001001") == {"A1": 4, "T1": 1, "B1": -2, "C1": -5}
    assert points("@330304001") == {"A1": 3, "T1": 1, "B1": -2}
    assert points(None) == {"A1": 2, "A2": 3, "B1": -2}
    assert spec.find("C1").name == "违反村规民约"
    assert spec.overlay_of_item("T1").region == "330304001"
    assert spec.overlay_of_item("A1") is None


def test_without_under_the_additions_are_new_top_level_groups():
    spec = load_scheme_text(
        BASE
        + """\
overlays:
  - region: 330304001001
    name: 村规民约
    add:
      - code: CG
        name: 村规民约
        base: 10
        floor: 0
        max: 10
        children:
          - {code: C1, name: 违反村规民约, rule: count, points: -5}
""",
        filename="ov.yaml",
    )
    rows = spec.flatten("@330304001001")
    assert [(r.code, r.parent_code) for r in rows if r.code in ("CG", "C1")] == [
        ("CG", "__root__"),
        ("C1", "CG"),
    ]
    assert spec.bounds("@330304001001")[1] == Decimal(140)
    assert spec.bounds()[1] == Decimal(130)


@pytest.mark.parametrize(
    ("overlay", "needle", "words"),
    [
        # An item code of the county's tree: an entry's code must name one item everywhere.
        (
            "    under: ZM\n    add:\n      - {code: A1, name: 又一个, rule: count, points: 1}\n",
            "又一个",
            ["A1", "第 14 行"],
        ),
        (
            "    under: ZZ\n    add:\n      - {code: C1, name: 新项, rule: count, points: 1}\n",
            "under: ZZ",
            ["ZZ"],
        ),
        (
            "    under: A1\n    add:\n      - {code: C1, name: 新项, rule: count, points: 1}\n",
            "under: A1",
            ["A1"],
        ),
        # The section of the group it is added under rules its points.
        (
            "    under: ZM\n    add:\n      - {code: C1, name: 新项, rule: count, points: -1}\n",
            "新项",
            ["≥ 0"],
        ),
        (
            "    under: ZM\n    add:\n      - {code: C1, name: 新项, rule: count, points: 1.5}\n",
            "新项",
            ["1.5", "decimals: 0"],
        ),
        ("    items:\n      ZZ1: {points: 1}\n", "ZZ1", ["ZZ1"]),
        ("    exclude: [FM]\n", "exclude", ["FM"]),
        ("    items:\n      A1: {points: -1}\n", "A1: {points", ["≥ 0"]),
        ("", "region: 330304001001", ["add"]),
    ],
)
def test_an_overlay_problem_is_refused_at_its_line(overlay, needle, words):
    text = BASE + "overlays:\n  - region: 330304001001\n    name: 村规民约\n" + overlay
    problems = _refused(text)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.line == _line(text, needle), (problem, text)
    for word in words:
        assert word in str(problem), problem


def test_two_overlays_cannot_add_the_same_code():
    text = BASE + (
        "overlays:\n"
        "  - region: 330304001001\n    name: 甲村\n    add:\n"
        "      - {code: C1, name: 甲村项, rule: count, points: 1}\n"
        "  - region: 330304001002\n    name: 乙村\n    add:\n"
        "      - {code: C1, name: 乙村项, rule: count, points: 1}\n"
    )
    (problem,) = _refused(text)
    assert problem.line == _line(text, "乙村项")
    assert f"第 {_line(text, '甲村项')} 行" in str(problem)


def test_a_region_code_is_a_townships_or_a_villages():
    text = (
        BASE
        + "overlays:\n  - region: 330304\n    name: 全县\n    under: ZM\n"
        + ("    add:\n      - {code: C1, name: 新项, rule: count, points: 1}\n")
    )
    (problem,) = _refused(text)
    assert problem.line == _line(text, "330304")
    assert "9" in problem.message and "12" in problem.message


def test_a_ranking_cannot_need_a_node_some_subjects_lack():
    overlays = (
        "overlays:\n  - region: 330304001001\n    name: 村规民约\n    under: ZM\n"
        "    exclude: [A2]\n    add:\n      - {code: C1, name: 新项, rule: count, points: 1}\n"
    )
    for node in ("C1", "A2"):
        text = (
            BASE
            + f"ranking:\n  lists:\n    - {{code: star, name: 之星, count: 1, node: {node}}}\n"
            + overlays
        )
        problems = _refused(text)
        assert [p.line for p in problems] == [_line(text, "之星")], problems
        assert node in problems[0].message


def test_with_overlays_a_variant_name_fits_beside_the_region_code():
    text = BASE + (
        "variants:\n  这是一个很长很长很长很长很长的变体名称啊:\n    name: 长\n"
        "    items:\n      A1: {points: 1}\n"
        "overlays:\n  - region: 330304001001\n    name: 村规民约\n    under: ZM\n"
        "    add:\n      - {code: C1, name: 新项, rule: count, points: 1}\n"
    )
    (problem,) = _refused(text)
    assert problem.line == _line(text, "变体名称")
    assert "19" in problem.message
