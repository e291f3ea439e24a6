"""Writes of the posting (公示): objections filed by the public and the decisions on them.

Transaction boundaries of an upheld objection. The decision and its ledger corrections are one
transaction: the objection moves submitted → upheld with a conditional update in the same
transaction that inserts the reversing and correcting entries, so an upheld objection never
exists without its correction, nor a correction without its decision. The corrections go in
through the ledger's one write (`entries_write`: a `Recorder` checks and flags a correction,
`reversal_of` makes a reversal). Re-closing the period comes after it, in a transaction (or,
inside the caller's, a savepoint) of its own (`period_close`, the only writer of results). If it
fails, the decision stands and the objection shows "not yet applied" with a button to close
again; the after-close hook below (listed in settings.PERIOD_HOOKS) marks an upheld objection
applied in whichever close first includes its corrections.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaoping.accounts.scoping import ensure
from kaoping.core import pagecache, throttle
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.http import address_hash
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.services import EntryDraft, Recorder, entries_write, reversal_of
from kaoping.people.models import Subject
from kaoping.periods.models import Period, PeriodStatus, Result
from kaoping.periods.services import period_close
from kaoping.schemes.calendar import CADENCE_MONTHS

from .models import Objection, ObjectionStatus

# Allowed transitions, declared once: decision → (from, to).
TRANSITIONS = {
    "uphold": (ObjectionStatus.SUBMITTED, ObjectionStatus.UPHELD),
    "dismiss": (ObjectionStatus.SUBMITTED, ObjectionStatus.DISMISSED),
}


class ObjectionThrottled(KaopingError):
    """Too many objections from one address (or to one period) within the window."""


def _limit(name: str) -> int:
    # Filings per client address and per period (a flood guard), within a window: config/settings.
    return int(getattr(settings, name))


def _bump(key: str, window: int) -> int:
    # Counted atomically in the cache every worker shares (kaoping.core.throttle); counting
    # before checking means two racing requests cannot both slip under the limit.
    return throttle.bump(key, window)


def objection_window_open(period: Period, now=None) -> bool:
    now = now or timezone.now()
    return period.status == PeriodStatus.POSTED and (
        period.objection_deadline is None or now < period.objection_deadline
    )


def objection_file(
    *,
    period: Period,
    name: str,
    contact: str,
    reason: str,
    address: str,
    subject: Subject | None = None,
    now=None,
) -> Objection:
    """File a public objection to a posted period during its window; rate-limited per address."""
    name, contact, reason = name.strip(), contact.strip(), reason.strip()
    problems = {}
    if not name:
        problems["name"] = _("Give your name.")
    if not contact:
        problems["contact"] = _("Give a telephone number or address where you can be reached.")
    if len(reason) < 5:
        problems["reason"] = _("Say what is wrong, in a sentence or two.")
    if problems:
        raise KaopingError(problems)
    if not objection_window_open(period, now):
        raise KaopingError(_("Objections to this posting are no longer taken."))
    if subject is not None and not Result.objects.filter(period=period, subject=subject).exists():
        raise KaopingError(_("That line is not part of this posting."))
    window = _limit("OBJECTION_WINDOW_SECONDS")
    hashed = address_hash(address)
    if _bump(f"kaoping:objections:address:{hashed[:32]}", window) > _limit(
        "OBJECTION_MAX_PER_ADDRESS"
    ) or _bump(f"kaoping:objections:period:{period.pk}", window) > _limit(
        "OBJECTION_MAX_PER_PERIOD"
    ):
        raise ObjectionThrottled(
            _("Too many objections have been sent from here; please try again in an hour.")
        )
    region_code = subject.region.code if subject is not None else period.scheme.region.code
    with transaction.atomic():
        objection = Objection.objects.create(
            period=period,
            subject=subject,
            region_code=region_code,
            name=name[:50],
            contact=contact[:60],
            reason=reason[:2000],
            address_hash=hashed,
        )
        audit_record(
            actor=None,
            action="publishing.objection.filed",
            obj=objection,
            region_code=region_code,
            # No name, contact or reason in the audit log: it is read more widely than objections.
            after={"period": period.pk, "subject": subject.pk if subject else None},
        )
        pagecache.changed("period", period.pk)  # the posting counts objections
    return objection


@dataclass(frozen=True)
class DecisionOutcome:
    objection: Objection
    close_problem: str = ""  # why the period could not be closed again ("" when it was, or n/a)


def _entries_to_reverse(objection: Objection, entry_ids: Sequence[int], acting_user) -> list:
    period = objection.period
    wanted = sorted({int(i) for i in entry_ids})
    found = list(
        Entry.objects.for_user(acting_user, "entry.view")
        .filter(
            pk__in=wanted,
            scheme_id=period.scheme_id,
            occurred_on__gte=period.start,
            occurred_on__lte=period.end,
            status=EntryStatus.APPROVED,
            reverses__isnull=True,  # an original (a negative adjustment has sign −1 too)
            reversals__isnull=True,
        )
        .select_related("subject__region")
    )
    # A finalised period stays as it was posted (entry_reverse refuses the same).
    final = list(
        Period.objects.filter(scheme_id=period.scheme_id, status=PeriodStatus.FINAL).values_list(
            "start", "end"
        )
    )
    found = [e for e in found if not any(a <= e.occurred_on <= b for a, b in final)]
    missing = sorted(set(wanted) - {e.pk for e in found})
    if missing:
        raise KaopingError(
            {
                "reverse": _(
                    "Entries %(ids)s cannot be reversed here: only approved, unreversed entries of "
                    "this period can."
                )
                % {"ids": "、".join(f"#{i}" for i in missing)}
            }
        )
    return found


def _corrections(
    objection: Objection, drafts: Sequence[EntryDraft], acting_user, now
) -> tuple[Recorder | None, list[Entry]]:
    if not drafts:
        return None, []
    period = objection.period
    recorder = Recorder(
        scheme=period.scheme, acting_user=acting_user, source=EntrySource.CORRECTION
    )
    # The handler's decision is the review of the correction it states: it counts at once.
    recorder.status = EntryStatus.APPROVED
    entries = []
    for draft in drafts:
        problems = recorder.problems(draft)
        # The objection file (its reason and the decision, named in the entry's note) is the
        # evidence of a correction; items that need a photo for an ordinary entry do not here.
        problems.pop("evidence", None)
        if not period.start <= draft.occurred_on <= period.end:
            problems["occurred_on"] = _(
                "A correction of %(period)s is dated between %(start)s and %(end)s."
            ) % {"period": period.label, "start": period.start, "end": period.end}
        if not Result.objects.filter(period=period, subject=draft.subject).exists():
            problems["subject"] = _("That subject has no result in this period.")
        if problems:
            raise KaopingError(problems)
        entry = recorder.build(draft)
        entry.reviewed_by, entry.reviewed_at = acting_user, now
        entry.review_reason = entry.note
        entries.append(entry)
    return recorder, entries


def _note(objection: Objection, text: str) -> str:
    return (_("Objection #%(n)d: %(text)s") % {"n": objection.pk, "text": text})[:500]


def objection_decide(
    *,
    objection: Objection,
    decision: str,
    text: str,
    acting_user,
    reverse_entry_ids: Sequence[int] = (),
    corrections: Sequence[EntryDraft] = (),
) -> DecisionOutcome:
    """Uphold or dismiss an objection (county admins). Upholding states its correction.

    An upheld objection reverses the chosen entries and/or records correcting entries, then
    closes the period again so the posting shows the corrected results (see the module text for
    the transaction boundaries). A dismissal changes nothing but the objection.
    """
    ensure(acting_user, "objection.decide", objection)
    if decision not in TRANSITIONS:
        raise KaopingError({"decision": _("Choose to uphold or to dismiss the objection.")})
    text = text.strip()
    if not text:
        raise KaopingError({"text": _("Write the decision; it is shown on the public page.")})
    before, after = TRANSITIONS[decision]
    objection = Objection.objects.select_related("period__scheme__region", "period__version").get(
        pk=objection.pk
    )
    if objection.status != before:
        raise KaopingError(_("This objection has already been decided."))
    upheld = after == ObjectionStatus.UPHELD
    if upheld and not (reverse_entry_ids or corrections):
        raise KaopingError(
            _("An upheld objection states its correction: reverse an entry or record one.")
        )
    if not upheld and (reverse_entry_ids or corrections):
        raise KaopingError(_("A dismissed objection changes no entries."))
    now = timezone.now()
    note = _note(objection, text)
    to_reverse = _entries_to_reverse(objection, reverse_entry_ids, acting_user)
    drafts = [
        EntryDraft(
            subject=d.subject,
            item_code=d.item_code,
            occurred_on=d.occurred_on,
            quantity=d.quantity,
            label=d.label,
            note=d.note or note,
        )
        for d in corrections
    ]
    recorder, recorded = _corrections(objection, drafts, acting_user, now)
    reversals = [reversal_of(e, reason=note, acting_user=acting_user) for e in to_reverse]
    period = objection.period
    try:
        with transaction.atomic():
            # Corrections go in through the ledger's one write, as any entry does.
            context = {"objection": objection.pk}
            entries_write(entries=reversals, acting_user=acting_user, context=context)
            entries_write(
                entries=recorded, acting_user=acting_user, recorder=recorder, context=context
            )
            changed = Objection.objects.filter(pk=objection.pk, status=before).update(
                status=after,
                decision=text[:2000],
                decided_by=acting_user,
                decided_at=now,
                corrections={
                    "reversed": [e.pk for e in to_reverse],
                    "reversals": [r.pk for r in reversals],
                    "recorded": [e.pk for e in recorded],
                },
            )
            if not changed:
                raise KaopingError(_("This objection has already been decided."))
            audit_record(
                actor=acting_user,
                action=f"publishing.objection.{after}",
                obj=objection,
                region_code=objection.region_code,
                before={"status": before},
                after={
                    "status": after,
                    "decision": text,
                    "reversed": [e.pk for e in to_reverse],
                    "recorded": [e.pk for e in recorded],
                },
            )
    except IntegrityError:
        # The only unique rule a valid decision can break: an entry reversed meanwhile.
        raise KaopingError(_("One of the entries has just been reversed; look again.")) from None
    objection.refresh_from_db()
    pagecache.changed("period", objection.period_id)  # decisions are shown on the posting
    problem = ""
    if upheld:
        days = [e.occurred_on for e in to_reverse] + [e.occurred_on for e in recorded]
        try:
            _reclose(period, days, acting_user)
        except KaopingError as exc:
            problem = exc.messages[0]
        objection.refresh_from_db()
    return DecisionOutcome(objection=objection, close_problem=problem)


def _reclose(period: Period, days: list[date], acting_user) -> None:
    """Close `period` again, first the finer periods it is rolled up from that hold `days`.

    Only closed or posted periods are closed again: a reopened period is being worked on, and its
    next close includes the corrections anyway.
    """
    period.refresh_from_db()
    if period.status not in (PeriodStatus.CLOSED, PeriodStatus.POSTED):
        return
    base = period.scheme.cadence
    if period.cadence != base:
        finer = [
            c
            for c in sorted(CADENCE_MONTHS, key=CADENCE_MONTHS.get)
            if CADENCE_MONTHS[base] <= CADENCE_MONTHS[c] < CADENCE_MONTHS[period.cadence]
        ]
        for cadence in finer:
            for child in Period.objects.filter(
                scheme_id=period.scheme_id,
                cadence=cadence,
                status__in=[PeriodStatus.CLOSED, PeriodStatus.POSTED],
                start__gte=period.start,
                end__lte=period.end,
            ).order_by("start"):
                if any(child.start <= day <= child.end for day in days):
                    period_close(period=child, acting_user=acting_user)
    period_close(period=period, acting_user=acting_user)


def objection_reclose(*, objection: Objection, acting_user) -> Objection:
    """Close the period of an upheld objection again (after a close that failed)."""
    ensure(acting_user, "objection.decide", objection)
    objection = Objection.objects.select_related("period__scheme").get(pk=objection.pk)
    if objection.status != ObjectionStatus.UPHELD:
        raise KaopingError(_("Only an upheld objection corrects the results."))
    ids = [*objection.corrections.get("reversed", []), *objection.corrections.get("recorded", [])]
    days = list(Entry.objects.filter(pk__in=ids).values_list("occurred_on", flat=True))
    _reclose(objection.period, days, acting_user)
    objection.refresh_from_db()
    return objection


def objections_mark_applied(period: Period, spec, acting_user) -> None:
    """After-close hook (settings.PERIOD_HOOKS): upheld objections whose corrections this close includes are applied."""
    Objection.objects.filter(
        period=period, status=ObjectionStatus.UPHELD, applied_at__isnull=True
    ).update(applied_at=timezone.now())


def objections_block_finalise(period: Period) -> str | None:
    """Finalise blocker (settings.PERIOD_HOOKS): a period with undecided objections cannot be finalised."""
    pending = Objection.objects.filter(period=period, status=ObjectionStatus.SUBMITTED).count()
    if not pending:
        return None
    return ngettext(
        "%(n)d objection is not decided yet; decide it before finalising.",
        "%(n)d objections are not decided yet; decide them before finalising.",
        pending,
    ) % {"n": pending}
