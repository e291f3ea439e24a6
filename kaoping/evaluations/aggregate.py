"""How ballots add up: one ballot's mark from its form, a subject's result from its ballots, and
the honesty signals of a round. Pure: no database.

Numbers are Decimal; a ballot's mark and a result are rounded once, half away from zero, to two
places (the scoring module's rounding).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.utils.translation import gettext as _

from kaoping.schemes.scoring import round_half_away

from .spec import Aggregate, Campaign, Combine

PLACES = 2

# Honesty signals (RoundResult.flags and the round page).
SHORT = "short"  # fewer ballots than the campaign's minimum: no result written
ALL_SAME = "all_same"  # every ballot for the subject gave the same mark (three or more ballots)
RELATIVES = "relatives"  # some ballots came from registered close relatives


def marks_problems(campaign: Campaign, marks: Mapping[str, object]) -> dict[str, str]:
    """What is wrong with a ballot's marks, by form item code (empty when it can be cast)."""
    found: dict[str, str] = {}
    for item in campaign.form:
        given = marks.get(item.code)
        if given in (None, ""):
            found[item.code] = _("Give a mark for “%(name)s”.") % {"name": item.name}
            continue
        if item.scale is not None:
            if str(given) not in item.scale:
                found[item.code] = _("Choose one of: %(levels)s.") % {
                    "levels": "、".join(item.scale)
                }
            continue
        try:
            value = Decimal(str(given))
        except InvalidOperation:
            found[item.code] = _("“%(name)s” must be a number.") % {"name": item.name}
            continue
        if not value.is_finite() or value < 0 or value > item.max:
            found[item.code] = _("“%(name)s” must be between 0 and %(max)s.") % {
                "name": item.name,
                "max": item.max.normalize(),
            }
        elif value != round(value, PLACES):
            found[item.code] = _("“%(name)s” has at most two decimal places.") % {"name": item.name}
    unknown = set(marks) - {item.code for item in campaign.form}
    for code in sorted(unknown):
        found[code] = _("“%(code)s” is not a question of this form.") % {"code": code}
    return found


def item_mark(campaign: Campaign, code: str, given: object) -> Decimal:
    """The mark one answer is worth: a scale level's mark, or the score given."""
    item = next(i for i in campaign.form if i.code == code)
    if item.scale is not None:
        return item.scale[str(given)]
    return Decimal(str(given))


def ballot_mark(campaign: Campaign, marks: Mapping[str, object]) -> Decimal:
    """One ballot's mark: the mean or the sum of its answers (`combine`), to two places."""
    values = [item_mark(campaign, item.code, marks[item.code]) for item in campaign.form]
    total = sum(values, Decimal(0))
    if campaign.combine is Combine.SUM:
        return round_half_away(total, PLACES)
    return round_half_away(Fraction(total) / len(values), PLACES)


@dataclass
class Outcome:
    """A subject's result in a round."""

    value: Decimal | None  # None when short of ballots
    ballots: int
    valid: bool
    flags: list[str] = field(default_factory=list)


def subject_outcome(campaign: Campaign, marks: Sequence[Decimal], *, relatives: int = 0) -> Outcome:
    """The aggregate of one subject's ballot marks under the campaign's rule.

    `trimmed_mean` drops one highest and one lowest mark (it needs at least three ballots, which
    the campaign's `min_ballots` guarantees). Short of `min_ballots`: no value, flagged.
    """
    flags: list[str] = []
    if relatives:
        flags.append(RELATIVES)
    # Two ballots that agree say little; three or more that all agree are worth a look.
    if len(marks) >= 3 and len(set(marks)) == 1:
        flags.append(ALL_SAME)
    if len(marks) < campaign.min_ballots:
        return Outcome(None, len(marks), False, [SHORT, *flags])
    counted = sorted(marks)
    if campaign.aggregate is Aggregate.TRIMMED_MEAN:
        counted = counted[1:-1]
    value = round_half_away(Fraction(sum(counted, Decimal(0))) / len(counted), PLACES)
    return Outcome(value, len(marks), True, flags)


def straight_liners(ballots: Sequence[tuple[str, Decimal]], *, least: int = 3) -> set[str]:
    """Raters (rater keys) who gave every subject the same mark over at least `least` ballots:
    (rater key, mark) pairs in, the keys to review out."""
    by_rater: dict[str, list[Decimal]] = {}
    for key, mark in ballots:
        by_rater.setdefault(key, []).append(mark)
    return {key for key, marks in by_rater.items() if len(marks) >= least and len(set(marks)) == 1}


def response_rate(ballots: int, eligible: int) -> Decimal | None:
    """Ballots over possible raters, in per cent to one place; None when nobody could rate."""
    if eligible <= 0:
        return None
    return round_half_away(Fraction(100 * ballots, eligible), 1)
