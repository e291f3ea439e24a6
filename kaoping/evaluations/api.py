"""Evaluations (评议) in the JSON API: plans, rounds, a round's results and paper ballots typed in
by staff, with the scoping of the pages.

Mounted by `kaoping.api.api` at `/evaluations` (it owns auth and the error shapes). A plan or a
round outside the caller's area is 404, as on the pages; an action the caller's role does not
grant is 403. Results are aggregates only — the subject, its value, how many ballots and possible
raters, whether it is valid and its honesty flags — for the subjects the caller may see, named as
the round's page names them (a person masked unless the caller may see the person in full).
Individual ballots are never in the API: they are the audit role's, on its page.

Paper ballots go through `ballots.paper_ballots_enter`, all or none: a bad batch is refused with
422 `{"detail": "invalid", "errors": [{"row", "field", "message"}]}`, rows counted from 1 as in
the request. Each paper ballot carries the rater's code printed on the form and counts as that
code's one ballot for the subject, so a retried request is refused (the codes have rated) rather
than typed in twice; a round rated by login takes no paper ballots. The handler is the edge of
its write: one durable transaction.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.db import transaction
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import Refused, get_scoped_or_404
from kaoping.core.errors import ImportFailed
from kaoping.core.limits import api_text
from kaoping.people.models import Subject

from .ballots import COMMENT_MAX, PAPER_BATCH_MAX, paper_ballots_enter
from .models import Ballot, Plan, Round, RoundStatus
from .round_selectors import round_rows, rounds_for
from .spec import spec_of

router = Router(tags=["evaluations"])

PAGE_MAX = 1000
OFFSET_MAX = 1_000_000_000
QUESTIONS_MAX = 30  # spec.Campaign.form's longest
ANSWER_MAX = 20  # a scale level's name, or a score written out


class CampaignOut(Schema):
    code: str
    name: str
    raters: str
    cadence: str
    item: str
    aggregate: str
    min_ballots: int


class PlanOut(Schema):
    id: int
    code: str
    name: str
    region_code: str
    region_name: str
    scheme: str
    version: int
    loaded_at: datetime
    campaigns: list[CampaignOut]


class RoundOut(Schema):
    id: int
    plan_id: int
    plan: str
    campaign: str
    name: str
    cadence: str
    period_label: str
    opens_on: date
    closes_on: date
    status: str
    closed_at: datetime | None


class ResultOut(Schema):
    subject_id: int
    subject: str  # as the round's page shows it: a person masked unless seen in full
    village: str
    value: Decimal | None  # null while the round is open, or when short of ballots
    ballots: int
    eligible: int
    response: Decimal | None  # ballots ÷ possible raters, in per cent
    valid: bool | None  # null while the round is open
    flags: list[str]  # short, all_same, relatives


class PaperBallotIn(Schema):
    # The rater's code printed on the paper form (a household's or a member's; any case).
    code: api_text(16)
    # Question code → the answer: a scale level's name (好, 满意…) or a score.
    marks: dict[api_text(64), api_text(ANSWER_MAX) | int | Decimal] = Field(
        max_length=QUESTIONS_MAX
    )
    comment: api_text(COMMENT_MAX) = ""


class PaperIn(Schema):
    subject_id: int
    ballots: list[PaperBallotIn] = Field(min_length=1, max_length=PAPER_BATCH_MAX)


class PaperOut(Schema):
    round_id: int
    subject_id: int
    entered: int  # paper ballots typed in by this request
    ballots: int  # the subject's ballots in the round now, every channel


def _plan_out(plan: Plan) -> PlanOut:
    spec = spec_of(plan.spec)
    return PlanOut(
        id=plan.pk,
        code=plan.code,
        name=plan.name,
        region_code=plan.region.code,
        region_name=plan.region.name,
        scheme=plan.scheme.code,
        version=plan.version,
        loaded_at=plan.loaded_at,
        campaigns=[
            CampaignOut(
                code=c.code,
                name=c.name,
                raters=str(c.raters),
                cadence=str(c.cadence),
                item=c.item,
                aggregate=str(c.aggregate),
                min_ballots=c.min_ballots,
            )
            for c in spec.campaigns
        ],
    )


def _round_out(round_: Round) -> RoundOut:
    return RoundOut(
        id=round_.pk,
        plan_id=round_.plan_id,
        plan=round_.plan.code,
        campaign=round_.campaign,
        name=round_.name,
        cadence=round_.cadence,
        period_label=round_.period_label,
        opens_on=round_.opens_on,
        closes_on=round_.closes_on,
        status=round_.status,
        closed_at=round_.closed_at,
    )


@router.get("/plans", response=list[PlanOut])
def evaluation_plans(request):
    """The plans of the caller's area and of the areas above it, newest first."""
    rows = (
        Plan.objects.for_user(request.user, "evaluation.view")
        .select_related("region", "scheme")
        .order_by("-loaded_at", "-id")
    )
    return [_plan_out(plan) for plan in rows]


