"""Evaluations (评议) in the demo county: the plan files of `evaluations/` run through 2026.

Every plan file is loaded for 瓯海区 by the `county` login. The items a plan feeds get no random
entries from the scoring (`scoring.evaluation_items`): they come only from the plan's rounds, so
a member's 支部考评 of March is what their branch committee gave them, a quantity such as 4.3 that
the scheme's rule turns into 4.3 × 20 points.

Two parts, at two moments of the build:

* `evaluation_history` runs inside `build_scoring`, after its entries and before it closes any
  period. It gives every 村社's branch committee its logins (the secretary, deputy and branch
  committee members: `pools.BRANCH_COMMITTEE` rates through logins; no usable password, except
  the demo's own `secretary` and `committee`), records the year's services of the members to the
  households they link (一联: most of them each month, so that `member_household_coverage`, which
  the evaluations module pushes at every close, is mostly 70–100 %) and the members' pledges
  (二亮, some kept), and writes the closed rounds of every campaign up to October: each month's
  branch round, each quarter's masses round, the first half-year's mutual round. Like the
  scoring's ledger they are bulk rows (tens of thousands of ballots): the round, its codes and
  ballots, each subject's result by the campaign's own rule (`aggregate.subject_outcome`, as
  `rounds.round_close` computes it) and each valid one as one entry of the campaign's item,
  chained by the scoring's `Ledger`; the closes then count them. Marks follow the member's
  strength from the scoring (a strong member is rated well by everyone), give or take each
  rater's reading; a member who links no household (moved away, frail) gets no masses' result,
  which the round flags as short of ballots.
* `build_evaluations`, a step after the scoring, shows work in progress through the services:
  the rounds open now (November's branch round, in which the secretary still has members to
  rate; the fourth quarter's masses round with ballots by code and two on paper; the second
  half-year's mutual round), a live panel (集中评比) of six of the demo township's members with
  five demo logins as judges (`township` chairs; `county`, `secretary`, `committee` and `dept`
  judge), three of whom have scored, and the branch meetings: one closed with its attendance
  counted, one open today in the secretary's village, and a closed one in the next village.
  Elsewhere in the county the open rounds have a third of their ballots, in bulk.

Dates: the demo's day is `scoring.TODAY` (late November 2026); the open rounds opened before it
and close a week after the later of it and the real date, so that their pages take ballots
whenever the demo is looked at. Ballots, services and pledges are drawn from `Build.rng`
streams named after the round or the village, so a seed gives the same evaluations; only the
codes of the open rounds (made by `round_open`, unguessable) differ.
"""

import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import ngettext

from kaoping.accounts.models import Profile, Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.bulk import rows_insert
from kaoping.evaluations import aggregate
from kaoping.evaluations.ballots import ballot_cast, paper_ballots_enter
from kaoping.evaluations.codes import CODE_ALPHABET, CODE_LENGTH
from kaoping.evaluations.meetings import meeting_close, meeting_open, meeting_sign_in_for
from kaoping.evaluations.models import (
    Ballot,
    BallotChannel,
    LinkService,
    Meeting,
    MemberPledge,
    Plan,
    RaterCode,
    Round,
    RoundResult,
    RoundStatus,
)
from kaoping.evaluations.plans import plan_load
from kaoping.evaluations.pools import (
    COMMITTEE_ROLES,
    HOUSEHOLD,
    PAPER,
    PERSON,
    USER,
    campaign_subjects,
    code_raters,
    subjects_for_code,
)
from kaoping.evaluations.rounds import round_open
from kaoping.evaluations.spec import CODE_POOLS, Campaign, PlanSpec, RaterPool, spec_of
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.people.models import Cadre, CadrePost, PartyMember, Person, Subject
from kaoping.regions.models import Level, Region
from kaoping.schemes.calendar import label_for, labels_within, period_dates
from kaoping.schemes.loader import load_yaml_model
from kaoping.schemes.models import QTY_SCALE, Scheme
from kaoping.schemes.scoring import entry_points
from kaoping.schemes.spec import Rule, SchemeSpec

from .scoring import (
    CLOSED_UNTIL,
    EVALUATIONS_DIR,
    TODAY,
    VILLAGE_SHARE,
    YEAR_START,
    Ledger,
    Roster,
    Strengths,
)

if TYPE_CHECKING:
    from .generator import Build

# The branch committee (支委): the posts whose holders rate the branch's members every month.
BRANCH_POSTS = (CadrePost.SECRETARY, CadrePost.DEPUTY_SECRETARY, CadrePost.BRANCH_MEMBER)
# Who takes part, of those who may: a committee member misses a member now and then, most linked
# households answer the quarter's code, members rate most of their branch.
TURNOUT: dict[RaterPool, float] = {
    RaterPool.BRANCH_COMMITTEE: 0.96,
    RaterPool.MASSES_LINKED: 0.9,
    RaterPool.MASSES_VILLAGE: 0.35,
    RaterPool.BRANCH_MEMBERS: 0.85,
    RaterPool.PANEL: 1.0,
}
PAPER_SHARE = 0.2  # of the households that answer, those who fill in a paper ballot instead
# A member's standing on a 0–1 reading of the form's top mark: the county's average member is
# rated about 4.2 of 5; one standard deviation of strength moves that by 0.35.
QUALITY_MEAN, QUALITY_PULL, READING_NOISE = 0.84, 0.07, 0.08
# How much kinder the households a member serves are than the member's own branch.
MASSES_LENIENCY = 0.03
# 一联: what members did for the households they link.
SERVICE_NOTES = (
    "入户走访，了解近况",
    "代办医保缴费",
    "帮助申请临时救助",
    "代购生活用品",
    "认领微心愿并兑现",
    "宣传防诈骗知识",
    "调解邻里纠纷",
    "陪同就医",
    "帮助销售农产品",
    "检查用电用气安全",
)
PLEDGES = (
    "每月走访联系户不少于一次",
    "帮助联系户解决一件实事",
    "带头参加村里志愿服务",
    "带头做好垃圾分类",
    "帮助困难户销售农产品",
    "带头移风易俗、喜事新办",
    "每季度宣讲一次惠民政策",
    "带头参与河道巡查",
)
KEPT_NOTES = ("已完成，群众认可", "已兑现", "按期完成", "")
SO_FAR = 1 / 3  # of the ballots an open round will get, those cast by TODAY (in bulk)
VILLAGE_CODES_USED = 6  # codes of the demo village used on a phone in each open round
PANEL_CONTESTANTS = 6
PANEL_JUDGES = ("township", "county", "secretary", "committee", "dept")
MEETING_SCHEME, MEETING_ITEM = "sanping", "HD01"  # 参加主题党日(扫码签到)
MEETING_TITLES = {11: "十一月主题党日", 10: "十月主题党日"}


