from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import Refused, ensure
from kaoping.core.audit import audit_record, snapshot
from kaoping.core.errors import KaopingError
from kaoping.core.limits import text_problem
from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_number_problem, mask_id_number
from kaoping.regions.models import Region

from .book import (
    HOUSEHOLD_BOOK_FIELDS,
    PERSON_BOOK_FIELDS,
    birth_date_of,
    field_label,
    gender_of,
    value_problem,
)
from .models import (
    CURRENT_STATUSES,
    BookChange,
    BookChangeKind,
    Household,
    HouseholdPost,
    HouseholdPostKind,
    HouseholdTag,
    HouseholdTagSpan,
    Person,
    ResidenceStatus,
    Subject,
    SubjectKind,
)

PERSON_EDITABLE = ("name", "phone", "relation", "id_number")


def person_update(*, person: Person, acting_user, **changes) -> Person:
    """Change a person's editable fields; the audit row keeps ID numbers masked."""
    ensure(acting_user, "people.change", person)
    unknown = set(changes) - set(PERSON_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if changes.get("id_number"):
        problem = id_number_problem(changes["id_number"])
        if problem:
            raise KaopingError({"id_number": problem})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(locked, list(changes))
        for field, value in changes.items():
            setattr(locked, field, value or (None if field == "id_number" else ""))
        if "name" in changes:
            locked.initials = initials(locked.name)
        locked.full_clean(exclude=["household", "region"])
        locked.save()
        after = snapshot(locked, list(changes))
        for values in (before, after):
            if values.get("id_number"):
                values["id_number"] = locked.masked_id_number if values is after else "(masked)"
        audit_record(
            actor=acting_user,
            action="people.person.updated",
            obj=locked,
            region_code=locked.region.code,
            before=before,
            after=after,
            object_repr=locked.masked_name,
        )
    return locked


# One INSERT … SELECT per kind: every village, team, cadre, party member and household that has
# no subject yet gets one. Set-based, so a county of a million households syncs in one pass.
_SUBJECT_SOURCES = {
    "village": (
        "SELECT 'village', r.id, r.name, '', NULL, NULL FROM regions_region r WHERE r.level = 'village' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'village' AND s.region_id = r.id)"
    ),
    "team": (
        "SELECT 'team', r.id, r.name || '“两委”班子', '', NULL, NULL FROM regions_region r WHERE r.level = 'village' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'team' AND s.region_id = r.id)"
    ),
    "cadre": (
        "SELECT 'cadre', c.region_id, p.name, '', NULL, p.id FROM people_cadre c JOIN people_person p ON p.id = c.person_id "
        "WHERE c.id = (SELECT MIN(c2.id) FROM people_cadre c2 WHERE c2.person_id = c.person_id) "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'cadre' AND s.person_id = p.id)"
    ),
    "party_member": (
        "SELECT 'party_member', m.region_id, p.name, m.member_class, NULL, p.id FROM people_partymember m "
        "JOIN people_person p ON p.id = m.person_id "
        "WHERE NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'party_member' AND s.person_id = p.id)"
    ),
    "household": (
        "SELECT 'household', h.region_id, COALESCE(p.name, h.number), '', h.id, NULL FROM people_household h "
        "LEFT JOIN people_person p ON p.id = h.head_id "
        "WHERE NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'household' AND s.household_id = h.id)"
    ),
    "grid": (
        "SELECT 'grid', r.id, r.name, '', NULL, NULL FROM regions_region r WHERE r.level = 'grid' "
        "AND NOT EXISTS (SELECT 1 FROM people_subject s WHERE s.kind = 'grid' AND s.region_id = r.id)"
    ),
}


def subjects_sync(*, kind: str) -> int:
    """Create the missing subjects of `kind`; returns how many were added."""
    from django.db import connection

    if kind == SubjectKind.NATURAL_VILLAGE:
        from .natural_villages import natural_village_subjects_sync

        return natural_village_subjects_sync()

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO people_subject (kind, region_id, name, track, household_id, person_id) "
            + _SUBJECT_SOURCES[kind]
        )
        return cursor.rowcount


