"""Audit rows for every write service. Call inside the service's transaction.

The rows are hash-chained, one chain per county (the first six digits of the row's region; rows
of no region share the chain ""): each row carries its position and sha256 over the previous
row's hash and its own content, and `AuditChain` holds each head, locked by the writer until its
transaction ends, so writers in one county queue and writers in different counties do not.
`audit_verify` (`kaoping audit verify`) walks the chains and names an edited or deleted row.
"""

import datetime
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .models import AuditChain, AuditLog

# A county's code is the first six digits of every region code under it (regions.codes).
CHAIN_KEY_DIGITS = 6


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
    row = AuditLog(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        region_code=region_code,
        before=before,
        after=after,
        at=timezone.now(),
        chain_key=region_code[:CHAIN_KEY_DIGITS],
    )
    with transaction.atomic(savepoint=False):  # joins the service's transaction
        head = _locked_head(row.chain_key)
        row.chain_seq = head.length + 1
        row.chain_hash = audit_digest(head.last_hash, row)
        row.save(force_insert=True)
        AuditChain.objects.filter(pk=head.pk).update(length=row.chain_seq, last_hash=row.chain_hash)
    return row


def _locked_head(key: str) -> AuditChain:
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is None:
        try:
            with transaction.atomic():
                AuditChain.objects.create(key=key)
        except IntegrityError:
            pass  # created by a concurrent writer; locked below
        head = AuditChain.objects.select_for_update().get(key=key)
    return head


def _canonical(value) -> str:
    # As the database gives it back: JSON, keys sorted.
    return json.dumps(
        json.loads(json.dumps(value, default=str)),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def audit_digest(previous: str, row: AuditLog) -> str:
    values = [
        previous,
        row.chain_key,
        str(row.chain_seq),
        row.at.astimezone(datetime.UTC).isoformat(),
        "" if row.actor_id is None else str(row.actor_id),
        row.action,
        row.object_type,
        row.object_id,
        row.object_repr,
        row.region_code,
        _canonical(row.before),
        _canonical(row.after),
    ]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    chain: str
    row_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row_id}" if self.row_id else "chain head"
        return f"audit chain {self.chain or '-'}: {where}: {self.message}"


def audit_verify(*, key_prefix: str = "") -> Iterator[AuditProblem]:
    """Walk every audit chain (of counties under `key_prefix`) and yield the first broken link
    of each: a row edited, deleted, or written around `audit_record`."""
    rows = AuditLog.objects.filter(chain_key__startswith=key_prefix)
    first_chained = rows.filter(chain_seq__gt=0).order_by("id").values_list("id", flat=True)[:1]
    for first in first_chained:
        # Rows from before the chain existed are unchained; none may come after it.
        for row_id in rows.filter(chain_seq=0, id__gt=first).values_list("id", flat=True)[:1]:
            yield AuditProblem("", row_id, "not in any chain (written around audit_record)")
    heads = dict(
        AuditChain.objects.filter(key__startswith=key_prefix).values_list("key", "last_hash")
    )
    walked = set()
    key, previous, expected, broken = None, "", 1, False
    for row in (
        rows.filter(chain_seq__gt=0).order_by("chain_key", "chain_seq").iterator(chunk_size=5000)
    ):
        if row.chain_key != key:
            if key is not None and not broken and heads.get(key) != previous:
                yield AuditProblem(key, None, "the head does not match the last row (deleted?)")
            key, previous, expected, broken = row.chain_key, "", 1, False
            walked.add(key)
        if broken:
            continue
        if row.chain_seq != expected:
            yield AuditProblem(
                key,
                row.pk,
                f"expected row {expected} of the chain, found {row.chain_seq} "
                "(a row before it was deleted)",
            )
            broken = True
        elif audit_digest(previous, row) != row.chain_hash:
            yield AuditProblem(key, row.pk, "its content does not match its hash (edited)")
            broken = True
        else:
            previous, expected = row.chain_hash, expected + 1
    if key is not None and not broken and heads.get(key) != previous:
        yield AuditProblem(key, None, "the head does not match the last row (deleted?)")
    for head_key, last_hash in heads.items():
        if last_hash and head_key not in walked:
            yield AuditProblem(head_key, None, "the head names rows that are gone")