def real_today() -> date:
    return timezone.localdate()


_MOMENTS: dict[tuple[date, int], datetime] = {}


def _moment(day: date, minute: int) -> datetime:
    """`minute` past midnight of `day`, local time (made once each: a few hundred days)."""
    found = _MOMENTS.get((day, minute))
    if found is None:
        found = _MOMENTS[(day, minute)] = datetime(
            day.year,
            day.month,
            day.day,
            minute // 60,
            minute % 60,
            tzinfo=timezone.get_default_timezone(),
        )
    return found


# ─── plain rows ─────────────────────────────────────────────────────────────────────────────────


class Rows:
    """Plain rows of some columns of `model`, inserted in batches (`rows_insert`): model
    instances would cost several times the insert (as `scoring.Ledger` does for entries).
    Dates, times, decimals and JSON are prepared for the database as the model would (dates and
    times once each: a few hundred days and office hours); the rest go as they are.
    """

    PREPARED = {"DateField", "DateTimeField", "DecimalField", "JSONField"}
    CACHED = {"DateField", "DateTimeField"}

    def __init__(
        self, model, columns: tuple[str, ...], batch_size: int, ready: tuple[str, ...] = ()
    ) -> None:
        """`ready`: columns whose values come prepared (`prepared`), made once for many rows."""
        fields = [model._meta.get_field(name) for name in columns]
        self.prepare = [
            f.get_db_prep_save
            if f.get_internal_type() in self.PREPARED and f.name not in ready
            else None
            for f in fields
        ]
        self.caches = [{} if f.get_internal_type() in self.CACHED else None for f in fields]
        self.model, self.columns = model, columns
        self.batch_size = batch_size
        self.rows: list[tuple] = []
        self.written = 0

    @staticmethod
    def prepared(model, name: str, value):
        """`value` of the column `name` as the database takes it."""
        return model._meta.get_field(name).get_db_prep_save(value, connection)

    def add(self, *row) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        prepared = [
            (i, prepare, self.caches[i]) for i, prepare in enumerate(self.prepare) if prepare
        ]
        values = []
        for row in self.rows:
            row = list(row)
            for i, prepare, cache in prepared:
                value = row[i]
                if value is None:
                    continue
                if cache is None:
                    row[i] = prepare(value, connection)
                elif value in cache:
                    row[i] = cache[value]
                else:
                    row[i] = cache[value] = prepare(value, connection)
            values.append(row)
        with transaction.atomic():
            rows_insert(self.model, self.columns, values)
        self.written += len(values)
        self.rows = []


CODE_COLUMNS = ("round", "code", "village", "household", "person", "first_used_at")
BALLOT_COLUMNS = (
    "round",
    "subject",
    "rater_key",
    "channel",
    "rater_user",
    "rater_household",
    "rater_person",
    "marks",
    "mark",
    "comment",
    "relative",
    "entered_by",
    "cast_at",
)


# ─── who is who ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Member:
    """A party member subject of the demo, with what the pools read of them."""

    subject_id: int
    member_id: int
    person_id: int
    household_id: int | None
    village_id: int
    branch: str
    track: str  # the subject's track: its variant of the scheme, if it has one
    personal: float  # own strength, as the scoring drew it


@dataclass
class County:
    """The demo's members, branch committees and villages, read once."""

    villages: list[Region]
    members: dict[int, list[Member]]  # village id → its members, in the scoring's order
    committees: dict[int, list[tuple[int, int | None]]]  # village id → (user id, person id)
    secretaries: dict[int, int]  # village id → the secretary's login (types paper ballots in)
    linked: dict[int, list[int]]  # member id → the households they link

    def member_by_subject(self) -> dict[int, Member]:
        return {m.subject_id: m for ms in self.members.values() for m in ms}

    @classmethod
    def read(cls, villages: list[Region], roster: Roster, strengths: Strengths) -> "County":
        members_of: dict[int, tuple[int, int, str, int | None]] = {}
        for pk, person, region, branch, household in PartyMember.objects.values_list(
            "pk", "person_id", "region_id", "branch", "person__household_id"
        ):
            members_of[person] = (pk, region, branch, household)
        subjects = dict(
            Subject.objects.filter(kind="party_member", active=True).values_list("pk", "person_id")
        )
        members: dict[int, list[Member]] = {}
        for village in villages:
            rows = roster.of("party_member", village)
            own = strengths.members("party_member", village.code, len(rows))
            for row, personal in zip(rows, own, strict=True):
                person = subjects[row.pk]
                pk, region, branch, household = members_of[person]
                members.setdefault(village.pk, []).append(
                    Member(row.pk, pk, person, household, region, branch, row.track, personal)
                )
        committees: dict[int, list[tuple[int, int | None]]] = {}
        secretaries: dict[int, int] = {}
        for user, region, role, person in (
            RoleAssignment.objects.filter(role__in=COMMITTEE_ROLES, region__level=Level.VILLAGE)
            .order_by("region_id", "user_id")
            .values_list("user_id", "region_id", "role", "user__profile__person_id")
        ):
            committees.setdefault(region, []).append((user, person))
            if role == Role.VILLAGE_SECRETARY:
                secretaries.setdefault(region, user)
        linked: dict[int, list[int]] = {}
        through = PartyMember.linked_households.through
        for member, household in through.objects.order_by(
            "partymember_id", "household_id"
        ).values_list("partymember_id", "household_id"):
            linked.setdefault(member, []).append(household)
        return cls(villages, members, committees, secretaries, linked)


