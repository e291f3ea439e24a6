"""Scheme file format: parsing, validation messages, flattening, grades. Pure Python, no DB.

What a subject scores under a scheme is tested in test_scoring.py."""

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kaoping.schemes.loader import (
    SchemeError,
    load_scheme_data,
    load_scheme_file,
    load_scheme_text,
)
from kaoping.schemes.scoring import evaluate
from kaoping.schemes.spec import ROOT_CODE, Rule, SchemeSpec, Section, VetoEffect

SCHEMES = Path(__file__).resolve().parents[3] / "schemes"
FILE = "schemes/x.yaml"
D = Decimal


def load(name: str) -> SchemeSpec:
    return load_scheme_file(SCHEMES / f"{name}.yaml")


# A small valid scheme the error tests break one thing at a time.
BASE = textwrap.dedent(
    """\
    code: test
    version: 1
    name: 测试方案
    subject_kind: household
    cadence: month
    base: 100
    floor: 0
    tree:
      - code: ZM
        name: 正面清单
        section: bonus
        max: 50
        children:
          - code: P01
            name: 见义勇为
            rule: count
            points: 10
            cap: 20
          - code: P02
            name: 捐款
            rule: quantity
            unit: 百元
            points: 0.1
      - code: FM
        name: 负面清单
        section: deduction
        floor: -30
        children:
          - code: N01
            name: 乱倒垃圾
            rule: count
            points: -2
      - code: PJ
        name: 评议
        max: 20
        children:
          - code: R01
            name: 群众评议
            rule: rating
            weight: 10
            levels: {好: 1, 较好: 0.85, 一般: 0.7}
          - code: M01
            name: 走访覆盖率
            rule: metric
            metric: visit_coverage
            bands:
              - {min: 90, min_inclusive: true, points: 10}
              - {min: 60, min_inclusive: true, max: 90, max_inclusive: false, points: 5}
      - code: FJ
        name: 否决
        children:
          - code: V01
            name: 违法犯罪
            rule: veto
            effect: grade
            grade: low
    grades:
      - {code: high, name: 星级文明户, honour: true, min: 150, min_inclusive: true}
      - {code: mid, name: 普通户, min: 80, min_inclusive: true, max: 150, max_inclusive: false}
      - {code: low, name: 待提升户, max: 80, max_inclusive: false}
    rollups:
      - {cadence: quarter, method: sum}
    """
)


