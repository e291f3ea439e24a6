"""Linked subjects: entries carried from a subject's entry to the subjects linked to it.

A scheme's count item with `linked: {scheme, items, via}` (`schemes.links`) receives one
occurrence for every subject linked by `via` to the subject of an entry of `items` that counts
in the source scheme: a household penalised for 乱堆乱放 takes two points off each party member
who links it (一联).

`links_carry` runs inside the transaction that makes entries count — `entries_write` (an entry
recorded approved, a reversal), `entries_review` (approval) and `entry_evidence_attach` — so an
approval and what it carries commit together or not at all; the after-commit signal
`entries_approved` could not undo an approval whose carried entries failed. The carried entries go
through the one write (their own write carries further down a chain of schemes, never round a
circle: `schemes.links` refuses cycles) as approved entries of source `linked`: their source
was reviewed, and the rule, not a person, decides them. Each has the idempotency key
`link:<source entry>:<item>:<subject>`, so nothing is carried twice, and `carried_from` names
its source. A reversal of the source reverses what it carried in the same transaction; a carried
entry is not reversed by hand (`entry_reverse` refuses and says to reverse the source).

The link is read as it stands when the source counts: `PartyMember.linked_households` and
`Person.household` keep no dates, so a household linked after its entry was approved does not
carry it, and one unlinked since still keeps what was carried.
"""

from django.db.models import Max
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.people.models import PartyMember, Subject
from kaoping.schemes.links import SUMMARY_KEY, linked_items
from kaoping.schemes.models import Scheme, SchemeVersion
from kaoping.schemes.spec import LinkVia

from .models import Entry, EntrySource, EntryStatus
from .services import (
    AUDIT_EACH,
    EntryDraft,
    Recorder,
    day_sealed,
    drafts_not_recorded,
    entries_write,
    reversal_of,
)

CHUNK = 500  # ids per query: well inside every database's limit on parameters


def _receivers() -> list[tuple[SchemeVersion, object]]:
    """(latest version, item) of every loaded scheme's item that carries from another scheme."""
    marked = list(
        SchemeVersion.objects.filter(summary__has_key=SUMMARY_KEY).select_related("scheme__region")
    )
    if not marked:
        return []
    latest = dict(
        SchemeVersion.objects.filter(scheme_id__in={v.scheme_id for v in marked})
        .values("scheme_id")
        .annotate(n=Max("number"))
        .values_list("scheme_id", "n")
    )
    return [
        (version, item)
        for version in marked
        if latest[version.scheme_id] == version.number
        for _path, item in linked_items(version.spec())
    ]


def links_carry_from(scheme: Scheme) -> bool:
    """Whether an entry of `scheme` may be carried: some scheme's item is linked to it."""
    return any(item.linked.scheme == scheme.code for _version, item in _receivers())


def _matches(link, entry: Entry) -> bool:
    if link.items == "deductions":
        return entry.points < 0
    if link.items == "bonuses":
        return entry.points > 0
    return entry.item_code in link.items


def linked_subjects(via: LinkVia, kind: str, sources: list[Subject]) -> dict[int, list[Subject]]:
    """Source subject id → the active subjects of `kind` linked to it by `via`, as linked now."""
    found: dict[int, list[Subject]] = {s.pk: [] for s in sources}
    if via is LinkVia.VILLAGE_TEAM:
        by_region: dict[int, list[int]] = {}
        for s in sources:
            by_region.setdefault(s.region_id, []).append(s.pk)
        for subject in Subject.objects.filter(
            kind=kind, active=True, region_id__in=by_region
        ).select_related("region"):
            for source_id in by_region[subject.region_id]:
                found[source_id].append(subject)
        return found
    by_household: dict[int, list[int]] = {}
    for s in sources:
        if s.household_id is not None:
            by_household.setdefault(s.household_id, []).append(s.pk)
    if via is LinkVia.LINKED_HOUSEHOLDS:
        through = PartyMember.linked_households.through
        pairs = list(
            through.objects.filter(household_id__in=by_household).values_list(
                "household_id", "partymember__person_id"
            )
        )
        subjects = {
            s.person_id: s
            for s in Subject.objects.filter(
                kind=kind, active=True, person_id__in={p for _h, p in pairs}
            ).select_related("region")
        }
        for household_id, person_id in sorted(pairs):
            if person_id in subjects:
                for source_id in by_household[household_id]:
                    found[source_id].append(subjects[person_id])
        return found
    for subject in Subject.objects.filter(
        kind=kind, active=True, person__household_id__in=by_household
    ).select_related("region", "person"):
        for source_id in by_household[subject.person.household_id]:
            found[source_id].append(subject)
    return found


