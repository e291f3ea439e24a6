"""The ledger's hash chains: one per village, so a hand edit in the database is found.

Each entry carries its position in its village's chain and sha256 over the previous link and the
fields it was recorded with, its review fields (status, reviewer, reason) as recorded included.
Those change by design: each later change is an `EntryDecision`, chained in the village's second
chain (head `LedgerChain.decisions`) and hashed with the entry's own hash and the review fields
before and after. `chain_verify` replays them: an entry's hash is checked against the review
fields before its first decision, and its current fields against those after its last, so a
status flipped by hand in the database is found, as is a decision edited or deleted.
"""

import hashlib
from collections import namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter

from django.db import IntegrityError, models, transaction

from kaoping.regions.codes import LEVEL_DIGITS

from .models import Entry, EntryDecision, LedgerChain

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
    # The review fields as recorded; later changes are in the decision chain.
    "status",
    "reviewed_by_id",
    "review_reason",
)
REVIEW_FIELDS = ("status", "reviewed_by_id", "review_reason")


# A bulk writer's row as `entry_digest` reads an entry: the chained fields it leaves out are None.
Chained = namedtuple("Chained", CHAINED_FIELDS, defaults=(None,) * len(CHAINED_FIELDS))


def chain_region(region_code: str) -> str:
    """The village whose chain holds entries of a subject in `region_code` (a grid's entries
    belong to its village)."""
    return region_code[: LEVEL_DIGITS["village"]]


def chain_region_of(entry: Entry) -> str:
    return chain_region(entry.subject.region.code)


# One call for every chained field: a bulk import hashes 100,000 entries.
_chained = attrgetter(*CHAINED_FIELDS)
_REVIEW_AT = CHAINED_FIELDS.index(REVIEW_FIELDS[0])
assert CHAINED_FIELDS[_REVIEW_AT : _REVIEW_AT + len(REVIEW_FIELDS)] == REVIEW_FIELDS


def _text(value) -> str:
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def entry_digest(
    previous: str, region: str, seq: int, entry: Entry, review: tuple | None = None
) -> str:
    """The hash of `entry`'s link; `review` (status, reviewed_by_id, review_reason) stands for
    the entry's review fields when they have changed since it was recorded."""
    fields = _chained(entry)
    if review is not None:
        fields = [*fields[:_REVIEW_AT], *review, *fields[_REVIEW_AT + len(REVIEW_FIELDS) :]]
    # Most fields are None or plain text: answered inline, without `_text`'s call per field.
    values = ["" if v is None else v if type(v) is str else _text(v) for v in fields]
    return hashlib.sha256("\x1f".join([previous, region, str(seq), *values]).encode()).hexdigest()


def review_state(entry) -> tuple[str, int | None, str]:
    """An entry's review fields as its hash and its decisions record them."""
    return (str(entry.status), entry.reviewed_by_id, entry.review_reason or "")


DECISION_FIELDS = (
    "entry_id",
    "action",
    "actor_id",
    "at",
    "before_status",
    "before_reviewer_id",
    "before_reason",
    "status",
    "reviewer_id",
    "reason",
)


def decision_digest(previous: str, region: str, seq: int, entry_hash: str, decision) -> str:
    values = [previous, region, str(seq), entry_hash]
    values += [_text(getattr(decision, name)) for name in DECISION_FIELDS]
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

    def decide(self, region: str, entry_hash: str, decision: EntryDecision) -> None:
        """Link `decision` (of an entry whose link is `entry_hash`) into `region`'s decision
        chain, advancing its head."""
        head = self.heads.get(region)
        if head is None:
            head = self.heads[region] = LedgerChain(region_code=region)
        head.decisions += 1
        head.decisions_hash = decision_digest(
            head.decisions_hash, region, head.decisions, entry_hash, decision
        )
        decision.chain_region, decision.chain_seq = region, head.decisions
        decision.chain_hash = head.decisions_hash

    def save(self, regions: Iterable[str] | None = None) -> None:
        """Write the heads (of `regions`, or all) back."""
        names = sorted(self.heads if regions is None else set(regions))
        heads = [self.heads[name] for name in names if name in self.heads]
        LedgerChain.objects.bulk_create([h for h in heads if h.pk is None])
        # In batches: one UPDATE's CASE over every head is quadratic on PostgreSQL (an import
        # touching 20,000 villages' chains spent over ten minutes in it).
        LedgerChain.objects.bulk_update(
            [h for h in heads if h.pk],
            ["length", "last_hash", "decisions", "decisions_hash"],
            batch_size=500,
        )


def chain_link(entries: list[Entry]) -> None:
    """Give unsaved `entries` their chain positions and hashes, advancing the locked heads.

    Call inside the transaction that inserts them (the ledger's one write does).
    """
    if not entries:
        return
    regions = [chain_region_of(e) for e in entries]
    heads = ChainHeads.locked(regions)
    for entry, region in zip(entries, regions, strict=True):
        entry.chain_region, entry.chain_seq, entry.chain_hash = heads.link(region, entry)
    heads.save()


