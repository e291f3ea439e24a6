"""The national division code (统计用区划代码) and its extension for grids.

A region is stored under its *significant* code: the digits that are not trailing padding at its
level (county 330304, township 330304001, village 330304001001, grid 330304001001007). Every
descendant's code starts with its ancestor's, which makes "everything under X" a prefix.
"""

from dataclasses import dataclass

# level → number of significant digits
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12, "grid": 15}
LEVEL_ORDER = list(LEVEL_DIGITS)
OFFICIAL_LENGTH = 12


@dataclass(frozen=True)
class ParsedCode:
    level: str
    code: str  # significant digits

    @property
    def parent_code(self) -> str | None:
        index = LEVEL_ORDER.index(self.level)
        if index == 0:
            return None
        return self.code[: LEVEL_DIGITS[LEVEL_ORDER[index - 1]]]


def parse_official_code(raw: str) -> ParsedCode:
    """Parse a 12-digit official code (or a 15-digit grid code); ValueError says what is wrong."""
    from django.utils.translation import gettext as _

    value = raw.strip()
    if not value.isdigit():
        raise ValueError(_("A division code has only digits, got “%(v)s”.") % {"v": value})
    if len(value) == LEVEL_DIGITS["grid"]:
        if value[12:] == "000":
            raise ValueError(_("A grid code ends in its grid number 001–999, not 000."))
        village = parse_official_code(value[:12])
        if village.level != "village":
            raise ValueError(_("A grid code must extend a village code."))
        return ParsedCode("grid", value)
    if len(value) != OFFICIAL_LENGTH:
        raise ValueError(
            _("A division code has 12 digits (15 for a grid), got %(n)d.") % {"n": len(value)}
        )
    if value[:2] == "00":
        raise ValueError(_("The province part of the code cannot be 00."))
    # Walk the levels from the finest up: the level is the finest one with a non-zero part.
    for level in reversed(LEVEL_ORDER[:-1]):
        digits = LEVEL_DIGITS[level]
        if value[digits:] == "0" * (OFFICIAL_LENGTH - digits):
            index = LEVEL_ORDER.index(level)
            previous = LEVEL_DIGITS[LEVEL_ORDER[index - 1]] if index else 0
            if value[previous:digits].strip("0") == "":
                continue  # this level's own part is zero too: look one level up
            return ParsedCode(level, value[:digits])
    raise ValueError(_("“%(v)s” is not a valid division code.") % {"v": value})  # pragma: no cover


def official_code(code: str) -> str:
    """The 12-digit official form of a significant code (grids keep their 15 digits)."""
    return code if len(code) > OFFICIAL_LENGTH else code.ljust(OFFICIAL_LENGTH, "0")
