"""Writes of grid work: a visit to a household, with the book changes and photos it brings."""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import ancestor_codes
from kaoping.core.limits import text_problem
from kaoping.ledger.evidence import PreparedEvidence, evidence_prepare_all, evidence_store
from kaoping.people.models import BookChange, GridPost, Household, HouseholdPost, Person
from kaoping.people.services import book_changes_apply

from .models import BookRequest, Visit, VisitEvidence, VisitKind

NOTE_MAX = 2000
IDEMPOTENCY_KEY_MAX = 64
# A visit is recorded the day it happens or soon after; a month back covers a phone that was
# offline for a while, and keeps coverage of closed months from being rewritten.
VISIT_DAYS_BACK = 31

# The most specific post wins: the grid's own member, then its leader, then a chief above it.
_POST_ORDER = {"member": 0, "leader": 1, "chief": 2}


def visitor_of(*, user, household: Household) -> tuple[Person | None, str]:
    """The resident behind a login and the post they visit `household` in: a GridPostKind value
    (member, leader, chief), a 三长 post (HouseholdPostKind: area, group, neighbour), or "" when
    they hold none there (a secretary visiting on the village's behalf).

    A login links to a resident through its profile; without one, the login's roles still say
    whether they visit as a 三长 or a grid member."""
    grid = household.region
    profile = getattr(user, "profile", None)  # a login without a profile has none
    person = getattr(profile, "person", None)
    if person is not None:
        codes = [grid.code, *ancestor_codes(grid.code)]
        posts = sorted(
            GridPost.objects.filter(person=person, region__code__in=codes).values_list(
                "post", "region__code"
            ),
            # The post on the nearest region first, then the most specific kind of post.
            key=lambda row: (-len(row[1]), _POST_ORDER.get(row[0], 9)),
        )
        if posts:
            return person, posts[0][0]
        household_post = (
            HouseholdPost.objects.filter(person=person, households=household)
            .values_list("post", flat=True)
            .first()
        )
        if household_post:
            return person, household_post
    assignments = list(
        user.role_assignments.select_related("household_post").filter(role=Role.GRID_MEMBER)
    )
    for assignment in assignments:
        if (
            assignment.household_post_id is not None
            and assignment.household_post.households.filter(pk=household.pk).exists()
        ):
            return person, assignment.household_post.post
    return person, ("member" if assignments else "")


def _on_earth(latitude, longitude) -> bool:
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        return False
    return lat.is_finite() and lon.is_finite() and abs(lat) <= 90 and abs(lon) <= 180


def _visit_check(
    *,
    household: Household,
    kind: str,
    visited_on: date,
    met: Sequence[Person],
    note: str,
    latitude,
    longitude,
    idempotency_key: str,
) -> None:
    """Raise KaopingError naming every field of the visit that is wrong (field → message)."""
    problems: dict[str, str] = {}
    if kind not in VisitKind.values:
        problems["kind"] = _("Choose a home visit or a phone call.")
    today = timezone.localdate()
    if visited_on > today:
        problems["visited_on"] = _("The visit date cannot be in the future.")
    elif visited_on < today - timedelta(days=VISIT_DAYS_BACK):
        problems["visited_on"] = _("A visit can be recorded up to %(days)d days later.") % {
            "days": VISIT_DAYS_BACK
        }
    strangers = [p.name for p in met if p.household_id != household.pk]
    if strangers:
        problems["met"] = _("Not a member of this household: %(names)s.") % {
            "names": "、".join(strangers)
        }
    if len(note) > NOTE_MAX:
        problems["note"] = _("The note is at most %(n)d characters long.") % {"n": NOTE_MAX}
    elif problem := text_problem(note):
        problems["note"] = _("The note %(problem)s.") % {"problem": problem}
    if (latitude is None) != (longitude is None):
        problems["latitude"] = _("A location needs both latitude and longitude.")
    elif latitude is not None and not _on_earth(latitude, longitude):
        problems["latitude"] = _("The location is not a place on Earth.")
    if not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX or text_problem(
        idempotency_key, multiline=False
    ):
        problems["idempotency_key"] = _("The form key is missing or too long; open the form again.")
    if problems:
        raise KaopingError(problems)


