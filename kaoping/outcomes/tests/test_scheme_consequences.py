"""The `consequences:` block of the scheme format: shape, meaning checks with file lines, the
shipped schemes and the example in docs/schemes.md. Pure Python, no DB."""

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from kaoping.schemes.checks import check_scheme, path_text
from kaoping.schemes.loader import SchemeError, load_scheme_file, load_scheme_text
from kaoping.schemes.spec import DEFER_CHECKS, SchemeSpec

ROOT = Path(__file__).resolve().parents[3]
FILE = "schemes/x.yaml"

BASE = textwrap.dedent(
    """\
    code: x
    version: 1
    name: 测试
    subject_kind: village
    cadence: month
    tree:
      - {code: P, name: 得分, rule: count, points: 1}
    grades:
      - {code: good, name: 优秀, honour: true, min: 8, min_inclusive: true}
      - {code: fair, name: 合格, max: 8, max_inclusive: false}
    rollups:
      - {cadence: quarter, method: mean}
    ranking:
      lists:
        - {code: top3, name: 前三名, kind: red, count: 3}
        - {code: bottom3, name: 后三名, kind: black, pick: bottom, count: 3, carry_over: false}
        - {code: black, name: 黑榜, kind: black, pick: bottom, count: 2}
      awards:
        - code: star
          name: 之星
          tiers: [{code: star, name: 之星, quota: 1}]
    """
)


def with_consequences(block: str) -> str:
    return BASE + "consequences:\n" + textwrap.indent(textwrap.dedent(block), "  ")


def problems(text: str) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(text, filename=FILE)
    return str(caught.value).splitlines()


def line_of(text: str, needle: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if needle in line)


FULL = """\
share: {lists: [top3], cadences: [month]}
interviews:
  list: bottom3
  levels:
    - {code: deputy, name: 党委副书记约谈, cadences: [month]}
    - {code: mayor, name: 镇党委副书记和镇长约谈, cadences: [quarter]}
  escalate:
    - {repeats: 2, within: 3}
pledges: {list: black, deadline_days: 60, items_min: 3}
pairing: {strong_list: top3, weak_list: bottom3}
bonus_pool:
  amount: 100000.00
  by_grade: {good: 3, fair: 1.5}
  remainder: largest_remainder
honours: {awards: [star]}
key_villages:
  designate: {list: bottom3, cadences: [quarter]}
  exit: {periods: 2}
  criteria: 连续两个月不在后三名
"""


def test_a_full_block_parses_into_typed_rules():
    spec = load_scheme_text(with_consequences(FULL), filename=FILE)
    rules = spec.consequences
    assert rules.interviews.levels[1].name == "镇党委副书记和镇长约谈"
    assert rules.pledges.deadline_days == 60 and rules.pairing.min_exchanges_per_month == 2
    assert rules.pairing.count == "offline"
    assert rules.bonus_pool.amount == Decimal("100000.00")
    assert rules.bonus_pool.by_grade == {"good": Decimal(3), "fair": Decimal("1.5")}
    assert rules.honours.grades is None and rules.key_villages.exit.automatic
    assert spec.summary()["warnings"] == []
    assert SchemeSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_without_the_block_nothing_is_triggered():
    assert load_scheme_text(BASE, filename=FILE).consequences is None


@pytest.mark.parametrize(
    ("block", "needle", "message"),
    [
        (
            "share: {lists: [gold]}\n",
            "gold",
            "没有代码为 “gold” 的榜单（已有的榜单：black、bottom3、top3）",
        ),
        (
            "interviews:\n  list: bottom3\n  levels:\n    - {code: a, name: 甲}\n",
            "levels:",
            "没有任何层级写明从哪种考评期开始",
        ),
        (
            "interviews:\n  list: bottom3\n  levels:\n"
            "    - {code: a, name: 甲, cadences: [month]}\n"
            "    - {code: b, name: 乙, cadences: [month]}\n",
            "name: 乙",
            "month（月度） 的约谈已经从层级 “a” 开始了",
        ),
        (
            "interviews:\n  list: bottom3\n  levels:\n    - {code: a, name: 甲, cadences: [year]}\n",
            "code: a",
            "本方案没有 year（年度） 的考评结果（只有 month（月度）、quarter（季度））",
        ),
        (
            "interviews:\n  list: bottom3\n  levels:\n    - {code: a, name: 甲, cadences: [month]}\n"
            "  escalate:\n    - {repeats: 3, within: 2}\n",
            "repeats: 3",
            "within（2）必须 ≥ repeats（3）",
        ),
        (
            "pairing: {strong_list: top3, weak_list: top3}\n",
            "pairing",
            "weak_list 与 strong_list 不能是同一个榜单",
        ),
        (
            "bonus_pool: {amount: 100, remainder: keep}\n",
            "bonus_pool",
            "奖金分配方式只能写一种：by_grade（按等次）或 by_rank（按名次）",
        ),
        (
            "bonus_pool: {amount: 100.001, by_grade: {good: 1}, remainder: keep}\n",
            "bonus_pool",
            "的小数超过 2 位",
        ),
        (
            "bonus_pool: {amount: 100, by_grade: {great: 1}, remainder: keep}\n",
            "bonus_pool",
            "“great” 不是已定义的等次代码（可用：fair、good）",
        ),
        (
            "bonus_pool:\n  amount: 100\n  remainder: first\n  by_rank:\n"
            "    - {from_rank: 1, to_rank: 3, weight: 2}\n"
            "    - {from_rank: 3, to_rank: 5, weight: 1}\n",
            "from_rank: 3",
            "名次 3–5 与 by_rank 第 1 项（1–3）重叠",
        ),
        ("honours: {grades: [best]}\n", "honours", "“best” 不是已定义的等次代码"),
        ("honours: {awards: [moon]}\n", "honours", "没有代码为 “moon” 的奖项"),
        (
            "key_villages:\n  exit: {periods: 2}\n",
            "exit",
            "请写明重点村要连续不上哪些榜才能退出",
        ),
    ],
)
def test_meaning_problems_name_the_path_and_line(block, needle, message):
    text = with_consequences(block)
    found = problems(text)
    hit = [p for p in found if message in p]
    assert hit, found
    assert hit[0].startswith(f"{FILE} 第 {line_of(text, needle)} 行"), hit
    # The finding itself names the data path of the offending key.
    spec = SchemeSpec.model_validate(yaml.safe_load(text), context={DEFER_CHECKS: True})
    paths = [path_text(f.path) for f in check_scheme(spec) if message in f.message]
    assert paths and all(p.startswith("consequences.") for p in paths), paths


