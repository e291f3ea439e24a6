"""The rates the close reads: pushed by the before_close hook, set-based, for every subject."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import MetricValue
from kaoping.periods import services as periods
from kaoping.problems import services
from kaoping.problems.models import Problem
from kaoping.schemes import services as schemes

pytestmark = pytest.mark.django_db

GRID_SCHEME = """
code: grid-work
version: 1
name: 网格工作考评
subject_kind: grid
cadence: month
base: 0
tree:
  - code: P
    name: 民情办理
    children:
      - code: P1
        name: 按时办结率
        rule: metric
        metric: grid_problems_on_time_rate
        bands:
          - {min: 90, min_inclusive: true, points: 10}
      - code: P2
        name: 群众满意率
        rule: metric
        metric: grid_problem_satisfaction
        bands:
          - {min: 90, min_inclusive: true, points: 5}
"""

VILLAGE_SCHEME = """
code: village-problems
version: 1
name: 村级民情考评
subject_kind: village
cadence: month
base: 0
tree:
  - code: P
    name: 民情办理
    children:
      - code: P1
        name: 按时办结率
        rule: metric
        metric: problems_on_time_rate
        bands:
          - {min: 90, min_inclusive: true, points: 10}
"""

GRID1, GRID2 = "330304001001001", "330304001001002"


def households(county, grid):
    return [h for h in county.households.values() if h.region.code == grid]


def make(county, household, *, who, key, rating=None, late=False, open_overdue=False):
    actor = county.users[who]
    with transaction.atomic():
        problem, _ = services.problem_raise(
            household=household,
            category="other",
            title="问题",
            idempotency_key=key,
            acting_user=actor,
        )
        if open_overdue:
            Problem.objects.filter(pk=problem.pk).update(
                deadline=timezone.localdate() - timedelta(days=1)
            )
            return problem
        if late:
            Problem.objects.filter(pk=problem.pk).update(
                deadline=timezone.localdate() - timedelta(days=1)
            )
            problem.refresh_from_db()
        problem = services.problem_resolve(problem=problem, resolution="办好了", acting_user=actor)
        if rating is None:
            Problem.objects.filter(pk=problem.pk).update(
                resolved_at=timezone.now() - timedelta(days=10)
            )
            problem.refresh_from_db()
            return services.problem_close_unconfirmed(
                problem=problem, acting_user=county.users["bob"]
            )
        return services.problem_confirm(
            problem=problem, satisfied=True, rating=rating, acting_user=system_actor()
        )


def close(county, text):
    system = system_actor()
    version, _ = schemes.scheme_load(
        text=text, filename="s.yaml", region=county.region("330304"), acting_user=system
    )
    today = timezone.localdate()
    period = periods.period_open(
        scheme=version.scheme, label=f"{today.year}-{today.month:02d}", acting_user=system
    )
    with transaction.atomic():
        periods.period_close(period=period, acting_user=system)
    return {
        (m.subject.region.code, m.metric): m.value_scaled
        for m in MetricValue.objects.filter(scheme=version.scheme).select_related("subject__region")
    }


def test_grid_rates_are_pushed_on_close(county):
    g1, g2 = households(county, GRID1), households(county, GRID2)
    make(county, g1[0], who="dave", key="a", rating=5)  # on time, satisfied
    make(county, g1[1], who="dave", key="b", rating=3)  # on time, not satisfied
    make(county, g1[0], who="dave", key="c", late=True, rating=4)  # late, satisfied
    make(county, g1[1], who="dave", key="d", open_overdue=True)  # open past its deadline
    make(county, g2[0], who="carol", key="e")  # closed unanswered: on time, not rated
    values = close(county, GRID_SCHEME)
    scale = 10_000  # ledger.METRIC_SCALE
    assert values[(GRID1, "grid_problems_on_time_rate")] == Decimal("50.00") * scale  # 2 of 4
    assert values[(GRID1, "grid_problem_satisfaction")] == round(
        Decimal("66.67") * scale
    )  # 2 of 3 rated 4–5
    assert values[(GRID2, "grid_problems_on_time_rate")] == 100 * scale
    assert values[(GRID2, "grid_problem_satisfaction")] == 100 * scale  # nothing rated
    # Every grid of the county gets a value; a grid without problems did nothing late.
    assert values[("330304002001001", "grid_problems_on_time_rate")] == 100 * scale
    assert len([k for k in values if k[1] == "grid_problems_on_time_rate"]) == 4


def test_village_rates_add_up_their_grids_and_only_used_metrics_are_pushed(county):
    g1, g2 = households(county, GRID1), households(county, GRID2)
    make(county, g1[0], who="dave", key="a", rating=5)
    make(county, g1[1], who="dave", key="b", late=True, rating=5)
    make(county, g2[0], who="carol", key="c", rating=5)
    make(county, g2[1], who="carol", key="d", late=True, rating=5)
    make(county, g2[1], who="carol", key="e", rating=5)
    values = close(county, VILLAGE_SCHEME)
    assert values[("330304001001", "problems_on_time_rate")] == Decimal("60.00") * 10_000
    assert values[("330304002001", "problems_on_time_rate")] == 100 * 10_000
    assert {metric for _code, metric in values} == {"problems_on_time_rate"}
