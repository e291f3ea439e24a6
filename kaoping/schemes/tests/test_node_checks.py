"""`node:` on lists and awards: it must name a node that has a value, in every variant and in
every period the rule is made on; each refusal names the line. Pure Python, no DB."""

from pathlib import Path

import pytest
from django.utils import translation

from kaoping.schemes.loader import SchemeError, load_scheme_file, load_scheme_text

FILE = "t.yaml"

HEAD = """\
code: t
version: 1
name: 测试
subject_kind: village
cadence: month
tree:
  - {code: P, name: 得分, rule: count, points: 1}
  - {code: V, name: 否决, rule: veto, effect: bar}
  - code: G
    name: 评议
    children:
      - {code: Q, name: 互评, rule: count, points: 1}
      - {code: R, name: 群众, rule: count, points: 1}
rollups:
  - {cadence: quarter, method: mean}
  - cadence: year
    method: composite
    parts:
      - {source: self, aggregate: value, weight: 0.5}
      - {source: month, aggregate: mean, weight: 0.5}
variants:
  x:
    exclude: [R]
ranking:
"""


def problems(ranking: str) -> list[str]:
    """The problems of HEAD + `ranking`, in English (the msgids), one line each."""
    with translation.override("en"):
        with pytest.raises(SchemeError) as caught:
            load_scheme_text(HEAD + ranking, filename=FILE)
        return [str(p) for p in caught.value.problems]


def line_of(ranking: str, needle: str) -> int:
    text = HEAD + ranking
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def only(ranking: str, needle: str) -> str:
    found = problems(ranking)
    assert len(found) == 1, found
    assert found[0].startswith(f"{FILE}, line {line_of(ranking, needle)}"), found[0]
    return found[0]


def test_a_node_with_a_value_in_every_period_it_is_made_on_loads():
    spec = load_scheme_text(
        HEAD
        + "  lists:\n"
        + "    - {code: a, name: 互评前二, count: 2, node: Q, cadences: [month, year]}\n"
        + "  awards:\n"
        + "    - code: w\n      name: 评议之星\n      node: G\n      cadences: [month]\n"
        + "      tiers: [{code: t, name: 之星, quota: 1}]\n",
        filename=FILE,
    )
    assert spec.ranking.lists[0].node == "Q"
    assert spec.ranking.awards[0].node == "G"


def test_an_unknown_node_is_refused_at_its_line():
    ranking = "  lists:\n    - {code: a, name: a, count: 1, node: Z, cadences: [month]}\n"
    message = only(ranking, "node: Z")
    assert "there is no item or group “Z” in the tree" in message


def test_a_veto_item_is_refused():
    ranking = "  lists:\n    - {code: a, name: a, count: 1, node: V, cadences: [month]}\n"
    assert "“V” is a veto item" in only(ranking, "node: V")


def test_a_node_a_variant_excludes_is_refused():
    ranking = "  lists:\n    - {code: a, name: a, count: 1, node: R, cadences: [month]}\n"
    assert "variant “x” excludes “R”" in only(ranking, "node: R")


def test_a_roll_up_of_totals_is_refused_at_the_cadence():
    ranking = (
        "  awards:\n    - code: w\n      name: w\n      node: Q\n"
        "      cadences:\n        - month\n        - quarter\n"
        "      tiers: [{code: t, name: t, quota: 1}]\n"
    )
    message = only(ranking, "- quarter")
    assert "ranked by “Q”, but quarter" in message and "no value" in message
    # It says which periods would do.
    assert "month" in message.split("score the tree")[1]
    assert "year" in message.split("score the tree")[1]


def test_a_rule_made_on_every_period_is_refused_when_a_roll_up_has_no_tree():
    ranking = "  lists:\n    - {code: a, name: a, count: 1, node: Q}\n"
    message = only(ranking, "node: Q")
    assert "made on every period" in message and "quarter" in message
    assert "cadences" in message


def test_a_progress_list_cannot_rank_by_a_node():
    ranking = (
        "  lists:\n    - {code: a, name: a, kind: progress, count: 1, node: Q, cadences: [month]}\n"
    )
    assert "progress list" in only(ranking, "kind: progress")


def test_the_shipped_sanping_ranks_its_half_year_by_the_mutual_rating():
    spec = load_scheme_file(Path(__file__).resolve().parents[3] / "schemes" / "sanping.yaml")
    huping = next(rule for rule in spec.ranking.lists if rule.code == "huping")
    assert (huping.node, huping.percent, [str(c) for c in huping.cadences]) == (
        "PY03",
        20,
        ["half_year"],
    )
    # The year's 闪亮之星 stays on the total.
    assert [(a.code, a.node) for a in spec.ranking.awards] == [("shanliang", None)]
