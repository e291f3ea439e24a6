"""± adjustments of a roll-up period (docs/schemes.md §9, `adjust: true`): points added to or
taken from a subject's roll-up total by hand, each with its reason (获市级表彰 +2, 发生安全事故 −3).

An adjustment is an entry on the pseudo item `ADJUST_CODE` at the roll-up's cadence, recorded
through the `Recorder` like any other entry (same permission, same review, same one write). Its
quantity holds the points; the ledger keeps quantities non-negative, so a negative adjustment is
stored with `sign = −1` and no `reverses`. A reversal is told apart by `reverses`, never by its
sign: reversing a −3 writes +3 with `reverses` set, and the close's `SUM(sign × quantity)` is
right either way.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kaoping.core.limits import QUANTITY_MAX, text_problem
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import QTY_SCALE
from kaoping.schemes.spec import ADJUST_CODE, SchemeSpec

from .models import Entry

__all__ = ["ADJUST_CODE", "adjust_cadences", "adjustment_entry", "adjustment_problems"]


def adjust_cadences(spec: SchemeSpec) -> list[str]:
    """The roll-up levels that take ± adjustments (`adjust: true`), in the file's order."""
    return [str(rollup.cadence) for rollup in spec.rollups if rollup.adjust]


def adjustment_points(value) -> Decimal | None:
    """The points an adjustment's quantity states, or None when it states no number."""
    try:
        amount = Decimal(str(value).strip().replace("−", "-").replace("＋", "+"))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def adjustment_problems(recorder, draft) -> dict[str, str]:
    """What is wrong with an adjustment `draft` (item ADJUST_CODE) for `recorder`, by field.

    The subject's kind, scope and the department rule are the Recorder's and its caller's; here:
    the level takes adjustments, a reason is given, the points are a number other than 0 within
    the ledger's precision and bounds, the date is in the accepted range, and the roll-up period
    of the date is not finalised.
    """
    found: dict[str, str] = {}
    levels = recorder.adjust_cadences
    if not draft.cadence or draft.cadence == str(recorder.scheme.cadence):
        found["cadence"] = (
            _("Adjustments are recorded on a roll-up period: choose %(levels)s.")
            % {"levels": "、".join(cadence_label(c) for c in levels)}
            if levels
            else _("This scheme takes no adjustments: none of its roll-ups says adjust: true.")
        )
    elif draft.cadence not in levels:
        found["cadence"] = _(
            "The %(cadence)s roll-up of this scheme takes no adjustments (adjust: true is not set)."
        ) % {"cadence": cadence_label(draft.cadence)}
    amount = adjustment_points(draft.quantity)
    if amount is None:
        found["quantity"] = _("The adjustment must be a number of points, e.g. 2 or -3.")
    elif amount == 0:
        found["quantity"] = _("An adjustment of 0 points changes nothing; write e.g. 2 or -3.")
    elif amount * QTY_SCALE != (amount * QTY_SCALE).to_integral_value():
        found["quantity"] = _("The adjustment may have at most 3 decimal places.")
    elif abs(amount) > QUANTITY_MAX:
        found["quantity"] = _("The adjustment must lie between -%(max)s and %(max)s points.") % {
            "max": f"{QUANTITY_MAX:,}"
        }
    note = draft.note.strip()
    limit = Entry._meta.get_field("note").max_length
    if not note:
        found["note"] = _(
            "Say why: the reason of an adjustment is required (e.g. a city-level commendation)."
        )
    elif len(note) > limit:
        found["note"] = _("The note is %(n)d characters long; at most %(max)d.") % {
            "n": len(note),
            "max": limit,
        }
    elif problem := text_problem(note):
        found["note"] = _("The note %(problem)s.") % {"problem": problem}
    if draft.label:
        found["label"] = _("An adjustment takes no rating.")
    day: date = draft.occurred_on
    if day > recorder.today:
        found["occurred_on"] = _("%(day)s is in the future.") % {"day": day}
    elif day < recorder.earliest:
        found["occurred_on"] = _(
            "%(day)s is too long ago; the earliest date accepted is %(first)s."
        ) % {"day": day, "first": recorder.earliest}
    elif "cadence" not in found:
        # Only the roll-up period's own seal counts: a finalised month inside an open year
        # does not stop the year's adjustments, a finalised year does.
        label = label_for(draft.cadence, day)
        start, end = period_dates(draft.cadence, label)
        if any(s <= start and end <= e for s, e in recorder.sealed_spans):
            found["occurred_on"] = _(
                "%(label)s is finalised; it takes no more adjustments (reopen it first)."
            ) % {"label": label}
    return found


def adjustment_entry(recorder, draft) -> Entry:
    """The unsaved entry of a checked adjustment `draft`: |points| as its quantity, the sign of
    the points as its sign, the points as recorded, the reason as its note."""
    amount = adjustment_points(draft.quantity)
    return Entry(
        scheme=recorder.scheme,
        subject=draft.subject,
        item_code=ADJUST_CODE,
        cadence=draft.cadence,
        quantity_scaled=int(abs(amount) * QTY_SCALE),
        sign=1 if amount > 0 else -1,
        label="",
        points=amount,
        occurred_on=draft.occurred_on,
        status=recorder.status,
        source=recorder.source,
        note=draft.note.strip(),
        idempotency_key=draft.idempotency_key or None,
        created_by=recorder._actor(),
    )