# ─── the household book (一户一册) ───

# A member's residence moves: kind → (the statuses it may start from, the status it leaves).
STATUS_MOVES = {
    BookChangeKind.AWAY: ((ResidenceStatus.PRESENT,), ResidenceStatus.AWAY),
    BookChangeKind.RETURNED: ((ResidenceStatus.AWAY,), ResidenceStatus.PRESENT),
    BookChangeKind.MOVED_OUT: (CURRENT_STATUSES, ResidenceStatus.MOVED_OUT),
    BookChangeKind.DIED: (CURRENT_STATUSES, ResidenceStatus.DEAD),
}
NEW_MEMBER_KINDS = (BookChangeKind.BORN, BookChangeKind.MOVED_IN)
TAG_KINDS = (BookChangeKind.TAG_ADDED, BookChangeKind.TAG_REMOVED)
NOTE_MAX = 200


def book_changes_apply(
    *,
    household: Household,
    changes: list[dict],
    acting_user,
    visit_id: int | None = None,
    on_date: date | None = None,
) -> list[BookChange]:
    """Apply edits to a household's book (一户一册) — the one entry point for every one of them —
    and return the BookChange rows written, in the order of `changes` (an edit that changes no
    value writes no row).

    Each change is a dict with "kind" and, by kind:

    - "born", "moved_in" (a new member): "name" (required), "gender" ("M"/"F"; taken from the
      ID number when absent), "id_number" (18 characters, checked by GB 11643 and unique;
      required for "moved_in", optional for "born"), "relation" (relation to the head, required,
      e.g. "子"), "phone" (11 digits, optional), "birth_date" (a date; from the ID number when
      absent, else the change's date for "born").
    - "moved_out", "away" (外出务工), "returned", "died": "person" (a Person of this household, or
      its pk). away: living here → away; returned: away → living here; moved_out and died: from
      either. The head may leave only when the same call names a new head (an "edited" change
      of the household's "head").
    - "edited": "person" (Person or pk) for a member's fields, absent or None for the
      household's; "fields": {field: new value}. A member's fields: name, gender, id_number,
      phone, relation, birth_date. The household's: address, head (a current member, Person or
      pk). The change row stores {field: [before, after]}, ID numbers masked.
    - "tag_added", "tag_removed": "tag" (a HouseholdTag of the household's county, or its pk).
      A tag is added at most once at a time, only while the county has it in use, and removed
      only when the household carries it; the span of the tag's history opens or closes on the
      change's date.

    Every change may carry "note" (at most 200 characters) and "on_date" (a date, not in the
    future; default `on_date`, default today). `visit_id` (a grid visit's id; grid sets it) is
    stored on every row.

    Everything is checked before anything is written: a KaopingError lists every problem, keyed
    by field ("person", "name", "id_number", "tag", "fields", …), each message naming the member
    and the field; nothing is written then. Otherwise persons, tag spans, change rows and one
    audit row are written in one transaction.
    """
    ensure(acting_user, "people.change", household)
    check = _BookCheck(household, changes, today=timezone.localdate())
    default_date = on_date or check.today
    if not changes:
        raise KaopingError(_("Nothing to change."))
    plans = [
        plan
        for number, change in enumerate(changes, start=1)
        if (plan := _change_check(check, change, number=number, default_date=default_date))
    ]
    check.finish()
    if check.errors:
        raise KaopingError(check.errors)

    with transaction.atomic():
        Household.objects.select_for_update().filter(pk=household.pk).first()
        now = timezone.now()
        written = (
            _plan_write(plan, household=household, acting_user=acting_user, visit_id=visit_id)
            for plan in plans
        )
        rows = [row for row in written if row is not None]
        for row in rows:
            row.made_at = now
        if not rows:
            return rows
        BookChange.objects.bulk_create(rows)
        audit_record(
            actor=acting_user,
            action="people.book.changed",
            obj=household,
            region_code=household.region.code,
            after={
                "changes": [row.kind for row in rows],
                "visit_id": visit_id,
            },
        )
    return rows


