"""The problems ledger's services: the state machine, who may, escalation, the household's answer."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.inbox.models import Message
from kaoping.problems import services
from kaoping.problems.models import (
    CONFIRM_DAYS,
    Level,
    Problem,
    ProblemEvent,
    RaisedVia,
    Status,
)
from kaoping.problems.selectors import problem_list, problems_of_household

pytestmark = pytest.mark.django_db

GRID1 = "330304001001001"


def erin_household(county):
    return county.users["erin"].role_assignments.get().household


def raise_one(county, who="dave", key="k1", household=None, **kw):
    household = household or erin_household(county)
    with transaction.atomic():
        problem, created = services.problem_raise(
            household=household,
            category=kw.pop("category", "infrastructure"),
            title=kw.pop("title", "村口路灯坏了"),
            description=kw.pop("description", "晚上看不见路"),
            idempotency_key=key,
            acting_user=county.users[who],
            **kw,
        )
    return problem


def snapshot():
    return {
        label: list(apps.get_model(label)._default_manager.order_by("pk").values_list())
        for label in ("problems.Problem", "problems.ProblemEvent", "core.AuditLog", "inbox.Message")
    }


def test_a_grid_member_raises_a_problem_held_by_the_grid_and_told_to_its_members(county):
    problem = raise_one(county)
    assert problem.level == Level.GRID
    assert problem.region.code == GRID1
    assert problem.assigned_region.code == GRID1
    assert problem.status == Status.OPEN
    assert problem.raised_via == RaisedVia.STAFF
    assert problem.deadline == timezone.localdate() + timedelta(days=3)
    assert list(problem.events.values_list("action", flat=True)) == ["raised"]
    assert AuditLog.objects.filter(action="problems.problem.raised").count() == 1
    # dave is the grid member of grid 1: he is told (the inbox delivers as the system actor).
    assert Message.objects.filter(recipient=county.users["dave"], kind="problems.assigned").exists()


def test_raising_again_with_the_same_key_returns_the_first(county):
    first = raise_one(county, key="same")
    again = raise_one(county, key="same", title="别的")
    assert again.pk == first.pk
    assert Problem.objects.count() == 1
    # Another user's same key is their own problem.
    raise_one(county, who="carol", key="same")
    assert Problem.objects.count() == 2


def test_the_villager_raises_for_her_own_household_only(county):
    problem = raise_one(county, who="erin")
    assert problem.raised_via == RaisedVia.HOUSEHOLD
    other = next(h for h in county.households.values() if h != erin_household(county))
    before = snapshot()
    with pytest.raises(Refused):
        raise_one(county, who="erin", key="k2", household=other)
    assert snapshot() == before


def test_dave_may_not_raise_outside_his_grid(county):
    outside = next(h for h in county.households.values() if not h.region.code.startswith(GRID1))
    with pytest.raises(Refused):
        raise_one(county, household=outside)


def test_every_transition_of_the_state_machine(county):
    bob, erin = county.users["bob"], county.users["erin"]
    problem = raise_one(county)
    with transaction.atomic():
        problem = services.problem_progress(
            problem=problem, note="已联系电工", acting_user=county.users["dave"]
        )
    assert problem.status == Status.IN_PROGRESS
    with transaction.atomic():
        problem = services.problem_assign(
            problem=problem,
            level=Level.VILLAGE,
            note="需村里出钱",
            acting_user=county.users["dave"],
        )
    assert (problem.level, problem.assigned_region.code) == (Level.VILLAGE, GRID1[:12])
    assert problem.deadline == timezone.localdate() + timedelta(days=7)
    with transaction.atomic():
        problem = services.problem_assign(
            problem=problem, level=Level.TOWNSHIP, acting_user=county.users["carol"]
        )
    assert problem.level == Level.TOWNSHIP
    with transaction.atomic():
        problem = services.problem_resolve(problem=problem, resolution="已换新灯", acting_user=bob)
    assert problem.status == Status.RESOLVED and problem.resolved_at is not None
    with transaction.atomic():
        problem = services.problem_confirm(
            problem=problem, satisfied=False, rating=2, comment="还是不亮", acting_user=erin
        )
    assert problem.status == Status.REOPENED and problem.resolved_at is None
    with transaction.atomic():
        problem = services.problem_resolve(problem=problem, resolution="换了线路", acting_user=bob)
        problem = services.problem_confirm(
            problem=problem, satisfied=True, rating=5, comment="好了", acting_user=erin
        )
    assert problem.status == Status.CLOSED
    assert problem.satisfaction == 5 and problem.closed_on_time is True
    assert problem.household_comment == "好了"
    assert list(problem.events.values_list("action", flat=True)) == [
        "raised",
        "progress",
        "assigned",
        "assigned",
        "resolved",
        "rejected",
        "resolved",
        "accepted",
    ]


def test_the_township_hands_a_problem_to_a_department_that_covers_the_village(county):
    # 南山社区 is covered by grace's department; 东岭村 is not.
    nanshan = next(
        h for h in county.households.values() if h.region.code.startswith("330304001002")
    )
    problem = raise_one(county, who="bob", household=nanshan)
    with transaction.atomic():
        problem = services.problem_assign(
            problem=problem, level=Level.VILLAGE, acting_user=county.users["bob"]
        )
        problem = services.problem_assign(
            problem=problem, level=Level.TOWNSHIP, acting_user=county.users["bob"]
        )
        problem = services.problem_assign(
            problem=problem,
            level=Level.DEPARTMENT,
            department=county.department,
            acting_user=county.users["bob"],
        )
    assert problem.assigned_department == county.department
    assert Message.objects.filter(recipient=county.users["grace"]).exists()
    with transaction.atomic():
        problem = services.problem_resolve(
            problem=problem, resolution="已调解", acting_user=county.users["grace"]
        )
    assert problem.status == Status.RESOLVED

    dongling = raise_one(county, who="bob", key="k2")
    with transaction.atomic():
        dongling = services.problem_assign(
            problem=dongling, level=Level.VILLAGE, acting_user=county.users["bob"]
        )
        dongling = services.problem_assign(
            problem=dongling, level=Level.TOWNSHIP, acting_user=county.users["bob"]
        )
    before = snapshot()
    with pytest.raises(KaopingError):
        services.problem_assign(
            problem=dongling,
            level=Level.DEPARTMENT,
            department=county.department,
            acting_user=county.users["bob"],
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    "who, call",
    [
        # clara (committee) reads but does not handle; grace's department holds nothing here.
        ("clara", lambda p, u: services.problem_resolve(problem=p, resolution="x", acting_user=u)),
        ("grace", lambda p, u: services.problem_progress(problem=p, note="x", acting_user=u)),
        # the grid member may not work on what the village holds.
        ("dave", lambda p, u: services.problem_resolve(problem=p, resolution="x", acting_user=u)),
        # oscar is out of scope; erin answers only resolutions.
        ("oscar", lambda p, u: services.problem_resolve(problem=p, resolution="x", acting_user=u)),
        ("erin", lambda p, u: services.problem_resolve(problem=p, resolution="x", acting_user=u)),
        (
            "bob",
            lambda p, u: services.problem_confirm(
                problem=p, satisfied=True, rating=5, acting_user=u
            ),
        ),
        ("carol", lambda p, u: services.problem_close_unconfirmed(problem=p, acting_user=u)),
    ],
)
def test_refused_moves_leave_nothing_changed(county, who, call):
    problem = raise_one(county)
    with transaction.atomic():
        problem = services.problem_assign(
            problem=problem, level=Level.VILLAGE, acting_user=county.users["dave"]
        )
    before = snapshot()
    with pytest.raises(Refused):
        call(problem, county.users[who])
    assert snapshot() == before


@pytest.mark.parametrize(
    "action, call",
    [
        (
            "confirm",
            lambda p, c: services.problem_confirm(
                problem=p, satisfied=True, rating=5, acting_user=c.users["erin"]
            ),
        ),
        (
            "close",
            lambda p, c: services.problem_close_unconfirmed(problem=p, acting_user=c.users["bob"]),
        ),
        (
            "skip a level",
            lambda p, c: services.problem_assign(
                problem=p, level=Level.TOWNSHIP, acting_user=c.users["bob"]
            ),
        ),
        (
            "empty resolution",
            lambda p, c: services.problem_resolve(
                problem=p, resolution="  ", acting_user=c.users["bob"]
            ),
        ),
    ],
)
def test_moves_the_state_machine_does_not_allow_change_nothing(county, action, call):
    problem = raise_one(county)  # open, at the grid
    before = snapshot()
    with pytest.raises(KaopingError):
        call(problem, county)
    assert snapshot() == before


def test_a_closed_problem_moves_no_more(county):
    problem = raise_one(county)
    with transaction.atomic():
        problem = services.problem_resolve(
            problem=problem, resolution="修好了", acting_user=county.users["dave"]
        )
        problem = services.problem_confirm(
            problem=problem, satisfied=True, rating=4, acting_user=county.users["erin"]
        )
    before = snapshot()
    for call in (
        lambda: services.problem_resolve(
            problem=problem, resolution="再修", acting_user=county.users["bob"]
        ),
        lambda: services.problem_progress(
            problem=problem, note="再看", acting_user=county.users["bob"]
        ),
        lambda: services.problem_confirm(
            problem=problem,
            satisfied=False,
            rating=1,
            comment="x",
            acting_user=county.users["erin"],
        ),
    ):
        with pytest.raises(KaopingError):
            call()
    assert snapshot() == before


def test_a_stale_copy_cannot_move_a_problem_someone_else_moved(county):
    problem = raise_one(county)
    stale = Problem.objects.get(pk=problem.pk)
    with transaction.atomic():
        services.problem_resolve(
            problem=problem, resolution="修好了", acting_user=county.users["dave"]
        )
    stale.status = Status.OPEN  # what the other tab still shows
    before = snapshot()
    with pytest.raises(KaopingError):
        services.problem_assign(
            problem=stale, level=Level.VILLAGE, acting_user=county.users["dave"]
        )
    assert snapshot() == before


def test_the_household_must_rate_and_say_why_when_not_solved(county):
    problem = raise_one(county)
    with transaction.atomic():
        problem = services.problem_resolve(
            problem=problem, resolution="修好了", acting_user=county.users["dave"]
        )
    for kwargs in ({"satisfied": True, "rating": 0}, {"satisfied": False, "rating": 2}):
        with pytest.raises(KaopingError):
            services.problem_confirm(problem=problem, acting_user=county.users["erin"], **kwargs)
    assert Problem.objects.get(pk=problem.pk).status == Status.RESOLVED


def test_the_township_closes_an_unanswered_resolution_after_the_days_to_answer(county):
    problem = raise_one(county)
    with transaction.atomic():
        problem = services.problem_resolve(
            problem=problem, resolution="修好了", acting_user=county.users["dave"]
        )
    with pytest.raises(KaopingError):
        services.problem_close_unconfirmed(problem=problem, acting_user=county.users["bob"])
    Problem.objects.filter(pk=problem.pk).update(
        resolved_at=timezone.now() - timedelta(days=CONFIRM_DAYS + 1)
    )
    problem.refresh_from_db()
    with transaction.atomic():
        problem = services.problem_close_unconfirmed(
            problem=problem, acting_user=county.users["bob"]
        )
    assert problem.status == Status.CLOSED and problem.satisfaction is None


def test_overdue_problems_escalate_once_and_the_top_is_reported_once(county):
    problem = raise_one(county)
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    now = timezone.now()
    assert services.problems_escalate_due(now=now) == "escalated 1, reported to the county 0"
    assert services.problems_escalate_due(now=now) is None  # idempotent
    problem.refresh_from_db()
    assert (problem.level, problem.escalations) == (Level.VILLAGE, 1)
    assert problem.deadline == timezone.localdate() + timedelta(days=7)
    assert (
        Message.objects.filter(recipient=county.users["carol"], kind="problems.escalated").count()
        == 1
    )
    # Overdue at the village too: to the township; then overdue there: the county is told once.
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    services.problems_escalate_due(now=now)
    problem.refresh_from_db()
    assert (problem.level, problem.escalations) == (Level.TOWNSHIP, 2)
    assert (
        Message.objects.filter(recipient=county.users["bob"], kind="problems.escalated").count()
        == 1
    )
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    assert services.problems_escalate_due(now=now) == "escalated 0, reported to the county 1"
    assert services.problems_escalate_due(now=now) is None
    assert (
        Message.objects.filter(recipient=county.users["alice"], kind="problems.overdue").count()
        == 1
    )
    problem.refresh_from_db()
    assert problem.level == Level.TOWNSHIP and problem.overdue_reported
    # An escalated problem is never on time, even when resolved within its new deadline.
    with transaction.atomic():
        problem = services.problem_resolve(
            problem=problem, resolution="办好了", acting_user=county.users["bob"]
        )
        problem = services.problem_confirm(
            problem=problem, satisfied=True, rating=5, acting_user=county.users["erin"]
        )
    assert problem.closed_on_time is False
    assert ProblemEvent.objects.filter(problem=problem, action="escalated").count() == 2


def test_scoping_of_the_list(county):
    mine = raise_one(county)
    other_grid = next(h for h in county.households.values() if h.region.code == "330304001001002")
    xixi = next(h for h in county.households.values() if h.region.code.startswith("330304002"))
    theirs = raise_one(county, who="carol", household=other_grid)
    far = raise_one(county, who="oscar", household=xixi)
    erins_neighbour = next(
        h
        for h in county.households.values()
        if h.region.code == GRID1 and h != erin_household(county)
    )
    neighbour = raise_one(county, who="dave", key="n", household=erins_neighbour)

    def seen(who):
        return set(problem_list(user=county.users[who]).values_list("pk", flat=True))

    assert seen("dave") == {mine.pk, neighbour.pk}
    assert seen("erin") == {mine.pk}
    assert seen("carol") == {mine.pk, theirs.pk, neighbour.pk}
    assert seen("bob") == {mine.pk, theirs.pk, neighbour.pk}
    assert seen("oscar") == {far.pk}
    assert seen("grace") == {far.pk}  # her department covers 西溪村 and 南山社区
    assert seen("alice") == {mine.pk, theirs.pk, far.pk, neighbour.pk}
    assert set(problems_of_household(user=county.users["erin"], household=erins_neighbour)) == set()


def test_the_system_actor_may_do_everything(county):
    problem = raise_one(county)
    with transaction.atomic():
        services.problem_progress(problem=problem, note="系统", acting_user=system_actor())


def test_the_hourly_job_is_registered_with_the_runner():
    from django.conf import settings
    from django.utils.module_loading import import_string

    job = next(j for j in settings.PERIODIC_JOBS if j["name"] == "problems_escalate")
    assert job["every"] == "hour"
    assert import_string(job["call"]) is services.problems_escalate_due
    assert (
        "kaoping.problems.services.problems_metrics_push" in settings.PERIOD_HOOKS["before_close"]
    )
