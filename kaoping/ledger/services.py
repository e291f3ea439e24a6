"""Writes to the ledger. Entries are never edited or deleted; a correction is a reversing entry.

Every path — the console form, a grid member's batch, a household's declaration, an Excel import,
the API — goes through `Recorder`, so validation, integrity flags, the hash chain and idempotency
are the same everywhere.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Profile, RoleAssignment
from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.limits import (
    ENTRY_POINTS_LIMIT,
    ENTRY_YEARS_BACK,
    QUANTITY_MAX,
    REVIEW_BATCH_MAX,
    text_problem,
)
from kaoping.people.models import Person, Subject, SubjectKind
from kaoping.regions.models import Region
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.links import linked_items
from kaoping.schemes.models import (
    FACTOR_SCALE,
    METRIC_SCALE,
    QTY_SCALE,
    Scheme,
    SchemeLevel,
    SchemeNode,
    SchemeVersion,
)
from kaoping.schemes.scoring import assessed_cadences, entry_points, item_levels

from .adjustments import ADJUST_CODE, adjust_cadences, adjustment_entry, adjustment_problems
from .chain import chain_link, decisions_record, review_state
from .duties import department_codes, department_may_score, entries_reviewable, owner_name, sealed
from .evidence import evidence_prepare_all, evidence_save
from .insert import entries_insert, unsaved_entry
from .models import Entry, EntrySource, EntryStatus, MetricValue, SealedSpan
from .signals import announce_approved

# Subjects that are a village as a whole: whoever holds a role inside it rates its own.
UNIT_KINDS = (SubjectKind.VILLAGE, SubjectKind.TEAM)

# More entries than this for one subject within a day is shown to reviewers as a burst.
BURST_LIMIT = 5

# Review transitions, declared once: decision → (from, to).
REVIEW_TRANSITIONS = {
    "approve": (EntryStatus.SUBMITTED, EntryStatus.APPROVED),
    "reject": (EntryStatus.SUBMITTED, EntryStatus.REJECTED),
}


def subject_variant(version: SchemeVersion, subject: Subject) -> str:
    """The variant of `version` a subject is scored with: its track when the scheme has one,
    with the overlays of its township and village (`SchemeSpec.variant_for`)."""
    spec = version.spec()
    if spec.overlays:
        return spec.variant_for(subject.track, subject.region.code)
    if subject.track and SchemeNode.objects.filter(version=version, variant=subject.track).exists():
        return subject.track
    return ""


def scorable_items(version: SchemeVersion, subject: Subject):
    """Items a person may record for `subject` (metric items come from metrics, not entries)."""
    return (
        SchemeNode.objects.filter(
            version=version, variant=subject_variant(version, subject), is_item=True
        )
        .exclude(aggregate="metric")
        .exclude(code__in=[item.code for _path, item in linked_items(version.spec())])
    )


@dataclass
class EntryDraft:
    """One entry as a person (or a file row) states it, before it is checked."""

    subject: Subject
    item_code: str
    occurred_on: date
    quantity: Decimal | str | int = 1
    label: str = ""
    note: str = ""
    idempotency_key: str | None = None
    evidence: list = field(default_factory=list)  # uploaded files (see ledger.evidence)
    # "" for the scheme's own periods; a roll-up cadence ("quarter", "year") for an assessment
    # held at that level (the `self` part of a composite roll-up, e.g. a year-end assessment or
    # the masses' quarterly evaluation).
    cadence: str = ""


class Recorder:
    """Checks and writes entries of one scheme for one actor and source.

    The scheme's items, levels and finalised periods are read once, so checking a hundred
    thousand rows costs no query per row.
    """

    def __init__(
        self,
        *,
        scheme: Scheme,
        acting_user,
        source: str,
        declared: bool = False,
        evidence_later: bool = False,
    ):
        self.scheme, self.acting_user, self.source = scheme, acting_user, source
        self.version = scheme.latest_version()
        self.spec = self.version.spec()
        self.declared = declared
        # An import cannot carry files: its rows of items that need evidence are written as
        # `awaiting` and reach review once the evidence is attached (`entry_evidence_attach`).
        self.evidence_later = evidence_later
        # A department scorer records only the items the scheme gives its department.
        self.departments = department_codes(acting_user)
        self.owner_names: dict[str, str] = {}  # read once per owner, not once per refused row
        self.items = {
            (n.variant, n.code): n
            for n in SchemeNode.objects.filter(version=self.version, is_item=True)
        }
        self.variants = set(
            SchemeNode.objects.filter(version=self.version).values_list("variant", flat=True)
        )
        self.region_codes: dict[int, str] = {}  # subject's region id → code (overlays)
        self.overlay_names: dict[str, str] = {}  # overlay region code → the region's name
        self.levels: dict[tuple[str, str], dict[str, int]] = {}
        for level in SchemeLevel.objects.filter(version=self.version):
            self.levels.setdefault((level.variant, level.item_code), {})[level.label] = level.factor
        self.sealed_spans = list(
            SealedSpan.objects.filter(scheme=scheme).values_list("start", "end")
        )
        # What the system computes from data the close already trusts needs no second review,
        # nor does an evaluation's result: it is the raters' judgement, counted, not a claim.
        auto = source in (EntrySource.COMPUTED, EntrySource.EVALUATION) or source in {
            str(s) for s in self.spec.review.auto_approve
        }
        self.status = EntryStatus.APPROVED if auto else EntryStatus.SUBMITTED
        self.assessed_cadences = set(assessed_cadences(self.spec))
        # Items carried from linked subjects' entries: written by `ledger.links` alone.
        self.linked_codes = {item.code for _path, item in linked_items(self.spec)}
        self.adjust_cadences = adjust_cadences(self.spec)  # roll-ups that take ± adjustments
        self.item_levels = item_levels(self.spec)
        # Read once: a Recorder serves one request or one import, and asking the time zone for
        # today on each of 100,000 rows costs seconds.
        self.today = timezone.localdate()
        # 0001-01-01 is a typing slip, not a record: nothing before the scheme's first year,
        # less a margin for late records of earlier work.
        first = scheme.versions.order_by("number").values_list("loaded_at", flat=True).first()
        first_year = timezone.localtime(first).year if first else self.today.year
        self.earliest = date(first_year - ENTRY_YEARS_BACK, 1, 1)
        # What `flag` reads from the ledger, when a bulk writer read it up front (`tally_read`).
        self.tally: FlagTally | None = None

    def variant_of(self, subject: Subject) -> str:
        if self.spec.overlays:
            return self.spec.variant_for(subject.track, self.region_code(subject))
        return subject.track if subject.track in self.variants else ""

    def region_code(self, subject: Subject) -> str:
        """The code of the subject's region, read once per region rather than once per row."""
        if subject.region_id not in self.region_codes:
            self.region_codes[subject.region_id] = subject.region.code
        return self.region_codes[subject.region_id]

    def overlay_refusal(self, subject: Subject, code: str) -> str | None:
        """Why `code` cannot be recorded for `subject` when it is an item another township or
        village adds (an overlay), or None."""
        overlay = self.spec.overlay_of_item(code)
        if overlay is None or self.region_code(subject).startswith(overlay.region):
            return None
        if overlay.region not in self.overlay_names:
            region = Region.objects.filter(code=overlay.region).first()
            self.overlay_names[overlay.region] = region.name if region else overlay.region
        return _(
            "“%(code)s” is an item %(region)s adds (%(overlay)s); it applies only to subjects "
            "of %(region)s."
        ) % {"code": code, "region": self.overlay_names[overlay.region], "overlay": overlay.name}

    def item(self, subject: Subject, code: str) -> SchemeNode | None:
        node = self.items.get((self.variant_of(subject), code))
        if node is None or node.aggregate == "metric":
            return None
        if node.metric and self.source != EntrySource.COMPUTED:
            return None  # recorded by the system from its metric, never by hand
        if node.code in self.linked_codes and self.source != EntrySource.LINKED:
            return None  # carried from linked subjects' entries, never recorded by hand
        return node

    def rules_state(self) -> list:
        """Everything `problems` reads besides the draft and its subject's `subject_rules`, as
        JSON: a row checked under the same state and subject rules is answered the same again.

        Keep in step with `problems` and `adjustment_problems`. Left out on purpose: the scheme's
        subject kind and earliest date (fixed for a scheme) and today (later days only accept
        more), and the rules the version holds (items, levels, overlays: its id stands for them).
        """
        return [
            self.version.pk,
            sorted([start.isoformat(), end.isoformat()] for start, end in self.sealed_spans),
            None if self.departments is None else sorted(self.departments),
            str(self.source),
            self.declared,
            self.evidence_later,
        ]

    def subject_rules(self, subject: Subject) -> tuple[str, str]:
        """What `problems` reads of a subject besides its kind: its variant and region."""
        return self.variant_of(subject), self.region_code(subject)

    def problems(self, draft: EntryDraft) -> dict[str, str]:
        """What is wrong with `draft`, by field (empty when it can be recorded)."""
        found: dict[str, str] = {}
        if draft.subject.kind != self.scheme.subject_kind:
            found["subject"] = _("This scheme scores another kind of subject.")
            return found
        if draft.item_code == ADJUST_CODE:
            if self.declared or self.source == EntrySource.COMPUTED:
                return {"item_code": _("An adjustment is recorded by staff, not declared.")}
            return adjustment_problems(self, draft)
        node = self.item(draft.subject, draft.item_code)
        if node is None:
            found["item_code"] = self.overlay_refusal(draft.subject, draft.item_code) or _(
                "“%(code)s” is not an item of this scheme for this subject."
            ) % {"code": draft.item_code}
            return found
        if self.declared and not node.declarable:
            found["item_code"] = _("“%(name)s” cannot be declared by the household.") % {
                "name": node.name
            }
        if not department_may_score(self.departments, node.owner):
            if node.owner not in self.owner_names:
                self.owner_names[node.owner] = owner_name(node.owner, self.scheme.region.code)
            owner = self.owner_names[node.owner]
            found["item_code"] = (
                _("“%(name)s” is scored by %(owner)s, not by your department.")
                if owner
                else _("“%(name)s” is not your department's to score.")
            ) % {"name": node.name, "owner": owner}
        try:
            amount = Decimal(str(draft.quantity))
        except InvalidOperation:
            found["quantity"] = _("The quantity must be a number.")
        else:
            if (
                not amount.is_finite()
                or amount <= 0
                or amount * QTY_SCALE != (amount * QTY_SCALE).to_integral_value()
            ):
                found["quantity"] = _(
                    "The quantity must be positive with at most 3 decimal places."
                )
            elif amount > QUANTITY_MAX:
                found["quantity"] = _("The quantity must be at most %(max)s.") % {
                    "max": f"{QUANTITY_MAX:,}"
                }
            elif node.rule in ("count", "quantity") and (
                abs(self.version.to_points(node.points) or 0) * amount >= ENTRY_POINTS_LIMIT
            ):
                found["quantity"] = _("This quantity makes the entry worth too many points.")
        if len(draft.note) > Entry._meta.get_field("note").max_length:
            found["note"] = _("The note is %(n)d characters long; at most %(max)d.") % {
                "n": len(draft.note),
                "max": Entry._meta.get_field("note").max_length,
            }
        elif problem := text_problem(draft.note):
            found["note"] = _("The note %(problem)s.") % {"problem": problem}
        if node.rule == "rating":
            labels = self.levels.get((node.variant, node.code), {})
            if draft.label not in labels:
                found["label"] = _("Choose a rating: %(labels)s.") % {"labels": "、".join(labels)}
        if node.evidence_required and not draft.evidence and not self.evidence_later:
            found["evidence"] = _("“%(name)s” needs a photo or file as evidence.") % {
                "name": node.name
            }
        level = draft.cadence or self.scheme.cadence
        if draft.cadence and draft.cadence not in self.assessed_cadences:
            found["cadence"] = _(
                "This scheme holds no assessment of its own at the level “%(cadence)s”."
            ) % {"cadence": cadence_label(draft.cadence)}
        elif level not in self.item_levels.get(node.code, (level,)):
            found["cadence"] = _("“%(name)s” is scored in the %(levels)s assessment only.") % {
                "name": node.name,
                "levels": "、".join(cadence_label(c) for c in sorted(self.item_levels[node.code])),
            }
        if draft.occurred_on > self.today:
            found["occurred_on"] = _("%(day)s is in the future.") % {"day": draft.occurred_on}
        elif draft.occurred_on < self.earliest:
            found["occurred_on"] = _(
                "%(day)s is too long ago; the earliest date accepted is %(first)s."
            ) % {"day": draft.occurred_on, "first": self.earliest}
        elif any(start <= draft.occurred_on <= end for start, end in self.sealed_spans):
            found["occurred_on"] = _(
                "%(day)s lies in a finalised period; record it in an open period."
            ) % {"day": draft.occurred_on}
        return found

    def build(self, draft: EntryDraft) -> Entry:
        if draft.item_code == ADJUST_CODE:
            return adjustment_entry(self, draft)
        node = self.item(draft.subject, draft.item_code)
        amount = Decimal(1) if node.rule in ("rating", "veto") else Decimal(str(draft.quantity))
        factor = None
        if node.rule == "rating":
            factor = Decimal(self.levels[(node.variant, node.code)][draft.label]) / FACTOR_SCALE
        points = entry_points(
            node.rule,
            quantity=amount,
            points=self.version.to_points(node.points),
            weight=self.version.to_points(node.weight),
            factor=factor,
        )
        return unsaved_entry(
            scheme=self.scheme,
            subject=draft.subject,
            item_code=node.code,
            cadence=draft.cadence,
            quantity_scaled=int(amount * QTY_SCALE),
            label=draft.label if node.rule == "rating" else "",
            points=points,
            occurred_on=draft.occurred_on,
            status=EntryStatus.AWAITING
            if self.evidence_later and node.evidence_required and not draft.evidence
            else self.status,
            source=self.source,
            note=draft.note[:500],
            idempotency_key=draft.idempotency_key or None,
            created_by=self._actor(),
        )

    def _actor(self):
        user = self.acting_user
        return user if user is not None and user.is_authenticated else None

    def flag(self, entries: list[Entry]) -> None:
        """Set the integrity flags of unsaved `entries` with a few grouped queries."""
        subject_ids = {e.subject_id for e in entries}
        own_household, relatives_households = None, set()
        person_id, own_regions = None, []
        actor = self._actor()
        if actor is not None:
            # Where the actor works from inside a village (its secretary, committee, grids):
            # scoring that village or its team is rating one's own (擂台比武, 六比六争).
            own_regions = [
                code
                for code in RoleAssignment.objects.filter(user=actor).values_list(
                    "region__code", flat=True
                )
                if code
            ]
            person_id, own_household = Profile.objects.filter(user=actor).values_list(
                "person_id", "person__household_id"
            ).first() or (None, None)
            if person_id is not None:
                relatives_households = set(
                    Person.relatives.through.objects.filter(from_person_id=person_id)
                    .exclude(to_person__household_id=None)
                    .values_list("to_person__household_id", flat=True)
                )
        in_batch = Counter(e.subject_id for e in entries)
        # The period label of each day, worked out once per day rather than once per entry.
        label_of = {
            day: label_for(self.scheme.cadence, day) for day in {e.occurred_on for e in entries}
        }
        capped = {}
        for entry in entries:
            node = self.item(entry.subject, entry.item_code)
            if node is not None and node.cap is not None and node.points:
                capped[(entry.subject_id, entry.item_code, label_of[entry.occurred_on])] = node
        if self.tally is not None:
            recent, used = self.tally.recent, self.tally.used
        else:
            since = timezone.now() - timedelta(days=1)
            recent = dict(
                Entry.objects.filter(subject_id__in=subject_ids, created_at__gte=since)
                .values_list("subject_id")
                .annotate(n=Count("id"))
            )
            used = Counter()
            if capped:
                days = [e.occurred_on for e in entries]
                self._used_read(used, {k[0] for k in capped}, {k[1] for k in capped}, days)
        for entry in entries:
            flags = []
            if own_household is not None and entry.subject.household_id == own_household:
                flags.append("own_household")
            elif entry.subject.household_id in relatives_households:
                flags.append("relatives")
            if person_id is not None and entry.subject.person_id == person_id:
                flags.append("self")
            elif entry.subject.kind in UNIT_KINDS and any(
                code.startswith(entry.subject.region.code) for code in own_regions
            ):
                flags.append("own_village")
            if recent.get(entry.subject_id, 0) + in_batch[entry.subject_id] > BURST_LIMIT:
                flags.append("burst")
            key = (entry.subject_id, entry.item_code, label_of[entry.occurred_on])
            node = capped.get(key)
            if node is not None:
                used[key] += entry.quantity_scaled
                if abs(used[key] * node.points) > node.cap * QTY_SCALE:
                    flags.append("over_cap")
            entry.flags = flags
        if self.tally is not None:
            # What the next batch's reading would count; `used` has counted these already.
            self.tally.recent.update(in_batch)

    def _used_read(self, used: Counter, subject_ids, item_codes, days: list[date]) -> None:
        """Add to `used` what the ledger holds of `item_codes` for `subject_ids` in the periods
        of `days`, by (subject, item, period label)."""
        cadence = self.scheme.cadence
        first, _end = period_dates(cadence, label_for(cadence, min(days)))
        _start, last = period_dates(cadence, label_for(cadence, max(days)))
        # The scheme is matched here, not in the query: with `scheme_id = ?` in the WHERE,
        # SQLite (without statistics) reads the whole period through the close's index
        # (scheme, status, day): twenty million entries for each chunk of an import into a
        # province's month. Without it, the query reads these subjects' entries only.
        rows = (
            Entry.objects.filter(
                subject_id__in=subject_ids,
                item_code__in=item_codes,
                occurred_on__range=(first, last),
                status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED, EntryStatus.AWAITING],
            )
            .values_list("scheme_id", "subject_id", "item_code", "occurred_on")
            .annotate(q=Sum(F("sign") * F("quantity_scaled")))
        )
        label_of: dict[date, str] = {}
        for scheme_id, subject_id, item_code, day, quantity in rows:
            if scheme_id != self.scheme.pk:
                continue
            if day not in label_of:
                label_of[day] = label_for(cadence, day)
            used[(subject_id, item_code, label_of[day])] += quantity or 0

    def tally_read(self, subject_ids: set[int], days: set[date]) -> None:
        """Read once what `flag` would read for each batch of a bulk write of entries of
        `subject_ids` dated `days`, before anything is written; `flag` then counts each batch
        into it, as the next batch's reading would have counted it.

        For an import of 100,000 rows the reads per batch took half of its write on SQLite:
        made inside a transaction that has already inserted tens of thousands of rows, every
        page read goes past the transaction's own pages, and these reads touch ten thousand
        pages a batch. Read up front they cost a tenth of that. Only for a writer that is the
        only one adding entries for these subjects meanwhile (an import's write pass, whose
        carried entries go to another kind of subject, see `ledger.links`).
        """
        tally = FlagTally()
        since = timezone.now() - timedelta(days=1)
        ids = sorted(subject_ids)
        codes = {n.code for n in self.items.values() if n.cap is not None and n.points}
        for start in range(0, len(ids), TALLY_IDS):
            part = ids[start : start + TALLY_IDS]
            tally.recent.update(
                dict(
                    Entry.objects.filter(subject_id__in=part, created_at__gte=since)
                    .values_list("subject_id")
                    .annotate(n=Count("id"))
                )
            )
            if codes and days:
                self._used_read(tally.used, part, codes, list(days))
        self.tally = tally


