"""Inspection samples (随机抽查, `sample:` on a metric item): how many sub-units are drawn, the
rule that orders them, the figure the results give, and the checks of the keys.

The draws themselves (the seed, the members, the results) are `kaoping.inspections`'; what is
here is the rule both that app and an auditor state alike, touching no database.
"""

import hashlib
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from .labels import subject_kind_label
from .spec import MetricItem, Sample, SampleMeasure, SampleOf, SampleRounding, SchemeSpec

# What a unit of each subject kind is made of: households of a village (a team's village, a
# grid), grids of a village (a team's village).
SUB_UNITS: dict[str, frozenset[str]] = {
    "village": frozenset({SampleOf.HOUSEHOLD, SampleOf.GRID}),
    "team": frozenset({SampleOf.HOUSEHOLD, SampleOf.GRID}),
    "grid": frozenset({SampleOf.HOUSEHOLD}),
}

FIGURE_PLACES = Decimal("0.0001")  # metric values carry four places (METRIC_SCALE)

_ROUNDING = {
    SampleRounding.UP: ROUND_CEILING,
    SampleRounding.DOWN: ROUND_FLOOR,
    SampleRounding.NEAREST: ROUND_HALF_UP,
}


def sample_size(sample: Sample, total: int) -> int:
    """How many of a unit's `total` sub-units are drawn: `count`, or share × total rounded by
    `rounding`; then at least `min`, at most `max`, never more than there are, and at least one
    when there is any (an inspection of nothing is none)."""
    if total <= 0:
        return 0
    if sample.count is not None:
        size = sample.count
    else:
        exact = sample.share * total
        size = int(exact.quantize(Decimal(1), rounding=_ROUNDING[sample.rounding]))
    if sample.min is not None:
        size = max(size, sample.min)
    if sample.max is not None:
        size = min(size, sample.max)
    return max(1, min(size, total))


def draw_key(seed: str, number: str) -> str:
    """sha256 of the seed, a colon and the sub-unit's number (a household's number, a grid's
    division code), in hex: the smaller is drawn first. Also the lot of `ranking.tie_break`
    (periods.lists.lot_key): one formula for every draw an auditor replays."""
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def draw_members(seed: str, numbers: Iterable[str], size: int) -> list[str]:
    """The `size` numbers with the smallest `draw_key`, in that order: what an auditor replays."""
    return sorted(numbers, key=lambda number: draw_key(seed, number))[:size]


def sample_figure(sample: Sample, labels: Sequence[str]) -> Decimal | None:
    """The unit's figure from the labels recorded (0–100, four places, half up); None when
    nothing is recorded. `pass_rate`: the share rated one of `pass`; `mean`: the mean factor."""
    if not labels:
        return None
    if sample.measure is SampleMeasure.PASS_RATE:
        passed = sum(1 for label in labels if label in sample.passing)
        figure = Decimal(100 * passed) / len(labels)
    else:
        figure = sum((sample.levels[label] for label in labels), Decimal(0)) * 100 / len(labels)
    return figure.quantize(FIGURE_PLACES, rounding=ROUND_HALF_UP)


def sampled_items(spec: SchemeSpec) -> list[MetricItem]:
    """The metric items of `spec` scored from an inspection, in file order."""
    return [
        element
        for _path, element, _depth in spec.walk()
        if isinstance(element, MetricItem) and element.sample is not None
    ]


def check_samples(spec: SchemeSpec, findings: list, finding) -> None:
    """The meaning of every `sample:`; `finding(path, message)` builds a checks.Finding."""
    kind = spec.subject_kind.value
    used: dict[str, list[tuple]] = {}
    for path, element, _depth in spec.walk():
        if isinstance(element, MetricItem):
            used.setdefault(element.metric, []).append(path)
    for path, element, _depth in spec.walk():
        if not isinstance(element, MetricItem) or element.sample is None:
            continue
        sample, at = element.sample, (*path, "sample")
        if sample.of not in SUB_UNITS.get(kind, ()):
            findings.append(
                finding(
                    (*at, "of"),
                    _(
                        "of: %(of)s cannot be drawn inside a %(kind)s (households are drawn "
                        "from a village, a team or a grid; grids from a village or a team)"
                    )
                    % {"of": sample.of.value, "kind": subject_kind_label(kind)},
                )
            )
        if (sample.share is None) == (sample.count is None):
            findings.append(finding(at, _("write exactly one of share and count")))
        if sample.share is not None and sample.rounding is None:
            findings.append(
                finding(
                    at,
                    _(
                        "a share needs rounding: up, down or nearest (how 4.5 households become whole)"
                    ),
                )
            )
        if sample.count is not None and sample.rounding is not None:
            findings.append(finding((*at, "rounding"), _("rounding goes with share, not count")))
        if sample.min is not None and sample.max is not None and sample.min > sample.max:
            findings.append(finding((*at, "min"), _("min is above max")))
        unknown = [label for label in sample.passing if label not in sample.levels]
        if unknown:
            findings.append(
                finding(
                    (*at, "pass"),
                    _("pass names %(unknown)s, which is not among the levels (%(levels)s)")
                    % {"unknown": "、".join(unknown), "levels": "、".join(sample.levels)},
                )
            )
        if sample.measure is SampleMeasure.PASS_RATE and not sample.passing:
            findings.append(finding(at, _("measure pass_rate needs pass: the levels that pass")))
        if sample.measure is SampleMeasure.MEAN and sample.passing:
            findings.append(finding((*at, "pass"), _("pass goes with measure pass_rate, not mean")))
        if element.source is not None:
            findings.append(
                finding(
                    (*path, "source"), _("an item filled by an inspection reads no other scheme")
                )
            )
        others = [p for p in used[element.metric] if p != path]
        if others:
            findings.append(
                finding(
                    (*path, "metric"),
                    _(
                        "the metric %(metric)s is filled by this item's inspection; give every sampled item a metric of its own"
                    )
                    % {"metric": element.metric},
                )
            )
