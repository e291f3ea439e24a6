"""Writes of the problems ledger (民情台账): raise, assign, progress, resolve, the household's
answer, closing an unanswered resolution, and the hourly escalation of overdue problems.

Every transition is one entry of `models.TRANSITIONS` and one conditional update on the status
(and level) it starts from: 0 rows means someone else moved the problem first, and nothing is
written. The assignees are told through the inbox, as the system actor (a grid member who
raises a problem may not write to the village secretary herself, but the problem may).
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import Refused, ensure, may, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import subtree_q
from kaoping.core.limits import name_problem, text_problem
from kaoping.inbox.services import messages_deliver, recipients_for
from kaoping.ledger.services import metric_values_put
from kaoping.people.models import Subject
from kaoping.regions.models import Region
from kaoping.schemes.models import SchemeNode

from .models import (
    ACTIVE,
    DEADLINE_DAYS,
    ESCALATES_TO,
    TRANSITIONS,
    Category,
    Level,
    Problem,
    ProblemEvent,
    RaisedVia,
    Status,
)

TITLE_MAX = 100
TEXT_MAX = 2000
KEY_MAX = 100

# Where a problem may be handed on by hand: one step up the tree, or from the township to a
# department that covers the village (部门联片帮村).
ASSIGN_TO = {
    Level.GRID: Level.VILLAGE,
    Level.VILLAGE: Level.TOWNSHIP,
    Level.TOWNSHIP: Level.DEPARTMENT,
}

# Metrics the close may read, by the subject kind they describe. Rates are 0–100.
GRID_METRICS = ("grid_problems_on_time_rate", "grid_problem_satisfaction")
VILLAGE_METRICS = ("problems_on_time_rate", "problem_satisfaction")
SATISFIED_FROM = 4  # a rating of 4 or 5 of 5 counts as satisfied


# ─── who may ───


def may_handle(user, problem: Problem) -> bool:
    """Whether `user` may work on `problem` at the level it is held now: its office or one
    above it; a department's problem, the department's own scorers or the township."""
    if problem.level == Level.DEPARTMENT:
        if may(user, "problem.handle_township", problem):
            return True
        return (
            may(user, "problem.handle_department", problem)
            and RoleAssignment.objects.filter(
                user=user,
                role=Role.DEPARTMENT_SCORER,
                department_id=problem.assigned_department_id,
            ).exists()
        )
    return may(user, f"problem.handle_{problem.level}", problem)


def _ensure_handle(user, problem: Problem) -> None:
    if not may_handle(user, problem):
        raise Refused()


# ─── helpers ───


def _text(value: str, field: str, *, required: bool, limit: int = TEXT_MAX, line=False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise KaopingError({field: _("This field is required.")})
    if len(value) > limit:
        raise KaopingError({field: _("At most %(n)d characters, please.") % {"n": limit}})
    problem = name_problem(value) if line else text_problem(value)
    if problem:
        raise KaopingError({field: _("This text %(problem)s.") % {"problem": problem}})
    return value


def _level_region(problem_region: Region, level: str) -> Region:
    """The office at `level` above the household's grid (for a department: the county)."""
    code = problem_region.code
    width = {Level.GRID: len(code), Level.VILLAGE: 12, Level.TOWNSHIP: 9, Level.DEPARTMENT: 6}
    wanted = code[: width[level]]
    return problem_region if wanted == code else Region.objects.get(code=wanted)


def _deadline(level: str, day=None):
    return (day or timezone.localdate()) + timedelta(days=DEADLINE_DAYS[level])


def _assignees(problem: Problem, level: str | None = None) -> list:
    level = level or problem.level
    if level == Level.DEPARTMENT:
        return list(
            RoleAssignment.objects.filter(
                role=Role.DEPARTMENT_SCORER, department_id=problem.assigned_department_id
            )
            .filter(user__is_active=True)
            .select_related("user")
            .values_list("user", flat=True)
        )
    roles = {
        Level.GRID: [Role.GRID_MEMBER],
        Level.VILLAGE: [Role.VILLAGE_SECRETARY],
        Level.TOWNSHIP: [Role.TOWNSHIP_STAFF],
    }[level]
    return recipients_for(roles=roles, region=problem.assigned_region, direction="covering")


def _notify(problem: Problem, *, title: str, kind: str, recipients=None, key: str) -> None:
    recipients = _assignees(problem) if recipients is None else recipients
    if not recipients:
        return
    messages_deliver(
        recipients=recipients,
        title=title[:200],
        kind=kind,
        body=problem.description[:1000],
        url=reverse("problems:detail", args=[problem.pk]),
        dedupe_key=f"problem:{problem.pk}:{key}"[:200],
        acting_user=system_actor(),
    )