TALLY_IDS = 2000  # subjects per query of `Recorder.tally_read`


@dataclass
class FlagTally:
    """The ledger's counts behind the burst and cap flags for a bulk write (`tally_read`):
    entries recorded within a day by subject, quantity recorded by (subject, item, period)."""

    recent: Counter = field(default_factory=Counter)
    used: Counter = field(default_factory=Counter)


# How `entries_write` accounts for what it wrote: an audit row per entry, one row for the whole
# write (a grid member's batch), or none because the caller writes its own (an import's commit,
# the close's computed entries, both audited as a whole by their caller).
AUDIT_EACH, AUDIT_SUMMARY, AUDIT_BY_CALLER = "each", "summary", "by_caller"


def entries_write(
    *,
    entries: list[Entry],
    acting_user,
    recorder: Recorder | None = None,
    evidence: list[list] | None = None,
    audit: str = AUDIT_EACH,
    summary_of=None,
    context: dict | None = None,
) -> list[Entry]:
    """The ledger's one write: every new entry and every reversal goes in through here.

    `entries` are unsaved: drafts a `Recorder` built (and checked) and reversals from
    `reversal_of`. Inside the caller's transaction (asserted), in this order: the integrity
    flags of the drafts (when their `recorder` is given), the hash chain, the insert, the
    evidence files (`evidence[i]` are prepared files of `entries[i]`), the audit rows (see the
    AUDIT_* modes; `summary_of` is the object a summary row names, `context` is added to every
    row), and the `entries_approved` announcement, sent once the transaction commits.
    """
    assert transaction.get_connection().in_atomic_block, (
        "entries_write belongs inside the caller's transaction"
    )
    if not entries:
        return []
    context = context or {}
    if recorder is not None:
        recorder.flag([e for e in entries if e.reverses_id is None])
    chain_link(entries)
    saved = entries_insert(entries)
    hashes: dict[int, list[str]] = {}
    if evidence:
        for entry, prepared in zip(saved, evidence, strict=False):
            hashes[entry.pk] = [evidence_save(entry=entry, prepared=p).sha256 for p in prepared]
    if audit == AUDIT_EACH:
        for entry in saved:
            if entry.reverses_id is not None:
                audit_record(
                    actor=acting_user,
                    action="ledger.entry.reversed",
                    obj=entry.reverses,
                    region_code=entry.subject.region.code,
                    after={"reversal": entry.pk, "reason": entry.note, **context},
                )
                continue
            audit_record(
                actor=acting_user,
                action="ledger.entry.recorded",
                obj=entry,
                region_code=entry.subject.region.code,
                after={
                    "item": entry.item_code,
                    "quantity": str(entry.quantity),
                    "label": entry.label,
                    "points": str(entry.points),
                    "date": entry.occurred_on.isoformat(),
                    "status": entry.status,
                    "source": entry.source,
                    "flags": entry.flags,
                    **({"evidence": hashes[entry.pk]} if entry.pk in hashes else {}),
                    **context,
                },
            )
    elif audit == AUDIT_SUMMARY:
        audit_record(
            actor=acting_user,
            action="ledger.entries.recorded",
            obj=summary_of,
            region_code=_common_prefix([e.subject.region.code for e in saved]),
            after={
                "count": len(saved),
                "source": saved[0].source,
                "ids": [e.pk for e in saved][:200],
                **context,
            },
        )
    _counted([e for e in saved if e.status == EntryStatus.APPROVED])
    return saved