class _BookCheck:
    """What the checks of one call share: the household's members and the statuses they will
    have after the changes so far, the tags it will carry, the head, the ID numbers named, and
    the problems found (field → messages)."""

    def __init__(self, household: Household, changes: list[dict], *, today: date):
        self.today = today
        self.members = {p.pk: p for p in Person.objects.filter(household=household)}
        county_code = household.region.code[:6]
        tag_pks = {
            _pk(change.get("tag")) for change in changes if change.get("kind") in TAG_KINDS
        } - {None}
        self.tags = {
            t.pk: t for t in HouseholdTag.objects.filter(pk__in=tag_pks, region__code=county_code)
        }
        self.open_tags = set(
            HouseholdTagSpan.objects.filter(household=household, until__isnull=True).values_list(
                "tag_id", flat=True
            )
        )
        self.errors: dict[str, list[str]] = {}
        self.statuses = {pk: p.status for pk, p in self.members.items()}
        self.head_id = household.head_id
        self.head_named = False
        self.new_ids: dict[str, str] = {}  # id number → who, in this call

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def problem(self, field: str, who: str, message: str) -> None:
        self.error(
            field,
            _("%(who)s, %(field)s: %(problem)s")
            % {"who": who, "field": field_label(field), "problem": message},
        )

    def member_missing(self, position: str) -> None:
        self.error("person", _("%(who)s: choose a member of this household.") % {"who": position})

    def finish(self) -> None:
        """The checks over the whole call: the head still lives here or a new one is named, and
        no ID number named is taken already."""
        if (
            self.head_id is not None
            and self.statuses.get(self.head_id) not in CURRENT_STATUSES
            and not self.head_named
        ):
            self.error(
                "head",
                _("%(name)s is the head of the household: name a new head in the same change.")
                % {"name": self.members[self.head_id].name},
            )
        _ids_taken(self.new_ids, self.errors)


def _change_check(
    check: _BookCheck, change: dict, *, number: int, default_date: date
) -> dict | None:
    """Check one change (what every kind shares, then its kind's own checks) and return its plan
    for `_plan_write`, or None when the change cannot even be planned (its problem recorded)."""
    kind = change.get("kind")
    position = _("change %(n)d") % {"n": number}
    when = change.get("on_date") or default_date
    note = str(change.get("note") or "")
    plan = {"kind": kind, "on_date": when, "note": note}
    if kind not in BookChangeKind.values:
        check.error(
            "kind", _("%(who)s: unknown kind of change “%(k)s”.") % {"who": position, "k": kind}
        )
        return None
    if not isinstance(when, date) or when > check.today:
        check.error(
            "on_date",
            _("%(who)s: the date of a change cannot lie in the future.") % {"who": position},
        )
    if len(note) > NOTE_MAX or text_problem(note, multiline=False):
        check.error(
            "note",
            _("%(who)s: the note is too long or holds a control character.") % {"who": position},
        )
    checked = _BOOK_KINDS[kind][0](check, change, plan, position)
    return plan if checked else None


def _new_member_check(check: _BookCheck, change: dict, plan: dict, position: str) -> bool:
    """born, moved_in: the new member's fields, completed from the ID number."""
    kind = plan["kind"]
    values = {f: change.get(f) for f in PERSON_BOOK_FIELDS}
    for field in ("name", "id_number", "phone", "relation"):
        values[field] = str(values[field] or "").strip()
    values["id_number"] = values["id_number"].upper()
    who = values["name"] or position
    if kind == BookChangeKind.MOVED_IN and not values["id_number"]:
        check.problem("id_number", who, _("A member who moves in needs an ID number."))
    if not values["relation"]:
        check.problem("relation", who, _("Say how the member is related to the head."))
    valid_id = bool(values["id_number"]) and not id_number_problem(values["id_number"])
    if not values["gender"] and valid_id:
        values["gender"] = gender_of(values["id_number"])
    if values["birth_date"] is None:
        if valid_id:
            values["birth_date"] = birth_date_of(values["id_number"])
        elif kind == BookChangeKind.BORN:
            values["birth_date"] = plan["on_date"]
    for field in PERSON_BOOK_FIELDS:
        message = value_problem(field, values[field])
        if message:
            check.problem(field, who, message)
    if values["id_number"]:
        _id_seen(values["id_number"], who, check.new_ids, check.problem)
    plan["values"] = values
    return True