def _event(problem: Problem, action: str, actor, *, before: Problem | None = None, **fields):
    values = {
        "at": timezone.now(),
        "from_level": before.level if before else "",
        "to_level": problem.level if before and before.level != problem.level else "",
        "from_status": before.status if before else "",
        "to_status": problem.status if before and before.status != problem.status else "",
    }
    values.update({k: v for k, v in fields.items() if v is not None})
    return ProblemEvent.objects.create(problem=problem, action=action, actor=actor, **values)


def _audit(actor, action: str, problem: Problem, *, before=None, after=None) -> None:
    audit_record(
        actor=actor,
        action=f"problems.problem.{action}",
        obj=problem,
        region_code=problem.region.code,
        before=before,
        after=after,
    )


def _move(problem: Problem, action: str, **updates) -> Problem:
    """The one step of the state machine: refuse a move the map does not allow, then a
    conditional update from the status and level read; the row as it now stands."""
    sources, target = TRANSITIONS[action]
    if problem.status not in sources:
        raise KaopingError(
            _("This problem is %(status)s; it cannot be %(action)s now.")
            % {"status": problem.get_status_display(), "action": _ACTION_WORDS[action]}
        )
    if target is not None:
        updates["status"] = target
    moved = Problem.objects.filter(
        pk=problem.pk, status=problem.status, level=problem.level
    ).update(**updates)
    if not moved:
        raise KaopingError(_("Someone else changed this problem meanwhile; open it again."))
    return Problem.objects.select_related("region", "assigned_region").get(pk=problem.pk)


_ACTION_WORDS = {
    "assign": _("handed on"),
    "escalate": _("escalated"),
    "progress": _("worked on"),
    "resolve": _("resolved"),
    "accept": _("confirmed"),
    "reject": _("sent back"),
    "close_unconfirmed": _("closed"),
}


def _closed_on_time(problem: Problem) -> bool:
    resolved = problem.resolved_at or timezone.now()
    return problem.escalations == 0 and timezone.localdate(resolved) <= problem.deadline


# ─── the services ───


def problem_raise(
    *,
    household,
    category: str,
    title: str,
    description: str = "",
    visit=None,
    idempotency_key: str,
    acting_user,
) -> tuple[Problem, bool]:
    """Record a problem of `household`, held first by its grid (or its village when it has no
    grid); (problem, created). The same key from the same user returns the first problem."""
    ensure(acting_user, "problem.raise", household)
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX:
        raise KaopingError({"idempotency_key": _("The form is out of date; open it again.")})
    earlier = Problem.objects.filter(raised_by=acting_user, idempotency_key=key).first()
    if earlier is not None:
        return earlier, False
    if category not in Category.values:
        raise KaopingError({"category": _("Choose a category from the list.")})
    title = _text(title, "title", required=True, limit=TITLE_MAX, line=True)
    description = _text(description, "description", required=False)
    if visit is not None and visit.household_id != household.pk:
        raise KaopingError({"visit": _("That visit was to another household.")})
    region = household.region
    level = Level.GRID if region.level == "grid" else Level.VILLAGE
    if visit is not None:
        via = RaisedVia.VISIT
    elif RoleAssignment.objects.filter(
        user=acting_user, role=Role.VILLAGER, household=household
    ).exists():
        via = RaisedVia.HOUSEHOLD
    else:
        via = RaisedVia.STAFF
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                problem = Problem.objects.create(
                    household=household,
                    region=region,
                    raised_by=acting_user,
                    raised_via=via,
                    visit=visit,
                    category=category,
                    title=title,
                    description=description,
                    level=level,
                    assigned_region=region,
                    deadline=_deadline(level, timezone.localdate(now)),
                    raised_at=now,
                    idempotency_key=key,
                )
        except IntegrityError:
            # The same form sent twice at once: the first one stands.
            return Problem.objects.get(raised_by=acting_user, idempotency_key=key), False
        _event(problem, "raised", acting_user, at=now, note=description[:500], to_level=level)
        _audit(acting_user, "raised", problem, after={"title": title, "level": level})
        _notify(
            problem,
            title=_("New problem: %(title)s") % {"title": title},
            kind="problems.assigned",
            key=f"assigned:{level}:0",
        )
    return problem, True