def line_of(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def at(text: str, needle: str, nth: int = 0) -> str:
    """How a problem names the file and the line of `needle`, as an editor counts lines."""
    return f"{FILE} 第 {line_of(text, needle, nth)} 行"


def problems(text: str) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(text, filename=FILE)
    return str(caught.value).splitlines()


def test_base_fixture_is_valid():
    spec = load_scheme_text(BASE, filename=FILE)
    assert spec.summary()["warnings"] == []


# -- shipped schemes ----------------------------------------------------------------------------


SHIPPED = {
    "liubi-liuzheng": ("village", "quarter", 6, 40, D(600)),
    "leitai-biwu": ("village", "month", 5, 0, D(100)),
    "hong-huang-qi": ("village", "month", 6, 11, D(100)),
    "qianfen-team": ("team", "half_year", 4, 36, D(1000)),
    "qianfen-cadre": ("cadre", "half_year", 4, 29, D(1000)),
    "party-member-points": ("party_member", "month", 3, 33, D(120)),
    "household-points": ("household", "month", 3, 10, None),
    "grid-work": ("grid", "month", 5, 10, D(100)),
    "sanping": ("party_member", "month", 2, 4, D(100)),
}


def test_every_shipped_file_is_covered():
    assert {p.stem for p in SCHEMES.glob("*.yaml")} == set(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_scheme_loads_with_expected_summary(name):
    kind, cadence, indices, indicators, max_total = SHIPPED[name]
    summary = load(name).summary()
    assert summary["code"] == name
    # 红黄旗 v2 added its flag lists and bonus pool; a changed shipped file raises its version.
    # qianfen-team v2 reads the 擂台比武's monthly lists (JF06, KF08: `source:`); leitai-biwu v2
    # breaks ties at its cut-offs; household-points v2 carries 景山社区's own items (`overlays:`);
    # party-member-points v2 warns on the points accumulated since January (`value: ytd`).
    changed = (
        "hong-huang-qi",
        "qianfen-team",
        "leitai-biwu",
        "household-points",
        "party-member-points",
    )
    assert summary["version"] == (2 if name in changed else 1)
    assert (summary["subject_kind"], summary["cadence"]) == (kind, cadence)
    assert (summary["indices"], summary["indicators"]) == (indices, indicators)
    assert summary["max_total"] == max_total
    assert summary["warnings"] == []


def test_liubi_liuzheng_has_six_indices_of_100_and_40_indicators():
    spec = load("liubi-liuzheng")
    assert [n.name for n in spec.tree] == [
        "堡垒指数",
        "经济指数",
        "平安指数",
        "环境指数",
        "文明指数",
        "清廉指数",
    ]
    assert all(n.max == 100 for n in spec.tree)
    assert sum(len(n.children) for n in spec.tree) == 40
    assert spec.max_total() == 600
    assert {g.name for g in spec.grades} == {"优秀", "良好", "合格", "不合格"}


def test_household_lists_have_25_positive_19_negative_4_veto_items():
    rows = [r for r in load("household-points").flatten() if r.is_item]
    bonus = [r for r in rows if r.section is Section.BONUS]
    deduction = [r for r in rows if r.section is Section.DEDUCTION]
    vetoes = [r for r in rows if r.rule is Rule.VETO]
    assert (len(bonus), len(deduction), len(vetoes)) == (25, 19, 4)
    assert all(r.points > 0 for r in bonus) and all(r.points < 0 for r in deduction)
    assert sum(r.declarable for r in bonus) >= 5
    assert load("household-points").base == 100


def test_party_member_points_has_54_items_and_six_classes():
    spec = load("party-member-points")
    assert spec.summary()["items"] == 54
    assert list(spec.variants) == ["A", "B", "C", "D", "E", "F"]


def test_qianfen_team_is_600_quantitative_plus_400_qualitative():
    spec = load("qianfen-team")
    by_code = {n.code: n for n in spec.tree}
    assert (by_code["DL"].max, by_code["DX"].max) == (600, 400)
    assert len(by_code["DL"].children) == 4
    assert len(by_code["DX"].children) == 6
    assert by_code["JF"].section is Section.BONUS and by_code["JF"].max == 50
    assert by_code["KF"].section is Section.DEDUCTION and by_code["KF"].floor == -200


def test_shipped_numbers_are_decimal_never_float():
    for name in SHIPPED:
        for row in load(name).flatten():
            for value in (row.base, row.max, row.floor, row.points, row.cap, row.weight):
                assert value is None or type(value) is Decimal, (name, row.code)
            for _, factor in row.levels:
                assert type(factor) is Decimal


# -- error messages -----------------------------------------------------------------------------


def test_unknown_key_names_file_line_item_and_suggests():
    text = BASE.replace("        cap: 20\n", "        cpa: 20\n")
    assert problems(text) == [
        f"{at(text, 'cpa:')}，ZM 正面清单 › P01 见义勇为：不认识的键 “cpa”（是不是想写 “cap”？）"
    ]


def test_key_of_another_rule_is_explained():
    text = BASE.replace("        cap: 20\n", "        weight: 20\n")
    (message,) = problems(text)
    assert "不认识的键 “weight”（只有 rule 为 rating 的评分项才有这个键）" in message


def test_negative_cap():
    text = BASE.replace("cap: 20", "cap: -1")
    assert problems(text) == [f"{at(text, 'cap: -1')}，ZM 正面清单 › P01 见义勇为：cap 不能小于 0"]


def test_duplicate_code_points_at_both_lines():
    text = BASE.replace("code: N01", "code: P01")
    first, second = line_of(text, "code: P01"), line_of(text, "code: P01", 1)
    assert problems(text) == [
        f"{FILE} 第 {second} 行，FM 负面清单 › P01 乱倒垃圾：代码 “P01” 重复使用了"
        f"（第一次出现在第 {first} 行）"
    ]


def test_overlapping_grades():
    text = BASE.replace("max: 150, max_inclusive: false", "max: 150, max_inclusive: true")
    assert problems(text) == [
        f"{at(text, 'code: mid')}，等次 grades 第 2 项（mid 普通户）："
        "等次 [80, 150] 与等次 “high” [150, +∞) 重叠"
    ]


def test_missing_min_inclusive():
    text = BASE.replace("min: 80, min_inclusive: true,", "min: 80,")
    (message,) = problems(text)
    assert message.startswith(
        f"{at(text, 'code: mid')}，等次 grades 第 2 项（mid 普通户）："
        "写了 min 就必须写 min_inclusive：80 本身算不算在这个等次里？"
    )


def test_bonus_item_with_negative_points():
    text = BASE.replace("points: 10\n", "points: -10\n", 1)
    assert problems(text) == [
        f"{at(text, 'points: -10')}，ZM 正面清单 › P01 见义勇为：加分项里的 points（-10）必须 ≥ 0"
    ]


def test_deduction_item_with_positive_points():
    text = BASE.replace("points: -2", "points: 2")
    (message,) = problems(text)
    assert "FM 负面清单 › N01 乱倒垃圾：扣分项里的 points（2）必须 ≤ 0" in message


def test_veto_to_unknown_grade():
    text = BASE.replace("grade: low", "grade: lowest")
    assert problems(text) == [
        f"{at(text, 'grade: lowest')}，FJ 否决 › V01 违法犯罪："
        "grade “lowest” 不是已定义的等次代码（可用：high、low、mid）"
    ]


def test_overlapping_bands():
    text = BASE.replace(
        "max: 90, max_inclusive: false, points: 5", "max: 95, max_inclusive: false, points: 5"
    )
    assert problems(text) == [
        f"{at(text, 'max: 95')}，PJ 评议 › M01 走访覆盖率 › bands 第 2 项："
        "分档 [60, 95) 与分档 bands 第 1 项 [90, +∞) 重叠"
    ]


def test_band_missing_max_inclusive_and_empty_band():
    text = BASE.replace("max: 90, max_inclusive: false, points: 5", "max: 90, points: 5")
    (message,) = problems(text)
    assert "M01 走访覆盖率 › bands 第 2 项：写了 max 就必须写 max_inclusive" in message
    text = BASE.replace(
        "{min: 60, min_inclusive: true, max: 90", "{min: 90, min_inclusive: true, max: 90"
    )
    (message,) = problems(text)
    assert "分档 [90, 90) 是空的" in message


def test_bonus_band_with_negative_points_and_rating_in_deduction():
    text = BASE.replace("    name: 评议\n", "    name: 评议\n    section: bonus\n").replace(
        "max_inclusive: false, points: 5", "max_inclusive: false, points: -5"
    )
    assert problems(text) == [
        f"{at(text, 'points: -5')}，PJ 评议 › M01 走访覆盖率 › bands 第 2 项："
        "加分项里的 points（-5）必须 ≥ 0"
    ]
    text = BASE.replace("    name: 评议\n    max: 20\n", "    name: 评议\n    section: deduction\n")
    text = text.replace("points: 10}", "points: -10}").replace("points: 5}", "points: -5}")
    assert problems(text) == [
        f"{at(text, 'rule: rating')}，PJ 评议 › R01 群众评议："
        "评议项（rating）得分 ≥ 0，不能放在扣分项（deduction）里"
    ]


def test_warnings_have_lines_and_do_not_stop_loading():
    text = (
        BASE.replace("    max: 20\n", "    max: 15\n")
        .replace(
            "{code: high, name: 星级文明户, honour: true, min: 150",
            "{code: high, name: 星级文明户, honour: true, min: 1500",
        )
        .replace("max: 150, max_inclusive: false", "max: 1500, max_inclusive: false")
    )
    warnings = load_scheme_text(text, filename=FILE).summary()["warnings"]
    assert warnings == [
        f"{at(text, 'max: 15')}，PJ 评议：下级各项最高可得 20 分，超过本组上限 max 15，"
        "超出部分会被截掉",
        f"{at(text, 'min: 1500')}，等次 grades 第 1 项（high 星级文明户）："
        "等次 “high” 从 1500 分起，但总分最高只有 165 分：谁也评不上",
    ]


def test_unknown_rule_points_at_rule_line():
    text = BASE.replace("rule: rating", "rule: ratting")
    assert problems(text) == [
        f"{at(text, 'rule: ratting')}，PJ 评议 › R01 群众评议：rule 只能是 count（按次）、"
        "quantity（按量）、rating（评议）、metric（指标分档）或 veto（一票否决），这里写的是 “ratting”"
    ]


def test_group_without_children_or_rule():
    text = BASE.replace("        rule: count\n        points: -2\n", "")
    (message,) = problems(text)
    assert "FM 负面清单 › N01 乱倒垃圾：分组必须有 children" in message
    assert "rule: count、quantity、rating、metric、veto" in message


def test_required_key_for_rule():
    text = BASE.replace("        unit: 百元\n", "")
    (message,) = problems(text)
    assert message.endswith("ZM 正面清单 › P02 捐款：rule 为 quantity 的评分项必须写 unit")


def test_not_a_number():
    text = BASE.replace("points: 0.1", "points: 十")
    assert problems(text) == [
        f"{at(text, 'points: 十')}，ZM 正面清单 › P02 捐款：points 必须是数字，这里写的是 “十”"
    ]


def test_yaml_syntax_error_has_a_line():
    text = "code: test\nname: [unclosed\nversion: 1\n"
    (message,) = problems(text)
    # PyYAML gives up on line 3; the bracket left open is on line 2.
    assert message == (
        f"{FILE} 第 2 行：YAML 格式错误：这一行的 [ 没有用 ] 闭合，或者里面两项之间少了英文逗号"
    )


def test_duplicate_yaml_key_is_an_error_not_an_overwrite():
    text = BASE.replace("        cap: 20\n", "        cap: 20\n        cap: 30\n")
    assert problems(text) == [
        f"{at(text, 'cap: 30')}，ZM 正面清单 › P01 见义勇为：键 “cap” 写了两次"
        f"（第一次在第 {line_of(text, 'cap: 20')} 行）"
    ]


def test_max_below_base_and_floor_above_max():
    text = BASE.replace("    max: 20\n", "    base: 30\n    max: 20\n")
    (message,) = problems(text)
    assert message.endswith("PJ 评议：max（20）必须 ≥ base（30）")
    text = BASE.replace("floor: -30", "floor: -30\n    max: -40")
    assert any("floor（-30）必须 ≤ max（-40）" in m for m in problems(text))


def test_rollup_must_be_coarser_than_the_scheme():
    text = BASE.replace("{cadence: quarter, method: sum}", "{cadence: month, method: sum}")
    (message,) = problems(text)
    assert (
        "汇总 rollups 第 1 项：汇总周期 month（月度） 必须比方案的考评周期 month（月度） 长"
        in message
    )


def test_composite_rollup_needs_parts_from_available_periods():
    text = BASE.replace(
        "{cadence: quarter, method: sum}",
        "{cadence: year, method: composite, parts: [{source: quarter, aggregate: mean, weight: 1}]}",
    )
    (message,) = problems(text)
    assert (
        "汇总 rollups 第 1 项 › parts 第 1 项：source quarter（季度）：本方案没有这种考评结果"
        in message
    )


def test_too_many_decimal_places():
    text = BASE.replace("points: 0.1", "points: 0.125")
    (message,) = problems(text)
    assert message.endswith("P02 捐款：points 0.125 的小数超过 2 位（decimals: 2）")


def test_variant_problems_name_the_variant():
    text = BASE + textwrap.dedent(
        """\
        variants:
          A:
            exclude: [ZM, P99]
            items:
              R01: {points: 3}
              N01: {points: 1}
        """
    )
    found = "\n".join(problems(text))
    assert (
        "变体 variants › A › exclude 第 1 项：exclude：“ZM” 是一个分组，请列出它下面的评分项"
        in found
    )
    assert "exclude：没有代码为 “P99” 的评分项" in found
    assert "变体 variants › A › items › R01 群众评议：rating 评分项不能改 points" in found
    assert "变体 variants › A › items › N01 乱倒垃圾：扣分项里的 points（1）必须 ≤ 0" in found


def test_lists_are_checked_with_lines():
    text = BASE + (
        "ranking:\n  within: village\n  lists:\n"
        "    - {code: red, name: 红榜, kind: red, count: 3, min: 90}\n"
        "    - {code: odd, name: 怪榜}\n"
        "  streaks:\n    - {code: champ, name: 常胜将军, list: gold, periods: 3}\n"
    )
    found = problems(text)
    first_list_line = BASE.count("\n") + 4  # the line of `- {code: red …}`
    assert (
        f"{FILE} 第 {first_list_line} 行，排名 ranking › lists 第 1 项（red 红榜）："
        "请写明正好等于 min 的是否上榜（min_inclusive: true 或 false）"
    ) in found
    assert any(
        p.startswith(
            f"{FILE} 第 {first_list_line + 1} 行，排名 ranking › lists 第 2 项（odd 怪榜）"
        )
        and "count（名额）、percent（比例）、min 或 max" in p
        for p in found
    )
    assert any("没有代码为 “gold” 的榜单（已有的榜单：odd、red）" in p for p in found)
    good = BASE + (
        "ranking:\n  lists:\n    - {code: red, name: 红榜, kind: red, count: 3, min: 90, min_inclusive: true}\n"
        "  streaks:\n    - {code: champ, name: 常胜将军, list: red, periods: 3}\n"
    )
    spec = load_scheme_text(good, filename=FILE)
    assert spec.ranking.lists[0].code == "red" and spec.posting.window_days == 7


def test_all_problems_are_reported_at_once():
    text = BASE.replace("grade: low", "grade: lowest").replace("points: -2", "points: 2")
    assert len(problems(text)) == 2


# -- numbers ------------------------------------------------------------------------------------


def test_numbers_parse_as_exact_decimals():
    spec = load_scheme_text(BASE, filename=FILE)
    donation = spec.item("P02")
    assert donation.points == Decimal("0.1") and type(donation.points) is Decimal
    assert spec.item("R01").levels["较好"] == Decimal("0.85")
    assert spec.base == Decimal(100) and type(spec.base) is Decimal


def test_non_finite_numbers_are_rejected():
    (message,) = problems(BASE.replace("points: 0.1", "points: .inf"))
    assert "P02 捐款 › points：必须是一个普通的有限数" in message


# -- flatten and variants -----------------------------------------------------------------------


def test_flatten_is_depth_first_with_root_first():
    rows = load_scheme_text(BASE, filename=FILE).flatten()
    assert [r.code for r in rows] == [
        ROOT_CODE,
        "ZM",
        "P01",
        "P02",
        "FM",
        "N01",
        "PJ",
        "R01",
        "M01",
        "FJ",
        "V01",
    ]
    root = rows[0]
    assert (root.parent_code, root.depth, root.base, root.floor) == (None, 0, 100, 0)
    by_code = {r.code: r for r in rows}
    assert by_code["P01"].aggregate == "sum" and by_code["R01"].aggregate == "mean"
    assert by_code["M01"].aggregate == "metric" and by_code["V01"].aggregate == "veto"
    assert by_code["V01"].veto_effect is VetoEffect.GRADE and by_code["V01"].veto_grade == "low"
    assert by_code["N01"].section is Section.DEDUCTION and by_code["N01"].depth == 2


def test_flatten_applies_party_member_variants():
    spec = load("party-member-points")
    base = {r.code: r for r in spec.flatten()}
    moved_out = {r.code: r for r in spec.flatten("D")}
    assert "YW04" in base and "YW04" not in moved_out  # 主题党日 needs presence
    assert "YW11" in moved_out  # 流出党员 reports quarterly instead
    frail = {r.code: r for r in spec.flatten("F")}
    assert frail["YW01"].points == -1 and base["YW01"].points == -3
    assert frail["YW"].floor == -10 and base["YW"].floor == -30
    secretary = {r.code: r for r in spec.flatten("A")}
    assert secretary["YW09"].points == -2 and "YW13" in secretary


def test_flatten_applies_track_weights():
    spec = load("leitai-biwu")
    weights = {v: {r.code: r.weight for r in spec.flatten(v) if r.is_item} for v in spec.variants}
    assert weights["示范"]["CY"] == 30 and weights["强基"]["DJ"] == 30
    assert all(sum(w.values()) == 100 for w in weights.values())
    with pytest.raises(ValueError, match="unknown variant"):
        spec.flatten("不存在")


def test_owner_and_defaults_are_inherited():
    spec = load("liubi-liuzheng")
    rows = {r.code: r for r in spec.flatten()}
    assert rows["BL01.1"].owner == "dept:organization"
    assert rows["JJ03.1"].owner == "dept:natural_resources"
    assert rows["BL07.1"].owner == "role:township_staff"
    assert rows["BL01.1"].evidence_required and not rows["BL05.1"].evidence_required


# -- grades and totals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("600", "优秀"),
        ("540", "优秀"),
        ("539.99", "良好"),
        ("480", "良好"),
        ("479.99", "合格"),
        ("360", "合格"),
        ("359.99", "不合格"),
        ("0", "不合格"),
    ],
)
def test_grade_for_honours_inclusive_and_exclusive_bounds(total, grade):
    assert load("liubi-liuzheng").grade_for(Decimal(total)).name == grade


