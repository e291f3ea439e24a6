"""Writes to the ledger. Entries are never edited; a correction is a reversing entry."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.people.models import Subject
from kaoping.periods.models import Period, PeriodStatus
from kaoping.schemes.models import QTY_SCALE, Scheme, SchemeLevel, SchemeNode, SchemeVersion

from .models import Entry, EntrySource, EntryStatus


def subject_variant(version: SchemeVersion, subject: Subject) -> str:
    """The variant of `version` a subject is scored with: its track when the scheme has one."""
    if subject.track and SchemeNode.objects.filter(version=version, variant=subject.track).exists():
        return subject.track
    return ""


def scorable_items(version: SchemeVersion, subject: Subject):
    return SchemeNode.objects.filter(
        version=version, variant=subject_variant(version, subject), is_item=True
    ).exclude(aggregate="metric")


def entry_record(
    *,
    scheme: Scheme,
    subject: Subject,
    item_code: str,
    occurred_on: date,
    acting_user,
    quantity: Decimal | str = "1",
    label: str = "",
    note: str = "",
    source: str = EntrySource.CONSOLE,
    status: str = EntryStatus.APPROVED,
    idempotency_key: str | None = None,
) -> tuple[Entry, bool]:
    """Record one entry; returns (entry, created). A repeated idempotency key returns the first."""
    if idempotency_key:
        existing = Entry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    if subject.kind != scheme.subject_kind:
        raise KaopingError({"subject": _("This scheme scores another kind of subject.")})
    version = scheme.latest_version()
    node = scorable_items(version, subject).filter(code=item_code).first()
    if node is None:
        raise KaopingError(
            {
                "item_code": _("“%(code)s” is not an item of this scheme for this subject.")
                % {"code": item_code}
            }
        )
    try:
        amount = Decimal(str(quantity))
    except InvalidOperation:
        raise KaopingError({"quantity": _("The quantity must be a number.")}) from None
    if amount <= 0 or amount * QTY_SCALE != (amount * QTY_SCALE).to_integral_value():
        raise KaopingError(
            {"quantity": _("The quantity must be positive with at most 3 decimal places.")}
        )
    points = Decimal(0)
    if node.rule == "rating":
        level = SchemeLevel.objects.filter(
            version=version, variant=node.variant, item_code=node.code, label=label
        ).first()
        if level is None:
            labels = "、".join(
                SchemeLevel.objects.filter(
                    version=version, variant=node.variant, item_code=node.code
                ).values_list("label", flat=True)
            )
            raise KaopingError({"label": _("Choose a rating: %(labels)s.") % {"labels": labels}})
        amount = Decimal(1)
        points = version.to_points(node.weight) * Decimal(level.factor) / 10000
    elif node.rule in ("count", "quantity"):
        points = version.to_points(node.points) * amount
    if Period.objects.filter(
        scheme=scheme, status=PeriodStatus.FINAL, start__lte=occurred_on, end__gte=occurred_on
    ).exists():
        raise KaopingError(
            {
                "occurred_on": _("%(day)s lies in a finalised period; record it in an open period.")
                % {"day": occurred_on}
            }
        )
    try:
        with transaction.atomic(durable=True):
            entry = Entry.objects.create(
                scheme=scheme,
                subject=subject,
                item_code=item_code,
                quantity_scaled=int(amount * QTY_SCALE),
                label=label if node.rule == "rating" else "",
                points=points.quantize(Decimal("0.0001")),
                occurred_on=occurred_on,
                status=status,
                source=source,
                note=note,
                idempotency_key=idempotency_key or None,
                created_by=acting_user,
            )
            audit_record(
                actor=acting_user,
                action="ledger.entry.recorded",
                obj=entry,
                region_code=subject.region.code,
                after={
                    "item": item_code,
                    "quantity": str(amount),
                    "label": entry.label,
                    "points": str(entry.points),
                    "date": occurred_on.isoformat(),
                    "status": status,
                },
            )
    except IntegrityError:
        # Two submissions with one key raced; the other one won.
        existing = Entry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return entry, True
