"""Visit coverage (走访覆盖率): the share of households visited at least once in a cycle.

A county sets how often every household is to be visited (`CoverageRule`: every month by default,
or every two months, or every quarter) and after how many days without a visit a household is
overdue (31 by default). Coverage is counted over the households that exist now, by the code of
their region: a grid's households, and by code prefix a village's, township's and county's, one
grouped query per level whatever the number of grids (no loop over grids). Any visit counts: a
grid member's, a leader's or chief's, in person or by phone (a household working away is reached
by phone, and the rule asks that it be reached, not where).

The grid module pushes coverage as a metric before a close (`coverage_push`, listed in
`settings.PERIOD_HOOKS["before_close"]`): the close reads metric values and never imports a
feeder. The overdue reminder (`overdue_remind`) is a periodic job.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import ensure, is_unrestricted, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.inbox.services import messages_deliver
from kaoping.ledger.models import MetricValue
from kaoping.ledger.services import metric_values_put
from kaoping.people.models import Household, Subject
from kaoping.regions.codes import LEVEL_DIGITS, LEVEL_ORDER
from kaoping.regions.models import Region
from kaoping.schemes.models import SchemeNode

from .models import CoverageCycle, CoverageRule, Visit

# The metric names the grid module pushes: a subject's coverage is that of the households under
# its region (a village's for a village, its team and its cadres; a grid's for a grid), or for a
# household 100 when it was visited in the period and 0 when not.
PUSHED_METRICS = ("visit_coverage", "grid_visit_coverage")
PERCENT_PLACES = Decimal("0.0001")  # what a metric value keeps (METRIC_SCALE)
CYCLE_MONTHS = {CoverageCycle.MONTH: 1, CoverageCycle.TWO_MONTHS: 2, CoverageCycle.QUARTER: 3}
# The reminder goes out once a cycle, in its last days (from the 25th of a 31-day month).
REMIND_DAYS_LEFT = 7
OVERDUE_DAYS_MIN, OVERDUE_DAYS_MAX = 7, 366


# --- the cycle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """One visiting cycle: every household should be visited once between start and end."""

    kind: str
    start: date
    end: date

    @property
    def key(self) -> str:
        """The cycle's first month, as the pages' `cycle` parameter: 2026-11."""
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == CoverageCycle.MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}
        return _("%(year)d-%(first)02d to %(last)02d") % {
            "year": self.start.year,
            "first": self.start.month,
            "last": self.end.month,
        }

    def previous(self) -> "Cycle":
        return cycle_of(self.start - timedelta(days=1), self.kind)

    def next(self) -> "Cycle":
        return cycle_of(self.end + timedelta(days=1), self.kind)


def cycle_of(day: date, kind: str = CoverageCycle.MONTH) -> Cycle:
    """The cycle of `kind` that holds `day` (two-month cycles are Jan–Feb, Mar–Apr, …)."""
    months = CYCLE_MONTHS[kind]
    first = (day.month - 1) // months * months + 1
    last = first + months - 1
    return Cycle(
        kind, date(day.year, first, 1), date(day.year, last, calendar.monthrange(day.year, last)[1])
    )


def cycle_from_key(key: str, kind: str) -> Cycle | None:
    """The cycle holding the month `key` (2026-11), or None when `key` is not a month."""
    try:
        year, month = (int(part) for part in key.split("-"))
        return cycle_of(date(year, month, 1), kind)
    except ValueError:
        return None


def rule_for(county_code: str) -> CoverageRule:
    """The county's rule, or the default one (every month, overdue after 31 days), unsaved."""
    code = county_code[: LEVEL_DIGITS["county"]]
    found = CoverageRule.objects.filter(county__code=code).select_related("county").first()
    return found or CoverageRule(cycle=CoverageCycle.MONTH, overdue_days=31)


def coverage_rule_set(
    *, county: Region, cycle: str, overdue_days: int, acting_user
) -> CoverageRule:
    """Set how often the county wants every household visited and after how many days a
    household is overdue. The county's own setting: a county admin's (`region.change`)."""
    ensure(acting_user, "region.change", county)
    if county.level != "county":
        raise KaopingError(_("The visiting rule is set for a county."))
    if cycle not in CYCLE_MONTHS:
        raise KaopingError({"cycle": _("Choose a visiting cycle from the list.")})
    if not OVERDUE_DAYS_MIN <= int(overdue_days) <= OVERDUE_DAYS_MAX:
        raise KaopingError(
            {
                "overdue_days": _("Between %(min)d and %(max)d days.")
                % {"min": OVERDUE_DAYS_MIN, "max": OVERDUE_DAYS_MAX}
            }
        )
    with transaction.atomic():
        rule = CoverageRule.objects.select_for_update().filter(county=county).first()
        before = {"cycle": rule.cycle, "overdue_days": rule.overdue_days} if rule else {}
        if rule is None:
            rule = CoverageRule(county=county)
        rule.cycle, rule.overdue_days = cycle, int(overdue_days)
        rule.save()
        audit_record(
            actor=acting_user,
            action="grid.coverage_rule.changed",
            obj=rule,
            region_code=county.code,
            before=before,
            after={"cycle": cycle, "overdue_days": int(overdue_days)},
        )
    return rule