def _counted(entries: list[Entry]) -> None:
    """`entries` now count: carry them to linked subjects in this transaction (`ledger.links`),
    then announce them once it commits."""
    from .links import links_carry  # links writes through this module

    links_carry(entries)
    announce_approved([e.pk for e in entries])


def drafts_not_recorded(drafts: list[EntryDraft]) -> list[EntryDraft]:
    """The drafts whose idempotency key has not been used yet (one query), so that a resubmitted
    form or a job that runs twice records nothing twice."""
    keys = [d.idempotency_key for d in drafts if d.idempotency_key]
    seen = set(
        Entry.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    return [d for d in drafts if not d.idempotency_key or d.idempotency_key not in seen]


def _existing_for_key(key: str | None) -> Entry | None:
    return Entry.objects.filter(idempotency_key=key).first() if key else None


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
    idempotency_key: str | None = None,
    evidence: list | None = None,
    declared: bool = False,
    cadence: str = "",
) -> tuple[Entry, bool]:
    """Record one entry; returns (entry, created). A repeated idempotency key returns the first.

    Recorded for the subject (entry.record), or declared by its household (entry.declare).
    `cadence`: "" for the scheme's own periods, or a roll-up level assessed in its own right
    (`scoring.assessed_cadences`), e.g. the year-end assessment of a monthly scheme.
    """
    ensure(acting_user, "entry.declare" if declared else "entry.record", subject)
    existing = _existing_for_key(idempotency_key)
    if existing is not None:
        return existing, False
    recorder = Recorder(scheme=scheme, acting_user=acting_user, source=source, declared=declared)
    draft = EntryDraft(
        subject=subject,
        item_code=item_code,
        occurred_on=occurred_on,
        quantity=quantity,
        label=label,
        note=note,
        idempotency_key=idempotency_key,
        evidence=list(evidence or []),
        cadence=cadence,
    )
    problems = recorder.problems(draft)
    prepared = []
    if not problems and draft.evidence:
        try:
            prepared = evidence_prepare_all(draft.evidence)
        except KaopingError as exc:
            problems = {"evidence": exc.messages[0]}
    if problems:
        raise KaopingError(problems)
    try:
        with transaction.atomic():
            (entry,) = entries_write(
                entries=[recorder.build(draft)],
                acting_user=acting_user,
                recorder=recorder,
                evidence=[prepared],
            )
    except IntegrityError:
        # Two submissions with one key raced; the other one won.
        existing = _existing_for_key(idempotency_key)
        if existing is None:
            raise
        return existing, False
    return entry, True


