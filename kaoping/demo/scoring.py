"""`build_scoring`: a year of scoring in the demo county, so that there are results to look at.

Every scheme file in `schemes/` is loaded for 瓯海区 by the `county` login. The demo's today is
TODAY, late November 2026: each scheme's ledger holds entries from January on; January to
October, and the quarters and half-year inside them, are closed; the current period (November,
2026-Q4, 2026-H2) is open with the entries of its first weeks, for users to review, complete and
close themselves. The year is not over, so it is not closed and has no year-end assessment.
The contest (擂台比武, HISTORY) has also run through 2025: its months, quarters and year, with
the year-end assessment, are closed, so the annual ladder (年度后三名 表态发言) has happened once.

What makes the data plausible rather than uniform noise:

* Strength. Every 村社 has a strength that persists through the year with a slow drift (some
  climb, some fall), so rankings mean something. Teams, cadres, party members and households
  take part of their village's strength and add their own. Stronger subjects collect more bonus
  items, fewer deductions, better ratings and better reported figures. 擂台比武's tracks go by
  strength too: the strongest fifth 示范, the next half 创优, the rest 强基 (with exceptions).
* Items. Entries are drawn per subject and period from the subject's own variant of the scheme
  (a D-class member is never booked for an item D members are excluded from), except the items
  an evaluation plan file (`evaluations/*.yaml`) feeds: those come only from the plan's closed
  rounds (`kaoping/demo/evaluations.py`, run before the closes); small-point items
  are common, big-point ones and 加分项 honours rare. Ratings come from several raters on the
  day a township holds its 集中评比 (monthly: a day of its own after the 15th; longer periods:
  their last week), so an open month has the ratings of the townships that have met. Metric
  items score the figures departments report (`MetricValue`), one smooth series per village and
  metric, so a village's coverage agrees across schemes. Computed metrics
  (`kaoping.periods.metrics.COMPUTED`) are left to the close, and so are the metrics the
  evaluations module pushes from the demo's services to linked households (FED_METRICS), and
  the ones read from another scheme's results (the team's 擂台比武 lists, `source:`);
  `member_points_percentile` is derived from the closed party-member months, as the cadres'
  scheme describes it.
* The ledger looks used, and is what the ledger services would have written: every entry is in
  its village's hash chain (`kaoping ledger verify` passes); entries were reviewed by someone
  other than their recorder, a few rejected with a reason, and recent weeks still wait for
  review; a few approved entries are cancelled by a reversing entry; a handful of vetoes fire
  across the county. Entries are credited to the demo logins where those fit (the grid
  member's grid, the villager's own declarations, the department's villages, the township's
  ratings and reviews, the review group's village), else to no one.

Everything is drawn from `Build.rng` streams named after the scheme and village, so a seed gives
the same ledger whatever else changes; only `created_at` is the wall clock. Entries are made
village by village and inserted as plain rows (`rows_insert`), `Build.batch_size` at a time. Above
FULL_RATE_SUBJECTS households (or members) the rates are scaled down, every household still
getting at least one entry, so a million households make a few million entries.

Transactions: this step declares `manages_transactions` and `demo_build` runs it outside its
per-step wrapper: it writes in many short transactions (each `scheme_load` and `period_close`
is one), not one that holds the write lock for the whole year.
"""

import math
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Case, Value, When
from django.utils import timezone

from kaoping.accounts.models import RoleAssignment
from kaoping.core.bulk import rows_insert
from kaoping.evaluations.spec import PlanSpec
from kaoping.ledger.chain import CHAINED_FIELDS, Chained, ChainHeads
from kaoping.ledger.models import Entry, EntrySource, EntryStatus, MetricValue
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.metrics import COMPUTED
from kaoping.periods.models import Period, PeriodStatus
from kaoping.periods.services import period_close, period_open
from kaoping.regions.models import Level, Region
from kaoping.schemes.calendar import labels_within, period_dates
from kaoping.schemes.loader import load_yaml_model
from kaoping.schemes.models import METRIC_SCALE, QTY_SCALE, Scheme
from kaoping.schemes.scoring import entry_points
from kaoping.schemes.services import scheme_load
from kaoping.schemes.sources import source_items
from kaoping.schemes.spec import FlatNode, Rule, SchemeSpec, Section

if TYPE_CHECKING:
    from .generator import Build

SCHEMES_DIR = Path(settings.BASE_DIR) / "schemes"
# Evaluation plan files: the items they feed get no random entries (see `evaluation_items`).
EVALUATIONS_DIR = Path(settings.BASE_DIR) / "evaluations"
# Metrics the evaluations module pushes at every close from the services members render their
# linked households, which the demo records for the whole year (`kaoping/demo/evaluations.py`):
# nobody reports them. (The grid's coverage is still reported: its visits start in October.)
FED_METRICS = frozenset(
    name for name, module in settings.PUSHED_METRICS.items() if module == "evaluations"
)

TODAY = date(2026, 11, 20)
YEAR_START = date(2026, 1, 1)
# Schemes whose ledger starts a year earlier, so that a whole year (and its annual consequences)
# is closed: the contest, whose year ends with 年度后三名 表态发言.
HISTORY: dict[str, date] = {"leitai-biwu": date(2025, 1, 1)}
# Ratings per item in those earlier periods: the jury's agreed level (one, sometimes a second
# opinion) rather than every judge's, which keeps the demo's build time.
HISTORY_RATERS = (1, 2)
CLOSED_UNTIL = date(2026, 10, 31)  # periods ending on or before it are closed
CADENCE_ORDER = ("month", "quarter", "half_year", "year")

# Above this many subjects of one kind, its bonus and deduction rates are scaled down by
# FULL_RATE_SUBJECTS / subjects, so that a million households make a few million entries.
FULL_RATE_SUBJECTS = 100_000


@dataclass(frozen=True)
class KindRates:
    """Entries per subject and month at average strength, and ratings per item and period."""

    bonus: float
    deductions: float
    vetoes_per_thousand: float  # veto entries per 1,000 subjects and year (at least one)
    raters: tuple[int, int]