# --- coverage -----------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    """Coverage of one region in one cycle."""

    code: str
    name: str
    level: str
    households: int
    visited: int

    @property
    def not_visited(self) -> int:
        return self.households - self.visited

    @property
    def percent(self) -> Decimal:
        return percent(self.visited, self.households)


def percent(visited: int, households: int) -> Decimal:
    """visited / households in %, to 4 places, rounded half up (0 when there are none)."""
    if not households:
        return Decimal(0)
    return (Decimal(visited * 100) / households).quantize(PERCENT_PLACES, ROUND_HALF_UP)


def coverage_grouped(
    households: QuerySet, *, digits: int, start: date, end: date
) -> dict[str, tuple[int, int]]:
    """{region code cut to `digits`: (households, visited in [start, end])} of `households`, in
    one grouped query: the unit of the set-based pages, the metric push and the bench.

    A household is visited when any visit of it falls in the dates, whichever grid recorded it.
    """
    # `IN (the visited households)`, not a correlated EXISTS: both engines compute the set once
    # (PostgreSQL a hashed subplan, SQLite a temporary index) instead of probing per household.
    visited = Visit.objects.filter(visited_on__gte=start, visited_on__lte=end).values(
        "household_id"
    )
    rows = (
        # A household's region is a grid or a village: cut to a grid, its code is its own.
        households.annotate(
            unit=F("region__code")
            if digits >= LEVEL_DIGITS["grid"]
            else Substr("region__code", 1, digits)
        )
        .order_by()
        .values("unit")
        .annotate(n=Count("pk"), seen=Count("pk", filter=Q(pk__in=visited)))
        .values_list("unit", "n", "seen")
    )
    return {unit: (n, seen) for unit, n, seen in rows}


def scoped_households(user, prefix: str = "") -> QuerySet:
    """The households `user` may see visits of, under the region code `prefix`."""
    households = Household.objects.for_user(user, "visit.view")
    return households.filter(region__code__startswith=prefix) if prefix else households


def child_level(level: str) -> str | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def coverage_children(
    *, user, region: Region, cycle: Cycle
) -> tuple[CoverageRow, list[CoverageRow]]:
    """The coverage of `region` and of each of its children (townships of a county, …) that has
    households in the user's scope: two queries. The region's figure is the sum of its
    children's, so a roll-up always equals the sum of what it rolls up."""
    level = child_level(region.level)
    digits = LEVEL_DIGITS[level] if level else len(region.code)
    grouped = coverage_grouped(
        scoped_households(user, region.code), digits=digits, start=cycle.start, end=cycle.end
    )
    known = {
        code: (name, found_level)
        for code, name, found_level in Region.objects.filter(code__in=list(grouped)).values_list(
            "code", "name", "level"
        )
    }
    children = [
        CoverageRow(code, *known.get(code, (code, level or "")), n, seen)
        for code, (n, seen) in sorted(grouped.items())
    ]
    total = CoverageRow(
        region.code,
        region.name,
        region.level,
        sum(row.households for row in children),
        sum(row.visited for row in children),
    )
    if not level:  # a grid: its own figure, no children
        children = []
    return total, children


def home_region(user) -> Region | None:
    """Where the coverage page starts for `user`: the region their visit scopes share (a
    grid member's grid, a township's township, the county for a county admin)."""
    if is_unrestricted(user):
        return Region.objects.filter(level="county").order_by("code").first()
    prefixes = [scope.prefix for scope in scopes_for(user, "visit.view")]
    if not prefixes:
        return None
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    # Snap down to a level: a department's villages share only their county.
    lengths = sorted((d for d in LEVEL_DIGITS.values() if d <= len(common)), reverse=True)
    for length in lengths:
        found = Region.objects.filter(code=common[:length]).first()
        if found is not None:
            return found
    return None


# --- the overdue list ---------------------------------------------------------------------------


def overdue_households(*, user, prefix: str, today: date, days: int) -> QuerySet:
    """Households under `prefix` in the user's scope whose last visit (up to today) is `days` or
    more days ago, or who were never visited; never visited first, then longest ago, with
    `last_visit` annotated. One query (and one to count for a paginator)."""
    last = (
        Visit.objects.filter(household_id=OuterRef("pk"), visited_on__lte=today)
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    cutoff = today - timedelta(days=days)
    return (
        scoped_households(user, prefix)
        .annotate(last_visit=Subquery(last))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lte=cutoff))
        .select_related("region", "head")
        .order_by("region__code", "number")
    )


# --- the metric the close reads -----------------------------------------------------------------


