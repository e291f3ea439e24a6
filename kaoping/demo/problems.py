"""`build_problems`: the problems ledger (民情台账) of the demo county, in every state, through the
services: raised on visits by the demo grid member and by the demo household from its phone,
open, in progress, handed on to the village, township and a department, escalated when overdue,
resolved and waiting for the household (the demo villager has one to confirm), closed satisfied,
closed unsatisfied, sent back by the household, and closed without an answer. Spread over the
villages of the first township; keyed, so a second build adds nothing."""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Household
from kaoping.problems import services
from kaoping.problems.models import CONFIRM_DAYS, Level, Problem
from kaoping.regions.models import Department, Region

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

# (category, title, description)
ASKS = [
    ("infrastructure", "村口路灯不亮", "村口到小学一段路灯坏了三盏，晚上孩子放学看不清路。"),
    ("environment", "垃圾收集点清运不及时", "收集点两三天才清一次，夏天有异味。"),
    ("dispute", "宅基地边界有争议", "与邻户因院墙位置有争议，希望村里出面调解。"),
    ("policy", "咨询医保缴费", "想了解今年城乡居民医保缴费标准和截止时间。"),
    ("relief", "独居老人需要照料", "八十多岁老人独居，行动不便，希望有人定期上门。"),
    ("infrastructure", "水渠堵塞", "田边水渠被杂物堵住，下雨时漫进农田。"),
    ("environment", "河道有漂浮物", "桥下河道漂浮垃圾较多。"),
    ("other", "希望增设健身器材", "村文化广场健身器材太少，老人孩子都想多几件。"),
    ("policy", "咨询危房改造补助", "老房子墙体开裂，想了解能否申请危房改造。"),
    ("dispute", "噪音扰民", "附近加工作坊夜间开工，影响休息。"),
]

# What happens to each demo problem, in order: the states the ledger shows.
PLAN = [
    "open",
    "in_progress",
    "village",
    "escalated",
    "township_overdue",
    "department",
    "resolved",
    "closed_satisfied",
    "closed_unsatisfied",
    "reopened",
    "closed_unanswered",
]


def build_problems(build: "Build") -> None:
    if Problem.objects.exists():
        return
    system = system_actor()
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["grid", "villager"])
    }
    now = timezone.now()
    rng = build.rng("problems")
    township = Region.objects.filter(level="township").order_by("code").first()
    villages = list(Region.objects.filter(parent=township, level="village").order_by("code"))
    made = 0
    # The demo household's own: one waiting for its answer, one closed, one it raised itself.
    villager = users.get("villager")
    grid_member = users.get("grid")
    own = (
        Household.objects.filter(pk=villager.role_assignments.get().household_id).first()
        if villager
        else None
    )
    if own is not None:
        by = grid_member or system
        made += _one(own, "resolved", ASKS[0], by, system, now, days_ago=4, key="demo:own:1")
        made += _one(
            own, "closed_satisfied", ASKS[3], by, system, now, days_ago=20, key="demo:own:2"
        )
        made += _one(own, "open", ASKS[7], villager, system, now, days_ago=1, key="demo:own:3")
    for index, village in enumerate(villages):
        households = list(
            Household.objects.filter(region__code__startswith=village.code).order_by("number")[:40]
        )
        if not households:
            continue
        picks = rng.sample(households, min(len(households), 4))
        for n, household in enumerate(picks):
            state = PLAN[(index * 4 + n) % len(PLAN)]
            ask = ASKS[(index * 3 + n) % len(ASKS)]
            by = grid_member if grid_member and _in_grid(grid_member, household) else system
            made += _one(
                household,
                state,
                ask,
                by,
                system,
                now,
                days_ago=rng.randint(1, 25),
                key=f"demo:{village.code}:{n}",
            )
    # The hourly job's first run: what is overdue at the grid or village goes up; a township's
    # overdue problem is reported to the county.
    services.problems_escalate_due(now=now)
    build.out(f"  problems: {made}")


def _in_grid(user, household) -> bool:
    return user.role_assignments.filter(region=household.region).exists()


def _one(household, state, ask, by, system, now, *, days_ago, key) -> int:
    category, title, description = ask
    problem, created = services.problem_raise(
        household=household,
        category=category,
        title=title,
        description=description,
        idempotency_key=key,
        acting_user=by,
    )
    if not created:
        return 0
    if state == "closed_unanswered":
        days_ago = max(days_ago, CONFIRM_DAYS + 6)
    # Raised some days ago. What is still being worked on is not yet overdue (the hourly job
    # would escalate it); what is done had the grid's deadline counted from the day raised.
    raised = now - timedelta(days=days_ago)
    working = state in ("open", "in_progress", "escalated", "village", "township_overdue")
    deadline = (
        timezone.localdate(now) + timedelta(days=2)
        if working or state == "department"
        else timezone.localdate(raised) + timedelta(days=3)
    )
    Problem.objects.filter(pk=problem.pk).update(raised_at=raised, deadline=deadline)
    problem.events.filter(action="raised").update(at=raised)
    problem.refresh_from_db()
    if state in ("open", "escalated"):
        if state == "escalated":
            _overdue(problem)
        return 1
    if state == "in_progress":
        services.problem_progress(
            problem=problem, note="已到现场查看，正在联系处理。", acting_user=system
        )
        return 1
    if state in ("village", "township_overdue", "department"):
        problem = services.problem_assign(
            problem=problem,
            level=Level.VILLAGE,
            note="网格内解决不了，请村里协调。",
            acting_user=system,
        )
        if state == "village":
            return 1
        problem = services.problem_assign(
            problem=problem, level=Level.TOWNSHIP, note="需要镇里统筹。", acting_user=system
        )
        if state == "township_overdue":
            _overdue(problem)
            return 1
        department = (
            Department.objects.filter(villages__code=problem.region.code[:12])
            .order_by("code")
            .first()
        )
        if department is not None:
            services.problem_assign(
                problem=problem,
                level=Level.DEPARTMENT,
                department=department,
                note="涉及部门职能，转部门办理。",
                acting_user=system,
            )
        return 1
    problem = services.problem_resolve(
        problem=problem, resolution="已协调处理完毕，并回访告知。", acting_user=system
    )
    # Resolved a few days after it was raised: within the grid's three days or not.
    resolved = min(raised + timedelta(days=1 + days_ago // 4), now)
    if state == "closed_unanswered":
        resolved = now - timedelta(days=CONFIRM_DAYS + 2)
    Problem.objects.filter(pk=problem.pk).update(resolved_at=resolved)
    problem.events.filter(action="resolved").update(at=resolved)
    problem.refresh_from_db()
    if state == "resolved":
        return 1
    if state == "closed_unanswered":
        services.problem_close_unconfirmed(
            problem=problem, note="电话回访未接通。", acting_user=system
        )
        return 1
    if state == "closed_satisfied":
        services.problem_confirm(
            problem=problem,
            satisfied=True,
            rating=5,
            comment="办得很快，谢谢！",
            acting_user=system,
        )
        return 1
    if state == "closed_unsatisfied":
        services.problem_confirm(
            problem=problem,
            satisfied=True,
            rating=2,
            comment="解决了，但拖得太久。",
            acting_user=system,
        )
        return 1
    # reopened: the household says it is not solved.
    services.problem_confirm(
        problem=problem,
        satisfied=False,
        rating=1,
        comment="问题还在，没有解决。",
        acting_user=system,
    )
    return 1


def _overdue(problem) -> None:
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.localdate() - timedelta(days=2))