def _status_move_check(check: _BookCheck, change: dict, plan: dict, position: str) -> bool:
    """moved_out, away, returned, died: a member whose current status allows the move."""
    kind = plan["kind"]
    person = check.members.get(_pk(change.get("person")))
    if person is None:
        check.member_missing(position)
        return False
    starts, status = STATUS_MOVES[kind]
    if check.statuses[person.pk] not in starts:
        check.problem(
            "status",
            person.name,
            _("is “%(now)s”; “%(change)s” is not possible.")
            % {
                "now": ResidenceStatus(check.statuses[person.pk]).label,
                "change": BookChangeKind(kind).label,
            },
        )
    check.statuses[person.pk] = status
    plan.update(person=person, status=status)
    return True


def _edit_check(check: _BookCheck, change: dict, plan: dict, position: str) -> bool:
    """edited: a member's fields or the household's (its head a current member)."""
    fields = change.get("fields") or {}
    person_pk = _pk(change.get("person"))
    person = check.members.get(person_pk) if person_pk is not None else None
    if person_pk is not None and person is None:
        check.member_missing(position)
        return False
    allowed = PERSON_BOOK_FIELDS if person else HOUSEHOLD_BOOK_FIELDS
    who = person.name if person else _("the household")
    unknown = [f for f in fields if f not in allowed]
    if not fields or unknown:
        check.error(
            "fields",
            _("%(who)s: these fields cannot be changed here: %(f)s.")
            % {"who": who, "f": "、".join(map(str, unknown)) or "—"},
        )
        return False
    after = {}
    for field, raw in fields.items():
        value = raw
        if field in ("name", "id_number", "phone", "relation", "address"):
            value = str(raw or "").strip()
            if field == "id_number":
                value = value.upper()
        if field == "head":
            head = check.members.get(_pk(raw))
            if head is None or check.statuses[head.pk] not in CURRENT_STATUSES:
                check.problem("head", who, _("The head must be a current member."))
                continue
            check.head_id, check.head_named, value = head.pk, True, head
        else:
            message = value_problem(field, value)
            if message:
                check.problem(field, who, message)
                continue
            if field == "id_number" and value and value != person.id_number:
                _id_seen(value, who, check.new_ids, check.problem)
        after[field] = value
    plan.update(person=person, after=after)
    return True


def _tag_check(check: _BookCheck, change: dict, plan: dict, position: str) -> bool:
    """tag_added, tag_removed: a county tag in use, added once at a time, removed when carried."""
    tag = check.tags.get(_pk(change.get("tag")))
    if tag is None:
        check.error(
            "tag", _("%(who)s: choose one of the county's household tags.") % {"who": position}
        )
        return False
    if plan["kind"] == BookChangeKind.TAG_ADDED:
        if tag.pk in check.open_tags:
            check.error(
                "tag", _("The household already carries the tag “%(t)s”.") % {"t": tag.name}
            )
        elif not tag.active:
            check.error("tag", _("The tag “%(t)s” is no longer in use.") % {"t": tag.name})
        check.open_tags.add(tag.pk)
    else:
        if tag.pk not in check.open_tags:
            check.error("tag", _("The household does not carry the tag “%(t)s”.") % {"t": tag.name})
        check.open_tags.discard(tag.pk)
    plan["tag"] = tag
    return True


def _pk(value) -> int | None:
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id_seen(value: str, who: str, seen: dict, problem) -> None:
    if value in seen:
        problem(
            "id_number",
            who,
            _("The same ID number is given for %(other)s.") % {"other": seen[value]},
        )
    else:
        seen[value] = who


def _ids_taken(new_ids: dict[str, str], errors: dict) -> None:
    """ID numbers of this call already registered for another person (of any household)."""
    valid = [v for v in new_ids if not id_number_problem(v)]
    taken = Person.objects.filter(id_number__in=valid).values_list("id_number", flat=True)
    for value in taken:
        errors.setdefault("id_number", []).append(
            _("%(who)s, %(field)s: %(problem)s")
            % {
                "who": new_ids[value],
                "field": field_label("id_number"),
                "problem": _("this ID number is already registered for another person."),
            }
        )