def entries_record_batch(
    *, scheme: Scheme, drafts: list[EntryDraft], acting_user, source: str
) -> list[Entry]:
    """Record many entries at once (a grid member's batch): all of them, or none.

    Raises ImportFailed with a RowError per bad field (rows counted from 1), the refused evidence
    files included: every file is checked before anything is stored, so a refused batch leaves
    neither entries nor files. Drafts whose idempotency key was already used are skipped, so a
    resubmitted form records nothing twice.
    """
    subject_ids = {d.subject.pk for d in drafts}
    ensure(acting_user, "entry.record", Subject.objects.filter(pk__in=subject_ids))
    recorder = Recorder(scheme=scheme, acting_user=acting_user, source=source)
    fresh = drafts_not_recorded(drafts)
    errors = []
    prepared: list[list] = []
    for index, draft in enumerate(drafts, start=1):
        if draft not in fresh:
            continue
        problems = recorder.problems(draft)
        files = []
        if draft.evidence and "evidence" not in problems:
            try:
                files = evidence_prepare_all(draft.evidence)
            except KaopingError as exc:
                problems["evidence"] = exc.messages[0]
        errors += [RowError(index, field, message) for field, message in problems.items()]
        prepared.append(files)
    if errors:
        raise ImportFailed(errors)
    with transaction.atomic():
        return entries_write(
            entries=[recorder.build(d) for d in fresh],
            acting_user=acting_user,
            recorder=recorder,
            evidence=prepared,
            audit=AUDIT_SUMMARY,
            summary_of=scheme,
        )