def subject_coverage(*, kind: str, prefix: str, start: date, end: date) -> dict[int, Decimal]:
    """{subject id: coverage %} of the active subjects of `kind` under `prefix`, set-based: one
    grouped query per length of the subjects' region codes (one, in practice). A subject whose
    region holds no household gets no value."""
    subjects = Subject.objects.filter(kind=kind, active=True, region__code__startswith=prefix)
    if kind == "household":
        visited = Exists(
            Visit.objects.filter(
                household_id=OuterRef("household_id"), visited_on__gte=start, visited_on__lte=end
            )
        )
        rows = subjects.filter(household__isnull=False).annotate(seen=visited)
        return {pk: Decimal(100 if seen else 0) for pk, seen in rows.values_list("pk", "seen")}
    values: dict[int, Decimal] = {}
    lengths = (
        subjects.annotate(n=Length("region__code"))
        .order_by()
        .values_list("n", flat=True)
        .distinct()
    )
    for digits in sorted(lengths):
        grouped = coverage_grouped(
            Household.objects.filter(region__code__startswith=prefix),
            digits=digits,
            start=start,
            end=end,
        )
        of_length = subjects.annotate(n=Length("region__code")).filter(n=digits)
        for pk, code in of_length.values_list("pk", "region__code"):
            if code in grouped:
                values[pk] = percent(grouped[code][1], grouped[code][0])
    return values


def coverage_push(period, spec, acting_user) -> int:
    """Push `visit_coverage` and `grid_visit_coverage` of every subject of `period` before its
    close (a `before_close` hook; joins the close's transaction). Returns the values pushed.

    Nothing is pushed over a posted or final period (its figures are what was posted), for a
    scheme that uses neither metric, or when no visit is recorded under the scheme's region in
    the period: the figures typed in before the county used visits stay as they were.
    """
    ensure(acting_user, "period.close", period)
    if period.status in ("posted", "final"):
        return 0
    used = sorted(
        set(
            SchemeNode.objects.filter(
                version_id=period.version_id, metric__in=PUSHED_METRICS
            ).values_list("metric", flat=True)
        )
    )
    if not used:
        return 0
    region = period.scheme.region.code
    if not Visit.objects.filter(
        grid__code__startswith=region, visited_on__gte=period.start, visited_on__lte=period.end
    ).exists():
        return 0
    values = subject_coverage(
        kind=period.scheme.subject_kind, prefix=region, start=period.start, end=period.end
    )
    with transaction.atomic():
        # A subject that no longer has households keeps no stale figure.
        MetricValue.objects.filter(
            scheme_id=period.scheme_id, period_label=period.label, metric__in=used
        ).delete()
        pushed = metric_values_put(
            scheme=period.scheme,
            period_label=period.label,
            values=[
                (Subject(pk=pk), metric, value) for pk, value in values.items() for metric in used
            ],
        )
        audit_record(
            actor=acting_user,
            action="grid.coverage.pushed",
            obj=period,
            region_code=region,
            after={"metrics": used, "subjects": len(values)},
        )
    return pushed


# --- the reminder -------------------------------------------------------------------------------


def overdue_remind(*, now) -> str | None:
    """In the last REMIND_DAYS_LEFT days of each county's cycle, tell every grid member (logins
    of the grid member role on a grid, and on a village: the grid leader) how many households of
    their grids are not yet visited in this cycle, linking to the overdue list. Once a cycle per
    login (the inbox dedupes by key), so the daily job may run as often as it likes."""
    today = timezone.localdate(now)
    actor = system_actor()
    sent = 0
    for county in Region.objects.filter(level="county").order_by("code"):
        rule = rule_for(county.code)
        cycle = cycle_of(today, rule.cycle)
        if (cycle.end - today).days >= REMIND_DAYS_LEFT:
            continue
        grouped = coverage_grouped(
            Household.objects.filter(region__code__startswith=county.code),
            digits=LEVEL_DIGITS["grid"],
            start=cycle.start,
            end=min(cycle.end, today),
        )
        lagging = {code: n - seen for code, (n, seen) in grouped.items() if n > seen}
        if not lagging:
            continue
        posts = RoleAssignment.objects.filter(
            role=Role.GRID_MEMBER, region__code__startswith=county.code, user__is_active=True
        ).values_list("user_id", "region__code")
        grids_of: dict[int, set[str]] = defaultdict(set)
        for user_id, code in posts:
            grids_of[user_id] |= {grid for grid in lagging if grid.startswith(code)}
        names = dict(Region.objects.filter(code__in=list(lagging)).values_list("code", "name"))
        url = reverse("grid:overdue")
        for user_id, grids in sorted(grids_of.items()):
            if not grids:
                continue
            total = sum(lagging[grid] for grid in grids)
            body = "\n".join(
                _("%(grid)s: %(n)d not yet visited") % {"grid": names.get(g, g), "n": lagging[g]}
                for g in sorted(grids)
            )
            sent += messages_deliver(
                recipients=[user_id],
                title=ngettext(
                    "%(n)d household not yet visited in %(cycle)s",
                    "%(n)d households not yet visited in %(cycle)s",
                    total,
                )
                % {"n": total, "cycle": cycle.label},
                kind="grid_overdue",
                body=body,
                url=url,
                dedupe_key=f"grid-overdue:{county.code}:{cycle.key}",
                acting_user=actor,
            )
    return f"{sent} reminders" if sent else None
