"""The JSON API (django-ninja, OpenAPI at /api/docs): the same services and scoping as the console.

Auth is a bearer token (`kaoping api_token USER NAME` issues one). Every query starts from
`Model.objects.for_user(user, action)`: out of scope is 404, in scope but not allowed is 403.
Writes take an `Idempotency-Key` header; a retried request returns the first result. A handler
is the edge of its write: it calls the service inside one durable transaction.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from ninja import Header, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.ledger.models import Entry, EntrySource
from kaoping.ledger.services import entries_review, entry_record
from kaoping.people.models import Subject
from kaoping.periods.models import Period, Result
from kaoping.periods.services import metrics_report
from kaoping.schemes.models import Scheme

from .models import ApiToken, token_digest


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked=False)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


api = NinjaAPI(title="kaoping API", version="1", auth=BearerToken(), urls_namespace="api")


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": "not allowed"}, status=403)


@api.exception_handler(KaopingError)
def invalid(request, exc):
    # A service's refusal (accounts.scoping.Refused) is a KaopingError too, and ninja picks the
    # handler of the first class in its MRO: answer it as the refusal it is.
    if isinstance(exc, PermissionDenied):
        return forbidden(request, exc)
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "invalid", "errors": errors}, status=422)


class SchemeOut(Schema):
    code: str
    name: str
    subject_kind: str
    cadence: str


class SubjectOut(Schema):
    id: int
    kind: str
    name: str
    region_code: str
    track: str


class EntryIn(Schema):
    scheme: str
    subject_id: int
    item_code: str
    occurred_on: date
    quantity: Decimal = Decimal(1)
    label: str = ""
    note: str = ""


class EntryOut(Schema):
    id: int
    scheme: str
    subject_id: int
    item_code: str
    quantity: Decimal
    label: str
    points: Decimal
    occurred_on: date
    status: str
    source: str
    review_reason: str
    flags: list[str]


class ReviewIn(Schema):
    entry_ids: list[int]
    decision: str
    reason: str = ""


class ReviewOutcomeOut(Schema):
    entry_id: int
    outcome: str


class MetricIn(Schema):
    subject_id: int
    metric: str
    value: Decimal


class ReportedOut(Schema):
    stored: int


class ResultOut(Schema):
    subject_id: int
    subject: str
    total: Decimal
    grade: str
    rank: int
    rank_group: str
    zeroed: bool
    barred: bool


def entry_out(entry: Entry) -> EntryOut:
    return EntryOut(
        id=entry.pk,
        scheme=entry.scheme.code,
        subject_id=entry.subject_id,
        item_code=entry.item_code,
        quantity=entry.quantity,
        label=entry.label,
        points=entry.points,
        occurred_on=entry.occurred_on,
        status=entry.status,
        source=entry.source,
        review_reason=entry.review_reason,
        flags=list(entry.flags),
    )


@api.get("/schemes", response=list[SchemeOut])
def schemes(request):
    return list(Scheme.objects.for_user(request.user, "scheme.view").order_by("code"))


@api.get("/subjects", response=list[SubjectOut])
def subjects(
    request, kind: str | None = None, region: str | None = None, limit: int = 100, offset: int = 0
):
    rows = (
        Subject.objects.for_user(request.user, "entry.view").select_related("region").order_by("id")
    )
    if kind:
        rows = rows.filter(kind=kind)
    if region:
        rows = rows.filter(region__code__startswith=region)
    limit = max(1, min(limit, 1000))
    return [
        SubjectOut(id=s.pk, kind=s.kind, name=s.name, region_code=s.region.code, track=s.track)
        for s in rows[offset : offset + limit]
    ]


@api.get("/subjects/{subject_id}/entries", response=list[EntryOut])
def subject_entries(request, subject_id: int, limit: int = 100, offset: int = 0):
    subject = get_scoped_or_404(Subject.objects, request.user, "entry.view", pk=subject_id)
    rows = (
        Entry.objects.filter(subject=subject)
        .select_related("scheme")
        .order_by("-occurred_on", "-id")
    )
    limit = max(1, min(limit, 1000))
    return [entry_out(e) for e in rows[offset : offset + limit]]


@api.post("/entries", response={200: EntryOut, 201: EntryOut})
def entry_create(
    request, payload: EntryIn, idempotency_key: str = Header(..., alias="Idempotency-Key")
):
    if not 8 <= len(idempotency_key) <= 80:
        raise HttpError(400, "Idempotency-Key must be 8 to 80 characters")
    subject = get_scoped_or_404(
        Subject.objects.select_related("region"),
        request.user,
        "entry.record",
        pk=payload.subject_id,
    )
    scheme = get_scoped_or_404(Scheme.objects, request.user, "scheme.view", code=payload.scheme)
    with transaction.atomic(durable=True):
        entry, created = entry_record(
            scheme=scheme,
            subject=subject,
            item_code=payload.item_code,
            occurred_on=payload.occurred_on,
            quantity=payload.quantity,
            label=payload.label,
            note=payload.note,
            acting_user=request.user,
            source=EntrySource.DEPARTMENT,
            idempotency_key=f"api:{request.user.pk}:{idempotency_key}",
        )
    return Status(201 if created else 200, entry_out(entry))


@api.post("/entries/review", response=list[ReviewOutcomeOut])
def entries_review_endpoint(request, payload: ReviewIn):
    if payload.decision not in ("approve", "reject"):
        raise HttpError(422, "decision is approve or reject")
    with transaction.atomic(durable=True):
        outcomes = entries_review(
            entry_ids=payload.entry_ids,
            decision=payload.decision,
            reason=payload.reason,
            acting_user=request.user,
        )
    return [ReviewOutcomeOut(entry_id=o.entry_id, outcome=o.outcome) for o in outcomes]


@api.get("/periods/{period_id}/results", response=list[ResultOut])
def period_results(request, period_id: int, limit: int = 100, offset: int = 0):
    period = get_scoped_or_404(
        Period.objects.select_related("version"), request.user, "period.view", pk=period_id
    )
    rows = (
        Result.objects.for_user(request.user, "period.view")
        .filter(period=period)
        .select_related("subject")
        .order_by("rank_group", "rank", "subject_id")
    )
    limit = max(1, min(limit, 1000))
    return [
        ResultOut(
            subject_id=r.subject_id,
            subject=r.subject.name,
            total=period.version.to_points(r.total),
            grade=r.grade_code,
            rank=r.rank,
            rank_group=r.rank_group,
            zeroed=r.zeroed,
            barred=r.barred,
        )
        for r in rows[offset : offset + limit]
    ]


@api.post("/periods/{period_id}/metrics", response={200: ReportedOut, 422: dict})
def metrics_endpoint(request, period_id: int, payload: list[MetricIn]):
    """Report figures for metric items (a department's data): all rows or none."""
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"),
        request.user,
        "period.view",
        pk=period_id,
    )
    subjects = {
        s.pk: s
        for s in Subject.objects.for_user(request.user, "entry.record").filter(
            pk__in=[row.subject_id for row in payload]
        )
    }
    missing = [
        index for index, row in enumerate(payload, start=1) if row.subject_id not in subjects
    ]
    if missing:
        return Status(
            422,
            {
                "detail": "invalid",
                "errors": [
                    {"row": i, "field": "subject_id", "message": "not in your area"}
                    for i in missing
                ],
            },
        )
    try:
        with transaction.atomic(durable=True):
            stored = metrics_report(
                period=period,
                values=[(subjects[r.subject_id], r.metric, r.value) for r in payload],
                acting_user=request.user,
            )
    except ImportFailed as exc:
        return Status(
            422,
            {
                "detail": "invalid",
                "errors": [
                    {"row": e.row, "field": e.field, "message": e.message} for e in exc.errors
                ],
            },
        )
    return Status(200, ReportedOut(stored=stored))