def branch_committee_logins(villages: list[Region]) -> int:
    """A login for each member of every branch committee who has none (`pools.BRANCH_COMMITTEE`
    rates with logins): the secretary as village secretary, the others as committee members, each
    tied to its resident. No usable password: the county admin sets one when a village starts."""
    User = get_user_model()  # noqa: N806
    taken = set(Profile.objects.exclude(person=None).values_list("person_id", flat=True)) | set(
        # The demo's review login stands for the deputy secretary of its village.
        Cadre.objects.filter(
            region__in=RoleAssignment.objects.filter(user__username="review").values("region"),
            post=CadrePost.DEPUTY_SECRETARY,
        ).values_list("person_id", flat=True)
    )
    wanted: list[tuple[str, str, int, int]] = []  # (username, role, village id, person id)
    serial: dict[int, int] = {}
    for village_id, code, person, post in (
        Cadre.objects.filter(region__in=villages, post__in=BRANCH_POSTS)
        .order_by("region__code", "pk")
        .values_list("region_id", "region__code", "person_id", "post")
    ):
        if person in taken:
            continue
        taken.add(person)
        role = Role.VILLAGE_SECRETARY if post == CadrePost.SECRETARY else Role.VILLAGE_COMMITTEE
        serial[village_id] = serial.get(village_id, 0) + 1
        wanted.append((f"zw{code}-{serial[village_id]}", role, village_id, person))
    names = dict(Person.objects.filter(pk__in=[w[3] for w in wanted]).values_list("pk", "name"))
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=username, first_name=names.get(person, ""), password=unusable)
        for username, _role, _village, person in wanted
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=role, region_id=village)
        for user, (_n, role, village, _p) in zip(users, wanted, strict=True)
    )
    Profile.objects.bulk_create(
        Profile(user=user, person_id=person)
        for user, (_n, _r, _v, person) in zip(users, wanted, strict=True)
    )
    return len(users)


# ─── marks ──────────────────────────────────────────────────────────────────────────────────────


def standing(member: Member, monthly: list[float], months: list[int]) -> float:
    """How well `member` does over `months` on a 0–1 reading of the top mark: their village's
    months and their own strength, mixed as the scoring mixes them."""
    share = VILLAGE_SHARE["party_member"]
    z = share * sum(monthly[m - 1] for m in months) / len(months)
    z += math.sqrt(1 - share * share) * member.personal
    return QUALITY_MEAN + QUALITY_PULL * z


# The mark of each combination of answers, by campaign: a form has a few questions with a few
# levels, so the same answers come back thousands of times (the exact arithmetic is costly).
# With them, the marks and the mark as the database takes them (`Rows`' ready columns). Keyed
# by the campaign's identity, which the entry holds on to, so that no other object takes it.
_MARKS: dict[tuple[int, tuple], tuple[Campaign, dict, Decimal, object, object]] = {}


def ballot_marks(rng: Random, campaign: Campaign, reading: float) -> tuple[dict, dict, Decimal]:
    """One rater's answers for a subject they read at `reading`: (answers as given, marks as
    `Ballot.marks` keeps them, the ballot's mark by `aggregate.ballot_mark`)."""
    given, (_campaign, stored, mark, _marks, _mark) = _answers(rng, campaign, reading)
    return given, stored, mark


def _answers(rng: Random, campaign: Campaign, reading: float) -> tuple[dict, tuple]:
    """The answers, and their `_MARKS` entry: (campaign, marks, mark, the two made ready)."""
    given: dict[str, str] = {}
    for code, levels, top in _questions(campaign):
        seen = reading + rng.gauss(0, READING_NOISE)
        if levels:
            given[code] = min(levels, key=lambda level: abs(level[1] - seen))[0]
        else:
            given[code] = str(round(min(1.0, max(0.0, seen)) * top, 1))
    key = (id(campaign), tuple(given.values()))
    found = _MARKS.get(key)
    if found is None:
        stored = {
            code: str(aggregate.item_mark(campaign, code, answer)) for code, answer in given.items()
        }
        mark = aggregate.ballot_mark(campaign, given)
        found = _MARKS[key] = (
            campaign,
            stored,
            mark,
            Rows.prepared(Ballot, "marks", stored),
            Rows.prepared(Ballot, "mark", mark),
        )
    return given, found


_QUESTIONS: dict[int, tuple[Campaign, list]] = {}


def _questions(campaign: Campaign) -> list[tuple[str, list[tuple[str, float]], float]]:
    """The form as `ballot_marks` reads it: (code, [(level, share of the top mark)] or [], the
    top score), once per campaign."""
    found = _QUESTIONS.get(id(campaign))
    if found is None:
        found = _QUESTIONS[id(campaign)] = (
            campaign,
            [
                (
                    item.code,
                    [(name, float(mark / item.top)) for name, mark in (item.scale or {}).items()],
                    float(item.top),
                )
                for item in campaign.form
            ],
        )
    return found[1]


@dataclass
class Rater:
    """Who casts a ballot, as `Ballot` records them."""

    key: str
    channel: str
    user: int | None = None
    household: int | None = None
    person: int | None = None
    entered_by: int | None = None  # a paper ballot's typist


# ─── the history: closed rounds ─────────────────────────────────────────────────────────────────


@dataclass
class History:
    """What the closed rounds of one build share."""

    build: "Build"
    county_login: object
    county: County
    strengths: Strengths
    ballots: Rows
    codes: Rows
    ledger: Ledger | None = None  # the scoring's: entries chained like all the demo's
    codes_taken: set[str] = field(default_factory=set)
    paper_serial: dict[int, int] = field(default_factory=dict)  # round id → last paper ballot
    # (round id, subject id, outcome, eligible, (item, cadence, day, subject)) of closed rounds.
    results: list[tuple] = field(default_factory=list)
    rounds: int = 0
    ballot_count: int = 0
    entries: int = 0

    def code(self, rng: Random) -> str:
        while True:
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.codes_taken:
                self.codes_taken.add(code)
                return code


