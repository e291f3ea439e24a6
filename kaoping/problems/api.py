"""Problems in the JSON API (mini-programs, department systems), scoped like the console.

Mounted by `kaoping.api.api` at /api/problems (which owns auth and the error shapes). Raising
takes an `Idempotency-Key` header: a retried request returns the first problem (200, not 201).
A transition retried after it went through (the answer was lost) finds the problem already
moved by the same user and answers 200 with it; anything else the state machine refuses is 422.
Each handler is the edge of its write: the service runs in one durable transaction.
"""

from datetime import date, datetime
from typing import Annotated

from django.db import transaction
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.errors import HttpError

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.errors import KaopingError
from kaoping.core.limits import PlainText as Text
from kaoping.grid.models import Visit
from kaoping.people.models import Household
from kaoping.regions.models import Department

from . import selectors, services
from .models import Level, Problem, ProblemEvent
from .models import Status as ProblemStatus

router = Router(tags=["problems"])

PAGE_MAX = 1000
OFFSET_MAX = 1_000_000_000


LongText = Annotated[Text, Field(max_length=services.TEXT_MAX)]


class ProblemIn(Schema):
    household_id: int
    category: Annotated[str, Field(max_length=20)]
    title: Annotated[Text, Field(max_length=services.TITLE_MAX)]
    description: LongText = ""
    visit_id: int | None = None


class NoteIn(Schema):
    note: LongText = ""


class ResolveIn(Schema):
    resolution: LongText


class AssignIn(Schema):
    level: Annotated[str, Field(max_length=12)]
    department_id: int | None = None
    note: LongText = ""


class ConfirmIn(Schema):
    satisfied: bool
    rating: int = Field(ge=1, le=5)
    comment: LongText = ""


class EventOut(Schema):
    action: str
    at: datetime
    actor: str
    note: str
    from_level: str
    to_level: str
    from_status: str
    to_status: str
    rating: int | None


class ProblemOut(Schema):
    id: int
    household_id: int
    grid_code: str
    raised_via: str
    visit_id: int | None
    category: str
    title: str
    description: str
    level: str
    assigned_region_code: str
    assigned_department: str | None
    deadline: date
    overdue: bool
    status: str
    raised_at: datetime
    resolved_at: datetime | None
    resolution: str
    closed_at: datetime | None
    closed_on_time: bool | None
    satisfaction: int | None
    household_comment: str
    escalations: int


class ProblemDetailOut(ProblemOut):
    events: list[EventOut]


def _out(problem: Problem, today: date) -> dict:
    return {
        "id": problem.pk,
        "household_id": problem.household_id,
        "grid_code": problem.region.code,
        "raised_via": problem.raised_via,
        "visit_id": problem.visit_id,
        "category": problem.category,
        "title": problem.title,
        "description": problem.description,
        "level": problem.level,
        "assigned_region_code": problem.assigned_region.code,
        "assigned_department": problem.assigned_department.code
        if problem.assigned_department_id
        else None,
        "deadline": problem.deadline,
        "overdue": problem.overdue_on(today),
        "status": problem.status,
        "raised_at": problem.raised_at,
        "resolved_at": problem.resolved_at,
        "resolution": problem.resolution,
        "closed_at": problem.closed_at,
        "closed_on_time": problem.closed_on_time,
        "satisfaction": problem.satisfaction,
        "household_comment": problem.household_comment,
        "escalations": problem.escalations,
    }


def _detail(problem: Problem) -> ProblemDetailOut:
    events = [
        EventOut(
            action=e.action,
            at=e.at,
            actor=e.actor.get_username(),
            note=e.note,
            from_level=e.from_level,
            to_level=e.to_level,
            from_status=e.from_status,
            to_status=e.to_status,
            rating=e.rating,
        )
        for e in selectors.problem_events(problem)
    ]
    return ProblemDetailOut(**_out(problem, timezone.localdate()), events=events)


def _problem(request, problem_id: int) -> Problem:
    return get_scoped_or_404(
        Problem.objects.select_related("region", "assigned_region", "assigned_department"),
        request.user,
        "problem.view",
        pk=problem_id,
    )


def _transition(request, problem: Problem, event: str, call):
    """Run one transition in a durable transaction; a retry of one that already went through
    (the last event is the same user's same step) answers with the problem as it stands."""
    try:
        with transaction.atomic(durable=True):
            call()
    except KaopingError as exc:
        if getattr(exc, "error_dict", None) is None:  # a field's error is never a retry
            last = ProblemEvent.objects.filter(problem=problem).order_by("-at", "-pk").first()
            if last is not None and last.action == event and last.actor_id == request.user.pk:
                return _detail(_problem(request, problem.pk))
        raise
    return _detail(_problem(request, problem.pk))