RATES: dict[str, KindRates] = {
    "household": KindRates(1.3, 0.16, 0.25, (1, 1)),
    "party_member": KindRates(1.0, 0.45, 0.3, (1, 1)),
    "village": KindRates(0.5, 1.0, 8.0, (3, 5)),
    "team": KindRates(0.8, 0.8, 4.0, (5, 8)),
    "cadre": KindRates(0.6, 0.5, 2.0, (3, 5)),
    "grid": KindRates(0.2, 0.4, 1.0, (1, 2)),
}
# Schemes whose shape asks for other rates than their kind's: 六比六争 has some 70 deduction
# items across six indices; 红黄旗's bonus items are honours from above the county.
SCHEME_RATES: dict[str, tuple[float, float]] = {
    "liubi-liuzheng": (2.5, 2.6),
    "hong-huang-qi": (0.06, 0.9),
}
SCHEME_RATERS: dict[str, tuple[int, int]] = {
    "leitai-biwu": (5, 7),  # the 擂台's judges: township leaders, village cadres, residents
    "liubi-liuzheng": (1, 2),
}
# Party classes (M5), (bonus, deductions): committee members are busiest; members who moved
# away (D) or are frail (F) least.
CLASS_FACTORS: dict[str, tuple[float, float]] = {
    "A": (1.5, 0.8),
    "B": (1.3, 0.9),
    "C": (1.0, 1.0),
    "D": (0.3, 1.2),
    "E": (0.7, 1.1),
    "F": (0.25, 0.5),
}
# How much of a subject's strength is its village's.
VILLAGE_SHARE = {
    "village": 1.0,
    "team": 0.75,
    "cadre": 0.5,
    "party_member": 0.3,
    "household": 0.35,
    "grid": 0.4,
}
# How strongly strength moves the rates: one standard deviation multiplies or divides by e^0.6.
STRENGTH_PULL = 0.6
# Positive items of a normal group (projects done, services rendered) against 加分项 honours.
ROUTINE_WORK = 4.0
# 擂台比武's tracks, strongest first, and the share of villages on each.
TRACK_SHARES: tuple[tuple[str, float], ...] = (("示范", 0.2), ("创优", 0.5), ("强基", 0.3))

# Reported metrics: (mean, per unit of strength, village spread, monthly noise, low, high).
METRIC_PROFILES: dict[str, tuple[float, float, float, float, float, float]] = {
    "visit_coverage": (88.0, 5.0, 3.0, 2.0, 50.0, 100.0),
    "member_household_coverage": (85.0, 6.0, 4.0, 2.0, 40.0, 100.0),
    "collective_income_growth": (7.0, 6.0, 4.0, 2.5, -15.0, 35.0),
    "waste_sorting_rate": (82.0, 6.0, 4.0, 3.0, 40.0, 100.0),
    "volunteer_rate": (10.0, 2.5, 2.0, 0.5, 2.0, 25.0),
    "safety_survey_score": (91.0, 3.0, 2.0, 1.5, 70.0, 100.0),
    "integrity_survey_score": (90.0, 3.5, 2.0, 1.5, 70.0, 100.0),
    # Before the grid module's visits (kaoping/demo/grid.py: October on), a grid's figures.
    "grid_visit_coverage": (90.0, 5.0, 4.0, 3.0, 40.0, 100.0),
    "grid_problems_on_time_rate": (88.0, 6.0, 4.0, 3.0, 40.0, 100.0),
    "grid_problem_satisfaction": (90.0, 4.0, 3.0, 3.0, 50.0, 100.0),
}
DEFAULT_METRIC = (70.0, 8.0, 6.0, 3.0, 0.0, 100.0)  # a metric the demo does not know
PERCENTILE_METRIC = "member_points_percentile"  # derived from the party-member results

# Quantities by unit: (low, high, decimals).
QUANTITIES: dict[str, tuple[float, float, int]] = {
    "亩": (0.2, 3.0, 1),
    "百元": (1, 8, 0),
    "户": (1, 5, 0),
    "件": (5, 20, 0),
    "人": (1, 4, 0),
}

DECLARED_SHARE = 0.6  # of declarable bonus items, for households and party members
# Share still to review, by (year, month).
WAITING = {(TODAY.year, TODAY.month): 0.35, (TODAY.year, TODAY.month - 1): 0.05}
REVERSAL_SHARE = 0.004
# Days between an event and its recording, drawn uniformly from this tuple: mostly the same day.
RECORDING_DELAYS = (0, 0, 0, 0, 1, 1, 2, 3)
REVERSAL_NOTE = "录入有误,予以冲销"
REJECTED_REASON = "经核实不符,不予认定"


# --- the plan of one scheme ---------------------------------------------------------------


@dataclass
class ItemTable:
    """The items of one variant of a scheme, grouped by how the demo records them."""

    bonus: list[FlatNode] = field(default_factory=list)
    bonus_weights: list[float] = field(default_factory=list)  # cumulative
    deductions: list[FlatNode] = field(default_factory=list)
    deduction_weights: list[float] = field(default_factory=list)  # cumulative
    ratings: list[FlatNode] = field(default_factory=list)
    metrics: list[FlatNode] = field(default_factory=list)
    vetoes: dict[str, FlatNode] = field(default_factory=dict)

    @classmethod
    def of(
        cls, spec: SchemeSpec, variant: str | None, fed: frozenset[str] = frozenset()
    ) -> "ItemTable":
        """The items of `variant`, leaving out `fed`: those an evaluation plan feeds."""
        table = cls()
        for row in spec.flatten(variant):
            if not row.is_item or row.code in fed:
                continue
            if row.rule is Rule.RATING:
                table.ratings.append(row)
            elif row.rule is Rule.METRIC:
                table.metrics.append(row)
            elif row.rule is Rule.VETO:
                table.vetoes[row.code] = row
            elif row.points:
                # Small-point items are everyday events; big ones (见义勇为, 群体性事件) are rare,
                # and so are 加分项 honours next to the routine work a normal group rewards.
                weight = float(abs(row.points) * Decimal(str(_typical_quantity(row)))) ** -1.3
                if row.points > 0:
                    if row.section is Section.NORMAL:
                        weight *= ROUTINE_WORK
                    table.bonus.append(row)
                    table.bonus_weights.append(weight)
                else:
                    table.deductions.append(row)
                    table.deduction_weights.append(weight)
        table.bonus_weights = _cumulative(table.bonus_weights)
        table.deduction_weights = _cumulative(table.deduction_weights)
        return table