def evaluation_history(
    build: "Build", *, county: Region, roster: Roster, strengths: Strengths, ledger: Ledger
) -> None:
    """Before the scoring's closes: the plans loaded, the branch committees' logins, the year's
    services and pledges, and every closed round with its ballots, results and entries. Writes
    in short transactions of its own (the caller manages them)."""
    started = time.monotonic()
    login = get_user_model().objects.get(username="county")
    villages = list(
        Region.objects.filter(level=Level.VILLAGE, code__startswith=county.code).order_by("code")
    )
    with transaction.atomic(durable=True):
        plans = [_plan(path, county, login) for path in sorted(EVALUATIONS_DIR.glob("*.yaml"))]
        logins = branch_committee_logins(villages)
    people = County.read(villages, roster, strengths)
    with transaction.atomic(durable=True):
        services = link_services(build, people)
        pledges = member_pledges(build, people)
    history = History(
        build=build,
        county_login=login,
        county=people,
        strengths=strengths,
        ballots=Rows(Ballot, BALLOT_COLUMNS, build.batch_size, ready=("marks", "mark")),
        codes=Rows(RaterCode, CODE_COLUMNS, build.batch_size),
        ledger=ledger,
    )
    ledger.flush()
    first_entry = Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for plan in plans:
        spec = plan.scheme.latest_version().spec()
        for campaign in spec_of(plan.spec).campaigns:
            if campaign.raters is RaterPool.PANEL:
                continue  # a panel sits in the room when one is called (build_evaluations)
            cadence = str(campaign.cadence)
            for label in labels_within(cadence, YEAR_START, CLOSED_UNTIL):
                if period_dates(cadence, label)[1] <= CLOSED_UNTIL:
                    build.progress(f"  evaluations: {campaign.name} {label}")
                    _closed_round(history, plan, spec, campaign, label)
    _results(history, first_entry)
    build.out(
        f"  evaluations: {len(plans)} plan(s), {logins} branch committee logins, "
        f"{services:,} services to linked households, {pledges:,} pledges, "
        f"{history.rounds} rounds closed with {history.ballot_count:,} ballots and "
        f"{history.entries:,} results written ({time.monotonic() - started:.1f} s)"
    )


def _plan(path: Path, county: Region, login) -> Plan:
    text = path.read_text(encoding="utf-8")
    spec = load_yaml_model(text, PlanSpec, path.name)
    found = Plan.objects.filter(region=county, code=spec.code).first()
    if found is not None:
        return found
    return plan_load(
        region=county, text=text, filename=f"evaluations/{path.name}", acting_user=login
    )


def _window(campaign: Campaign, label: str) -> tuple[date, date]:
    """A closed round ran in the last `window_days` of its period."""
    start, end = period_dates(str(campaign.cadence), label)
    return max(start, end - timedelta(days=campaign.window_days - 1)), end


def _months(campaign: Campaign, label: str) -> list[int]:
    start, end = period_dates(str(campaign.cadence), label)
    return list(range(start.month, end.month + 1))


def _closed_round(
    history: History, plan: Plan, spec: SchemeSpec, campaign: Campaign, label: str
) -> None:
    """One closed round as `round_open`, the ballots and `round_close` would have left it, in
    bulk: its subjects and codes, the ballots, each subject's result by the campaign's rule
    (`aggregate.subject_outcome`, as the close computes it) and the valid ones written as one
    entry of the campaign's item on the period's last day."""
    build, people = history.build, history.county
    opens_on, closes_on = _window(campaign, label)
    with transaction.atomic(durable=True):
        round_ = Round.objects.create(
            plan=plan,
            campaign=campaign.code,
            name=campaign.name,
            cadence=str(campaign.cadence),
            period_label=label,
            opens_on=opens_on,
            closes_on=closes_on,
            status=RoundStatus.CLOSED,
            opened_by=history.county_login,
            closed_by=history.county_login,
            closed_at=_moment(closes_on, 17 * 60),
        )
        subjects = list(campaign_subjects(plan, campaign).values_list("pk", flat=True))
        through = Round.subjects.through
        through.objects.bulk_create(
            (through(round_id=round_.pk, subject_id=pk) for pk in subjects),
            batch_size=build.batch_size,
        )
        rated = set(subjects)
        months = _months(campaign, label)
        rng = build.rng("evaluations", plan.code, campaign.code, label)
        codes = _codes(history, round_, campaign, rng, opens_on, closes_on)
        marks: dict[int, list[Decimal]] = {}
        eligible: dict[int, int] = {}
        for village in people.villages:
            monthly = history.strengths.village(village.code)
            for member in people.members.get(village.pk, []):
                if member.subject_id not in rated:
                    continue
                reading = standing(member, monthly, months)
                if campaign.raters in (RaterPool.MASSES_LINKED, RaterPool.MASSES_VILLAGE):
                    reading += MASSES_LENIENCY
                eligible[member.subject_id] = _eligible(people, campaign, member, codes)
                given = marks.setdefault(member.subject_id, [])
                for rater in _raters(people, campaign, member, village, codes, rng):
                    given.append(
                        _ballot(
                            history,
                            round_,
                            member.subject_id,
                            campaign,
                            rater,
                            reading,
                            rng,
                            opens_on,
                            closes_on,
                        )
                    )
        history.ballots.flush()
        outcomes = {pk: aggregate.subject_outcome(campaign, marks.get(pk, [])) for pk in subjects}
        _entries(history, round_, spec, campaign, outcomes, closes_on)
        # The results wait for their entries' ids (`_results`, once the ledger is flushed).
        key = (campaign.item, round_.cadence if round_.cadence != plan.scheme.cadence else "")
        history.results += [
            (round_.pk, pk, outcomes[pk], eligible.get(pk, 0), (*key, closes_on, pk))
            for pk in subjects
        ]
    history.rounds += 1


def _results(history: History, first_entry: int) -> None:
    """Every closed round's results, each with the entry its value was written as: the entries
    written since `first_entry`, found by item, cadence, day and subject (one round of a
    campaign per period)."""
    history.ledger.flush()
    entry_of = {
        (item, cadence, day, subject): pk
        for pk, item, cadence, day, subject in Entry.objects.filter(
            pk__gt=first_entry, source=EntrySource.EVALUATION
        ).values_list("pk", "item_code", "cadence", "occurred_on", "subject_id")
    }
    rows = Rows(
        RoundResult,
        ("round", "subject", "value", "ballots", "eligible", "valid", "flags", "entry", "metric"),
        history.build.batch_size,
    )
    with transaction.atomic(durable=True):
        for round_id, subject, outcome, eligible, key in history.results:
            entry = entry_of.get(key)
            rows.add(
                round_id,
                subject,
                outcome.value,
                outcome.ballots,
                eligible,
                outcome.valid,
                outcome.flags,
                entry,
                "",  # the demo's plan feeds quantity items: entries, not metric values
            )
            history.entries += entry is not None
        rows.flush()