def entry_evidence_attach(*, entry: Entry, files: list, acting_user) -> Entry:
    """Attach the evidence an entry awaits (an imported row of an item that needs evidence);
    the entry then goes to review like any other, or counts at once where the scheme approves
    its source without review.

    Anyone who may record for the subject may attach it (the clerk who imported, a colleague
    who holds the photo). Every file is checked before anything is stored.
    """
    ensure(acting_user, "entry.record", entry)
    if entry.status != EntryStatus.AWAITING:
        raise KaopingError(_("This entry is not waiting for evidence."))
    if not files:
        raise KaopingError({"evidence": _("Choose at least one photo or file.")})
    if day_sealed(entry.scheme_id, entry.occurred_on):
        raise KaopingError(
            _("%(day)s lies in a finalised period; this entry can no longer count.")
            % {"day": entry.occurred_on}
        )
    try:
        prepared = evidence_prepare_all(files)
    except KaopingError as exc:
        raise KaopingError({"evidence": exc.messages[0]}) from None
    spec = entry.scheme.latest_version().spec()
    auto = entry.source in {str(s) for s in spec.review.auto_approve}
    after = EntryStatus.APPROVED if auto else EntryStatus.SUBMITTED
    with transaction.atomic():
        # Conditional: two people attaching at once move the entry once.
        if not Entry.objects.filter(pk=entry.pk, status=EntryStatus.AWAITING).update(status=after):
            raise KaopingError(_("This entry is not waiting for evidence."))
        recorded = review_state(entry)
        entry.status = after
        decisions_record(
            [(entry, recorded)], action="evidence", actor=acting_user, at=timezone.now()
        )
        hashes = [evidence_save(entry=entry, prepared=p).sha256 for p in prepared]
        audit_record(
            actor=acting_user,
            action="ledger.entry.evidence_attached",
            obj=entry,
            region_code=entry.subject.region.code,
            before={"status": EntryStatus.AWAITING},
            after={"status": after, "evidence": hashes},
        )
        if after == EntryStatus.APPROVED:
            _counted([entry])
    return entry