@router.get("", response=list[ProblemOut])
def problems_list(
    request,
    status: str = "",
    level: str = "",
    overdue: bool = False,
    household_id: int | None = None,
    limit: int = Query(100, ge=1, le=PAGE_MAX),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
):
    if status and status not in ProblemStatus.values:
        raise HttpError(422, "status is one of " + ", ".join(ProblemStatus.values))
    if level and level not in Level.values:
        raise HttpError(422, "level is one of " + ", ".join(Level.values))
    rows = selectors.problem_list(user=request.user, status=status, level=level, overdue=overdue)
    if household_id is not None:
        rows = rows.filter(household_id=household_id)
    today = timezone.localdate()
    return [_out(p, today) for p in rows.order_by("-raised_at", "-pk")[offset : offset + limit]]


@router.post("", response={200: ProblemDetailOut, 201: ProblemDetailOut})
def problem_create(
    request, payload: ProblemIn, idempotency_key: str = Header(..., alias="Idempotency-Key")
):
    if not 8 <= len(idempotency_key) <= 80:
        raise HttpError(400, "Idempotency-Key must be 8 to 80 characters")
    household = get_scoped_or_404(
        Household.objects.select_related("region"),
        request.user,
        "problem.raise",
        pk=payload.household_id,
    )
    visit = None
    if payload.visit_id is not None:
        visit = get_scoped_or_404(Visit.objects, request.user, "visit.view", pk=payload.visit_id)
    with transaction.atomic(durable=True):
        problem, created = services.problem_raise(
            household=household,
            category=payload.category,
            title=payload.title,
            description=payload.description,
            visit=visit,
            idempotency_key=f"api:{idempotency_key}",
            acting_user=request.user,
        )
    return Status(201 if created else 200, _detail(_problem(request, problem.pk)))


@router.get("/{problem_id}", response=ProblemDetailOut)
def problem_get(request, problem_id: int):
    return _detail(_problem(request, problem_id))


@router.post("/{problem_id}/progress", response=ProblemDetailOut)
def problem_progress_api(request, problem_id: int, payload: NoteIn):
    problem = _problem(request, problem_id)
    return _transition(
        request,
        problem,
        "progress",
        lambda: services.problem_progress(
            problem=problem, note=payload.note, acting_user=request.user
        ),
    )


@router.post("/{problem_id}/resolve", response=ProblemDetailOut)
def problem_resolve_api(request, problem_id: int, payload: ResolveIn):
    problem = _problem(request, problem_id)
    return _transition(
        request,
        problem,
        "resolved",
        lambda: services.problem_resolve(
            problem=problem, resolution=payload.resolution, acting_user=request.user
        ),
    )


@router.post("/{problem_id}/assign", response=ProblemDetailOut)
def problem_assign_api(request, problem_id: int, payload: AssignIn):
    problem = _problem(request, problem_id)
    department = None
    if payload.department_id is not None:
        # Only a department that covers the problem's village can take it (部门联片帮村).
        department = Department.objects.filter(
            pk=payload.department_id, villages__code=problem.region.code[:12]
        ).first()
        if department is None:
            raise HttpError(422, "department_id: no such department covers this village")
    return _transition(
        request,
        problem,
        "assigned",
        lambda: services.problem_assign(
            problem=problem,
            level=payload.level,
            department=department,
            note=payload.note,
            acting_user=request.user,
        ),
    )


@router.post("/{problem_id}/confirm", response=ProblemDetailOut)
def problem_confirm_api(request, problem_id: int, payload: ConfirmIn):
    problem = _problem(request, problem_id)
    return _transition(
        request,
        problem,
        "accepted" if payload.satisfied else "rejected",
        lambda: services.problem_confirm(
            problem=problem,
            satisfied=payload.satisfied,
            rating=payload.rating,
            comment=payload.comment,
            acting_user=request.user,
        ),
    )


@router.post("/{problem_id}/close", response=ProblemDetailOut)
def problem_close_api(request, problem_id: int, payload: NoteIn):
    problem = _problem(request, problem_id)
    return _transition(
        request,
        problem,
        "closed",
        lambda: services.problem_close_unconfirmed(
            problem=problem, note=payload.note, acting_user=request.user
        ),
    )
