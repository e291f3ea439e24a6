"""`build_visits`: grid members' visits in the demo county, so that coverage means something.

October 2026 — the last month the demo closes (`scoring.CLOSED_UNTIL`) — and the current month up
to today: every grid has a diligence of its own, so some grids reach every household (100 %),
most reach nearly all, and a few lag far behind; a few households in each village are never
reached in person (working away: some are phoned, some not reached at all). Visits are spread
over the month, later ones only up to today, so coverage rises day by day and the households
last seen early in October show on the overdue list.

It runs before `build_scoring`, so that closing the grid-work scheme's October (and every other
scheme's October) takes coverage from these visits through the close's `before_close` hook.

Visits are written as bulk INSERTs (`bulk_create` in `Build.batch_size` rows), not through
`visit_record`: thousands of households. The demo's grid login records its own grid's visits;
elsewhere the visitor is the system actor on behalf of the grid's member or leader
(`visitor_person`), since those residents have no login.
"""

import calendar
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.grid.models import Visit, VisitKind
from kaoping.people.models import GridPost, GridPostKind, Household
from kaoping.regions.models import Level, Region

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

FIRST_MONTH = date(2026, 10, 1)  # the month the demo closes last
UNREACHABLE_SHARE = 0.02  # households working away: never visited in person
PHONED_SHARE = 0.5  # of those, the share reached by phone
NOTES = ["入户走访，家中情况正常", "了解家庭近况", "宣传政策", "走访老人", "核对人口信息"]


def _diligence(rng) -> float:
    """The share of its households a grid reaches in a month: about a third of grids reach all,
    most nearly all, one in six lags far behind."""
    draw = rng.random()
    if draw < 0.35:
        return 1.0
    if draw < 0.83:
        return rng.uniform(0.85, 0.99)
    return rng.uniform(0.45, 0.75)


def _months(today: date) -> list[tuple[date, date]]:
    """(first day, last day visited) of October and of the current month, up to today."""
    months = []
    for first in sorted({FIRST_MONTH, today.replace(day=1)}):
        last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        if first <= today:
            months.append((first, min(last, today)))
    return months


def build_visits(build: "Build") -> None:
    if Visit.objects.exists():
        return
    from .generator import COUNTY_CODE  # the generator lists this step: import here, not above

    today = timezone.localdate()
    system = system_actor()
    grid_login = get_user_model().objects.filter(username="grid").first()
    login_grid = (
        grid_login.role_assignments.values_list("region_id", flat=True).first()
        if grid_login
        else None
    )
    posts: dict[int, list[tuple[int, str]]] = {}
    for region_id, person_id, post in (
        GridPost.objects.filter(
            region__code__startswith=COUNTY_CODE,
            post__in=[GridPostKind.MEMBER, GridPostKind.LEADER],
        )
        .order_by("region_id", "post", "person_id")
        .values_list("region_id", "person_id", "post")
    ):
        posts.setdefault(region_id, []).append((person_id, post))
    households: dict[int, list[int]] = {}
    for pk, region_id in (
        Household.objects.filter(region__code__startswith=COUNTY_CODE, region__level=Level.GRID)
        .order_by("region_id", "number")
        .values_list("pk", "region_id")
    ):
        households.setdefault(region_id, []).append(pk)
    grids = dict(Region.objects.filter(pk__in=list(households)).values_list("pk", "code"))

    rows: list[Visit] = []
    written = 0
    for grid_id in sorted(households, key=grids.get):
        rng = build.rng("visits", grids[grid_id])
        members = households[grid_id]
        visitors = posts.get(grid_id) or [(None, "")]
        away = {pk for pk in members if rng.random() < UNREACHABLE_SHARE}
        phoned = {pk for pk in away if rng.random() < PHONED_SHARE}
        diligence = _diligence(rng)  # the grid's own, month after month
        for first, last in _months(today):
            # The share reached so far: all the month's work when it is over, less before.
            month_end = date(
                first.year, first.month, calendar.monthrange(first.year, first.month)[1]
            )
            elapsed = ((last - first).days + 1) / ((month_end - first).days + 1)
            share = diligence * min(1.0, elapsed * 1.15)
            span = (last - first).days
            for pk in members:
                if pk in away and pk not in phoned:
                    continue
                if rng.random() >= share:
                    continue
                person, post = rng.choice(visitors)
                on_login_grid = grid_id == login_grid and post == GridPostKind.MEMBER
                rows.append(
                    Visit(
                        household_id=pk,
                        grid_id=grid_id,
                        visitor=grid_login if on_login_grid else system,
                        visitor_person_id=person,
                        visitor_post=post,
                        kind=VisitKind.PHONE if pk in phoned else VisitKind.IN_PERSON,
                        visited_on=first + timedelta(days=rng.randint(0, span)),
                        note=rng.choice(NOTES),
                        idempotency_key=f"demo:{pk}:{first:%Y-%m}",
                    )
                )
        if len(rows) >= build.batch_size:
            Visit.objects.bulk_create(rows, batch_size=build.batch_size)
            written, rows = written + len(rows), []
            build.progress(f"  visits: {written:,}")
    Visit.objects.bulk_create(rows, batch_size=build.batch_size)
    written += len(rows)
    build.out(f"  visits: {written:,} in {len(households):,} grids")