def book_changes_request(
    *,
    household: Household,
    changes: list[dict],
    acting_user,
    idempotency_key: str,
    on_date: date | None = None,
) -> tuple[list[BookChange], bool]:
    """Edit a household's book outside a visit (the API's book-changes), once per key: the
    changes written and True, or — the same key sent again by the same user — the first
    request's changes and False, writing nothing. Permission and every check are
    `book_changes_apply`'s; the key row and the changes are one transaction."""
    ensure(acting_user, "people.change", household)
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise KaopingError(
            _("The idempotency key must be 8 to %(max)d characters.") % {"max": IDEMPOTENCY_KEY_MAX}
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                request = BookRequest.objects.create(
                    user=acting_user, idempotency_key=key, household=household
                )
        except IntegrityError:
            first = BookRequest.objects.get(user=acting_user, idempotency_key=key)
            if first.household_id != household.pk:
                raise KaopingError(
                    _("This idempotency key was already used for another household.")
                ) from None
            rows = list(BookChange.objects.filter(pk__in=first.change_ids).order_by("pk"))
            return rows, False
        rows = book_changes_apply(
            household=household, changes=changes, acting_user=acting_user, on_date=on_date
        )
        BookRequest.objects.filter(pk=request.pk).update(change_ids=[r.pk for r in rows])
    return rows, True


def visit_record(
    *,
    household: Household,
    acting_user,
    kind: str = VisitKind.IN_PERSON,
    visited_on: date | None = None,
    met: Iterable[Person] = (),
    note: str = "",
    changes: Sequence[dict] = (),
    files: Sequence = (),
    latitude=None,
    longitude=None,
    idempotency_key: str,
    prepared: Sequence[PreparedEvidence] | None = None,
) -> Visit:
    """Record a visit to `household` (or a phone call), apply the book changes it brought and
    keep its photos; the same `idempotency_key` from the same visitor returns the first visit
    and writes nothing.

    `changes` are book changes as `kaoping.people.services.book_changes_apply` takes them; they
    are written as made on this visit. `files` are uploads, checked and cleaned by the ledger's
    evidence pipeline (or pass `prepared`, already checked outside the transaction: cleaning a
    photo is slow). Everything is written in one transaction, or nothing.
    """
    ensure(acting_user, "visit.record", household)
    existing = _visit_of_key(acting_user, idempotency_key)
    if existing is not None:
        return _same_visit(existing, household)
    met = list(met)
    visited_on = visited_on or timezone.localdate()
    note = note.strip()
    _visit_check(
        household=household,
        kind=kind,
        visited_on=visited_on,
        met=met,
        note=note,
        latitude=latitude,
        longitude=longitude,
        idempotency_key=idempotency_key,
    )
    if prepared is None:
        prepared = evidence_prepare_all(files)
    person, post = visitor_of(user=acting_user, household=household)
    with transaction.atomic():
        visit, first = _visit_create(
            household=household,
            visitor=acting_user,
            visitor_person=person,
            visitor_post=post,
            kind=kind,
            visited_on=visited_on,
            note=note,
            latitude=latitude,
            longitude=longitude,
            idempotency_key=idempotency_key,
        )
        if not first:
            return visit
        if met:
            visit.met.set(met)
        if changes:
            # people's book service checks and writes the changes; a bad one raises
            # KaopingError, which undoes the visit with it.
            book_changes_apply(
                household=household,
                changes=list(changes),
                acting_user=acting_user,
                visit_id=visit.pk,
                on_date=visited_on,
            )
        _evidence_keep(visit, prepared)
        _visit_audit(
            visit, acting_user=acting_user, met=len(met), changes=len(changes), photos=len(prepared)
        )
    return visit


def _visit_create(
    *, household: Household, visitor, idempotency_key: str, **fields
) -> tuple[Visit, bool]:
    """The visit row, and True; or the visit the same key already made, and False (the same form
    sent twice at once: the other request got there first)."""
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                household=household,
                grid=household.region,
                visitor=visitor,
                idempotency_key=idempotency_key,
                **fields,
            )
    except IntegrityError:
        existing = _visit_of_key(visitor, idempotency_key)
        if existing is None:
            raise
        return _same_visit(existing, household), False
    return visit, True


def _evidence_keep(visit: Visit, prepared: Sequence[PreparedEvidence]) -> None:
    """Store the visit's checked photos; a photo it keeps already (same SHA-256) is kept once."""
    for one in prepared:
        VisitEvidence.objects.get_or_create(
            visit=visit,
            sha256=one.sha256,
            defaults={
                "file": evidence_store(one),
                "extension": one.extension,
                "content_type": one.content_type,
                "size": one.size,
                "original_name": one.original_name,
            },
        )


def _visit_audit(visit: Visit, *, acting_user, met: int, changes: int, photos: int) -> None:
    household = visit.household
    audit_record(
        actor=acting_user,
        action="grid.visit.recorded",
        obj=visit,
        region_code=visit.grid.code,
        after={
            "household": household.number,
            "kind": visit.kind,
            "visited_on": visit.visited_on.isoformat(),
            "met": met,
            "changes": changes,
            "photos": photos,
            "post": visit.visitor_post,
        },
        object_repr=f"{household.number} {visit.visited_on.isoformat()}",
    )


def _visit_of_key(user, key: str) -> Visit | None:
    if not key:
        return None
    return Visit.objects.filter(visitor=user, idempotency_key=key).first()


def _same_visit(visit: Visit, household: Household) -> Visit:
    if visit.household_id != household.pk:
        raise KaopingError(
            {"idempotency_key": _("This form was already used for another household.")}
        )
    return visit