def test_flag_grades_meet_without_a_gap():
    spec = load("hong-huang-qi")
    assert spec.grade_for(D(90)).name == "红旗"
    assert spec.grade_for(D("89.9")).name == "达标"  # no flag, the lower bonus share
    assert spec.grade_for(D(75)).name == "达标"
    assert spec.grade_for(D("74.9")).name == "黄旗"


def test_grades_given_only_on_their_cadence():
    spec = load("household-points")
    assert spec.grade_for(D(170)).name == "星级文明户"
    assert spec.grade_for(D(170), cadence="year").honour
    assert spec.grade_for(D(170), cadence="month") is None


def test_json_round_trip_keeps_the_spec():
    for name in SHIPPED:
        spec = load(name)
        assert SchemeSpec.model_validate(spec.model_dump(mode="json")) == spec
        assert load_scheme_data(spec.model_dump(mode="json")) == spec


def test_direct_construction_still_checks_meaning():
    data = yaml.safe_load(BASE.replace("grade: low", "grade: nope"))
    with pytest.raises(ValidationError, match="grade “nope” 不是已定义的等次代码"):
        SchemeSpec.model_validate(data)


# -- property: any valid tree flattens consistently ---------------------------------------------


def _item(rule: str, points: int) -> dict:
    if rule == "rating":
        return {"rule": "rating", "weight": abs(points) + 1, "levels": {"好": 1, "差": "0.5"}}
    if rule == "metric":
        return {
            "rule": "metric",
            "metric": "some_metric",
            "bands": [{"min": 0, "min_inclusive": True, "points": points}],
        }
    if rule == "veto":
        return {"rule": "veto", "effect": "bar"}
    extra = {"unit": "次"} if rule == "quantity" else {}
    return {"rule": rule, "points": points, **extra}