def _common_prefix(codes: list[str]) -> str:
    prefix = min(codes, default="")
    for code in codes:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def reviewer_roles(scheme: Scheme) -> tuple[str, ...]:
    return scheme.latest_version().spec().reviewers()


@dataclass(frozen=True)
class ReviewOutcome:
    entry_id: int
    outcome: (
        str  # approved, rejected, or why not: not_found, not_reviewer, own_entry, sealed,
        # already_reviewed
    )

    @property
    def ok(self) -> bool:
        return self.outcome in ("approved", "rejected")


def _check_reason(reason: str) -> None:
    """A reason is kept in a 500-character column: refuse a longer one rather than cut it."""
    limit = Entry._meta.get_field("review_reason").max_length
    if len(reason.strip()) > limit:
        raise KaopingError(
            {
                "reason": _("The reason is %(n)d characters long; at most %(max)d.")
                % {"n": len(reason.strip()), "max": limit}
            }
        )
    if problem := text_problem(reason):
        raise KaopingError({"reason": _("The reason %(problem)s.") % {"problem": problem}})


def entries_review(
    *, entry_ids: list[int], decision: str, reason: str = "", acting_user
) -> list[ReviewOutcome]:
    """Approve or reject submitted entries; reports an outcome per entry.

    The actor reviews every one of the entries (entry.review, in scope), or none is decided.
    Then the reviewer rule (`duties.entries_reviewable`, which the queue lists by): nobody
    reviews an entry they recorded, only the roles the scheme names review its entries, and
    nothing dated inside a finalised period is decided (`sealed`). Each change is a conditional update, so two reviewers racing on one
    entry cannot both decide it. Ids of no entry come back `not_found`.
    """
    # Before the scope check, which asks about every id: a batch of 100,000 would hold the write
    # lock for half a minute (and exceed SQLite's limit on query parameters).
    entry_ids = list(dict.fromkeys(entry_ids))
    if len(entry_ids) > REVIEW_BATCH_MAX:
        raise KaopingError(
            _("At most %(max)d entries can be decided at once; %(n)d were sent.")
            % {"max": REVIEW_BATCH_MAX, "n": len(entry_ids)}
        )
    ensure(acting_user, "entry.review", Entry.objects.filter(pk__in=entry_ids))
    before, after = REVIEW_TRANSITIONS[decision]
    if decision == "reject" and not reason.strip():
        raise KaopingError({"reason": _("Say why the entry is rejected.")})
    _check_reason(reason)
    visible = {
        e.pk: e
        for e in Entry.objects.filter(pk__in=entry_ids)
        .select_related("scheme", "subject__region")
        .annotate(in_sealed=sealed())
    }
    # The review queue's own rule, so that what the queue lists is what is decided here.
    decidable = set(
        entries_reviewable(Entry.objects.filter(pk__in=entry_ids), acting_user).values_list(
            "pk", flat=True
        )
    )
    outcomes, decided = [], []
    now = timezone.now()
    with transaction.atomic():
        for entry_id in entry_ids:
            entry = visible.get(entry_id)
            if entry is None:
                outcomes.append(ReviewOutcome(entry_id, "not_found"))
                continue
            if entry.created_by_id == acting_user.pk:
                outcomes.append(ReviewOutcome(entry_id, "own_entry"))
                continue
            if entry.in_sealed:
                # Its period is finalised: the results stand, and a pending entry there no
                # longer counts (it is decidable again if the period is reopened).
                outcomes.append(ReviewOutcome(entry_id, "sealed"))
                continue
            if entry_id not in decidable:
                outcomes.append(ReviewOutcome(entry_id, "not_reviewer"))
                continue
            changed = Entry.objects.filter(pk=entry_id, status=before).update(
                status=after,
                reviewed_by=acting_user,
                reviewed_at=now,
                review_reason=reason.strip()[:500],
            )
            if not changed:
                outcomes.append(ReviewOutcome(entry_id, "already_reviewed"))
                continue
            recorded = (str(before), entry.reviewed_by_id, entry.review_reason)
            entry.status, entry.reviewed_by, entry.reviewed_at = after, acting_user, now
            entry.review_reason = reason.strip()[:500]
            decided.append((entry, recorded))
            audit_record(
                actor=acting_user,
                action=f"ledger.entry.{after}",
                obj=entry,
                region_code=entry.subject.region.code,
                before={"status": before},
                after={"status": after, "reason": reason.strip()},
            )
            outcomes.append(ReviewOutcome(entry_id, str(after)))
        decisions_record(decided, action=decision, actor=acting_user, at=now)
        _counted([entry for entry, _recorded in decided if entry.status == EntryStatus.APPROVED])
    return outcomes


