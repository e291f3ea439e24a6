"""What every section of the county dashboard shares: the Choice it reads (region, groups,
scheme, period), the grouping by region-code prefix and the numbers the charts take."""

from dataclasses import dataclass

from django.db.models.functions import Substr

from kaoping.periods.models import Period
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Region
from kaoping.schemes.models import Scheme

VIEW = "period.view"
VILLAGE = LEVEL_DIGITS["village"]


def num(value) -> float | None:
    """For the charts only: the tables show the Decimal."""
    return None if value is None else float(value)


def grouped(lookup: str, width: int):
    """`lookup` (a region code) cut to the first `width` digits: the group a row falls in."""
    return Substr(lookup, 1, width)


@dataclass
class Choice:
    region: Region
    roots: list[Region]
    crumbs: list[Region]
    groups: list[Region]  # the rows of every table: the region's children (or itself)
    width: int
    schemes: list[Scheme]
    scheme: Scheme | None
    periods: list[Period]  # the scheme's closed periods, newest first
    period: Period | None