items = st.builds(
    _item,
    st.sampled_from(["count", "quantity", "rating", "metric", "veto"]),
    st.integers(-20, 20),
)


def _group(children: list, base: int, headroom: int | None) -> dict:
    group: dict = {"children": children, "base": base}
    if headroom is not None:
        group["max"] = base + headroom
        group["floor"] = base - headroom
    return group


trees = st.recursive(
    items,
    lambda inner: st.builds(
        _group,
        st.lists(inner, min_size=1, max_size=4),
        st.integers(0, 50),
        st.none() | st.integers(0, 100),
    ),
    max_leaves=25,
)


def _number(tree: dict | list, counter: list[int]) -> None:
    elements = tree if isinstance(tree, list) else [tree]
    for element in elements:
        counter[0] += 1
        element["code"] = f"N{counter[0]}"
        element["name"] = f"节点{counter[0]}"
        if "children" in element:
            _number(element["children"], counter)


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(trees, min_size=1, max_size=5))
def test_any_valid_tree_flattens_parents_first_with_consistent_depths(tree):
    counter = [0]
    _number(tree, counter)
    text = yaml.safe_dump(
        {
            "code": "generated",
            "version": 1,
            "name": "生成",
            "subject_kind": "village",
            "cadence": "month",
            "tree": tree,
        },
        allow_unicode=True,
    )
    spec = load_scheme_text(text, filename="generated.yaml")
    rows = spec.flatten()
    assert len(rows) == counter[0] + 1
    assert [r.code for r in rows[1:]] == [f"N{i}" for i in range(1, counter[0] + 1)]
    seen: dict[str, int] = {}
    for row in rows:
        if row.parent_code is None:
            assert (row.code, row.depth) == (ROOT_CODE, 0)
        else:
            assert row.parent_code in seen  # parent before child
            assert row.depth == seen[row.parent_code] + 1
        assert row.is_item == (row.rule is not None)
        seen[row.code] = row.depth
    low, high = spec.bounds()
    assert low <= high
    nothing = evaluate(spec, {})
    assert low <= nothing.total <= high


def test_the_worked_example_in_the_docs_loads_cleanly():
    doc = (SCHEMES.parent / "docs" / "schemes.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = load_scheme_text(example, filename="docs/schemes.md")
    summary = spec.summary()
    assert summary["warnings"] == []
    assert (summary["indices"], summary["indicators"], summary["items"]) == (4, 7, 10)
    assert summary["max_total"] == 100
    result = evaluate(spec, {"DJ01.1": D(1), "ZL02.3": True, "JF01": D(1)})
    assert result.grade.code == "huangqi" and result.vetoes == ("ZL02.3",)