def _plan_write(plan: dict, *, household: Household, acting_user, visit_id) -> BookChange | None:
    """Write one checked change's persons, household or tag span; return its unsaved row (None
    for an edit that changes nothing)."""
    row = BookChange(
        household=household,
        kind=plan["kind"],
        note=plan["note"],
        on_date=plan["on_date"],
        made_by=acting_user,
        visit_id=visit_id,
    )
    return _BOOK_KINDS[plan["kind"]][1](
        plan, row, household=household, acting_user=acting_user, visit_id=visit_id
    )


def _new_member_write(
    plan: dict, row: BookChange, *, household: Household, **_context
) -> BookChange:
    values = plan["values"]
    row.person = Person.objects.create(
        household=household,
        region=household.region,
        name=values["name"],
        initials=initials(values["name"]),
        id_number=values["id_number"] or None,
        gender=values["gender"],
        birth_date=values["birth_date"],
        phone=values["phone"],
        relation=values["relation"],
    )
    return row


def _status_move_write(plan: dict, row: BookChange, **_context) -> BookChange:
    person = plan["person"]
    Person.objects.filter(pk=person.pk).update(status=plan["status"])
    row.person = person
    row.fields = {"status": [person.status, plan["status"]]}
    person.status = plan["status"]
    return row


def _edit_write(
    plan: dict, row: BookChange, *, household: Household, **_context
) -> BookChange | None:
    target = plan["person"] or household
    changed = {}
    for field, value in plan["after"].items():
        before = getattr(target, field)
        stored = value if field != "id_number" else (value or None)
        if before == stored:
            continue
        setattr(target, field, stored)
        changed[field] = [_shown(field, before), _shown(field, stored)]
    if "name" in changed:
        target.initials = initials(target.name)
    fields = [f for f in plan["after"] if f in changed]
    if fields:
        target.save(update_fields=fields + (["initials"] if "name" in changed else []))
    if plan["person"] is None and "head" in changed:
        Subject.objects.filter(kind=SubjectKind.HOUSEHOLD, household=household).update(
            name=household.head.name
        )
    if not changed:
        return None  # the values given are the ones stored: nothing to keep in the book
    row.person = plan["person"]
    row.fields = changed
    return row


def _tag_write(
    plan: dict, row: BookChange, *, household: Household, acting_user, visit_id
) -> BookChange:
    tag = plan["tag"]
    row.tag = tag
    if plan["kind"] == BookChangeKind.TAG_ADDED:
        HouseholdTagSpan.objects.create(
            household=household,
            tag=tag,
            since=plan["on_date"],
            added_by=acting_user,
            visit_id=visit_id,
        )
    else:
        span = HouseholdTagSpan.objects.get(household=household, tag=tag, until__isnull=True)
        # A tag removed on the day it was added (or dated before it) closes on its first day.
        span.until = max(plan["on_date"], span.since)
        span.removed_by = acting_user
        span.save(update_fields=["until", "removed_by"])
    return row


# kind → (its check, its write): the one table of what each kind of change does.
_BOOK_KINDS = {
    **{kind: (_new_member_check, _new_member_write) for kind in NEW_MEMBER_KINDS},
    **{kind: (_status_move_check, _status_move_write) for kind in STATUS_MOVES},
    BookChangeKind.EDITED: (_edit_check, _edit_write),
    **{kind: (_tag_check, _tag_write) for kind in TAG_KINDS},
}


def _shown(field: str, value):
    """A field's value as the book keeps it: ID numbers masked, dates and persons as text."""
    if value is None:
        return ""
    if field == "id_number":
        return mask_id_number(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Person):
        return value.name
    return value


