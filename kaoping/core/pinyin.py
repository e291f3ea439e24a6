"""Pinyin for search: the stored initials, and matching a name against what a user typed as it
sounds (full pinyin, with or without spaces, one typo, or other characters of the same sound)."""

import re
from functools import lru_cache
from itertools import islice, product

from pypinyin import Style, lazy_pinyin, pinyin


def initials(text: str) -> str:
    """Lower-case pinyin initials, so '王小明' is found by typing 'wxm'."""
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p).lower()


# A name of two to four characters with a few readings each has a handful of spellings; a long
# region name with many polyphones is cut off here rather than multiplied out.
MAX_SPELLINGS = 16
MAX_READINGS = 3
# Shorter keys are matched by the initials and by prefix only: "zhan" one typo away is half
# the surnames of a county.
TYPO_MIN_LENGTH = 5
# Sounds that a speaker of the local dialect (or a hurried typist) does not tell apart: 平翘舌
# (z/zh, c/ch, s/sh), 前后鼻音 (an/ang, en/eng, in/ing) and n/l. Replaced in this order on both
# sides, so each pair falls together. In pinyin "l" only ever starts a syllable.
_ALIKE = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"), ("l", "n"))
_TYPED = re.compile(r"[\s'’·]+")


@lru_cache(maxsize=8192)
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character ('长' → ('chang', 'zhang')); a latin letter or a
    digit as itself, lower-cased; anything else reads as nothing."""
    if char.isascii():
        return (char.lower(),) if char.isalnum() else ("",)
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    readings = [r for r in (found[0] if found else []) if r.isascii() and r.isalpha()]
    # pypinyin lists the common readings first; the rare ones only multiply the spellings.
    return tuple(dict.fromkeys(readings))[:MAX_READINGS] or ("",)


@lru_cache(maxsize=65536)
def spellings(text: str) -> tuple[str, ...]:
    """The ways `text` reads in toneless pinyin, syllables joined: '曾长' → ('zengchang',
    'zengzhang', 'cengchang', 'cengzhang'), at most MAX_SPELLINGS of them."""
    return tuple(
        "".join(parts) for parts in islice(product(*(_readings(c) for c in text)), MAX_SPELLINGS)
    )


def sound(spelling: str) -> str:
    """`spelling` with the sounds of _ALIKE fallen together: 'zhangshan' → 'zansan'."""
    for heard, written in _ALIKE:
        spelling = spelling.replace(heard, written)
    return spelling


@lru_cache(maxsize=65536)
def _forms(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((spelling, sound(spelling)) for spelling in spellings(text))


def typed_spellings(query: str) -> tuple[str, ...]:
    """What the user means in pinyin: 'Zhang San' and "zhang'san" → ('zhangsan',); '张三' → its
    spellings (to find other characters of the same sound); () for anything else (codes,
    numbers, mixed text) or keys of fewer than three letters (the initials find those)."""
    typed = _TYPED.sub("", query).lower()
    if typed.isascii():
        return (typed,) if typed.isalpha() and len(typed) >= 3 else ()
    if len(typed) < 2 or not all("\u4e00" <= c <= "\u9fff" for c in typed):
        return ()
    return spellings(typed)


def first_letters(keys: tuple[str, ...]) -> set[str]:
    """The initials a name must start with to match one of `keys` (n and l stand for each
    other): the set the database narrows candidates by before `sound_match` runs."""
    letters = {key[0] for key in keys if key}
    return letters | {"l" for c in letters if c == "n"} | {"n" for c in letters if c == "l"}


def _starts_within_one_edit(spelling: str, key: str) -> bool:
    """True when `spelling` starts with `key` but for one character changed, added, left out,
    or two neighbours swapped."""
    i, width = 0, len(key)
    while i < width and i < len(spelling) and key[i] == spelling[i]:
        i += 1
    if i == width:
        return True
    rest = key[i + 1 :]
    return (
        spelling[i + 1 : width] == rest  # changed
        or spelling[i : width - 1] == rest  # one too many typed
        or spelling[i + 1 : width + 1] == key[i:]  # one left out
        or (key[i : i + 2] == spelling[i : i + 2][::-1] and spelling[i + 2 : width] == key[i + 2 :])
    )


def sound_match(keys: tuple[str, ...], text: str) -> int | None:
    """How well `text` matches what was typed (`typed_spellings`): 0 spelled so (or so it
    starts), 1 alike in sound (z/zh, an/ang, n/l…), 2 one typo away; None when it does not."""
    return _match(tuple((key, sound(key)) for key in keys), text)


def _match(keys: tuple[tuple[str, str], ...], text: str) -> int | None:
    best = None
    for spelling, heard in _forms(text):
        for key, key_heard in keys:
            if spelling.startswith(key):
                return 0
            if heard.startswith(key_heard):
                best = 1
            elif (
                best is None
                and len(key) >= TYPO_MIN_LENGTH
                and _starts_within_one_edit(spelling, key)
            ):
                best = 2
    return best


def sound_matches(query: str, texts) -> dict[str, int]:
    """{text: score} for every text of `texts` that `sound_match`es `query`."""
    keys = tuple((key, sound(key)) for key in typed_spellings(query))
    if not keys:
        return {}
    found = {}
    for text in texts:
        score = _match(keys, text)
        if score is not None:
            found[text] = score
    return found
