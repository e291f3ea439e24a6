"""What a county reads when a scheme file is refused: Chinese, the line its editor shows, the place
by codes and names, what is wrong and what is allowed. Pure Python, no DB.

Each broken file marks the line the message must name with `# ←`.
"""

import re
from enum import StrEnum

import pytest
from pydantic import BaseModel

from kaoping.schemes import spec as spec_module
from kaoping.schemes.loader import SchemeError, load_scheme_text

FILE = "t.yaml"

HEAD = """\
code: t
version: 1
name: 测试
subject_kind: village
cadence: month
"""

# Words of the format a message may use: its keys and its enumerated values.
_FORMAT_WORDS = {
    name
    for model in vars(spec_module).values()
    if isinstance(model, type) and issubclass(model, BaseModel)
    for name in model.model_fields
} | {
    member.value
    for kind in vars(spec_module).values()
    if isinstance(kind, type) and issubclass(kind, StrEnum) and kind is not StrEnum
    for member in kind
}
_ALLOWED = {"YAML", "Tab", "UTF", "yaml", "true", "false", "dept", "political_legal", "MM", "DD"}


def english_words(message: str, source: str) -> list[str]:
    """ASCII words in `message` that are neither in the file nor words of the format."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]+", message))
    written = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]+", source))
    return sorted(words - written - _FORMAT_WORDS - _ALLOWED)


def marked_line(source: str) -> int:
    return next(n for n, line in enumerate(source.split("\n"), 1) if "# ←" in line)


def only_problem(source: str) -> str:
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(source, filename=FILE)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


BROKEN = {
    "unclosed flow mapping (PyYAML stops on the next line)": (
        HEAD
        + """\