@dataclass(frozen=True)
class Window:
    """One period of the scheme's own cadence that has begun by TODAY."""

    label: str
    start: date
    end: date
    last: date  # the last day with entries: the end, or TODAY in the open period
    closed: bool

    @property
    def months(self) -> float:
        return ((self.last - self.start).days + 1) / 30.44

    @property
    def month_numbers(self) -> list[int]:
        return list(range(self.start.month, self.last.month + 1))

    @property
    def year(self) -> int:
        return self.start.year


@dataclass
class Plan:
    """A loaded scheme and what the demo needs to fill it."""

    build: "Build"
    scheme: Scheme
    spec: SchemeSpec
    tables: dict[str, ItemTable]  # by variant, '' for the scheme itself
    windows: list[Window]
    bonus_rate: float
    deduction_rate: float
    raters: tuple[int, int]
    start: date = YEAR_START  # the first day with entries
    periods: dict[str, Period] = field(default_factory=dict)
    rating_days: dict[tuple[str, str], date] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.scheme.code

    @property
    def kind(self) -> str:
        return self.scheme.subject_kind

    def table(self, track: str, region_code: str = "") -> ItemTable:
        """The items of a subject's tree: its track's variant when the scheme has one, with the
        overlays of its township and village (`SchemeSpec.variant_for`)."""
        return self.tables[self.spec.variant_for(track, region_code)]

    def rating_day(self, village: Region, window: Window) -> date | None:
        """When the village's township rates for `window`, if it has by TODAY: a day of its
        own in the second half of a month, in the last week of a longer period."""
        key = (village.code[:9], window.label)
        if key not in self.rating_days:
            rng = self.build.rng("rating-day", self.code, *key)
            if window.end - window.start < timedelta(days=31):
                self.rating_days[key] = window.start.replace(day=rng.randint(15, 28))
            else:
                self.rating_days[key] = window.end - timedelta(days=rng.randint(0, 6))
        day = self.rating_days[key]
        return day if day <= window.last else None

    def raters_for(self, window: Window) -> tuple[int, int]:
        return self.raters if window.end >= YEAR_START else HISTORY_RATERS

    def assessments(self) -> list[tuple[str, Window]]:
        """(cadence, window) of the closed roll-ups assessed on their own (a composite's `self`
        part, 年终考核): their ratings are entries of that cadence in the period's last week."""
        found = []
        for rollup in self.spec.rollups:
            if not any(str(part.source) == "self" for part in rollup.parts):
                continue
            cadence = str(rollup.cadence)
            for label in labels_within(cadence, self.start, CLOSED_UNTIL):
                start, end = period_dates(cadence, label)
                if end <= CLOSED_UNTIL:
                    found.append((cadence, Window(label, start, end, end, True)))
        return found

    def reported_metrics(self) -> list[str]:
        names = {row.metric for table in self.tables.values() for row in table.metrics}
        # Another scheme's result (`source:`, the team's 擂台比武 lists) is read by the close.
        read = {item.metric for _path, item in source_items(self.spec)}
        return sorted(names - set(COMPUTED) - FED_METRICS - read)

    def closes(self) -> list[tuple[str, str]]:
        """(cadence, label) of the periods to close: the scheme's own and its roll-ups' that
        end by CLOSED_UNTIL."""
        found = [(self.scheme.cadence, w.label) for w in self.windows if w.closed]
        for rollup in self.spec.rollups:
            cadence = str(rollup.cadence)
            for label in labels_within(cadence, self.start, CLOSED_UNTIL):
                if period_dates(cadence, label)[1] <= CLOSED_UNTIL:
                    found.append((cadence, label))
        return found


def _windows(cadence: str, first: date = YEAR_START) -> list[Window]:
    windows = []
    for label in labels_within(cadence, first, TODAY):
        start, end = period_dates(cadence, label)
        windows.append(Window(label, start, end, min(end, TODAY), end <= CLOSED_UNTIL))
    return windows


def _typical_quantity(row: FlatNode) -> float:
    if row.rule is not Rule.QUANTITY:
        return 1.0
    low, high, _decimals = QUANTITIES.get(row.unit or "", (1, 4, 0))
    return (low + high) / 2


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng: Random, rows: list[FlatNode], cumulative: list[float]) -> FlatNode:
    return rows[min(bisect(cumulative, rng.random() * cumulative[-1]), len(rows) - 1)]