def test_shape_problems_are_reported_with_lines():
    text = with_consequences(
        "interviews:\n  list: bottom3\n  levls: []\n"
        "bonus_pool: {amount: 100, by_grade: {good: 1}}\n"
    )
    found = "\n".join(problems(text))
    assert f"{FILE} 第 {line_of(text, 'levls')} 行" in found and "不认识的键 “levls”" in found
    assert "bonus_pool：必须写 remainder" in found
    assert "interviews：必须写 levels" in found


def test_the_remainder_rule_must_be_stated():
    text = with_consequences("bonus_pool: {amount: 100, by_grade: {good: 1}, remainder: even}\n")
    assert any("remainder 只能是 largest_remainder、first、keep 之一" in p for p in problems(text))


def test_key_villages_and_pairings_are_for_villages():
    text = BASE.replace("subject_kind: village", "subject_kind: household") + (
        "consequences:\n  key_villages: {designate: {list: bottom3}}\n"
        "  pairing: {strong_list: top3, weak_list: bottom3}\n"
    )
    found = "\n".join(problems(text))
    assert "重点村只适用于考评村社或村“两委”班子的方案（本方案考评的是农户）" in found
    assert "结对只适用于考评村社或村“两委”班子的方案" in found


def test_a_pledge_list_that_is_not_carried_over_is_a_warning():
    spec = load_scheme_text(with_consequences("pledges: {list: bottom3}\n"), filename=FILE)
    assert any("不会延续到下一期" in w for w in spec.summary()["warnings"])


def test_honours_need_an_honour_grade_or_an_award():
    text = with_consequences("honours: {}\n").replace("honour: true, ", "")
    assert any("没有等次标记为 honour: true" in p for p in problems(text))


def test_the_shipped_contest_interviews_at_the_seed_levels():
    spec = load_scheme_file(ROOT / "schemes" / "leitai-biwu.yaml")
    rules = spec.consequences
    by_cadence = {c: lv.name for lv in rules.interviews.levels for c in lv.cadences}
    assert by_cadence == {
        "month": "党委副书记约谈",
        "quarter": "镇党委副书记和镇长约谈",
        "year": "全镇大会表态发言",
    }
    assert rules.share.lists == ("top3", "progress")
    assert (rules.pairing.min_exchanges_per_month, rules.pairing.count) == (2, "offline")
    lists = {rule.code: rule for rule in spec.ranking.lists}
    assert (lists["bottom3"].pick, lists["bottom3"].count) == ("bottom", 3)


def test_the_shipped_six_contests_write_pledges_and_designate_key_villages():
    spec = load_scheme_file(ROOT / "schemes" / "liubi-liuzheng.yaml")
    rules = spec.consequences
    assert rules.pledges.list == "black"
    assert rules.key_villages.designate.list == "focus"
    lists = {rule.code: rule for rule in spec.ranking.lists}
    assert lists["focus"].count == 12
    award = next(a for a in spec.ranking.awards if a.code == "haocunguan")
    assert set(award.from_lists) == {"red", "progress"}
    assert rules.honours.awards == ("haocunguan",)


def test_the_example_in_the_docs_loads():
    doc = (ROOT / "docs" / "schemes.md").read_text(encoding="utf-8")
    section = doc.split("## 17. 结果运用", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = load_scheme_text(example, filename="docs/schemes.md")
    assert spec.consequences is not None and spec.summary()["warnings"] == []