def _entries(
    history: History,
    round_: Round,
    spec: SchemeSpec,
    campaign: Campaign,
    outcomes: dict[int, aggregate.Outcome],
    day: date,
) -> None:
    """The entries of a closed round's valid, positive results as `rounds.round_close` writes
    them (quantity the result, source evaluation, at the campaign's cadence, approved, on the
    period's last day), chained by the scoring's ledger."""
    scheme = round_.plan.scheme
    cadence = "" if str(campaign.cadence) == scheme.cadence else str(campaign.cadence)
    by_subject = history.county.member_by_subject()
    villages = {v.pk: v.code for v in history.county.villages}
    nodes = {
        variant: {row.code: row for row in spec.flatten(variant or None) if row.is_item}
        for variant in ("", *spec.variants)
    }
    created_at = _moment(day, 16 * 60 + 30)
    with translation.override(settings.LANGUAGE_CODE):
        for pk, outcome in outcomes.items():
            if not outcome.valid or outcome.value <= 0:
                continue
            member = by_subject[pk]
            node = nodes.get(member.track, nodes[""])[campaign.item]
            note = ngettext(
                "%(campaign)s %(value)s (%(n)d ballot)",
                "%(campaign)s %(value)s (%(n)d ballots)",
                outcome.ballots,
            ) % {"campaign": campaign.name, "value": outcome.value, "n": outcome.ballots}
            history.ledger.add(
                (
                    scheme.pk,
                    pk,
                    campaign.item,
                    int(outcome.value * QTY_SCALE),
                    "",
                    cadence,
                    1,
                    entry_points(Rule.QUANTITY, quantity=outcome.value, points=node.points),
                    day,
                    EntryStatus.APPROVED,
                    EntrySource.EVALUATION,
                    note,
                    history.county_login.pk,
                    None,
                    None,
                    "",
                    created_at,
                ),
                villages[member.village_id],
            )


@dataclass
class Codes:
    """A round's codes by rater (household or person id): (the code's id once saved, whether
    the rater answered)."""

    by_household: dict[int, tuple[int | None, bool]] = field(default_factory=dict)
    by_person: dict[int, tuple[int | None, bool]] = field(default_factory=dict)
    paper: set[int] = field(default_factory=set)  # households that answered on paper
    village_households: dict[int, list[int]] = field(default_factory=dict)  # village id → ids


def _codes(
    history: History, round_: Round, campaign: Campaign, rng: Random, first: date, last: date
) -> Codes:
    """The round's codes (as `round_open` makes them, but drawn from the build's stream), with
    who answered: a household or member who answers rates everyone they may, on their phone
    (the code's first use) or, some households, on paper."""
    codes = Codes()
    if campaign.raters not in CODE_POOLS:
        return codes
    turnout = TURNOUT[campaign.raters]
    for village, household, person in code_raters(round_):
        answered = rng.random() < turnout
        on_paper = household is not None and answered and rng.random() < PAPER_SHARE
        used = answered and not on_paper
        history.codes.add(
            round_.pk,
            history.code(rng),
            village,
            household,
            person,
            _cast_at(rng, first, last) if used else None,
        )
        if on_paper:
            codes.paper.add(household)
        if household is not None:
            codes.by_household[household] = (None, answered)
            codes.village_households.setdefault(village, []).append(household)
        else:
            codes.by_person[person] = (None, answered)
    history.codes.flush()
    return codes


def _eligible(people: County, campaign: Campaign, member: Member, codes: Codes) -> int:
    """How many could rate `member` (`pools.eligible_counts`, read from what the demo knows)."""
    pool = campaign.raters
    if pool is RaterPool.BRANCH_COMMITTEE:
        return len(people.committees.get(member.village_id, []))
    if pool is RaterPool.MASSES_LINKED:
        return len(people.linked.get(member.member_id, []))
    if pool is RaterPool.MASSES_VILLAGE:
        return len(codes.village_households.get(member.village_id, []))
    if pool is RaterPool.BRANCH_MEMBERS:
        return sum(
            1
            for other in people.members.get(member.village_id, [])
            if other.branch == member.branch and other.person_id != member.person_id
        )
    return 0


def _raters(
    people: County, campaign: Campaign, member: Member, village: Region, codes: Codes, rng: Random
) -> list[Rater]:
    """Who rates `member` in a round of `campaign` (the pools' rules: nobody rates themselves;
    a household never rates someone who lives in it)."""
    pool = campaign.raters
    found: list[Rater] = []
    if pool is RaterPool.BRANCH_COMMITTEE:
        for user, person in people.committees.get(village.pk, []):
            if person != member.person_id and rng.random() < TURNOUT[pool]:
                found.append(Rater(f"{USER}:{user}", BallotChannel.ACCOUNT, user=user))
    elif pool in (RaterPool.MASSES_LINKED, RaterPool.MASSES_VILLAGE):
        households = (
            people.linked.get(member.member_id, [])
            if pool is RaterPool.MASSES_LINKED
            else codes.village_households.get(village.pk, [])
        )
        typist = people.secretaries.get(village.pk)
        for household in households:
            if household == member.household_id:
                continue
            _code, answered = codes.by_household.get(household, (None, False))
            if not answered or (pool is RaterPool.MASSES_VILLAGE and rng.random() > 0.5):
                continue
            if household in codes.paper and typist is not None:
                found.append(Rater("", BallotChannel.PAPER, entered_by=typist))
            else:
                found.append(
                    Rater(f"{HOUSEHOLD}:{household}", BallotChannel.CODE, household=household)
                )
    elif pool is RaterPool.BRANCH_MEMBERS:
        for other in people.members.get(village.pk, []):
            if other.person_id == member.person_id or other.branch != member.branch:
                continue
            _code, answered = codes.by_person.get(other.person_id, (None, False))
            if answered and rng.random() < 0.97:
                key = f"{PERSON}:{other.person_id}"
                found.append(Rater(key, BallotChannel.CODE, person=other.person_id))
    return found


