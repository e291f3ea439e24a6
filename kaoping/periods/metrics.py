"""Metric providers: named figures that metric items score by bands.

A metric is either *computed* here, from other modules' data, by one set-based statement per
period; or *reported*: a department enters the figure for a subject and period (e.g. collective
income growth from the agriculture bureau). Both end up as `ledger_metricvalue` rows before the
close reads them. Feeders write metrics, never results.
"""

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.schemes.models import METRIC_SCALE

from .engine import Scope, rdiv

# name → function(scope) returning (sql, params) that inserts the metric's rows for the period.
COMPUTED: dict[str, Callable[[Scope], tuple[str, list]]] = {}


def system_metrics(scheme_id: int | None = None) -> set[str]:
    """The metric names nobody types in: computed here, or pushed by a feeder's `before_close`
    hook (`settings.PUSHED_METRICS`, e.g. the grid module's visit coverage); for a scheme, also
    the ones a feeder fills for that scheme alone (`settings.FED_METRICS`, e.g. the metric items
    an evaluation plan feeds with its results)."""
    names = set(COMPUTED) | set(getattr(settings, "PUSHED_METRICS", {}))
    if scheme_id is not None:
        for path in getattr(settings, "FED_METRICS", ()):
            names |= import_string(path)(scheme_id)
    return names


def computed_metric(name: str):
    def register(function):
        COMPUTED[name] = function
        return function

    return register


@computed_metric("household_points_share")
def household_points_share(scope: Scope) -> tuple[str, list]:
    """Share (in %, as the docs and the shipped bands have it: 75 means 75 %) of a village's
    households with at least one approved points entry in the period, rounded half up."""
    cte, params = scope.cte()
    share = rdiv(f"c.earned * {100 * METRIC_SCALE}", "c.households")
    # Households are counted per village first, by the village part of their region's code (a
    # grid's code extends its village's), and then matched to the villages by equal codes: a
    # join on "code within the village's range" made PostgreSQL compare every village with
    # every household. A village without households gets no value, as before.
    village = f"SUBSTR(hr.code, 1, {LEVEL_DIGITS['village']})"
    return (
        "INSERT INTO ledger_metricvalue (scheme_id, period_label, subject_id, metric, value_scaled) "
        + cte
        + f"SELECT %s, %s, u.subject_id, %s, {share} "
        "FROM u JOIN people_subject s ON s.id = u.subject_id JOIN regions_region vr ON vr.id = s.region_id "
        f"JOIN (SELECT {village} AS village, COUNT(h.id) AS households, COUNT(e.hid) AS earned "
        "FROM people_household h JOIN regions_region hr ON hr.id = h.region_id "
        # A household whose entries were all reversed has earned nothing: net count > 0. A
        # reversal is the entry that `reverses` another (a negative adjustment has sign −1 too).
        "LEFT JOIN (SELECT hs.household_id AS hid FROM ledger_entry le "
        "JOIN people_subject hs ON hs.id = le.subject_id "
        "WHERE hs.kind = 'household' AND le.status = 'approved' "
        "AND le.occurred_on >= %s AND le.occurred_on <= %s "
        "GROUP BY hs.household_id HAVING SUM(CASE WHEN le.reverses_id IS NULL THEN 1 ELSE -1 END) > 0"
        f") e ON e.hid = h.id GROUP BY {village}) c "
        "ON c.village = vr.code",
        [
            *params,
            scope.scheme_id,
            scope.period_label,
            "household_points_share",
            scope.start,
            scope.end,
        ],
    )