@router.get("/rounds", response=list[RoundOut])
def evaluation_rounds(
    request,
    plan: int | None = None,
    status: RoundStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
):
    """The rounds the caller sees, newest first; of one plan (its id) and in one status (open,
    closed) when asked."""
    rows = rounds_for(request.user).order_by("-opens_on", "-id")
    if plan is not None:
        rows = rows.filter(plan_id=plan)
    if status is not None:
        rows = rows.filter(status=status)
    return [_round_out(r) for r in rows[offset : offset + limit]]


@router.get("/rounds/{round_id}/results", response=list[ResultOut])
def evaluation_results(
    request,
    round_id: int,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
):
    """A round's aggregates for the subjects the caller may see: once closed, best first (those
    without a result last); while open, the ballots so far by village and name."""
    round_ = get_scoped_or_404(
        Round.objects.select_related("plan__scheme", "plan__region"),
        request.user,
        "evaluation.view",
        pk=round_id,
    )
    rows = round_rows(round_, user=request.user)
    return [
        ResultOut(
            subject_id=row.subject.pk,
            subject=row.name,
            village=row.village,
            value=row.value,
            ballots=row.ballots,
            eligible=row.eligible,
            response=row.response,
            valid=row.valid,
            flags=[code for code, _label in row.flags],
        )
        for row in rows[offset : offset + limit]
    ]


@router.post("/rounds/{round_id}/paper", response={200: PaperOut, 422: dict})
def evaluation_paper(request, round_id: int, payload: PaperIn):
    """Type in the paper ballots collected for one subject of an open round, each with the code
    printed on its form: all or none; each bad ballot is named by its row (from 1) and field
    (`code` or a question)."""
    user = request.user
    round_ = get_scoped_or_404(
        Round.objects.select_related("plan"), user, "evaluation.view", pk=round_id
    )
    if not user_can(user, "evaluation.paper"):
        raise Refused()
    # The page's rule: the subjects the caller types paper ballots for; another is not found.
    subject = (
        Subject.objects.for_user(user, "evaluation.paper")
        .filter(pk=payload.subject_id, pk__in=round_.subjects.values("pk"))
        .select_related("region", "person")
        .first()
    )
    if subject is None:
        raise Http404
    ballots = [
        {
            "code": b.code,
            "marks": {code: str(answer) for code, answer in b.marks.items()},
            "comment": b.comment,
        }
        for b in payload.ballots
    ]
    try:
        with transaction.atomic(durable=True):
            created = paper_ballots_enter(
                round=round_, subject=subject, ballots=ballots, acting_user=user
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
    return Status(
        200,
        PaperOut(
            round_id=round_.pk,
            subject_id=subject.pk,
            entered=len(created),
            ballots=Ballot.objects.filter(round=round_, subject=subject).count(),
        ),
    )
