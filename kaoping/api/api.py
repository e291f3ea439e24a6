"""The JSON API (django-ninja, OpenAPI at /api/docs): the same services and scoping as the console.

Auth is a bearer token (`kaoping api_token USER NAME` issues one). Every query starts from
`Model.objects.for_user(user, action)`: out of scope is 404, in scope but not allowed is 403.
Writes take an `Idempotency-Key` header; a retried request returns the first result. A handler
is the edge of its write: it calls the service inside one durable transaction.
"""

from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import HttpBearer
from pydantic import Field

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.limits import (
    METRIC_VALUE_MAX,
    QUANTITY_MAX,
    REVIEW_BATCH_MAX,
    api_text,
)
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


# The schema and its explorer are for people who hold an account (it maps every write), not
# for anyone on the internet: a console login is asked for first.
api = NinjaAPI(
    title="kaoping API",
    version="1",
    auth=BearerToken(),
    urls_namespace="api",
    docs_decorator=login_required,
)

# Bounds of the list endpoints' `limit` and `offset`: outside them a 422 names the parameter
# (a negative offset or one past SQLite's 64-bit integers used to be a 500).
PAGE_MAX = 1000
OFFSET_MAX = 1_000_000_000


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


@api.exception_handler(RequestInvalid)
def request_invalid(request, exc):
    """A parameter or field that does not parse: 422 in the shape of a service's refusal
    ({"errors": {name: [message]}}), each message in Chinese and naming where it went wrong."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        place, *path = error.get("loc") or ("body",)
        name = ".".join(str(p) for p in path if p != "payload") or str(place)
        errors.setdefault(name, []).append(_request_problem(place, name, error))
    return api.create_response(request, {"detail": "invalid", "errors": errors}, status=422)


def _request_problem(place: str, name: str, error: dict) -> str:
    kind, limits = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        problem = _("is required.")
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        problem = _("must be a whole number.")
    elif kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type"):
        problem = _("must be a number.")
    elif kind.startswith("date"):
        problem = _("must be a date such as 2026-03-05.")
    elif kind == "greater_than_equal":
        problem = _("must be at least %(bound)s.") % {"bound": limits.get("ge")}
    elif kind == "greater_than":
        problem = _("must be more than %(bound)s.") % {"bound": limits.get("gt")}
    elif kind == "less_than_equal":
        problem = _("must be at most %(bound)s.") % {"bound": limits.get("le")}
    elif kind == "less_than":
        problem = _("must be less than %(bound)s.") % {"bound": limits.get("lt")}
    elif kind == "finite_number":
        problem = _("must be a finite number.")
    elif kind == "string_too_long":
        problem = _("must be at most %(n)s characters long.") % {"n": limits.get("max_length")}
    elif kind == "too_long":
        problem = _("may hold at most %(n)s items.") % {"n": limits.get("max_length")}
    elif kind == "value_error" and limits.get("error"):
        problem = str(limits["error"])  # our own validators' messages, already in Chinese
    else:
        problem = _("is not valid (%(error)s).") % {"error": error.get("msg", kind)}
    if place == "query":
        return _("Query parameter “%(name)s” %(problem)s") % {"name": name, "problem": problem}
    return _("Field “%(name)s” %(problem)s") % {"name": name, "problem": problem}


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
    scheme: api_text(64)
    subject_id: int
    item_code: api_text(64)
    occurred_on: date
    # Negative only for a ± adjustment (item_code "__adjust__", points on a roll-up period with
    # `adjust: true`); the Recorder refuses a quantity ≤ 0 on any other item, naming this field.
    quantity: Decimal = Field(Decimal(1), ge=-QUANTITY_MAX, le=QUANTITY_MAX, allow_inf_nan=False)
    label: api_text(32) = ""
    note: api_text(500) = ""
    # "" for the scheme's own period of the date; a roll-up level assessed in its own right
    # ("quarter", "half_year", "year": a composite roll-up with a `self` part) for its assessment.
    cadence: api_text(12) = ""


class EntryOut(Schema):
    id: int
    scheme: str
    subject_id: int
    item_code: str
    quantity: Decimal
    label: str
    points: Decimal
    occurred_on: date
    cadence: str  # "" (the scheme's own period) or the roll-up level of its assessment
    status: str
    source: str
    review_reason: str
    flags: list[str]


class ReviewIn(Schema):
    entry_ids: list[int] = Field(max_length=REVIEW_BATCH_MAX)
    decision: api_text(20)
    reason: api_text(500) = ""


class ReviewOutcomeOut(Schema):
    entry_id: int
    outcome: str


class MetricIn(Schema):
    subject_id: int
    metric: api_text(64)
    value: Decimal = Field(ge=-METRIC_VALUE_MAX, le=METRIC_VALUE_MAX, allow_inf_nan=False)


class ReportedOut(Schema):
    stored: int


class ResultOut(Schema):
    subject_id: int
    subject: str
    total: Decimal
    # The year-to-date total (累计), for a scheme whose lists or grades use it; else null.
    ytd: Decimal | None = None
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
        cadence=entry.cadence,
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
    request,
    kind: str | None = None,
    region: str | None = None,
    limit: int = Query(100, ge=1, le=PAGE_MAX),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
):
    rows = (
        Subject.objects.for_user(request.user, "entry.view").select_related("region").order_by("id")
    )
    if kind:
        rows = rows.filter(kind=kind)
    if region:
        rows = rows.filter(region__code__startswith=region)
    return [
        SubjectOut(id=s.pk, kind=s.kind, name=s.name, region_code=s.region.code, track=s.track)
        for s in rows[offset : offset + limit]
    ]


@api.get("/subjects/{subject_id}/entries", response=list[EntryOut])
def subject_entries(
    request,
    subject_id: int,
    limit: int = Query(100, ge=1, le=PAGE_MAX),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
):
    subject = get_scoped_or_404(Subject.objects, request.user, "entry.view", pk=subject_id)
    rows = (
        Entry.objects.filter(subject=subject)
        .select_related("scheme")
        .order_by("-occurred_on", "-id")
    )
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
            cadence=payload.cadence,
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
def period_results(
    request,
    period_id: int,
    limit: int = Query(100, ge=1, le=PAGE_MAX),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
):
    period = get_scoped_or_404(
        Period.objects.select_related("version"), request.user, "period.view", pk=period_id
    )
    rows = (
        Result.objects.for_user(request.user, "period.view")
        .filter(period=period)
        .select_related("subject")
        .order_by("rank_group", "rank", "subject_id")
    )
    return [
        ResultOut(
            subject_id=r.subject_id,
            subject=r.subject.name,
            total=period.version.to_points(r.total),
            ytd=None if r.ytd is None else period.version.to_points(r.ytd),
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


# Grid work for mini-programs (visits, household books): kaoping/grid/api.py.
from kaoping.grid.api import router as grid_router  # noqa: E402

api.add_router("/grid", grid_router)

# Problems (民情台账): kaoping/problems/api.py.
from kaoping.problems.api import router as problems_router  # noqa: E402

api.add_router("/problems", problems_router)

# Departments' findings of village elections (一人一表): kaoping/election/api.py.
from kaoping.election.api import router as election_router  # noqa: E402

api.add_router("/election", election_router)

# Evaluations (评议): plans, rounds, results and paper ballots: kaoping/evaluations/api.py.
from kaoping.evaluations.api import router as evaluations_router  # noqa: E402

api.add_router("/evaluations", evaluations_router)
