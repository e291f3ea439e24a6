"""The ledger's hash chains: one per village, so a hand edit in the database is found.

Each entry carries its position in its village's chain and sha256 over the previous link and the
fields that never change after insert. Review fields (status, reviewer, reason) are left out: they
change by design, and every such change has its audit row.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from .models import Entry, LedgerChain

CHAINED_FIELDS = (
    "scheme_id",
    "subject_id",
    "item_code",
    "quantity_scaled",
    "label",
    "sign",
    "occurred_on",
    "cadence",
    "source",
    "note",
    "reverses_id",
    "idempotency_key",
    "created_by_id",
    "import_job_id",
)


def chain_region_of(entry: Entry) -> str:
    """The village whose chain holds `entry` (a grid's entries belong to its village)."""
    return entry.subject.region.code[:12]


def entry_digest(previous: str, region: str, seq: int, entry: Entry) -> str:
    values = [previous, region, str(seq)]
    for name in CHAINED_FIELDS:
        value = getattr(entry, name)
        values.append(
            ""
            if value is None
            else value.isoformat()
            if hasattr(value, "isoformat")
            else str(value)
        )
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()


def chain_link(entries: list[Entry]) -> None:
    """Give unsaved `entries` their chain positions and hashes, advancing the locked heads.

    Call inside the transaction that inserts them: the heads stay locked until it commits, so two
    writers to one village queue instead of forking its chain.
    """
    regions = sorted({chain_region_of(e) for e in entries})
    if not regions:
        return
    existing = set(
        LedgerChain.objects.filter(region_code__in=regions).values_list("region_code", flat=True)
    )
    for region in regions:
        if region not in existing:
            try:
                with transaction.atomic():
                    LedgerChain.objects.create(region_code=region)
            except IntegrityError:
                pass  # created by a concurrent writer; we lock it below
    heads = {
        h.region_code: h
        for h in LedgerChain.objects.select_for_update().filter(region_code__in=regions)
    }
    for entry in entries:
        region = chain_region_of(entry)
        head = heads[region]
        head.length += 1
        entry.chain_region, entry.chain_seq = region, head.length
        entry.chain_hash = entry_digest(head.last_hash, region, head.length, entry)
        head.last_hash = entry.chain_hash
    LedgerChain.objects.bulk_update(heads.values(), ["length", "last_hash"])


@dataclass(frozen=True)
class ChainProblem:
    region: str
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id else "chain head"
        return f"{self.region}: {where}: {self.message}"


def chain_verify(*, region_prefix: str = "") -> Iterator[ChainProblem]:
    """Walk every chain (under `region_prefix`) and yield the first broken link of each."""
    entries = Entry.objects.filter(chain_region__startswith=region_prefix).order_by(
        "chain_region", "chain_seq"
    )
    unchained = entries.filter(chain_seq=0).values_list("id", flat=True)[:1]
    for entry_id in unchained:
        yield ChainProblem("", entry_id, "not in any chain (written around the ledger services)")
    heads = dict(
        LedgerChain.objects.filter(region_code__startswith=region_prefix).values_list(
            "region_code", "last_hash"
        )
    )
    region, previous, expected_seq, broken = None, "", 1, False
    for entry in _stream(entries.filter(chain_seq__gt=0)):
        if entry.chain_region != region:
            if region is not None and not broken and heads.get(region) != previous:
                yield ChainProblem(region, None, "the head does not match the last entry")
            region, previous, expected_seq, broken = entry.chain_region, "", 1, False
        if broken:
            continue
        if entry.chain_seq != expected_seq:
            yield ChainProblem(
                region, entry.pk, f"expected link {expected_seq}, found {entry.chain_seq}"
            )
            broken = True
            continue
        if entry_digest(previous, region, entry.chain_seq, entry) != entry.chain_hash:
            yield ChainProblem(region, entry.pk, "its recorded fields do not match its hash")
            broken = True
            continue
        previous, expected_seq = entry.chain_hash, expected_seq + 1
    if region is not None and not broken and heads.get(region) != previous:
        yield ChainProblem(region, None, "the head does not match the last entry")


def _stream(queryset) -> Iterable[Entry]:
    fields = ["id", "chain_region", "chain_seq", "chain_hash", *CHAINED_FIELDS]
    return queryset.only(
        *[f.removesuffix("_id") if f.endswith("_id") else f for f in fields]
    ).iterator(chunk_size=5000)
