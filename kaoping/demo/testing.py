"""For tests of the demo's scored year (the fixture `demo_year` in kaoping/conftest.py)."""

from pathlib import Path

from kaoping.periods.models import Period, Result
from kaoping.schemes.loader import load_scheme_text

SHIPPED_SCHEMES = Path(__file__).resolve().parents[2] / "schemes"


def shipped_specs() -> dict:
    """The schemes in schemes/, by code, as the demo loads them."""
    return {
        spec.code: spec
        for spec in (
            load_scheme_text(path.read_text(encoding="utf-8"), filename=path.name)
            for path in sorted(SHIPPED_SCHEMES.glob("*.yaml"))
        )
    }


def first_totals() -> dict[str, list[tuple]]:
    """The first 20 results of each scheme's first closed period, ordered by a key that does not
    depend on row ids."""
    found = {}
    for code in shipped_specs():
        period = (
            Period.objects.filter(scheme__code=code, status__in=["closed", "posted", "final"])
            .order_by("end", "start")
            .first()
        )
        rows = Result.objects.filter(period=period).values_list(
            "subject__region__code",
            "subject__household__number",
            "subject__person__id_number",
            "total",
            "rank",
        )
        found[code] = sorted(rows, key=lambda r: (r[0], r[1] or "", r[2] or ""))[:20]
    return found
