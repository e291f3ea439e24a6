"""Audit rows for every write service. Call inside the service's transaction."""

import datetime
import decimal
import uuid

from django.db import models

from .models import AuditLog


def _jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """A JSON-safe dict of the concrete field values of `obj` (FKs as ids)."""
    result = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        result[field.attname] = _jsonable(getattr(obj, field.attname))
    return result


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    region_code: str = "",
    before: dict | None = None,
    after: dict | None = None,
    object_repr: str = "",
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        region_code=region_code,
        before=before,
        after=after,
    )
