"""Grid work in the JSON API (for mini-programs): visits and book changes, scoped like the console.

Mounted by `kaoping.api.api` (which owns auth and the error shapes). Writes take an
`Idempotency-Key` header (or the field `idempotency_key`); a retried request returns the first
visit. Each handler is the edge of its write: the service runs in one durable transaction.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.db import transaction
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.errors import HttpError

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.limits import PlainText as Text
from kaoping.people.models import Household

from . import selectors
from .models import Visit, VisitKind
from .services import IDEMPOTENCY_KEY_MAX, NOTE_MAX, book_changes_request, visit_record

router = Router(tags=["grid"])

CHANGES_MAX = 50
PAGE_MAX = 1000


class BookChangeIn(Schema):
    """One change of the book, as `kaoping.people.services.book_changes_apply` takes it."""

    kind: Annotated[str, Field(max_length=12)]
    person: int | None = None
    tag: int | None = None
    name: Annotated[Text, Field(max_length=50)] = ""
    gender: Annotated[str, Field(max_length=1)] = ""
    id_number: Annotated[Text, Field(max_length=18)] = ""
    phone: Annotated[Text, Field(max_length=20)] = ""
    relation: Annotated[Text, Field(max_length=20)] = ""
    birth_date: date | None = None
    fields: dict[str, str | int | None] | None = None
    note: Annotated[Text, Field(max_length=200)] = ""
    on_date: date | None = None

    def as_change(self) -> dict:
        return {k: v for k, v in self.dict().items() if v not in (None, "")}


class VisitIn(Schema):
    household_id: int
    kind: Annotated[str, Field(max_length=10)] = VisitKind.IN_PERSON
    visited_on: date | None = None
    met: list[int] = Field(default_factory=list, max_length=50)
    note: Annotated[Text, Field(max_length=NOTE_MAX)] = ""
    changes: list[BookChangeIn] = Field(default_factory=list, max_length=CHANGES_MAX)
    latitude: Decimal | None = Field(None, ge=-90, le=90, decimal_places=6, allow_inf_nan=False)
    longitude: Decimal | None = Field(None, ge=-180, le=180, decimal_places=6, allow_inf_nan=False)
    idempotency_key: Annotated[str, Field(max_length=IDEMPOTENCY_KEY_MAX)] = ""


class VisitOut(Schema):
    id: int
    household_id: int
    grid_code: str
    kind: str
    visited_on: date
    created_at: datetime
    visitor: str
    visitor_post: str
    note: str
    met: list[int]
    book_changes: list[int]
    latitude: Decimal | None
    longitude: Decimal | None


class BookChangesIn(Schema):
    changes: list[BookChangeIn] = Field(max_length=CHANGES_MAX)
    on_date: date | None = None
    idempotency_key: Annotated[str, Field(max_length=IDEMPOTENCY_KEY_MAX)] = ""


class BookChangeOut(Schema):
    id: int
    kind: str
    person_id: int | None
    tag_id: int | None
    on_date: date
    visit_id: int | None


def _visit_out(visit: Visit, change_ids: list[int]) -> VisitOut:
    return VisitOut(
        id=visit.pk,
        household_id=visit.household_id,
        grid_code=visit.grid.code,
        kind=visit.kind,
        visited_on=visit.visited_on,
        created_at=visit.created_at,
        visitor=visit.visitor.get_username(),
        visitor_post=visit.visitor_post,
        note=visit.note,
        met=sorted(p.pk for p in visit.met.all()),
        book_changes=change_ids,
        latitude=visit.latitude,
        longitude=visit.longitude,
    )


def _key(header: str | None, field: str) -> str:
    key = (header or field or "").strip()
    if not 8 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise HttpError(400, f"Idempotency-Key must be 8 to {IDEMPOTENCY_KEY_MAX} characters")
    return key


@router.post("/visits", response={200: VisitOut, 201: VisitOut})
def visit_create(
    request,
    payload: VisitIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Record a visit (or a phone call) with the book changes it brought; a retried request with
    the same key returns the first visit (200) and writes nothing."""
    key = _key(idempotency_key, payload.idempotency_key)
    household = get_scoped_or_404(
        Household.objects.select_related("region"),
        request.user,
        "visit.record",
        pk=payload.household_id,
    )
    existing = Visit.objects.filter(visitor=request.user, idempotency_key=key).exists()
    met = list(household.members.filter(pk__in=payload.met))
    if len(met) != len(set(payload.met)):
        raise HttpError(422, "met: every person must be a member of the household")
    with transaction.atomic(durable=True):
        visit = visit_record(
            household=household,
            acting_user=request.user,
            kind=payload.kind,
            visited_on=payload.visited_on,
            met=met,
            note=payload.note,
            changes=[c.as_change() for c in payload.changes],
            latitude=payload.latitude,
            longitude=payload.longitude,
            idempotency_key=key,
        )
    visit = selectors.visit_get(user=request.user, pk=visit.pk)
    change_ids = list(
        selectors.changes_of_visit(user=request.user, visit=visit).values_list("pk", flat=True)
    )
    return Status(200 if existing else 201, _visit_out(visit, change_ids))


@router.get("/households/{household_id}/visits", response=list[VisitOut])
def household_visits(
    request,
    household_id: int,
    limit: int = Query(100, ge=1, le=PAGE_MAX),
    offset: int = Query(0, ge=0, le=1_000_000_000),
):
    household = get_scoped_or_404(Household.objects, request.user, "visit.view", pk=household_id)
    visits = list(
        selectors.visit_list_of_household(user=request.user, household=household)[
            offset : offset + limit
        ]
    )
    changes: dict[int, list[int]] = {}
    for pk, visit_id in selectors.book_change_ids_of_visits(
        user=request.user, household=household, visit_ids=[v.pk for v in visits]
    ):
        changes.setdefault(visit_id, []).append(pk)
    return [_visit_out(v, changes.get(v.pk, [])) for v in visits]


@router.post(
    "/households/{household_id}/book-changes",
    response={200: list[BookChangeOut], 201: list[BookChangeOut]},
)
def book_changes_create(
    request,
    household_id: int,
    payload: BookChangesIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Edit a household's book outside a visit (the changes are all written, or none); a retried
    request with the same key returns the first request's changes (200) and writes nothing."""
    key = _key(idempotency_key, payload.idempotency_key)
    household = get_scoped_or_404(
        Household.objects.select_related("region"), request.user, "people.change", pk=household_id
    )
    with transaction.atomic(durable=True):
        rows, first = book_changes_request(
            household=household,
            changes=[c.as_change() for c in payload.changes],
            acting_user=request.user,
            idempotency_key=key,
            on_date=payload.on_date,
        )
    return Status(
        201 if first else 200,
        [
            BookChangeOut(
                id=r.pk,
                kind=r.kind,
                person_id=r.person_id,
                tag_id=r.tag_id,
                on_date=r.on_date,
                visit_id=r.visit_id,
            )
            for r in rows
        ],
    )