def _draw(rng: Random, low: int, high: int) -> int:
    """A whole number from `low` to `high`, both included (randint's, at a fraction of its cost:
    the demo draws a few per ballot)."""
    return low + int(rng.random() * (high - low + 1))


def _cast_at(rng: Random, first: date, last: date) -> datetime:
    day = first + timedelta(days=_draw(rng, 0, (last - first).days))
    return _moment(day, 10 * _draw(rng, 48, 130))  # 8:00 to 21:40: phones, after work too


def _ballot(
    history: History,
    round_: Round,
    subject_id: int,
    campaign: Campaign,
    rater: Rater,
    reading: float,
    rng: Random,
    first: date,
    last: date,
) -> Decimal:
    """Add one ballot; its mark."""
    _given, (_campaign, _stored, mark, marks_ready, mark_ready) = _answers(rng, campaign, reading)
    key = rater.key
    if rater.channel == BallotChannel.PAPER:
        serial = history.paper_serial.get(round_.pk, 0) + 1
        history.paper_serial[round_.pk] = serial
        key = f"{PAPER}:{serial}"
    history.ballots.add(
        round_.pk,
        subject_id,
        key,
        rater.channel,
        rater.user,
        rater.household,
        rater.person,
        marks_ready,
        mark_ready,
        "",
        False,
        rater.entered_by,
        _cast_at(rng, first, last),
    )
    history.ballot_count += 1
    return mark


# ─── 一联 and 二亮 ───────────────────────────────────────────────────────────────────────────────


def _diligence(rng: Random, personal: float) -> float:
    """The share of their linked households a member serves in a month: about a third nearly
    all, half most, a few far fewer; stronger members a little more."""
    draw = rng.random()
    if draw < 0.35:
        base = rng.uniform(0.92, 1.0)
    elif draw < 0.85:
        base = rng.uniform(0.75, 0.92)
    else:
        base = rng.uniform(0.45, 0.7)
    return min(1.0, max(0.3, base + 0.03 * personal))


def link_services(build: "Build", people: County) -> int:
    """一联: each month from January to TODAY, every member serves most of the households they
    link, once or twice, recorded by the village within a couple of days."""
    rows = Rows(
        LinkService,
        ("member", "household", "served_on", "note", "recorded_by", "recorded_at"),
        build.batch_size,
    )
    months = [period_dates("month", label) for label in labels_within("month", YEAR_START, TODAY)]
    system = system_actor().pk
    for village in people.villages:
        recorder = people.secretaries.get(village.pk, system)
        for ordinal, member in enumerate(people.members.get(village.pk, [])):
            households = people.linked.get(member.member_id, [])
            if not households:
                continue
            rng = build.rng("link-services", village.code, ordinal)
            diligence = _diligence(rng, member.personal)
            for start, end in months:
                last = min(end, TODAY)
                # The current month is not over: its services so far.
                share = diligence * min(1.0, 1.15 * ((last - start).days + 1) / (end - start).days)
                for household in households:
                    if rng.random() >= share:
                        continue
                    for _time in range(1 + (rng.random() < 0.2)):
                        served = start + timedelta(days=_draw(rng, 0, (last - start).days))
                        recorded = min(
                            TODAY, served + timedelta(days=(0, 0, 1, 2)[_draw(rng, 0, 3)])
                        )
                        rows.add(
                            member.member_id,
                            household,
                            served,
                            SERVICE_NOTES[_draw(rng, 0, len(SERVICE_NOTES) - 1)],
                            recorder,
                            _moment(recorded, 10 * _draw(rng, 50, 100)),
                        )
        build.progress(f"  services to linked households: {rows.written + len(rows.rows):,}")
    rows.flush()
    return rows.written


def member_pledges(build: "Build", people: County) -> int:
    """二亮: every member pledged one to three things in public at the start of the year; some
    are kept by TODAY."""
    rows = Rows(
        MemberPledge,
        ("member", "year", "text", "kept_on", "kept_note", "created_by", "created_at"),
        build.batch_size,
    )
    system = system_actor().pk
    for village in people.villages:
        recorder = people.secretaries.get(village.pk, system)
        for ordinal, member in enumerate(people.members.get(village.pk, [])):
            rng = build.rng("pledges", village.code, ordinal)
            made = date(2026, rng.randint(1, 3), rng.randint(1, 28))
            for text in rng.sample(PLEDGES, rng.randint(1, 3)):
                kept = rng.random() < 0.45 + 0.1 * member.personal
                kept_on = (
                    made + timedelta(days=rng.randint(30, (TODAY - made).days)) if kept else None
                )
                rows.add(
                    member.member_id,
                    TODAY.year,
                    text,
                    kept_on,
                    rng.choice(KEPT_NOTES) if kept else "",
                    recorder,
                    _moment(made, 10 * rng.randint(50, 100)),
                )
    rows.flush()
    return rows.written


# ─── now: open rounds, a panel, meetings (through the services) ─────────────────────────────────


@dataclass
class Demo:
    """The demo logins and their village, for the work shown in progress."""

    users: dict[str, object]
    village: Region  # the secretary's
    township: Region
    people: County
    strengths: Strengths

    @classmethod
    def read(cls, build: "Build") -> "Demo":
        users = get_user_model().objects.in_bulk(["county", *PANEL_JUDGES], field_name="username")
        village = users["secretary"].role_assignments.select_related("region__parent").get().region
        strengths = Strengths(build)
        villages = list(Region.objects.filter(level=Level.VILLAGE).order_by("code"))
        people = County.read(villages, Roster(), strengths)
        return cls(users, village, village.parent, people, strengths)


def _opening(campaign: Campaign) -> tuple[date, date]:
    """When a round open now opened, and its last day: within its window before TODAY (never
    after the real date, which the services check), open until a week after the later of TODAY
    and the real date, so that its pages take ballots whenever the demo is looked at."""
    today = real_today()
    cadence = str(campaign.cadence)
    start, _end = period_dates(cadence, label_for(cadence, TODAY))
    opens_on = min(max(start, TODAY - timedelta(days=campaign.window_days - 1)), today)
    closes_on = max(opens_on + timedelta(days=campaign.window_days), TODAY, today)
    return opens_on, closes_on + timedelta(days=7)


