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
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.people.models import Person, Subject
from kaoping.periods.calendar import label_for, period_dates
from kaoping.periods.models import Period, PeriodStatus
from kaoping.schemes.models import (
    FACTOR_SCALE,
    QTY_SCALE,
    Scheme,
    SchemeLevel,
    SchemeNode,
    SchemeVersion,
)

from .chain import chain_link
from .models import Entry, EntrySource, EntryStatus
from .signals import announce_approved

# More entries than this for one subject within a day is shown to reviewers as a burst.
BURST_LIMIT = 5

# Review transitions, declared once: decision → (from, to).
REVIEW_TRANSITIONS = {
    "approve": (EntryStatus.SUBMITTED, EntryStatus.APPROVED),
    "reject": (EntryStatus.SUBMITTED, EntryStatus.REJECTED),
}


def subject_variant(version: SchemeVersion, subject: Subject) -> str:
    """The variant of `version` a subject is scored with: its track when the scheme has one."""
    if subject.track and SchemeNode.objects.filter(version=version, variant=subject.track).exists():
        return subject.track
    return ""


def scorable_items(version: SchemeVersion, subject: Subject):
    """Items a person may record for `subject` (metric items come from metrics, not entries)."""
    return SchemeNode.objects.filter(
        version=version, variant=subject_variant(version, subject), is_item=True
    ).exclude(aggregate="metric")


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