def entry_reverse(
    *, entry: Entry, reason: str, acting_user, idempotency_key: str | None = None
) -> Entry:
    """Cancel an approved entry with a reversing entry (same item, quantity and date, the
    opposite sign: a negative adjustment's reversal has sign +1)."""
    ensure(acting_user, "entry.review", entry)
    if not reason.strip():
        raise KaopingError({"reason": _("Say why the entry is corrected.")})
    _check_reason(reason)
    existing = _existing_for_key(idempotency_key)
    if existing is not None:
        return existing
    # A reversal is told by `reverses`, not by its sign: a negative adjustment has sign −1.
    if entry.status != EntryStatus.APPROVED or entry.reverses_id is not None:
        raise KaopingError(_("Only an approved original entry can be reversed."))
    if entry.carried_from_id is not None:
        raise KaopingError(
            _(
                "This entry was carried from an entry of %(subject)s in %(scheme)s; reverse "
                "that entry and this one is reversed with it."
            )
            % {"subject": entry.carried_from.subject.name, "scheme": entry.carried_from.scheme.name}
        )
    if day_sealed(entry.scheme_id, entry.occurred_on):
        raise KaopingError(
            _("%(day)s lies in a finalised period; it can no longer be corrected.")
            % {"day": entry.occurred_on}
        )
    reversal = reversal_of(
        entry, reason=reason, acting_user=acting_user, idempotency_key=idempotency_key
    )
    try:
        with transaction.atomic():
            (reversal,) = entries_write(entries=[reversal], acting_user=acting_user)
    except IntegrityError:
        raise KaopingError(_("This entry has already been reversed.")) from None
    return reversal