def build_evaluations(build: "Build") -> None:
    """Rounds open now with ballots coming in, a live panel, the branch meetings."""
    started = time.monotonic()
    demo = Demo.read(build)
    opened, cast = 0, 0
    for plan in Plan.objects.filter(region__level=Level.COUNTY).order_by("code"):
        spec = spec_of(plan.spec)
        panel = next((c for c in spec.campaigns if c.raters is RaterPool.PANEL), None)
        contestants = _contestants(demo) if panel else []
        for campaign in spec.campaigns:
            label = label_for(str(campaign.cadence), TODAY)
            if Round.objects.filter(plan=plan, campaign=campaign.code, period_label=label).exists():
                continue
            if campaign is panel:
                round_ = _panel_round(plan, campaign, label, contestants, demo)
                cast += _panel_scores(round_, campaign, demo, build.rng("panel", plan.code))
            else:
                # The panel's contestants are rated by the panel this month, not by both (one
                # result per item and month, as the plan file says).
                same = panel and (campaign.item, campaign.cadence) == (panel.item, panel.cadence)
                round_ = _open_round(plan, campaign, label, contestants if same else [], demo)
                cast += _ballots_so_far(build, demo, round_, campaign)
            opened += 1
    meetings = _meetings(demo)
    build.out(
        f"  evaluations: {opened} rounds open with {cast:,} ballots so far, {meetings} meetings "
        f"({time.monotonic() - started:.1f} s)"
    )


def _contestants(demo: Demo) -> list[Member]:
    """Six of the demo township's strongest members, two at most from one village, none of them
    a judge: the year's 闪亮之星 hopefuls."""
    judges = set(
        Profile.objects.filter(user__username__in=PANEL_JUDGES).values_list("person_id", flat=True)
    )
    villages = {v.pk for v in demo.people.villages if v.code.startswith(demo.township.code)}
    hopefuls = sorted(
        (
            m
            for village, members in demo.people.members.items()
            if village in villages
            for m in members
            if m.person_id not in judges
        ),
        key=lambda m: (-m.personal, m.person_id),
    )
    chosen: list[Member] = []
    for member in hopefuls:
        if sum(c.village_id == member.village_id for c in chosen) < 2:
            chosen.append(member)
        if len(chosen) == PANEL_CONTESTANTS:
            break
    return chosen


def _open_round(plan: Plan, campaign: Campaign, label: str, leave_out: list[Member], demo: Demo):
    opens_on, closes_on = _opening(campaign)
    subjects = None
    if leave_out:
        out = {m.subject_id for m in leave_out}
        everyone = campaign_subjects(plan, campaign).values_list("pk", flat=True)
        subjects = [pk for pk in everyone if pk not in out]
    with transaction.atomic(durable=True):
        return round_open(
            plan=plan,
            campaign=campaign.code,
            period_label=label,
            opens_on=opens_on,
            closes_on=closes_on,
            subjects=subjects,
            acting_user=demo.users["county"],
        )


def _panel_round(plan: Plan, campaign: Campaign, label: str, contestants, demo: Demo) -> Round:
    """集中评比 in the demo township: `township` chairs; five demo logins judge."""
    opens_on, closes_on = _opening(campaign)
    with transaction.atomic(durable=True):
        return round_open(
            plan=plan,
            campaign=campaign.code,
            period_label=label,
            opens_on=opens_on,
            closes_on=closes_on,
            subjects=[m.subject_id for m in contestants],
            judges=[demo.users[name] for name in PANEL_JUDGES],
            chair=demo.users["township"],
            acting_user=demo.users["county"],
        )


def _panel_scores(round_: Round, campaign: Campaign, demo: Demo, rng: Random) -> int:
    """Two judges have scored everyone, the secretary half; the others have not started."""
    contestants = list(round_.subjects.select_related("region", "person").order_by("pk"))
    by_subject = demo.people.member_by_subject()
    cast = 0
    for name, share in (("township", 1.0), ("county", 1.0), ("secretary", 0.5)):
        user = demo.users[name]
        for subject in contestants[: math.ceil(len(contestants) * share)]:
            # The hopefuls are the township's best; the panel sees them at their best.
            reading = QUALITY_MEAN + QUALITY_PULL * by_subject[subject.pk].personal + 0.05
            given, _stored, _mark = ballot_marks(rng, campaign, reading)
            with transaction.atomic(durable=True):
                ballot_cast(round=round_, subject=subject, marks=given, acting_user=user)
            cast += 1
    return cast


def _ballots_so_far(build: "Build", demo: Demo, round_: Round, campaign: Campaign) -> int:
    """An open round's ballots: a third of what it will get, in bulk, outside the demo
    village; the demo village's through the services."""
    rng = build.rng("evaluations-now", round_.plan.code, campaign.code)
    rated = set(round_.subjects.values_list("pk", flat=True))
    months = _months(campaign, round_.period_label)
    history = History(
        build=build,
        county_login=demo.users["county"],
        county=demo.people,
        strengths=demo.strengths,
        ballots=Rows(Ballot, BALLOT_COLUMNS, build.batch_size, ready=("marks", "mark")),
        codes=Rows(RaterCode, CODE_COLUMNS, build.batch_size),
    )
    codes = _open_codes(round_, campaign, rng)
    used: set[int] = set()
    first, last = round_.opens_on, max(round_.opens_on, min(TODAY, real_today()))
    with transaction.atomic(durable=True):
        for village in demo.people.villages:
            if village.pk == demo.village.pk:
                continue
            monthly = demo.strengths.village(village.code)
            for member in demo.people.members.get(village.pk, []):
                if member.subject_id not in rated:
                    continue
                reading = standing(member, monthly, months)
                for rater in _raters(demo.people, campaign, member, village, codes, rng):
                    if rng.random() >= SO_FAR:
                        continue  # not yet
                    if rater.household is not None:
                        used.add(codes.by_household[rater.household][0])
                    elif rater.person is not None:
                        used.add(codes.by_person[rater.person][0])
                    _ballot(
                        history,
                        round_,
                        member.subject_id,
                        campaign,
                        rater,
                        reading,
                        rng,
                        first,
                        last,
                    )
        history.ballots.flush()
        RaterCode.objects.filter(pk__in=used).update(first_used_at=_moment(last, 19 * 60))
    return history.ballot_count + _village_ballots(round_, campaign, demo, rng)