def households_import(*, data: bytes, filename: str, acting_user) -> dict:
    """Import the county's list of households and members (one row per person: 户号, 网格代码,
    户主, 姓名, 性别, 身份证号, 与户主关系, 电话, 地址, 标签): all rows or none.

    Only new households are imported; a household number that exists already is a row error
    (an existing household changes in its book, `book_changes_apply`, where every change keeps
    who, when and on which visit). Returns {"households", "persons", "tags"}. Raises ImportFailed
    naming every bad row and column — an ID number that fails GB 11643 or is taken (in the file
    or in the system), an unknown grid or one outside the actor's area, a household with no head
    or two, an unknown tag; nothing is written then.
    """
    from .household_import import households_read

    if acting_user is None or not user_can(acting_user, "people.import"):
        raise Refused()
    households = households_read(data=data, filename=filename, acting_user=acting_user)
    regions = Region.objects.filter(pk__in={h.region.pk for h in households})
    ensure(acting_user, "people.import", regions)
    today = timezone.localdate()
    with transaction.atomic():
        created = Household.objects.bulk_create(
            [
                Household(
                    region=h.region,
                    number=h.number,
                    address=h.address,
                    natural_village=h.natural_village,
                )
                for h in households
            ]
        )
        persons = []
        for household, rows in zip(created, households, strict=True):
            for member in rows.members:
                persons.append(
                    Person(
                        household=household,
                        region=household.region,
                        name=member.name,
                        initials=initials(member.name),
                        id_number=member.id_number or None,
                        gender=member.gender,
                        birth_date=birth_date_of(member.id_number),
                        phone=member.phone,
                        relation=member.relation,
                    )
                )
        persons = Person.objects.bulk_create(persons)
        heads = iter(persons)
        for household, rows in zip(created, households, strict=True):
            for member in rows.members:
                person = next(heads)
                if member.is_head:
                    household.head = person
        Household.objects.bulk_update(created, ["head"])
        spans = HouseholdTagSpan.objects.bulk_create(
            [
                HouseholdTagSpan(household=household, tag=tag, since=today, added_by=acting_user)
                for household, rows in zip(created, households, strict=True)
                for tag in rows.tags.values()
            ]
        )
        subjects_sync(kind="household")
        counts = {"households": len(created), "persons": len(persons), "tags": len(spans)}
        codes = sorted(h.region.code for h in households)
        audit_record(
            actor=acting_user,
            action="people.households.imported",
            region_code=_common_prefix(codes),
            after={**counts, "file": filename[:100]},
            object_repr=_("households and members import"),
        )
    return counts


def _common_prefix(codes: list[str]) -> str:
    prefix = codes[0][:12] if codes else ""
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-3] if len(prefix) > 6 else ""
    return prefix


# ─── the county's household tags ───


def household_tag_create(*, county: Region, name: str, code: str, acting_user) -> HouseholdTag:
    """Add a household tag to the county's list (低保, 脱贫户, 监测户, 独居老人, …)."""
    ensure(acting_user, "people.configure", county)
    if county.level != "county":
        raise KaopingError(_("Household tags belong to a county."))
    name, code = name.strip(), code.strip().lower()
    _tag_problems(county=county, name=name, code=code)
    with transaction.atomic():
        tag = HouseholdTag.objects.create(region=county, name=name, code=code)
        audit_record(
            actor=acting_user,
            action="people.tag.created",
            obj=tag,
            region_code=county.code,
            after={"name": name, "code": code},
        )
    return tag


def household_tag_update(
    *, tag: HouseholdTag, name: str, active: bool, acting_user
) -> HouseholdTag:
    """Rename a tag or take it out of use (its history stays; a tag is never deleted)."""
    ensure(acting_user, "people.configure", tag)
    name = name.strip()
    _tag_problems(county=tag.region, name=name, code=tag.code, exclude=tag.pk)
    with transaction.atomic():
        locked = HouseholdTag.objects.select_for_update().get(pk=tag.pk)
        before = {"name": locked.name, "active": locked.active}
        locked.name, locked.active = name, active
        locked.save(update_fields=["name", "active"])
        audit_record(
            actor=acting_user,
            action="people.tag.updated",
            obj=locked,
            region_code=locked.region.code,
            before=before,
            after={"name": name, "active": active},
        )
    return locked