def decisions_record(
    changes: list[tuple[Entry, tuple]], *, action: str, actor, at
) -> list[EntryDecision]:
    """Chain one decision per (entry, review fields before) in `changes`, the entries already
    carrying their review fields after. Call inside the transaction that changes them."""
    if not changes:
        return []
    regions = {e.pk: e.chain_region or chain_region_of(e) for e, _before in changes}
    heads = ChainHeads.locked(regions.values())
    decisions = []
    for entry, before in changes:
        decision = EntryDecision(
            entry_id=entry.pk,
            action=action,
            actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
            at=at,
            before_status=before[0],
            before_reviewer_id=before[1],
            before_reason=before[2],
            status=str(entry.status),
            reviewer_id=entry.reviewed_by_id,
            reason=entry.review_reason or "",
        )
        heads.decide(regions[entry.pk], entry.chain_hash, decision)
        decisions.append(decision)
    EntryDecision.objects.bulk_create(decisions)
    heads.save()
    return decisions


@dataclass(frozen=True)
class ChainProblem:
    region: str
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id else "chain head"
        return f"{self.region}: {where}: {self.message}"


def chain_verify(*, region_prefix: str = "") -> Iterator[ChainProblem]:
    """Walk every chain (under `region_prefix`) and yield the first broken link of each, then
    every entry whose review fields differ from what its hash and decisions record."""
    entries = Entry.objects.filter(chain_region__startswith=region_prefix).order_by(
        "chain_region", "chain_seq"
    )
    unchained = entries.filter(chain_seq=0).values_list("id", flat=True)[:1]
    for entry_id in unchained:
        yield ChainProblem("", entry_id, "not in any chain (written around the ledger services)")
    heads = {
        region: (last_hash, decisions_hash)
        for region, last_hash, decisions_hash in LedgerChain.objects.filter(
            region_code__startswith=region_prefix
        ).values_list("region_code", "last_hash", "decisions_hash")
    }
    replayed: dict[int, list[tuple]] = {}  # entry id → [review fields before, after]
    yield from _verify_decisions(region_prefix, heads, replayed)
    region, previous, expected_seq, broken = None, "", 1, False
    for entry in _stream(entries.filter(chain_seq__gt=0)):
        if entry.chain_region != region:
            if region is not None and not broken and heads.get(region, ("",))[0] != previous:
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
        before_after = replayed.pop(entry.pk, None)
        recorded = before_after[0] if before_after else None
        if entry_digest(previous, region, entry.chain_seq, entry, recorded) != entry.chain_hash:
            yield ChainProblem(
                region,
                entry.pk,
                "its recorded fields do not match its hash"
                if before_after
                else "its recorded fields (its status, reviewer or reason included) do not "
                "match its hash",
            )
            broken = True
            continue
        if before_after and review_state(entry) != before_after[1]:
            yield ChainProblem(
                region,
                entry.pk,
                f"its status, reviewer or reason {review_state(entry)} is not what its "
                f"decisions record {before_after[1]}",
            )
        previous, expected_seq = entry.chain_hash, expected_seq + 1
    if region is not None and not broken and heads.get(region, ("",))[0] != previous:
        yield ChainProblem(region, None, "the head does not match the last entry")
    for entry_id in list(replayed)[:1]:
        yield ChainProblem("", entry_id, "decided, but not in any chain")


def _verify_decisions(
    region_prefix: str, heads: dict, replayed: dict[int, list[tuple]]
) -> Iterator[ChainProblem]:
    """Walk the decision chains; fill `replayed` with each decided entry's review fields
    before its first decision and after its last."""
    decisions = (
        EntryDecision.objects.filter(chain_region__startswith=region_prefix)
        .order_by("chain_region", "chain_seq")
        .annotate(entry_hash=models.F("entry__chain_hash"))
        .iterator(chunk_size=5000)
    )
    region, previous, expected_seq, broken = None, "", 1, False
    walked = set()
    for decision in decisions:
        if decision.chain_region != region:
            if region is not None and not broken and heads.get(region, ("", ""))[1] != previous:
                yield ChainProblem(region, None, "the head does not match the last decision")
            region, previous, expected_seq, broken = decision.chain_region, "", 1, False
            walked.add(region)
        # Replayed even past a broken link (reported once, below), so that its entries are
        # checked against what their decisions say rather than reported again.
        before = (decision.before_status, decision.before_reviewer_id, decision.before_reason)
        after = (decision.status, decision.reviewer_id, decision.reason)
        known = replayed.setdefault(decision.entry_id, [before, before])
        where = f"decision {decision.chain_seq} of"
        if not broken and known[1] != before:
            yield ChainProblem(
                region, decision.entry_id, f"{where} it does not start where the last ended"
            )
        known[1] = after
        if broken:
            continue
        if decision.chain_seq != expected_seq:
            yield ChainProblem(
                region, decision.entry_id, f"{where} it: expected decision {expected_seq}"
            )
            broken = True
            continue
        digest = decision_digest(
            previous, region, decision.chain_seq, decision.entry_hash, decision
        )
        if digest != decision.chain_hash:
            yield ChainProblem(region, decision.entry_id, f"{where} it does not match its hash")
            broken = True
            continue
        previous, expected_seq = decision.chain_hash, expected_seq + 1
    if region is not None and not broken and heads.get(region, ("", ""))[1] != previous:
        yield ChainProblem(region, None, "the head does not match the last decision")
    # A head whose decisions were all deleted.
    for code, (_last, decisions_hash) in heads.items():
        if decisions_hash and code not in walked:
            yield ChainProblem(code, None, "the head does not match the last decision")


def _stream(queryset) -> Iterable[Entry]:
    fields = ["id", "chain_region", "chain_seq", "chain_hash", *CHAINED_FIELDS]
    return queryset.only(
        *[f.removesuffix("_id") if f.endswith("_id") else f for f in fields]
    ).iterator(chunk_size=5000)