def _open_codes(round_: Round, campaign: Campaign, rng: Random) -> Codes:
    """The codes `round_open` made, as `_raters` reads them, each holder answering or not."""
    codes = Codes()
    if campaign.raters not in TURNOUT:
        return codes
    turnout = TURNOUT[campaign.raters]
    for pk, village, household, person in round_.codes.order_by("pk").values_list(
        "pk", "village_id", "household_id", "person_id"
    ):
        answered = rng.random() < turnout
        if household is not None:
            if answered and rng.random() < PAPER_SHARE:
                codes.paper.add(household)
            codes.by_household[household] = (pk, answered)
            codes.village_households.setdefault(village, []).append(household)
        else:
            codes.by_person[person] = (pk, answered)
    return codes


def _village_ballots(round_: Round, campaign: Campaign, demo: Demo, rng: Random) -> int:
    """The demo village's ballots, cast through the services as its people would: the committee
    has rated everyone, the secretary half; a few households and members have used their codes;
    one member's paper ballots are typed in."""
    members = {m.subject_id: m for m in demo.people.members.get(demo.village.pk, [])}
    subjects = {
        s.pk: s
        for s in round_.subjects.filter(pk__in=list(members)).select_related("region", "person")
    }
    if not subjects:
        return 0
    monthly = demo.strengths.village(demo.village.code)
    months = _months(campaign, round_.period_label)
    cast = 0

    def marks(subject_id: int) -> dict:
        return ballot_marks(rng, campaign, standing(members[subject_id], monthly, months))[0]

    if campaign.raters is RaterPool.BRANCH_COMMITTEE:
        for name, share in (("committee", 1.0), ("secretary", 0.5)):
            user = demo.users[name]
            mine = [pk for pk in sorted(subjects) if members[pk].person_id != _person_of(user)]
            for pk in mine[: math.ceil(len(mine) * share)]:
                with transaction.atomic(durable=True):
                    ballot_cast(
                        round=round_, subject=subjects[pk], marks=marks(pk), acting_user=user
                    )
                cast += 1
    elif campaign.raters in (RaterPool.MASSES_LINKED, RaterPool.BRANCH_MEMBERS):
        holders = list(round_.codes.filter(village=demo.village).select_related("village"))
        for code in sorted(holders, key=lambda c: c.pk)[: min(VILLAGE_CODES_USED, len(holders))]:
            for subject in subjects_for_code(round_, code):
                with transaction.atomic(durable=True):
                    ballot_cast(
                        round=round_,
                        subject=subject,
                        marks=marks(subject.pk),
                        acting_user=None,
                        code=code,
                    )
                cast += 1
    if campaign.raters is RaterPool.MASSES_LINKED:
        # Two households of a member's that have no smartphone filled in paper ballots.
        pk = next(
            (
                pk
                for pk in sorted(subjects)
                if len(demo.people.linked.get(members[pk].member_id, [])) >= 4
            ),
            None,
        )
        if pk is not None:
            # A paper ballot carries its household's code, printed on the form: two linked
            # households that have not rated this member yet.
            voted = set(round_.ballots.filter(subject_id=pk).values_list("rater_key", flat=True))
            unused = [
                code.code
                for code in round_.codes.filter(
                    household_id__in=demo.people.linked[members[pk].member_id]
                ).order_by("pk")
                if f"{HOUSEHOLD}:{code.household_id}" not in voted
            ][:2]
            if unused:
                with transaction.atomic(durable=True):
                    cast += len(
                        paper_ballots_enter(
                            round=round_,
                            subject=subjects[pk],
                            ballots=[{"code": code, "marks": marks(pk)} for code in unused],
                            acting_user=demo.users["secretary"],
                        )
                    )
    return cast


def _person_of(user) -> int | None:
    return Profile.objects.filter(user=user).values_list("person_id", flat=True).first()


def _meetings(demo: Demo) -> int:
    """主题党日: the secretary's branch met on the 6th of November (closed: attendance counted)
    and meets today (open: two have signed in); the next village's branch met the day after."""
    today = real_today()
    scheme = Scheme.objects.filter(code=MEETING_SCHEME).first()
    if scheme is None:
        return 0
    neighbour = (
        Region.objects.filter(parent=demo.township, level=Level.VILLAGE)
        .exclude(pk=demo.village.pk)
        .order_by("code")
        .first()
    )
    held = min(date(TODAY.year, TODAY.month, 6), today)
    made = 0
    for village, day, staff, closing in (
        (demo.village, held, demo.users["secretary"], True),
        (neighbour, held + timedelta(days=1), demo.users["township"], True),
        (demo.village, min(TODAY, today), demo.users["secretary"], False),
    ):
        if village is None:
            continue
        members = list(
            PartyMember.objects.filter(region=village).select_related("person").order_by("pk")
        )
        if not members:
            continue
        with transaction.atomic(durable=True):
            meeting = meeting_open(
                village=village,
                branch=members[0].branch,
                scheme=scheme,
                item_code=MEETING_ITEM,
                title=MEETING_TITLES.get(day.month, "主题党日"),
                held_on=day,
                acting_user=staff,
            )
            came = members[: max(1, len(members) * 4 // 5)] if closing else members[:2]
            for member in came:
                meeting_sign_in_for(meeting=meeting, member=member, acting_user=staff)
            if closing:
                entries = meeting_close(meeting=meeting, acting_user=staff)
                # Signed in and closed on the day itself (the entries' time is not hashed).
                Meeting.objects.filter(pk=meeting.pk).update(closed_at=_moment(day, 17 * 60))
                meeting.attendances.update(signed_at=_moment(day, 14 * 60 + 30))
                Entry.objects.filter(pk__in=[e.pk for e in entries]).update(
                    created_at=_moment(day, 17 * 60)
                )
        made += 1
    return made


build_evaluations.scores_only = True
build_evaluations.manages_transactions = True