class Recorder:
    """Checks and writes entries of one scheme for one actor and source.

    The scheme's items, levels and finalised periods are read once, so checking a hundred
    thousand rows costs no query per row.
    """

    def __init__(self, *, scheme: Scheme, acting_user, source: str, declared: bool = False):
        self.scheme, self.acting_user, self.source = scheme, acting_user, source
        self.version = scheme.latest_version()
        self.spec = self.version.spec()
        self.declared = declared
        self.items = {
            (n.variant, n.code): n
            for n in SchemeNode.objects.filter(version=self.version, is_item=True)
        }
        self.variants = set(
            SchemeNode.objects.filter(version=self.version).values_list("variant", flat=True)
        )
        self.levels: dict[tuple[str, str], dict[str, int]] = {}
        for level in SchemeLevel.objects.filter(version=self.version):
            self.levels.setdefault((level.variant, level.item_code), {})[level.label] = level.factor
        self.final_periods = list(
            Period.objects.filter(scheme=scheme, status=PeriodStatus.FINAL).values_list(
                "start", "end"
            )
        )
        # What the system computes from data the close already trusts needs no second review.
        auto = source == EntrySource.COMPUTED or source in {
            str(s) for s in self.spec.review.auto_approve
        }
        self.status = EntryStatus.APPROVED if auto else EntryStatus.SUBMITTED
        # Read once: a Recorder serves one request or one import, and asking the time zone for
        # today on each of 100,000 rows costs seconds.
        self.today = timezone.localdate()

    def variant_of(self, subject: Subject) -> str:
        return subject.track if subject.track in self.variants else ""

    def item(self, subject: Subject, code: str) -> SchemeNode | None:
        node = self.items.get((self.variant_of(subject), code))
        if node is None or node.aggregate == "metric":
            return None
        if node.metric and self.source != EntrySource.COMPUTED:
            return None  # recorded by the system from its metric, never by hand
        return node

    def problems(self, draft: EntryDraft) -> dict[str, str]:
        """What is wrong with `draft`, by field (empty when it can be recorded)."""
        found: dict[str, str] = {}
        if draft.subject.kind != self.scheme.subject_kind:
            found["subject"] = _("This scheme scores another kind of subject.")
            return found
        node = self.item(draft.subject, draft.item_code)
        if node is None:
            found["item_code"] = _("“%(code)s” is not an item of this scheme for this subject.") % {
                "code": draft.item_code
            }
            return found
        if self.declared and not node.declarable:
            found["item_code"] = _("“%(name)s” cannot be declared by the household.") % {
                "name": node.name
            }
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
        if node.rule == "rating":
            labels = self.levels.get((node.variant, node.code), {})
            if draft.label not in labels:
                found["label"] = _("Choose a rating: %(labels)s.") % {"labels": "、".join(labels)}
        if node.evidence_required and not draft.evidence:
            found["evidence"] = _("“%(name)s” needs a photo or file as evidence.") % {
                "name": node.name
            }
        if draft.occurred_on > self.today:
            found["occurred_on"] = _("%(day)s is in the future.") % {"day": draft.occurred_on}
        elif any(start <= draft.occurred_on <= end for start, end in self.final_periods):
            found["occurred_on"] = _(
                "%(day)s lies in a finalised period; record it in an open period."
            ) % {"day": draft.occurred_on}
        return found

    def build(self, draft: EntryDraft) -> Entry:
        node = self.item(draft.subject, draft.item_code)
        amount = Decimal(1) if node.rule in ("rating", "veto") else Decimal(str(draft.quantity))
        points = Decimal(0)
        if node.rule == "rating":
            factor = self.levels[(node.variant, node.code)][draft.label]
            points = self.version.to_points(node.weight) * factor / FACTOR_SCALE
        elif node.rule in ("count", "quantity"):
            points = self.version.to_points(node.points) * amount
        return Entry(
            scheme=self.scheme,
            subject=draft.subject,
            item_code=node.code,
            quantity_scaled=int(amount * QTY_SCALE),
            label=draft.label if node.rule == "rating" else "",
            points=points.quantize(Decimal("0.0001")),
            occurred_on=draft.occurred_on,
            status=self.status,
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
        actor = self._actor()
        if actor is not None:
            person_id, own_household = Profile.objects.filter(user=actor).values_list(
                "person_id", "person__household_id"
            ).first() or (None, None)
            if person_id is not None:
                relatives_households = set(
                    Person.relatives.through.objects.filter(from_person_id=person_id)
                    .exclude(to_person__household_id=None)
                    .values_list("to_person__household_id", flat=True)
                )
        since = timezone.now() - timedelta(days=1)
        recent = dict(
            Entry.objects.filter(subject_id__in=subject_ids, created_at__gte=since)
            .values_list("subject_id")
            .annotate(n=Count("id"))
        )
        in_batch = Counter(e.subject_id for e in entries)
        # The period label of each day, worked out once per day rather than once per entry.
        label_of = {
            day: label_for(self.scheme.cadence, day) for day in {e.occurred_on for e in entries}
        }
        capped = {}
        for entry in entries:
            node = self.item(entry.subject, entry.item_code)
            if node.cap is not None and node.points:
                capped[(entry.subject_id, entry.item_code, label_of[entry.occurred_on])] = node
        used: Counter = Counter()
        if capped:
            # One grouped query for what is already recorded against the capped items.
            days = [e.occurred_on for e in entries]
            first, _end = period_dates(
                self.scheme.cadence, label_for(self.scheme.cadence, min(days))
            )
            _start, last = period_dates(
                self.scheme.cadence, label_for(self.scheme.cadence, max(days))
            )
            # The scheme is matched here, not in the query: with `scheme_id = ?` in the WHERE,
            # SQLite (without statistics) reads the whole period through the close's index
            # (scheme, status, day): twenty million entries for each chunk of an import into a
            # province's month. Without it, the query reads these subjects' entries only.
            rows = (
                Entry.objects.filter(
                    subject_id__in={k[0] for k in capped},
                    item_code__in={k[1] for k in capped},
                    occurred_on__range=(first, last),
                    status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED],
                )
                .values_list("scheme_id", "subject_id", "item_code", "occurred_on")
                .annotate(q=Sum(F("sign") * F("quantity_scaled")))
            )
            for scheme_id, subject_id, item_code, day, quantity in rows:
                if scheme_id != self.scheme.pk:
                    continue
                if day not in label_of:
                    label_of[day] = label_for(self.scheme.cadence, day)
                used[(subject_id, item_code, label_of[day])] += quantity or 0
        for entry in entries:
            flags = []
            if own_household is not None and entry.subject.household_id == own_household:
                flags.append("own_household")
            elif entry.subject.household_id in relatives_households:
                flags.append("relatives")
            if recent.get(entry.subject_id, 0) + in_batch[entry.subject_id] > BURST_LIMIT:
                flags.append("burst")
            key = (entry.subject_id, entry.item_code, label_of[entry.occurred_on])
            node = capped.get(key)
            if node is not None:
                used[key] += entry.quantity_scaled
                if abs(used[key] * node.points) > node.cap * QTY_SCALE:
                    flags.append("over_cap")
            entry.flags = flags

    def save(self, entries: list[Entry]) -> list[Entry]:
        """Flag, chain and insert `entries`; call inside a transaction."""
        self.flag(entries)
        chain_link(entries)
        saved = Entry.objects.bulk_create(entries, batch_size=2000)
        announce_approved([e.pk for e in saved if e.status == EntryStatus.APPROVED])
        return saved


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
) -> tuple[Entry, bool]:
    """Record one entry; returns (entry, created). A repeated idempotency key returns the first."""
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
    )
    problems = recorder.problems(draft)
    prepared = []
    if not problems and draft.evidence:
        from .evidence import evidence_prepare

        try:
            prepared = [evidence_prepare(upload) for upload in draft.evidence]
        except KaopingError as exc:
            problems = {"evidence": exc.messages[0]}
    if problems:
        raise KaopingError(problems)
    try:
        with transaction.atomic(durable=True):
            entry = recorder.build(draft)
            recorder.save([entry])
            evidence_hashes = []
            if prepared:
                from .evidence import evidence_save

                for item in prepared:
                    evidence_hashes.append(evidence_save(entry=entry, prepared=item).sha256)
            audit_record(
                actor=acting_user,
                action="ledger.entry.recorded",
                obj=entry,
                region_code=subject.region.code,
                after={
                    "item": entry.item_code,
                    "quantity": str(entry.quantity),
                    "label": entry.label,
                    "points": str(entry.points),
                    "date": occurred_on.isoformat(),
                    "status": entry.status,
                    "source": source,
                    "flags": entry.flags,
                    "evidence": evidence_hashes,
                },
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

    Raises ImportFailed with a RowError per bad field (rows counted from 1). Drafts whose
    idempotency key was already used are skipped, so a resubmitted form records nothing twice.
    """
    recorder = Recorder(scheme=scheme, acting_user=acting_user, source=source)
    keys = [d.idempotency_key for d in drafts if d.idempotency_key]
    seen = set(
        Entry.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    fresh = [d for d in drafts if not d.idempotency_key or d.idempotency_key not in seen]
    errors = [
        RowError(index, field, message)
        for index, draft in enumerate(drafts, start=1)
        if draft in fresh
        for field, message in recorder.problems(draft).items()
    ]
    if errors:
        raise ImportFailed(errors)
    with transaction.atomic(durable=True):
        entries = recorder.save([recorder.build(d) for d in fresh])
        if entries:
            audit_record(
                actor=acting_user,
                action="ledger.entries.recorded",
                obj=scheme,
                region_code=_common_prefix([e.subject.region.code for e in entries]),
                after={
                    "count": len(entries),
                    "source": source,
                    "ids": [e.pk for e in entries][:200],
                },
            )
    return entries


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
        str  # approved, rejected, or why not: not_found, not_reviewer, own_entry, already_reviewed
    )

    @property
    def ok(self) -> bool:
        return self.outcome in ("approved", "rejected")


def entries_review(
    *, entry_ids: list[int], decision: str, reason: str = "", acting_user
) -> list[ReviewOutcome]:
    """Approve or reject submitted entries; reports an outcome per entry.

    A rejection needs a reason. Nobody reviews an entry they recorded; only the roles the scheme
    names (in scope) review its entries. Each change is a conditional update, so two reviewers
    racing on one entry cannot both decide it.
    """
    before, after = REVIEW_TRANSITIONS[decision]
    if decision == "reject" and not reason.strip():
        raise KaopingError({"reason": _("Say why the entry is rejected.")})
    visible = {
        e.pk: e
        for e in Entry.objects.for_user(acting_user, "entry.review")
        .filter(pk__in=entry_ids)
        .select_related("scheme", "subject__region")
    }
    roles_by_prefix = list(
        RoleAssignment.objects.filter(user=acting_user)
        .select_related("region")
        .values_list("role", "region__code")
    )
    reviewers = {}
    outcomes = []
    now = timezone.now()
    with transaction.atomic(durable=True):
        for entry_id in entry_ids:
            entry = visible.get(entry_id)
            if entry is None:
                outcomes.append(ReviewOutcome(entry_id, "not_found"))
                continue
            if entry.created_by_id == acting_user.pk:
                outcomes.append(ReviewOutcome(entry_id, "own_entry"))
                continue
            if entry.scheme_id not in reviewers:
                reviewers[entry.scheme_id] = reviewer_roles(entry.scheme)
            allowed = acting_user.is_superuser or any(
                role in reviewers[entry.scheme_id]
                and code
                and entry.subject.region.code.startswith(code)
                for role, code in roles_by_prefix
            )
            if not allowed:
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
            audit_record(
                actor=acting_user,
                action=f"ledger.entry.{after}",
                obj=entry,
                region_code=entry.subject.region.code,
                before={"status": before},
                after={"status": after, "reason": reason.strip()},
            )
            outcomes.append(ReviewOutcome(entry_id, str(after)))
        announce_approved([o.entry_id for o in outcomes if o.outcome == EntryStatus.APPROVED])
    return outcomes


def entry_reverse(
    *, entry: Entry, reason: str, acting_user, idempotency_key: str | None = None
) -> Entry:
    """Cancel an approved entry with a reversing entry (same item, quantity and date, sign −1)."""
    if not reason.strip():
        raise KaopingError({"reason": _("Say why the entry is corrected.")})
    existing = _existing_for_key(idempotency_key)
    if existing is not None:
        return existing
    if entry.status != EntryStatus.APPROVED or entry.sign != 1:
        raise KaopingError(_("Only an approved original entry can be reversed."))
    if Period.objects.filter(
        scheme_id=entry.scheme_id,
        status=PeriodStatus.FINAL,
        start__lte=entry.occurred_on,
        end__gte=entry.occurred_on,
    ).exists():
        raise KaopingError(
            _("%(day)s lies in a finalised period; it can no longer be corrected.")
            % {"day": entry.occurred_on}
        )
    reversal = reversal_of(
        entry, reason=reason, acting_user=acting_user, idempotency_key=idempotency_key
    )
    try:
        with transaction.atomic(durable=True):
            chain_link([reversal])
            reversal.save()
            announce_approved([reversal.pk])
            audit_record(
                actor=acting_user,
                action="ledger.entry.reversed",
                obj=entry,
                region_code=entry.subject.region.code,
                after={"reversal": reversal.pk, "reason": reason.strip()},
            )
    except IntegrityError:
        raise KaopingError(_("This entry has already been reversed.")) from None
    return reversal


def reversal_of(
    entry: Entry, *, reason: str, acting_user, idempotency_key: str | None = None
) -> Entry:
    """An unsaved entry cancelling `entry`: same item, quantity and date, sign −1, approved."""
    return Entry(
        scheme_id=entry.scheme_id,
        subject=entry.subject,
        item_code=entry.item_code,
        quantity_scaled=entry.quantity_scaled,
        label=entry.label,
        sign=-1,
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


def metrics_report(*, period, values: list[tuple[Subject, str, Decimal]], acting_user) -> int:
    """Store reported metric values (subject, metric, value) for a period; replaces earlier ones.

    Only metric names the period's scheme uses, and not the ones the system computes itself.
    """
    from kaoping.periods.metrics import COMPUTED

    from .models import MetricValue

    used = set(
        SchemeNode.objects.filter(version=period.version)
        .exclude(metric="")
        .values_list("metric", flat=True)
    )
    if period.status in (PeriodStatus.POSTED, PeriodStatus.FINAL):
        raise KaopingError(
            _("%(period)s is already posted; its figures can no longer change.")
            % {"period": period.label}
        )
    problems = []
    for index, (subject, metric, value) in enumerate(values, start=1):
        if metric not in used or metric in COMPUTED:
            problems.append(
                RowError(
                    index,
                    "metric",
                    _("“%(m)s” is not a reported metric of this scheme.") % {"m": metric},
                )
            )
        elif subject.kind != period.scheme.subject_kind:
            problems.append(
                RowError(index, "subject_id", _("This scheme scores another kind of subject."))
            )
        elif (Decimal(value) * 10000) != (Decimal(value) * 10000).to_integral_value():
            problems.append(RowError(index, "value", _("At most 4 decimal places.")))
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic(durable=True):
        for subject, metric, value in values:
            MetricValue.objects.update_or_create(
                period=period,
                subject=subject,
                metric=metric,
                defaults={"value_scaled": int(Decimal(value) * 10000)},
            )
        audit_record(
            actor=acting_user,
            action="ledger.metrics.reported",
            obj=period,
            region_code=period.scheme.region.code,
            after={"count": len(values), "metrics": sorted({m for _s, m, _v in values})},
        )
    return len(values)