def problem_assign(
    *, problem: Problem, level: str, department=None, note: str = "", acting_user
) -> Problem:
    """Hand `problem` on to the next office: grid → village → township → a department."""
    _ensure_handle(acting_user, problem)
    if ASSIGN_TO.get(problem.level) != level:
        raise KaopingError(
            {"level": _("A problem goes one step up: grid, village, township, then a department.")}
        )
    note = _text(note, "note", required=False)
    updates = {
        "level": level,
        "deadline": _deadline(level),
        "overdue_reported": False,
        "assigned_department": None,
    }
    if level == Level.DEPARTMENT:
        if department is None:
            raise KaopingError({"department": _("Choose the department.")})
        if not department.villages.filter(code=problem.region.code[:12]).exists():
            raise KaopingError(
                {"department": _("%(d)s does not cover this village.") % {"d": department.name}}
            )
        updates["assigned_department"] = department
    with transaction.atomic():
        updates["assigned_region"] = _level_region(problem.region, level)
        moved = _move(problem, "assign", **updates)
        _event(moved, "assigned", acting_user, before=problem, note=note)
        _audit(
            acting_user, "assigned", moved, before={"level": problem.level}, after={"level": level}
        )
        _notify(
            moved,
            title=_("Problem handed to you: %(title)s") % {"title": moved.title},
            kind="problems.assigned",
            key=f"assigned:{level}:{moved.escalations}",
        )
    return moved


def problem_progress(*, problem: Problem, note: str, acting_user) -> Problem:
    """Note what was done so far; an open or reopened problem is then in progress."""
    _ensure_handle(acting_user, problem)
    note = _text(note, "note", required=True)
    with transaction.atomic():
        moved = _move(problem, "progress")
        _event(moved, "progress", acting_user, before=problem, note=note)
        _audit(acting_user, "progress", moved, after={"note": note[:200]})
    return moved


def problem_resolve(*, problem: Problem, resolution: str, acting_user) -> Problem:
    """Say how the problem was solved; the household is then asked to confirm it."""
    _ensure_handle(acting_user, problem)
    resolution = _text(resolution, "resolution", required=True)
    now = timezone.now()
    with transaction.atomic():
        moved = _move(problem, "resolve", resolved_at=now, resolution=resolution)
        _event(moved, "resolved", acting_user, before=problem, note=resolution, at=now)
        _audit(acting_user, "resolved", moved, after={"resolution": resolution[:200]})
    return moved


def problem_confirm(
    *, problem: Problem, satisfied: bool, rating: int, comment: str = "", acting_user
) -> Problem:
    """The household's answer to a resolution: accepted (closed, with its rating 1–5) or not
    solved (reopened, back to whoever holds it)."""
    ensure(acting_user, "problem.confirm", problem)
    if rating is None or not 1 <= int(rating) <= 5:
        raise KaopingError({"rating": _("Give one to five stars.")})
    rating = int(rating)
    comment = _text(comment, "comment", required=not satisfied)
    now = timezone.now()
    with transaction.atomic():
        if satisfied:
            moved = _move(
                problem,
                "accept",
                closed_at=now,
                closed_on_time=_closed_on_time(problem),
                satisfaction=rating,
                household_comment=comment,
            )
            _event(moved, "accepted", acting_user, before=problem, note=comment, rating=rating)
        else:
            moved = _move(problem, "reject", resolved_at=None, household_comment=comment)
            _event(moved, "rejected", acting_user, before=problem, note=comment, rating=rating)
            _notify(
                moved,
                title=_("The household says it is not solved: %(title)s") % {"title": moved.title},
                kind="problems.reopened",
                key=f"reopened:{ProblemEvent.objects.filter(problem=moved).count()}",
            )
        _audit(
            acting_user,
            "accepted" if satisfied else "rejected",
            moved,
            after={"rating": rating, "comment": comment[:200]},
        )
    return moved


def problem_close_unconfirmed(*, problem: Problem, note: str = "", acting_user) -> Problem:
    """Close a resolution the household has not answered within CONFIRM_DAYS days (the township
    does, after asking): closed without a rating, so it counts in no satisfaction rate."""
    ensure(acting_user, "problem.close", problem)
    note = _text(note, "note", required=False)
    if problem.status == Status.RESOLVED and timezone.localdate() <= problem.confirm_by():
        raise KaopingError(
            _("The household has until %(day)s to answer; close it after that.")
            % {"day": problem.confirm_by().isoformat()}
        )
    now = timezone.now()
    with transaction.atomic():
        moved = _move(
            problem, "close_unconfirmed", closed_at=now, closed_on_time=_closed_on_time(problem)
        )
        _event(moved, "closed", acting_user, before=problem, note=note)
        _audit(acting_user, "closed_unconfirmed", moved, after={"note": note[:200]})
    return moved


