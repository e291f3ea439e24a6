"""Departments' findings in the JSON API: the same `findings_submit` as the Excel import and the
form, and the same visibility (a department's own findings only).

Mounted by `kaoping.api.api` at `/election` (it owns auth and the error shapes). Access is by
department, not by region (`election/access.py`): the caller names one of its departments
(`department`: its code); a round is found only in that department's county (else 404). A bad
batch is refused whole with 422 `{"detail": "invalid", "errors": [{"row", "field", "message"}]}`,
rows counted from 1 and fields named as in the request. Submitting is idempotent by content: the
same (person, department, condition, date, document) again updates that finding, so a retried
request writes nothing new. The handler is the edge of its write: one durable transaction.
"""

from datetime import date, datetime
from typing import Annotated

from django.db import transaction
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from kaoping.core.errors import ImportFailed
from kaoping.core.limits import api_text
from kaoping.core.privacy import mask_id_number

from .access import department_ensure
from .findings import (
    DOCUMENT_MAX,
    ROWS_MAX,
    SUMMARY_MAX,
    department_choices,
    department_findings,
    findings_submit,
)
from .models import ElectionRound, Finding, FindingSource
from .spec import spec_of

router = Router(tags=["election"])

PAGE_MAX = 1000
OFFSET_MAX = 1_000_000_000


class FindingIn(Schema):
    id_number: api_text(18)
    name: api_text(50) = ""
    condition: api_text(100) = ""  # a condition's code or name; blank for a note
    hit: bool | api_text(5) = False  # true/false, or 是/否
    summary: api_text(SUMMARY_MAX) = ""
    found_on: date
    document: api_text(DOCUMENT_MAX) = ""


class FindingsIn(Schema):
    department: api_text(20)
    rows: list[FindingIn] = Field(min_length=1, max_length=ROWS_MAX)


class FindingOut(Schema):
    id: int
    department: str
    sheet_id: int
    person_name: str
    id_number: str  # masked
    village_code: str
    village_name: str
    condition: str
    condition_name: str
    hit: bool
    summary: str
    found_on: date
    document: str
    source: str
    recorded_at: datetime


class FindingsOut(Schema):
    department: str
    count: int
    findings: list[FindingOut]


def _department(request, code: str):
    """The caller's department of that code: another department's is refused (403)."""
    departments = [d for d in department_choices(request.user) if d.code == code]
    if not departments:
        raise HttpError(403, "not allowed")
    department = departments[0]
    department_ensure(request.user, department)
    return department


def _round(department, round_id: int) -> ElectionRound:
    round_ = ElectionRound.objects.filter(pk=round_id, county_id=department.county_id).first()
    if round_ is None:
        raise Http404
    return round_


def _out(finding: Finding, names: dict[str, str]) -> FindingOut:
    sheet = finding.sheet
    return FindingOut(
        id=finding.pk,
        department=finding.department.code,
        sheet_id=sheet.pk,
        person_name=sheet.person.name,
        id_number=mask_id_number(sheet.person.id_number or ""),
        village_code=sheet.village.code,
        village_name=sheet.village.name,
        condition=finding.condition,
        condition_name=names.get(finding.condition, finding.condition),
        hit=finding.hit,
        summary=finding.summary,
        found_on=finding.found_on,
        document=finding.document,
        source=finding.source,
        recorded_at=finding.recorded_at,
    )


@router.post("/rounds/{round_id}/findings", response={200: FindingsOut, 422: dict})
def findings_submit_endpoint(request, round_id: int, payload: FindingsIn):
    """Enter a department's findings about persons of the round (matched by ID number): all rows
    or none; each bad row is named with its field."""
    department = _department(request, payload.department)
    round_ = _round(department, round_id)
    rows = [row.dict() for row in payload.rows]
    try:
        with transaction.atomic(durable=True):
            found = findings_submit(
                round=round_,
                department=department,
                rows=rows,
                source=FindingSource.API,
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
    ids = [f.pk for f in found]
    findings = Finding.objects.filter(pk__in=ids).select_related(
        "sheet__person", "sheet__village", "department"
    )
    names = {c.code: c.name for c in spec_of(round_).conditions}
    return Status(
        200,
        FindingsOut(
            department=department.code,
            count=len(ids),
            findings=[_out(f, names) for f in findings.order_by("id")],
        ),
    )


@router.get("/rounds/{round_id}/findings", response=list[FindingOut])
def findings_list_endpoint(
    request,
    round_id: int,
    department: Annotated[str, Query(max_length=20)] = "",
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
):
    """The caller's own department's findings in the round (ID numbers masked): the department
    of that code, or all the caller's departments when `department` is left out (none for a
    login of no department). Another department's findings are never listed."""
    if department:
        own = _department(request, department)
        pairs = [(own, _round(own, round_id))]  # 404 outside the department's county
    else:
        # A superuser stands in for any department, so it names the one it reads for.
        mine = [] if request.user.is_superuser else department_choices(request.user)
        pairs = [
            (own, round_)
            for own in mine
            if (
                round_ := ElectionRound.objects.filter(pk=round_id, county_id=own.county_id).first()
            )
        ]
    rows = Finding.objects.none()
    names: dict[str, str] = {}
    for own, round_ in pairs:
        rows = rows | department_findings(user=request.user, round=round_, department=own)
        names = {c.code: c.name for c in spec_of(round_).conditions}
    rows = rows.select_related("sheet__person", "sheet__village", "department").order_by(
        "-found_on", "-id"
    )
    return [_out(f, names) for f in rows[offset : offset + limit]]