def reversal_of(
    entry: Entry, *, reason: str, acting_user, idempotency_key: str | None = None
) -> Entry:
    """An unsaved entry cancelling `entry`: same item, quantity and date, the opposite sign,
    approved."""
    return Entry(
        scheme_id=entry.scheme_id,
        subject=entry.subject,
        item_code=entry.item_code,
        quantity_scaled=entry.quantity_scaled,
        label=entry.label,
        sign=-entry.sign,
        points=-entry.points,
        occurred_on=entry.occurred_on,
        cadence=entry.cadence,
        status=EntryStatus.APPROVED,
        source=entry.source,
        note=reason.strip()[:500],
        reverses=entry,
        idempotency_key=idempotency_key or None,
        created_by=acting_user
        if acting_user is not None and acting_user.is_authenticated
        else None,
    )


def ledger_seal(*, scheme: Scheme, start: date, end: date, reason: str) -> None:
    """Refuse new entries and corrections dated `start`–`end` in `scheme` from now on (a period
    was finalised). Inside the caller's transaction, which is also the one that finalises."""
    SealedSpan.objects.update_or_create(
        scheme=scheme, reason=reason, defaults={"start": start, "end": end}
    )


def ledger_unseal(*, scheme: Scheme, reason: str) -> None:
    """Lift the seal named `reason` (the period was reopened)."""
    SealedSpan.objects.filter(scheme=scheme, reason=reason).delete()


def day_sealed(scheme_id: int, day: date) -> bool:
    """Whether `day` lies in a finalised period of the scheme: nothing dated there changes."""
    return SealedSpan.objects.filter(scheme_id=scheme_id, start__lte=day, end__gte=day).exists()


def metric_values_put(
    *, scheme: Scheme, period_label: str, values: list[tuple[Subject, str, Decimal]]
) -> int:
    """Store metric values (subject, metric, value) of one period of `scheme`, replacing earlier
    ones: what a feeder pushes before the close reads it. Inside the caller's transaction; the
    caller checks that the metric is its to write (see `periods.services.metrics_report`)."""
    assert transaction.get_connection().in_atomic_block, (
        "metric_values_put belongs inside the caller's transaction"
    )
    # Set-wise: a feeder pushes a figure for every household of a county at once. The last value
    # given for a (subject, metric) wins, as it would row by row.
    latest = {
        (subject.pk, metric): int(Decimal(value) * METRIC_SCALE)
        for subject, metric, value in values
    }
    by_metric: dict[str, list[int]] = {}
    for subject_id, metric in latest:
        by_metric.setdefault(metric, []).append(subject_id)
    for metric, subject_ids in by_metric.items():
        for start in range(0, len(subject_ids), 2000):
            MetricValue.objects.filter(
                scheme=scheme,
                period_label=period_label,
                metric=metric,
                subject_id__in=subject_ids[start : start + 2000],
            ).delete()
    MetricValue.objects.bulk_create(
        [
            MetricValue(
                scheme=scheme,
                period_label=period_label,
                subject_id=subject_id,
                metric=metric,
                value_scaled=scaled,
            )
            for (subject_id, metric), scaled in latest.items()
        ],
        batch_size=2000,
    )
    return len(values)