def problems_escalate_due(*, now) -> str | None:
    """The hourly job: an overdue grid or village problem goes one level up with a fresh
    deadline; an overdue township or department problem is reported to the county once. Run
    twice, the second run finds nothing (the deadline moved, or the report is marked)."""
    actor = system_actor()
    today = timezone.localdate(now)
    overdue = Problem.objects.filter(status__in=ACTIVE, deadline__lt=today).select_related(
        "region", "assigned_region"
    )
    escalated = reported = 0
    for problem in overdue.filter(level__in=list(ESCALATES_TO)).order_by("pk"):
        target = ESCALATES_TO[problem.level]
        with transaction.atomic():
            moved = Problem.objects.filter(
                pk=problem.pk,
                level=problem.level,
                deadline=problem.deadline,
                status__in=ACTIVE,
            ).update(
                level=target,
                assigned_region=_level_region(problem.region, target),
                deadline=_deadline(target, today),
                escalations=models.F("escalations") + 1,
            )
            if not moved:
                continue
            after = Problem.objects.select_related("region", "assigned_region").get(pk=problem.pk)
            _event(after, "escalated", actor, before=problem, at=now)
            _audit(
                actor, "escalated", after, before={"level": problem.level}, after={"level": target}
            )
            _notify(
                after,
                title=_("Overdue problem escalated to you: %(title)s") % {"title": after.title},
                kind="problems.escalated",
                key=f"assigned:{target}:{after.escalations}",
            )
            escalated += 1
    top = overdue.filter(level__in=[Level.TOWNSHIP, Level.DEPARTMENT], overdue_reported=False)
    for problem in top.order_by("pk"):
        with transaction.atomic():
            if not Problem.objects.filter(pk=problem.pk, overdue_reported=False).update(
                overdue_reported=True
            ):
                continue
            _event(problem, "overdue", actor, at=now)
            _audit(actor, "overdue_reported", problem)
            _notify(
                problem,
                title=_("Problem overdue: %(title)s") % {"title": problem.title},
                kind="problems.overdue",
                recipients=recipients_for(
                    roles=[Role.COUNTY_ADMIN], region=problem.region.code[:6], direction="covering"
                ),
                key=f"overdue:{problem.deadline.isoformat()}",
            )
            reported += 1
    if not escalated and not reported:
        return None
    return f"escalated {escalated}, reported to the county {reported}"


# ─── metrics for the close ───


def _rate(part: int, whole: int) -> Decimal:
    # Nothing due and nothing rated is nothing done badly: 100 (a missing value would score 0).
    if not whole:
        return Decimal(100)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def problem_figures(*, region_code: str, start, end) -> dict[str, dict[str, int]]:
    """Per grid (or village without grids) region code under `region_code`, for the days
    `start`–`end`: `due` (closed in those days, or still open past its deadline at `end`),
    `on_time` (closed in those days, on time), `rated` and `satisfied` (closed in those days
    with the household's rating; satisfied: 4 or 5 of 5). One grouped query."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    closed = Q(status=Status.CLOSED, closed_at__gte=since, closed_at__lt=until)
    late_open = Q(status__in=ACTIVE, deadline__lt=end, raised_at__lt=until)
    rows = (
        Problem.objects.filter(subtree_q("region__code", region_code))
        .filter(closed | late_open)
        .values("region__code")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=closed & Q(closed_on_time=True)),
            rated=Count("pk", filter=closed & Q(satisfaction__isnull=False)),
            satisfied=Count("pk", filter=closed & Q(satisfaction__gte=SATISFIED_FROM)),
        )
    )
    return {
        row["region__code"]: {k: row[k] for k in ("due", "on_time", "rated", "satisfied")}
        for row in rows
    }


def problems_metrics_push(period, spec, acting_user) -> int:
    """settings.PERIOD_HOOKS["before_close"]: push the problem rates the period's scheme uses
    (grid subjects: GRID_METRICS; villages: VILLAGE_METRICS) for every subject in its scope.
    Run by period_close, which checked `period.close`, inside its transaction."""
    scheme = period.scheme
    names = GRID_METRICS if scheme.subject_kind == "grid" else VILLAGE_METRICS
    if scheme.subject_kind not in ("grid", "village"):
        return 0
    used = set(
        SchemeNode.objects.filter(version_id=period.version_id, metric__in=names).values_list(
            "metric", flat=True
        )
    )
    if not used:
        return 0
    county = scheme.region.code
    figures = problem_figures(region_code=county, start=period.start, end=period.end)
    subjects = list(
        Subject.objects.filter(
            subtree_q("region__code", county), kind=scheme.subject_kind, active=True
        ).select_related("region")
    )
    if scheme.subject_kind == "village":
        # A village's figures are its grids' added up (a village without grids is its own).
        by_village: dict[str, dict[str, int]] = {}
        for code, figure in figures.items():
            into = by_village.setdefault(code[:12], dict.fromkeys(figure, 0))
            for key, count in figure.items():
                into[key] += count
        figures = by_village
    values = []
    for subject in subjects:
        figure = figures.get(subject.region.code, {})
        rates = {
            names[0]: _rate(figure.get("on_time", 0), figure.get("due", 0)),
            names[1]: _rate(figure.get("satisfied", 0), figure.get("rated", 0)),
        }
        values += [(subject, name, value) for name, value in rates.items() if name in used]
    with transaction.atomic():
        metric_values_put(scheme=scheme, period_label=period.label, values=values)
    return len(values)
