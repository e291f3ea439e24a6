"""Matching a name against what was typed as it sounds (core.pinyin), without a database."""

import pytest

from kaoping.core.pinyin import first_letters, sound_matches, spellings, typed_spellings

NAMES = ["张三", "张山", "章三", "赵三", "张三丰", "李四", "曾长明", "东岭村", "刘芳", "牛芳"]


def test_what_was_typed():
    assert typed_spellings("Zhang San") == ("zhangsan",)
    assert typed_spellings("xi'an") == ("xian",)
    assert typed_spellings("张三") == ("zhangsan",)
    assert "zengzhangming" in typed_spellings("曾长明")  # every reading of a polyphone
    for nothing in ("zs", "王", "330304", "张3", "a-b", ""):
        assert typed_spellings(nothing) == (), nothing


def test_polyphones_are_read_every_way_within_a_bound():
    assert set(spellings("曾长")) >= {"zengchang", "zengzhang", "cengchang", "cengzhang"}
    assert len(spellings("长长长长长长长长")) <= 16


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zhangsan", {"张三": 0, "章三": 0, "张三丰": 0, "张山": 1}),
        ("zhangsna", {"张三": 2, "章三": 2, "张三丰": 2, "张山": 2}),  # swapped
        ("zhangsn", {"张三": 2, "章三": 2, "张三丰": 2, "张山": 2}),  # left out
        ("张山", {"张山": 0, "张三": 1, "章三": 1, "张三丰": 1}),  # same sound, other characters
        ("niufang", {"牛芳": 0, "刘芳": 1}),  # n/l
        ("dongling", {"东岭村": 0}),
        ("lisi", {"李四": 0}),
        ("lisu", {}),  # four letters: no typo allowed
        ("qqqqq", {}),
    ],
)
def test_scores(typed, expected):
    assert sound_matches(typed, NAMES) == expected


def test_first_letters_let_n_and_l_stand_for_each_other():
    assert first_letters(("niufang",)) == {"n", "l"}
    assert first_letters(("zengchang", "cengchang")) == {"z", "c"}