def _poisson(rng: Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation; Knuth's product would underflow
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _day(rng: Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _quantity(rng: Random, row: FlatNode) -> Decimal:
    if row.rule is not Rule.QUANTITY:
        return Decimal(1)
    low, high, decimals = QUANTITIES.get(row.unit or "", (1, 4, 0))
    value = Decimal(str(round(rng.uniform(low, high), decimals)))
    return max(value, Decimal(1).scaleb(-decimals))


def _level(rng: Random, row: FlatNode, quality: float) -> tuple[str, Decimal]:
    """The level a rater gives: the one nearest to a noisy reading of the subject's quality."""
    seen = quality + rng.gauss(0, 0.08)
    return min(row.levels, key=lambda level: abs(float(level[1]) - seen))


# --- who recorded and who reviewed --------------------------------------------------------


@dataclass
class Logins:
    """The demo logins, and where each plausibly records or reviews entries.

    Scopes are (user id, where): a grid, township code, set of village ids, village id or
    household id. Nobody reviews an entry they recorded (as `entries_review` enforces).
    """

    county: object
    grid: tuple[int, int] | None = None
    township: tuple[int, str] | None = None
    dept: tuple[int, set[int]] | None = None
    dept_owner: str = ""  # `dept:<code>`: the items the scheme gives the login's department
    secretary: tuple[int, int] | None = None
    review: tuple[int, int] | None = None
    villager: tuple[int, int] | None = None
    reviewers: dict[tuple[str, int, int | None], int | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Logins":
        logins = cls(county=get_user_model().objects.get(username="county"))
        for assignment in RoleAssignment.objects.select_related("user", "region", "department"):
            name, user_id = assignment.user.username, assignment.user_id
            if name == "grid":
                logins.grid = (user_id, assignment.region_id)
            elif name == "township":
                logins.township = (user_id, assignment.region.code)
            elif name == "dept":
                villages = set(assignment.department.villages.values_list("pk", flat=True))
                logins.dept = (user_id, villages)
                logins.dept_owner = f"dept:{assignment.department.code}"
            elif name == "secretary":
                logins.secretary = (user_id, assignment.region_id)
            elif name == "review":
                logins.review = (user_id, assignment.region_id)
            elif name == "villager" and assignment.household_id:
                logins.villager = (user_id, assignment.household_id)
        return logins

    def in_township(self, village: Region) -> int | None:
        if self.township and village.code.startswith(self.township[1]):
            return self.township[0]
        return None

    def recorder(self, kind: str, village: Region, subject: "SubjectRow", row: FlatNode, source):
        if kind == "household":
            if source == EntrySource.DECLARED:
                if self.villager and self.villager[1] == subject.household_id:
                    return self.villager[0]
                return None
            return self.grid[0] if self.grid and self.grid[1] == subject.region_id else None
        if kind == "party_member":
            if self.secretary and self.secretary[1] == village.pk:
                return self.secretary[0]  # the branch committee keeps the members' points
            return None
        owner = row.owner or ""
        if owner.startswith("dept:"):
            mine = self.dept and owner == self.dept_owner and village.pk in self.dept[1]
            return self.dept[0] if mine else None
        if row.rule is Rule.RATING or owner == "role:township_staff":
            return self.in_township(village)
        return None

    def reviewer(self, kind: str, village: Region, recorder: int | None) -> int | None:
        """The demo login that reviewed an entry (the scheme's default reviewers), if any."""
        key = (kind, village.pk, recorder)
        if key not in self.reviewers:
            self.reviewers[key] = self._reviewer(kind, village, recorder)
        return self.reviewers[key]

    def _reviewer(self, kind: str, village: Region, recorder: int | None) -> int | None:
        if kind == "household":
            candidates = [self.review[0] if self.review and self.review[1] == village.pk else None]
        elif kind == "party_member":
            own = self.secretary[0] if self.secretary and self.secretary[1] == village.pk else None
            candidates = [own, self.in_township(village)]
        else:
            candidates = [self.in_township(village)]
        return next((c for c in candidates if c is not None and c != recorder), None)


@dataclass(frozen=True)
class SubjectRow:
    pk: int
    track: str
    region_id: int
    household_id: int | None


@dataclass
class Roster:
    """The active subjects of each kind by village, read with one query per kind the first time
    they are asked for (after the tracks are assigned), in an order that does not depend on ids
    (households and persons were created in a fixed order)."""

    kinds: dict[str, dict[int, list[SubjectRow]]] = field(default_factory=dict)

    def of(self, kind: str, village: Region) -> list[SubjectRow]:
        if kind not in self.kinds:
            self.kinds[kind] = self._read(kind)
        return self.kinds[kind].get(village.pk, [])

    @staticmethod
    def _read(kind: str) -> dict[int, list[SubjectRow]]:
        subjects = Subject.objects.filter(kind=kind, active=True)
        # A household belongs to its grid's village, or to the village itself, and a grid to
        # its village; everyone else is registered with their village.
        order = ("household_id",) if kind == "household" else ("person_id", "pk")
        by_village: dict[int, list[SubjectRow]] = {}
        for *values, level, parent_id in subjects.order_by(*order).values_list(
            "pk", "track", "region_id", "household_id", "region__level", "region__parent_id"
        ):
            row = SubjectRow(*values)
            village = (
                parent_id
                if kind in ("household", "grid") and level != Level.VILLAGE
                else row.region_id
            )
            by_village.setdefault(village, []).append(row)
        return by_village


# --- strengths and reported figures -------------------------------------------------------


@dataclass
class Strengths:
    """Persistent strengths: a village's month by month, everyone else's own."""

    build: "Build"
    villages: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)

    def village(self, code: str, year: int = TODAY.year) -> list[float]:
        """Twelve monthly strengths of `year`: the village's level and a slow drift (the movers
        of the year); an earlier year has the same level and a drift of its own."""
        if code not in self.levels:
            rng = self.build.rng("strength", code)
            level, drift, series = rng.gauss(0, 1), 0.0, []
            for _ in range(12):
                drift = 0.85 * drift + rng.gauss(0, 0.2)
                series.append(level + drift)
            self.levels[code] = level
            self.villages[(code, TODAY.year)] = series
        if (code, year) not in self.villages:
            rng = self.build.rng("strength", code, str(year))
            drift, series = 0.0, []
            for _ in range(12):
                drift = 0.85 * drift + rng.gauss(0, 0.2)
                series.append(self.levels[code] + drift)
            self.villages[(code, year)] = series
        return self.villages[(code, year)]

    def members(self, kind: str, code: str, count: int) -> list[float]:
        """Own strengths of the `count` subjects of `kind` in a village, in subject order."""
        rng = self.build.rng("strength", kind, code)
        return [rng.gauss(0, 1) for _ in range(count)]


@dataclass
class Metrics:
    """Reported figures: one monthly series per village and metric; a period gets its mean."""

    strengths: Strengths
    series: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def village(self, code: str, name: str, months: list[int]) -> float:
        key = (code, name)
        if key not in self.series:
            mean, per_strength, spread, noise, low, high = METRIC_PROFILES.get(name, DEFAULT_METRIC)
            rng = self.strengths.build.rng("metric", name, code)
            offset = rng.gauss(0, spread)
            self.series[key] = [
                min(high, max(low, mean + per_strength * z + offset + rng.gauss(0, noise)))
                for z in self.strengths.village(code)
            ]
        values = self.series[key]
        return sum(values[m - 1] for m in months) / len(months)


def _metric_scaled(value: float) -> int:
    return round(value * 100) * (METRIC_SCALE // 100)  # two decimals, as departments report


# --- writing the ledger -------------------------------------------------------------------

# The columns the demo sets, in the order of a row; every other column gets its default.
ROW = (
    "scheme_id",
    "subject_id",
    "item_code",
    "quantity_scaled",
    "label",
    "cadence",
    "sign",
    "points",
    "occurred_on",
    "status",
    "source",
    "note",
    "created_by_id",
    "reviewed_by_id",
    "reviewed_at",
    "review_reason",
    "created_at",
)
AT = {name: index for index, name in enumerate(ROW)}
LINKED = ("reverses_id", "chain_region", "chain_seq", "chain_hash")
# A row as `entry_digest` reads an entry: the chained fields as attributes, picked from the row
# followed by its `reverses` and None (for the chained fields the demo leaves empty).
CHAINED_AT = itemgetter(
    *(AT.get(name, len(ROW) if name == "reverses_id" else len(ROW) + 1) for name in CHAINED_FIELDS)
)


class Ledger:
    """Entries as plain rows, each linked into its village's hash chain, inserted in batches.

    Model instances and `bulk_create` would cost several times the insert itself, so rows go in
    as plain rows (`rows_insert`), a batch at a time. Entries that will be reversed go through
    `bulk_create`, which returns their keys; each reversal names its original in `reverses`. The
    chains are linked by the ledger's own `ChainHeads` (the digest and head every writer uses),
    so the demo ledger verifies like one written through the ledger services.
    """

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.rows: list[tuple[tuple, str]] = []  # (row, chain region)
        self.reversed: list[tuple[tuple, str]] = []
        self.heads = ChainHeads.unlocked()  # the demo is the only writer while it builds
        self.ops = connection.ops
        self.days: dict = {}  # adapted once each
        self.times: dict = {}
        self.counts = {"entries": 0, "reversals": 0, **{s: 0 for s in EntryStatus.values}}
        others = [
            f
            for f in Entry._meta.concrete_fields
            if f.column not in ROW + LINKED and not f.primary_key and f.db_default is NOT_PROVIDED
        ]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in others)
        self.columns = (*ROW, *LINKED, *(f.attname for f in others))

    @property
    def written(self) -> int:
        """Entries so far, the ones waiting for the next batch included."""
        return self.counts["entries"] + len(self.rows) + 2 * len(self.reversed)

    def add(self, row: tuple, region: str, reverse: bool = False) -> None:
        (self.reversed if reverse else self.rows).append((row, region))
        self.counts[row[AT["status"]]] += 1
        if len(self.rows) + len(self.reversed) >= self.batch_size:
            self.flush()

    def _link(self, row: tuple, region: str, reverses: int | None) -> tuple[str, int, str]:
        return self.heads.link(region, Chained._make(CHAINED_AT((*row, reverses, None))))

    def _values(self, row: tuple, link: tuple, reverses: int | None) -> tuple:
        adapted = list(row)
        day = row[AT["occurred_on"]]
        if day not in self.days:
            self.days[day] = self.ops.adapt_datefield_value(day)
        adapted[AT["occurred_on"]] = self.days[day]
        for column in ("reviewed_at", "created_at"):
            moment = row[AT[column]]
            if moment not in self.times:
                self.times[moment] = self.ops.adapt_datetimefield_value(moment)
            adapted[AT[column]] = self.times[moment]
        return (*adapted, reverses, *link, *self.defaults)

    def flush(self) -> None:
        if not self.rows and not self.reversed:
            return
        rows, self.rows = self.rows, []
        originals, self.reversed = self.reversed, []
        touched = {region for _row, region in rows + originals}
        with transaction.atomic():
            values = [self._values(row, self._link(row, r, None), None) for row, r in rows]
            rows_insert(Entry, self.columns, values)
            if originals:
                saved = Entry.objects.bulk_create(
                    Entry(
                        **dict(zip(ROW, row, strict=True)),
                        **dict(zip(LINKED[1:4], self._link(row, region, None), strict=True)),
                    )
                    for row, region in originals
                )
                # `created_at` is auto_now_add, which bulk_create overrides: set the recorded
                # moments afterwards, in one statement.
                Entry.objects.filter(pk__in=[e.pk for e in saved]).update(
                    created_at=Case(
                        *(
                            When(pk=e.pk, then=Value(row[AT["created_at"]]))
                            for e, (row, _region) in zip(saved, originals, strict=True)
                        ),
                        output_field=Entry._meta.get_field("created_at"),
                    )
                )
                reversals = []
                for (row, region), original in zip(originals, saved, strict=True):
                    # As `entry_reverse` writes it: same item, quantity and day, sign −1.
                    reversal = list(row)
                    reversal[AT["sign"]] = -1
                    reversal[AT["points"]] = -row[AT["points"]]
                    reversal[AT["status"]] = EntryStatus.APPROVED
                    reversal[AT["note"]] = REVERSAL_NOTE
                    reversal[AT["reviewed_by_id"]] = None
                    reversal[AT["reviewed_at"]] = None
                    reversal[AT["review_reason"]] = ""
                    # Reversed a few days after the review, by TODAY at the latest.
                    reversal[AT["created_at"]] = _reversed_at(row)
                    link = self._link(tuple(reversal), region, original.pk)
                    reversals.append(self._values(tuple(reversal), link, original.pk))
                rows_insert(Entry, self.columns, reversals)
            self.heads.save(touched)
        self.counts["entries"] += len(rows) + 2 * len(originals)
        self.counts["reversals"] += len(originals)
        self.counts[EntryStatus.APPROVED] += len(originals)


@dataclass
class Recorder:
    """Turns one plan's draws into ledger rows: points, status, review, recorder."""

    plan: Plan
    ledger: Ledger
    logins: Logins
    points: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    moments: dict[tuple[date, int], datetime] = field(default_factory=dict)  # made once each

    def moment(self, day: date, minute: int) -> datetime:
        """`minute` past midnight of `day`, local time."""
        found = self.moments.get((day, minute))
        if found is None:
            found = self.moments[(day, minute)] = datetime(
                day.year,
                day.month,
                day.day,
                minute // 60,
                minute % 60,
                tzinfo=timezone.get_default_timezone(),
            )
        return found

    def entry(
        self,
        rng: Random,
        village: Region,
        subject: SubjectRow,
        row: FlatNode,
        on: date,
        *,
        label: str = "",
        factor: Decimal | None = None,
        reversible: bool = True,
        cadence: str = "",
    ) -> None:
        kind = self.plan.kind
        quantity = _quantity(rng, row)
        if row.rule is Rule.QUANTITY:
            points = entry_points(row.rule, quantity=quantity, points=row.points)
        else:
            points = self.points.get((row.code, label))
            if points is None:
                points = self.points[(row.code, label)] = entry_points(
                    row.rule, quantity=quantity, points=row.points, weight=row.weight, factor=factor
                )
        source = _source(kind, row)
        if (
            kind in ("household", "party_member")
            and row.declarable
            and points > 0
            and rng.random() < DECLARED_SHARE
        ):
            source = EntrySource.DECLARED
        status = _status(rng, on, source, row)
        recorder = self.logins.recorder(kind, village, subject, row, source)
        # Recorded on the day or within a few days (ratings at the meeting itself), in office
        # hours: the demo's entries are spread over the year as people would have written them,
        # so that only a genuine burst trips the ledger's burst flag.
        recorded_on = on
        if row.rule is not Rule.RATING:
            recorded_on = min(TODAY, on + timedelta(days=rng.choice(RECORDING_DELAYS)))
        recorded_minute = 10 * rng.randint(50, 100)  # 8:20 to 16:40, to ten minutes
        created_at = self.moment(recorded_on, recorded_minute)
        reviewed_by, reviewed_at = None, None
        if status != EntryStatus.SUBMITTED:
            reviewed_by = self.logins.reviewer(kind, village, recorder)
            day = min(TODAY, recorded_on + timedelta(days=rng.randint(0, 5)))
            if day == recorded_on:
                minute = recorded_minute + 10 * rng.randint(1, 40)  # later that day
            else:
                minute = 10 * rng.randint(54, 108)  # office hours, to ten minutes
            reviewed_at = self.moment(day, minute)
        self.ledger.add(
            (
                self.plan.scheme.pk,
                subject.pk,
                row.code,
                int(quantity * QTY_SCALE),
                label,
                cadence,
                1,
                points,
                on,
                status,
                source,
                "",
                recorder,
                reviewed_by,
                reviewed_at,
                REJECTED_REASON if status == EntryStatus.REJECTED else "",
                created_at,
            ),
            village.code,
            reverse=(
                reversible and status == EntryStatus.APPROVED and rng.random() < REVERSAL_SHARE
            ),
        )


def _reversed_at(row: tuple) -> datetime:
    """When the reversal of an approved entry was recorded: some days after its review."""
    reviewed = row[AT["reviewed_at"]] or row[AT["created_at"]]
    seed = row[AT["subject_id"]] + len(row[AT["item_code"]])
    later = reviewed + timedelta(days=1 + seed % 9, minutes=10 * (seed % 30))
    last = datetime(TODAY.year, TODAY.month, TODAY.day, 17, tzinfo=timezone.get_default_timezone())
    return min(later, last)


def _source(kind: str, row: FlatNode) -> str:
    if kind == "household":
        return EntrySource.COLLECTED  # by the grid member; declarations are drawn separately
    if (row.owner or "").startswith("dept:"):
        return EntrySource.DEPARTMENT
    return EntrySource.CONSOLE


def _status(rng: Random, on: date, source: str, row: FlatNode) -> str:
    """Most entries are approved; declarations are checked (some rejected), and the latest
    weeks still wait for review. Ratings and vetoes were decided at a meeting."""
    if row.rule is Rule.VETO or row.rule is Rule.RATING:
        return EntryStatus.APPROVED
    waiting = WAITING.get((on.year, on.month), 0.004)
    if source == EntrySource.DECLARED:
        waiting *= 2
    draw = rng.random()
    if draw < waiting:
        return EntryStatus.SUBMITTED
    rejected = 0.07 if source == EntrySource.DECLARED else 0.01
    if draw < waiting + rejected:
        return EntryStatus.REJECTED
    return EntryStatus.APPROVED


# --- the step -----------------------------------------------------------------------------


def build_scoring(build: "Build") -> None:
    """Every shipped scheme loaded, 2026 recorded to late November, January–October closed."""
    from .generator import COUNTY_CODE  # the generator lists this step: import here, not above

    started = time.monotonic()
    county = Region.objects.get(code=COUNTY_CODE)
    logins = Logins.load()
    plans = [_load(build, path, county, logins) for path in sorted(SCHEMES_DIR.glob("*.yaml"))]
    for kind in sorted({plan.kind for plan in plans}):
        subjects_sync(kind=kind)
    strengths = Strengths(build)
    villages = list(
        Region.objects.filter(level=Level.VILLAGE, code__startswith=COUNTY_CODE).order_by("code")
    )
    _assign_tracks(plans, villages, strengths)
    build.out(f"  schemes: {len(plans)} loaded ({', '.join(plan.code for plan in plans)})")

    ledger = Ledger(build.batch_size)
    roster = Roster()
    metrics = Metrics(strengths)
    metric_rows = 0
    for plan in plans:
        for window in plan.windows:
            plan.periods[window.label] = period_open(
                scheme=plan.scheme, label=window.label, acting_user=logins.county
            )
        _record(plan, villages, roster, strengths, Recorder(plan, ledger, logins))
        metric_rows += _report_metrics(plan, villages, roster, metrics, build.batch_size)
    ledger.flush()
    counts = ledger.counts
    build.out(
        f"  entries: {counts['entries']:,} ({counts['approved']:,} approved, "
        f"{counts['submitted']:,} submitted, {counts['rejected']:,} rejected, "
        f"{counts['reversals']:,} reversals); reported metrics: {metric_rows:,} "
        f"({time.monotonic() - started:.1f} s)"
    )

    # The evaluations (评议) feed the items their plan files name, and the services behind the
    # members' coverage: their closed rounds and the year's services go in before any close.
    from .evaluations import evaluation_history  # it reads this module: import here

    evaluation_history(build, county=county, roster=roster, strengths=strengths, ledger=ledger)

    closed = 0
    for cadence in CADENCE_ORDER:
        if cadence == "quarter":
            # Derived figures need the months closed (member points for the cadres' 千分制).
            _derive_percentiles(plans)
        closing = time.monotonic()
        batch = [(plan, label) for plan in plans for c, label in plan.closes() if c == cadence]
        for done, (plan, label) in enumerate(
            sorted(batch, key=lambda pair: (pair[1], pair[0].code))
        ):
            build.progress(f"  closing {cadence} periods: {done}/{len(batch)}")
            period = plan.periods.get(label) or period_open(
                scheme=plan.scheme, label=label, acting_user=logins.county
            )
            if any(key.lot for key in plan.spec.ranking.tie_break):
                # The lot's seed from the build's: a build with the same seed draws the same lots.
                seed = build.rng("lot", plan.code, label).getrandbits(64)
                Period.objects.filter(pk=period.pk, tie_seed="").update(tie_seed=f"{seed:016x}")
            period_close(period=period, acting_user=logins.county)
            closed += 1
        if batch:
            build.out(
                f"  closed {len(batch)} {cadence} periods ({time.monotonic() - closing:.1f} s)"
            )
    build.out(
        f"  scoring: {counts['entries']:,} entries, {closed} periods closed "
        f"in {time.monotonic() - started:.1f} s"
    )


def _load(build: "Build", path: Path, county: Region, logins: Logins) -> Plan:
    version, _created = scheme_load(
        text=path.read_text(encoding="utf-8"),
        filename=f"schemes/{path.name}",
        region=county,
        acting_user=logins.county,
    )
    spec = version.spec()
    rates = RATES[str(spec.subject_kind)]
    bonus, deductions = SCHEME_RATES.get(spec.code, (rates.bonus, rates.deductions))
    fed = evaluation_items().get(spec.code, frozenset())
    # Every tree: the scheme's, each variant's, each with a township's or village's overlays.
    tables = {key: ItemTable.of(spec, key or None, fed) for key in spec.variant_keys()}
    start = HISTORY.get(spec.code, YEAR_START)
    return Plan(
        build=build,
        scheme=version.scheme,
        spec=spec,
        tables=tables,
        windows=_windows(str(spec.cadence), start),
        start=start,
        bonus_rate=bonus,
        deduction_rate=deductions,
        raters=SCHEME_RATERS.get(spec.code, rates.raters),
    )


def evaluation_items() -> dict[str, frozenset[str]]:
    """Scheme code → the items the evaluation plan files feed: their results are written by the
    plans' rounds, so the demo draws no entries for them."""
    found: dict[str, set[str]] = {}
    for path in sorted(EVALUATIONS_DIR.glob("*.yaml")):
        spec = load_yaml_model(path.read_text(encoding="utf-8"), PlanSpec, path.name)
        found.setdefault(spec.scheme, set()).update(c.item for c in spec.campaigns)
    return {code: frozenset(items) for code, items in found.items()}


def _assign_tracks(plans: list[Plan], villages: list[Region], strengths: Strengths) -> None:
    """示范/创优/强基 by strength (with exceptions), when a village scheme has those tracks."""
    wanted = {name for name, _share in TRACK_SHARES}
    if not any(plan.kind == "village" and wanted <= set(plan.tables) for plan in plans):
        return
    rng = strengths.build.rng("tracks")
    order = sorted(villages, key=lambda v: -(strengths.village(v.code)[0] + rng.gauss(0, 0.5)))
    start = 0
    for index, (track, share) in enumerate(TRACK_SHARES):
        end = len(order) if index == len(TRACK_SHARES) - 1 else start + round(share * len(order))
        Subject.objects.filter(kind="village", region__in=order[start:end]).update(track=track)
        start = end


def _record(
    plan: Plan, villages: list[Region], roster: Roster, strengths: Strengths, recorder: Recorder
) -> None:
    """Every subject's entries in every period of the plan, village by village."""
    kind = plan.kind
    total = Subject.objects.filter(
        kind=kind, active=True, region__code__startswith=villages[0].code[:6]
    ).count()
    scale = min(1.0, FULL_RATE_SUBJECTS / total) if total else 1.0
    vetoes = _veto_plan(plan, total)
    share = VILLAGE_SHARE[kind]
    assessments = plan.assessments()
    ordinal = 0
    for index, village in enumerate(villages):
        plan.build.progress(
            f"  entries: {recorder.ledger.written:,} so far "
            f"({plan.code}, village {index + 1} of {len(villages)})"
        )
        subjects = roster.of(kind, village)
        own = strengths.members(kind, village.code, len(subjects))
        rng = plan.build.rng("scoring", plan.code, village.code)
        for subject, personal in zip(subjects, own, strict=True):
            table = plan.table(subject.track, village.code)
            factors = CLASS_FACTORS.get(subject.track, (1.0, 1.0))
            quality = {row.code: rng.gauss(0, 0.04) for row in table.ratings}
            wrote = False
            for window in plan.windows:
                months = window.month_numbers
                monthly = strengths.village(village.code, window.year)
                z = share * sum(monthly[m - 1] for m in months) / len(months)
                z += math.sqrt(1 - share * share) * personal
                wrote |= _subject_window(
                    rng, recorder, table, village, subject, window, z, scale, factors, quality
                )
                veto = table.vetoes.get(vetoes.get((ordinal, window.label), ""))
                if veto is not None:
                    day = _day(rng, window.start, window.last)
                    recorder.entry(rng, village, subject, veto, day, reversible=False)
                    wrote = True
            for cadence, window in assessments:
                monthly = strengths.village(village.code, window.year)
                months = window.month_numbers
                z = share * sum(monthly[m - 1] for m in months) / len(months)
                z += math.sqrt(1 - share * share) * personal
                wrote |= _assessment(rng, recorder, table, village, subject, cadence, window, z)
            if not wrote and kind == "household" and table.bonus:
                # Every household has some history, even when the rates are scaled down.
                closed = [w for w in plan.windows if w.closed]
                window = closed[rng.randrange(len(closed))]
                row = _pick(rng, table.bonus, table.bonus_weights)
                recorder.entry(rng, village, subject, row, _day(rng, window.start, window.last))
            ordinal += 1


def _subject_window(
    rng: Random,
    recorder: Recorder,
    table: ItemTable,
    village: Region,
    subject: SubjectRow,
    window: Window,
    z: float,
    scale: float,
    factors: tuple[float, float],
    quality: dict[str, float],
) -> bool:
    """The entries of one subject in one period; whether there were any."""
    plan = recorder.plan
    wrote = False
    for rows, weights, rate, pull in (
        (table.bonus, table.bonus_weights, plan.bonus_rate * factors[0], STRENGTH_PULL),
        (
            table.deductions,
            table.deduction_weights,
            plan.deduction_rate * factors[1],
            -STRENGTH_PULL,
        ),
    ):
        if not rows:
            continue
        for _ in range(_poisson(rng, rate * window.months * scale * math.exp(pull * z))):
            row = _pick(rng, rows, weights)
            recorder.entry(rng, village, subject, row, _day(rng, window.start, window.last))
            wrote = True
    rated_on = plan.rating_day(village, window)
    if rated_on is not None:
        # The collective rating (集中评比): several raters each, on the township's day.
        for row in table.ratings:
            quality_now = 0.8 + 0.09 * z + quality[row.code]
            for _ in range(rng.randint(*plan.raters_for(window))):
                label, factor = _level(rng, row, quality_now)
                recorder.entry(rng, village, subject, row, rated_on, label=label, factor=factor)
                wrote = True
    return wrote


def _assessment(
    rng: Random,
    recorder: Recorder,
    table: ItemTable,
    village: Region,
    subject: SubjectRow,
    cadence: str,
    window: Window,
    z: float,
) -> bool:
    """The year-end assessment (年终考核) of a closed roll-up: every rating item rated again by
    several raters on the township's day in the period's last week, as entries of `cadence`."""
    plan = recorder.plan
    rated_on = plan.rating_day(village, window)
    if rated_on is None or not table.ratings:
        return False
    for row in table.ratings:
        quality = 0.8 + 0.09 * z + rng.gauss(0, 0.04)
        for _ in range(rng.randint(*plan.raters_for(window))):
            label, factor = _level(rng, row, quality)
            recorder.entry(
                rng, village, subject, row, rated_on, label=label, factor=factor, cadence=cadence
            )
    return True


def _veto_plan(plan: Plan, total: int) -> dict[tuple[int, str], str]:
    """(subject ordinal, period label) → veto item code: a handful across the county, in
    closed periods, the scheme's veto items used in turn."""
    items = sorted({code for table in plan.tables.values() for code in table.vetoes})
    closed = [w.label for w in plan.windows if w.closed]
    if not items or not closed or not total:
        return {}
    rng = plan.build.rng("vetoes", plan.code)
    count = max(1, round(total * RATES[plan.kind].vetoes_per_thousand / 1000))
    ordinals = rng.sample(range(total), min(count, total))
    return {
        (ordinal, rng.choice(closed)): items[index % len(items)]
        for index, ordinal in enumerate(ordinals)
    }


def _report_metrics(
    plan: Plan, villages: list[Region], roster: Roster, metrics: Metrics, batch_size: int
) -> int:
    """The figures departments report for the plan's metric items, per subject and period:
    the village's figure, and for a person (a cadre's own grid visits) that figure give or take
    a personal offset."""
    names = [name for name in plan.reported_metrics() if name != PERCENTILE_METRIC]
    if not names:
        return 0
    personal = plan.kind not in ("village", "team")
    written, rows = 0, []
    for village in villages:
        rng = plan.build.rng("metric-personal", plan.kind, village.code)
        for subject in roster.of(plan.kind, village):
            offsets = {name: rng.gauss(0, 2.0) if personal else 0.0 for name in names}
            for window in plan.windows:
                for name in names:
                    value = metrics.village(village.code, name, window.month_numbers)
                    low, high = METRIC_PROFILES.get(name, DEFAULT_METRIC)[4:]
                    value = min(high, max(low, value + offsets[name]))
                    rows.append(
                        MetricValue(
                            scheme_id=plan.scheme.pk,
                            period_label=window.label,
                            subject_id=subject.pk,
                            metric=name,
                            value_scaled=_metric_scaled(value),
                        )
                    )
        if len(rows) >= batch_size or village is villages[-1]:
            with transaction.atomic():
                MetricValue.objects.bulk_create(rows)
            written, rows = written + len(rows), []
    return written


def _derive_percentiles(plans: list[Plan]) -> int:
    """member_points_percentile of the cadres who are party members: where their member points
    over the period's closed months rank within their class (0 = top), in one statement."""
    members = next((p for p in plans if p.kind == "party_member"), None)
    written = 0
    for plan in plans:
        if members is None or PERCENTILE_METRIC not in plan.reported_metrics():
            continue
        for window in plan.windows:
            months = list(
                Period.objects.filter(
                    scheme=members.scheme,
                    cadence="month",
                    label__in=labels_within("month", window.start, window.last),
                    status=PeriodStatus.CLOSED,
                ).values_list("pk", flat=True)
            )
            if not months:
                continue
            marks = ", ".join(["%s"] * len(months))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_metricvalue "
                    "(scheme_id, period_label, subject_id, metric, value_scaled) "
                    "SELECT %s, %s, c.id, %s, CAST(ROUND(p.pr * 1000000) AS BIGINT) "
                    "FROM people_subject c JOIN (SELECT s.person_id, PERCENT_RANK() OVER "
                    "(PARTITION BY s.track ORDER BY SUM(r.total) DESC) AS pr "
                    "FROM periods_result r JOIN people_subject s ON s.id = r.subject_id "
                    f"WHERE r.period_id IN ({marks}) GROUP BY s.id, s.person_id, s.track) p "
                    "ON p.person_id = c.person_id WHERE c.kind = %s AND c.active = %s",
                    [plan.scheme.pk, window.label, PERCENTILE_METRIC, *months, "cadre", True],
                )
                written += max(cursor.rowcount, 0)
    return written


build_scoring.manages_transactions = True
build_scoring.scores_only = True