def _tag_problems(*, county: Region, name: str, code: str, exclude: int | None = None) -> None:
    from kaoping.core.limits import name_problem

    errors: dict[str, list[str]] = {}
    if not name or len(name) > 30 or name_problem(name):
        errors["name"] = [_("A tag's name has 1 to 30 characters, without control characters.")]
    if not code or len(code) > 30 or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = [_("A tag's code has 1 to 30 letters, digits, - or _.")]
    others = HouseholdTag.objects.filter(region=county).exclude(pk=exclude)
    if name and others.filter(name=name).exists():
        errors.setdefault("name", []).append(_("The county has a tag of this name already."))
    if code and others.filter(code=code).exists():
        errors.setdefault("code", []).append(_("The county has a tag of this code already."))
    if errors:
        raise KaopingError(errors)


# ─── 三长 posts (片长/组长/邻长) ───


def household_post_save(
    *,
    village: Region,
    person: Person,
    post: str,
    households: list[Household],
    acting_user,
    label: str = "",
    household_post: HouseholdPost | None = None,
) -> HouseholdPost:
    """Appoint a resident of `village` as its 片长, 组长 or 邻长 over some of its households, or
    change an appointment (`household_post`): who, which post, which households."""
    ensure(acting_user, "people.appoint", village)
    if household_post is not None and household_post.region_id != village.pk:
        raise Refused()
    errors: dict[str, list[str]] = {}
    if village.level != "village":
        errors["village"] = [_("三长 posts belong to a village or community.")]
    if post not in HouseholdPostKind.values:
        errors["post"] = [_("Choose 片长, 组长 or 邻长.")]
    if not person.region.code.startswith(village.code) or person.status not in CURRENT_STATUSES:
        errors["person"] = [_("The holder must be a resident of this village.")]
    outside = [h.number for h in households if not h.region.code.startswith(village.code)]
    if outside:
        errors["households"] = [
            _("These households are not of this village: %(n)s.") % {"n": "、".join(outside)}
        ]
    label = label.strip()
    if len(label) > 30 or text_problem(label, multiline=False):
        errors["label"] = [_("At most %(n)d characters.") % {"n": 30}]
    taken = HouseholdPost.objects.filter(region=village, person=person, post=post)
    if household_post is not None:
        taken = taken.exclude(pk=household_post.pk)
    if taken.exists():
        errors.setdefault("person", []).append(_("This resident holds this post already."))
    if errors:
        raise KaopingError(errors)
    with transaction.atomic():
        before = None
        if household_post is None:
            household_post = HouseholdPost(region=village)
        else:
            household_post = HouseholdPost.objects.select_for_update().get(pk=household_post.pk)
            before = {
                "person": household_post.person.name,
                "post": household_post.post,
                "households": sorted(household_post.households.values_list("number", flat=True)),
            }
        household_post.person, household_post.post, household_post.label = person, post, label
        household_post.save()
        household_post.households.set(households)
        audit_record(
            actor=acting_user,
            action="people.household_post.saved",
            obj=household_post,
            region_code=village.code,
            before=before,
            after={
                "person": person.name,
                "post": post,
                "households": sorted(h.number for h in households),
            },
        )
    return household_post


def household_post_login_create(*, household_post: HouseholdPost, phone: str, acting_user):
    """A login for the holder of a 三长 post: a grid member anchored at the village whose scope
    is the post's households alone (`RoleAssignment.household_post`). Returns (user, temporary
    password), as `accounts.services.login_create`, which checks the number and who may grant."""
    from kaoping.accounts.models import Role, RoleAssignment
    from kaoping.accounts.services import login_create

    ensure(acting_user, "people.appoint", household_post)
    village = household_post.region
    with transaction.atomic():
        # One transaction: the assignment never stands without its post (the whole village).
        user, password = login_create(
            name=household_post.person.name,
            phone=phone or household_post.person.phone,
            role=Role.GRID_MEMBER,
            scope=village.code,
            acting_user=acting_user,
        )
        RoleAssignment.objects.filter(user=user, role=Role.GRID_MEMBER).update(
            household_post=household_post
        )
    return user, password