tree:
  - code: A
    name: 党建
    children:
      - {code: A1, name: 开会, rule: count, points: 5, cap: 15   # ←
      - {code: A2, name: 学习, rule: count, points: 5}
""",
        ["{ 没有用 } 闭合"],
    ),
    "unclosed flow sequence": (
        HEAD
        + """\
tree:
  - code: A
    name: 党建
    children:
      - code: A1
        name: 开会
        rule: rating
        weight: 10
        levels: [好, 一般   # ←
      - {code: A2, name: 学习, rule: count, points: 5}
""",
        ["[ 没有用 ] 闭合"],
    ),
    "unclosed quotation mark": (
        HEAD.replace("name: 测试", 'name: "测试   # ←')
        + "tree:\n  - {code: A, name: a, rule: count, points: 1}\n",
        ["引号一直没有闭合"],
    ),
    "a key without its colon": (
        HEAD
        + """\
tree:
  - code: A
    name 党建   # ←
    children:
      - {code: A1, name: 开会, rule: count, points: 5}
""",
        ["缺少冒号"],
    ),
    "a Chinese colon": (
        HEAD.replace("cadence: month", "cadence：month   # ←")
        + "tree:\n  - {code: A, name: a, rule: count, points: 1}\n",
        ["中文冒号"],
    ),
    "a tab for indentation": (
        HEAD + "tree:\n  - code: A\n\tname: 党建   # ←\n",
        ["Tab"],
    ),
    "a line out of alignment": (
        HEAD
        + """\
tree:
  - code: A
    name: 党建
   children:   # ←
      - {code: A1, name: 开会, rule: count, points: 5}
""",
        ["缩进不对"],
    ),
    "an unknown rule three levels down, by name not by tree index": (
        HEAD
        + """\
tree:
  - code: A
    name: 党建
    children:
      - code: A1
        name: 组织生活
        children:
          - code: A11
            name: 三会一课
            rule: points   # ←
            points: 5
""",
        ["A 党建 › A1 组织生活 › A11 三会一课", "rule 只能是 count（按次）", "“points”"],
    ),
    "an unknown key, with the key meant": (
        HEAD + "tree:\n  - {code: A, name: 党建, rule: count, points: 5, cpa: 3}   # ←\n",
        ["A 党建", "不认识的键 “cpa”", "“cap”"],
    ),
    "a key another rule has": (
        HEAD + "tree:\n  - {code: A, name: 党建, rule: count, points: 5, weight: 3}   # ←\n",
        ["不认识的键 “weight”", "rule 为 rating"],
    ),
    "a required key missing": (
        HEAD + "tree:\n  - {code: A, name: 捐款, rule: quantity, points: 1}   # ←\n",
        ["A 捐款", "必须写 unit"],
    ),
    "text where a number belongs": (
        HEAD + "tree:\n  - code: A\n    name: 党建\n    rule: count\n    points: 五   # ←\n",
        ["points 必须是数字", "“五”"],
    ),
    "a value outside its choices": (
        HEAD.replace("subject_kind: village", "subject_kind: villages   # ←")
        + "tree:\n  - {code: A, name: a, rule: count, points: 1}\n",
        ["subject_kind 只能是", "village、team、cadre、party_member、household", "“villages”"],
    ),
    "a code used twice": (
        HEAD
        + """\
tree:
  - {code: A, name: 党建, rule: count, points: 1}
  - {code: A, name: 发展, rule: count, points: 1}   # ←
""",
        ["A 发展", "代码 “A” 重复使用了", "第一次出现在第 7 行"],
    ),
    "a veto to a grade that does not exist": (
        HEAD
        + """\
tree:
  - code: V
    name: 否决
    rule: veto
    effect: grade
    grade: bad   # ←
grades:
  - {code: ok, name: 合格}
""",
        ["V 否决", "“bad” 不是已定义的等次代码", "可用：ok"],
    ),
    "a roll-up as short as the scheme": (
        HEAD + "tree:\n  - {code: A, name: a, rule: count, points: 1}\n"
        "rollups:\n  - {cadence: month, method: sum}   # ←\n",
        ["汇总 rollups 第 1 项", "month（月度）"],
    ),
    "a key written twice": (
        HEAD.replace("cadence: month", "cadence: month\ncadence: year   # ←")
        + "tree:\n  - {code: A, name: a, rule: count, points: 1}\n",
        ["键 “cadence” 写了两次", "第一次在第 5 行"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_file_is_explained_in_chinese_at_its_line(case):
    source, fragments = BROKEN[case]
    message = only_problem(source)
    assert message.startswith(f"{FILE} 第 {marked_line(source)} 行"), message
    for fragment in fragments:
        assert fragment in message, message
    assert "tree[" not in message and "children[" not in message, message
    assert not english_words(message, source), (english_words(message, source), message)


def test_lines_are_counted_as_an_editor_counts_them():
    # A name pasted from a word processor carries U+2028, which PyYAML counts as a line break;
    # the county's editor does not, and the message must name the line the county sees.
    source = (
        HEAD.replace("name: 测试", 'name: 测试\ndescription: "说明\u2028第二段"')
        + "tree:\n  - {code: A, name: 党建, rule: count, points: x}   # ←\n"
    )
    assert only_problem(source).startswith(f"{FILE} 第 {marked_line(source)} 行")
    crlf = source.replace("\n", "\r\n")
    assert only_problem(crlf).startswith(f"{FILE} 第 {marked_line(source)} 行")


def test_a_yaml_error_after_a_pasted_line_separator_names_the_editor_line():
    source = (
        HEAD.replace("name: 测试", 'name: 测试\ndescription: "说明\u2028第二段"')
        + "tree:\n  - {code: A, name: 党建, rule: count, points: 1   # ←\n  - {code: B}\n"
    )
    assert only_problem(source).startswith(f"{FILE} 第 {marked_line(source)} 行")


def test_every_problem_of_a_file_is_chinese():
    source = HEAD + (
        "tree:\n"
        "  - {code: A, name: 党建, rule: count, points: 5, cap: -1}\n"
        "  - {code: B, name: 评议, rule: rating, weight: 0, levels: {好: 2}}\n"
        "  - {code: C, name: 分档, rule: metric, metric: Visit, bands: []}\n"
        "grades:\n  - {code: g, name: 好, min: 1}\n"
    )
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(source, filename=FILE)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) >= 4, messages
    for message in messages:
        assert not english_words(message, source), (english_words(message, source), message)
