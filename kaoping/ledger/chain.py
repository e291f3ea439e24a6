"""The ledger's hash chains: one per village, so a hand edit in the database is found.

Each entry carries its position in its village's chain and sha256 over the previous link and the
fields that never change after insert. Review fields (status, reviewer, reason) are left out: they
change by design, and every such change has its audit row.
"""

import hashlib
from collections import namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from kaoping.regions.codes import LEVEL_DIGITS

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


# A bulk writer's row as `entry_digest` reads an entry: the chained fields it leaves out are None.
Chained = namedtuple("Chained", CHAINED_FIELDS, defaults=(None,) * len(CHAINED_FIELDS))


def chain_region(region_code: str) -> str:
    """The village whose chain holds entries of a subject in `region_code` (a grid's entries
    belong to its village)."""
    return region_code[: LEVEL_DIGITS["village"]]


def chain_region_of(entry: Entry) -> str:
    return chain_region(entry.subject.region.code)


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


class ChainHeads:
    """The heads of some villages' chains while a batch is linked to them.

    One implementation of "the next link" for every writer: the ledger's one write locks the
    heads it touches (`locked`); a bulk writer that runs alone (the demo, the benchmark
    generator) holds all heads in memory (`unlocked`) and saves them with its rows.
    """

    def __init__(self, heads: dict[str, LedgerChain]) -> None:
        self.heads = heads

    @classmethod
    def locked(cls, regions: Iterable[str]) -> "ChainHeads":
        """The heads of `regions`, created where missing and locked until the transaction ends:
        two writers to one village queue instead of forking its chain."""
        regions = sorted(set(regions))
        existing = set(
            LedgerChain.objects.filter(region_code__in=regions).values_list(
                "region_code", flat=True
            )
        )
        for region in regions:
            if region not in existing:
                try:
                    with transaction.atomic():
                        LedgerChain.objects.create(region_code=region)
                except IntegrityError:
                    pass  # created by a concurrent writer; we lock it below
        return cls(
            {
                h.region_code: h
                for h in LedgerChain.objects.select_for_update()
                .filter(region_code__in=regions)
                .order_by("region_code")  # one lock order for every writer
            }
        )

    @classmethod
    def unlocked(cls) -> "ChainHeads":
        """Every head as it stands, for a bulk writer that is the only writer."""
        return cls({h.region_code: h for h in LedgerChain.objects.all()})

    def link(self, region: str, entry) -> tuple[str, int, str]:
        """(region, position, hash) of the next link of `region`'s chain for `entry` (anything
        with the CHAINED_FIELDS as attributes), advancing the head."""
        head = self.heads.get(region)
        if head is None:
            head = self.heads[region] = LedgerChain(region_code=region)
        head.length += 1
        head.last_hash = entry_digest(head.last_hash, region, head.length, entry)
        return region, head.length, head.last_hash

    def save(self, regions: Iterable[str] | None = None) -> None:
        """Write the heads (of `regions`, or all) back."""
        names = sorted(self.heads if regions is None else set(regions))
        heads = [self.heads[name] for name in names if name in self.heads]
        LedgerChain.objects.bulk_create([h for h in heads if h.pk is None])
        LedgerChain.objects.bulk_update([h for h in heads if h.pk], ["length", "last_hash"])


def chain_link(entries: list[Entry]) -> None:
    """Give unsaved `entries` their chain positions and hashes, advancing the locked heads.

    Call inside the transaction that inserts them (the ledger's one write does).
    """
    if not entries:
        return
    heads = ChainHeads.locked(chain_region_of(e) for e in entries)
    for entry in entries:
        entry.chain_region, entry.chain_seq, entry.chain_hash = heads.link(
            chain_region_of(entry), entry
        )
    heads.save()


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