def _carry(entries: list[Entry], codes: dict[int, str], receivers, actor) -> list[Entry]:
    written: list[Entry] = []
    for version, item in receivers:
        link = item.linked
        sources = [e for e in entries if codes[e.scheme_id] == link.scheme and _matches(link, e)]
        if not sources:
            continue
        scheme = version.scheme
        linked = linked_subjects(
            link.via, scheme.subject_kind, list({e.subject_id: e.subject for e in sources}.values())
        )
        recorder = Recorder(scheme=scheme, acting_user=actor, source=EntrySource.LINKED)
        drafts, of_draft = [], {}
        for entry in sources:
            for subject in linked[entry.subject_id]:
                if not subject.region.code.startswith(scheme.region.code):
                    continue  # outside the receiving scheme's county
                draft = EntryDraft(
                    subject=subject,
                    item_code=item.code,
                    occurred_on=entry.occurred_on,
                    idempotency_key=f"link:{entry.pk}:{item.code}:{subject.pk}",
                )
                drafts.append(draft)
                of_draft[id(draft)] = entry
        built = []
        for draft in drafts_not_recorded(drafts):
            problems = recorder.problems(draft)
            if set(problems) == {"item_code"}:
                continue  # the subject's variant or place does not score this item
            if problems:
                raise KaopingError(
                    _(
                        "The entry of %(source)s on %(day)s carries to %(subject)s in %(scheme)s, "
                        "which refuses it: %(problem)s"
                    )
                    % {
                        "source": of_draft[id(draft)].subject.name,
                        "day": draft.occurred_on,
                        "subject": draft.subject.name,
                        "scheme": scheme.name,
                        "problem": " ".join(problems.values()),
                    }
                )
            entry = recorder.build(draft)
            entry.status = EntryStatus.APPROVED
            entry.carried_from = of_draft[id(draft)]
            built.append(entry)
        if built:
            written += entries_write(
                entries=built,
                acting_user=actor,
                recorder=recorder,
                audit=AUDIT_EACH,
            )
    return written


def _uncarry(reversed_ids: list[int], actor) -> list[Entry]:
    carried = list(
        Entry.objects.filter(
            carried_from_id__in=reversed_ids,
            reverses__isnull=True,
            reversals__isnull=True,
        ).select_related("scheme", "subject__region", "carried_from__subject")
    )
    for entry in carried:
        if day_sealed(entry.scheme_id, entry.occurred_on):
            raise KaopingError(
                _(
                    "The entry carried to %(subject)s in %(scheme)s on %(day)s lies in a "
                    "finalised period and cannot be reversed with its source."
                )
                % {
                    "subject": entry.subject.name,
                    "scheme": entry.scheme.name,
                    "day": entry.occurred_on,
                }
            )
    if not carried:
        return []
    return entries_write(
        entries=[
            reversal_of(
                entry,
                reason=_("Its source entry was reversed."),
                acting_user=actor,
                idempotency_key=f"unlink:{entry.pk}",
            )
            for entry in carried
        ],
        acting_user=actor,
        audit=AUDIT_EACH,
    )


def links_carry(entries: list[Entry]) -> None:
    """Carry `entries`, which now count, to linked subjects; reverse what the reversals among
    them reversed had carried. Inside the transaction that made them count. Takes the entries
    the caller holds, so that an import of a hundred thousand rows costs one query here when no
    scheme carries anything."""
    reversed_ids = [e.reverses_id for e in entries if e.reverses_id is not None]
    carried = any(
        Entry.objects.filter(carried_from_id__in=reversed_ids[i : i + CHUNK]).exists()
        for i in range(0, len(reversed_ids), CHUNK)
    )
    actor = system_actor() if carried else None
    if carried:
        for i in range(0, len(reversed_ids), CHUNK):
            _uncarry(reversed_ids[i : i + CHUNK], actor)
    originals = [e for e in entries if e.reverses_id is None and not e.cadence]
    receivers = _receivers() if originals else []
    if not receivers:
        return
    codes = dict(
        Scheme.objects.filter(code__in={item.linked.scheme for _v, item in receivers}).values_list(
            "pk", "code"
        )
    )
    originals = [e for e in originals if e.scheme_id in codes]
    if originals:
        _carry(originals, codes, receivers, actor or system_actor())
