"""Period labels and their date ranges: 2026-03 (month), 2026-Q1, 2026-H1, 2026 (year)."""

import calendar
import re
from datetime import date

from django.utils.translation import gettext as _

CADENCE_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def period_dates(cadence: str, label: str) -> tuple[date, date]:
    """Start and inclusive end of the period `label` of `cadence`; ValueError says what is wrong."""
    patterns = {
        "month": r"(\d{4})-(0[1-9]|1[0-2])",
        "quarter": r"(\d{4})-Q([1-4])",
        "half_year": r"(\d{4})-H([12])",
        "year": r"(\d{4})",
    }
    match = re.fullmatch(patterns[cadence], label)
    if not match:
        examples = {
            "month": "2026-03",
            "quarter": "2026-Q1",
            "half_year": "2026-H1",
            "year": "2026",
        }
        raise ValueError(
            _("“%(label)s” is not a %(cadence)s period; write it like %(example)s.")
            % {"label": label, "cadence": cadence, "example": examples[cadence]}
        )
    year = int(match.group(1))
    index = int(match.group(2)) if cadence != "year" else 1
    months = CADENCE_MONTHS[cadence]
    first_month = (index - 1) * months + 1
    last_month = first_month + months - 1
    return date(year, first_month, 1), date(
        year, last_month, calendar.monthrange(year, last_month)[1]
    )


def label_for(cadence: str, day: date) -> str:
    """The label of the period of `cadence` that holds `day`."""
    if cadence == "month":
        return f"{day.year}-{day.month:02d}"
    if cadence == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if cadence == "half_year":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return str(day.year)


def cadence_of_label(label: str) -> str:
    for cadence in ("month", "quarter", "half_year", "year"):
        try:
            period_dates(cadence, label)
        except ValueError:
            continue
        return cadence
    raise ValueError(
        _("“%(label)s” is not a period label such as 2026-03, 2026-Q1, 2026-H1 or 2026.")
        % {"label": label}
    )


def labels_within(cadence: str, start: date, end: date) -> list[str]:
    """Labels of the periods of `cadence` that lie inside [start, end]."""
    labels = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        label = label_for(cadence, date(year, month, 1))
        if label not in labels:
            labels.append(label)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return labels


def previous_label(cadence: str, label: str) -> str:
    """The label of the period of `cadence` just before `label` (2026-01 → 2025-12)."""
    start, _end = period_dates(cadence, label)
    months = CADENCE_MONTHS[cadence]
    year, month = start.year, start.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return label_for(cadence, date(year, month, 1))
