"""Reads of evaluation rounds: the rounds a user sees, a round's table of subjects, its honesty
signals, the rounds a user has to rate and the logins who may judge a plan's panel.

A round's page shows aggregates of the subjects the reader may see (`evaluation.view` on the
subject): a village secretary reads the county's round for their own village's members only.
Who gave which mark to whom is never shown here; a rater who gave everyone the same mark is
counted, and named (by their code's household or person) to the audit role alone
(`evaluation.ballots`). Every function reads in a fixed number of queries, however many
subjects and ballots the round has.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import may
from kaoping.core.fields import subtree_q
from kaoping.core.privacy import mask_name
from kaoping.people.models import Household, Person, Subject
from kaoping.regions.models import Region
from kaoping.schemes.models import SchemeNode

from . import aggregate, pools
from .labels import flag_label
from .models import Ballot, Plan, Round, RoundResult, RoundStatus
from .spec import RaterPool


def fed_item(round_: Round) -> SchemeNode | None:
    """The scheme item a round's campaign feeds, as the scheme's current version has it: rule
    quantity (an entry per result) or rule metric (the result as the period's figure, scored by
    the item's bands); None when that version no longer has the item."""
    return SchemeNode.objects.filter(
        version=round_.plan.scheme.latest_version(),
        variant="",
        is_item=True,
        code=pools.campaign_of(round_).item,
    ).first()


def rounds_for(user, action: str = "evaluation.view") -> QuerySet[Round]:
    """The rounds `user` may `action` (the plans of their area and of the areas above it)."""
    return Round.objects.for_user(user, action).select_related("plan", "plan__region")


def judge_candidates(plan: Plan) -> QuerySet:
    """Logins who may sit on a panel of `plan`: staff, secretaries and committee members inside
    the plan's region, and the departments of its county (active logins that can sign in, by
    where they work, then by name). Each carries `place_code` and `place_name`: the region it
    works in, or its department."""
    User = get_user_model()  # noqa: N806
    inside = RoleAssignment.objects.filter(subtree_q("region__code", plan.region.code)).exclude(
        role=Role.VILLAGER
    )
    departments = RoleAssignment.objects.filter(
        department__county__code=plan.region.code[:6], role=Role.DEPARTMENT_SCORER
    )
    own = inside.filter(user=OuterRef("pk")).order_by("-region__code")
    department = departments.filter(user=OuterRef("pk")).order_by("department__name")
    return (
        User.objects.filter(is_active=True)
        .exclude(password__startswith="!")  # an unusable password: a login nobody signs in with
        .filter(Q(pk__in=inside.values("user_id")) | Q(pk__in=departments.values("user_id")))
        .annotate(
            place_code=Subquery(own.values("region__code")[:1]),
            place_name=Subquery(own.values("region__name")[:1]),
            department_name=Subquery(department.values("department__name")[:1]),
        )
        .order_by(F("place_code").asc(nulls_last=True), "department_name", "first_name", "username")
    )


def user_label(user) -> str:
    """A login as people read it: its name, else its username (the rule of the `who` filter
    of kaoping/core/templatetags/names.py)."""
    if user is None:
        return ""
    return user.first_name or user.get_username()


# ─── one round ───


@dataclass
class RoundRow:
    """One subject of a round as its page shows it."""

    subject: Subject
    name: str  # masked unless the reader may see the person in full
    village: str
    ballots: int
    eligible: int
    response: Decimal | None  # per cent
    value: Decimal | None = None  # closed rounds
    valid: bool | None = None  # None while the round is open
    short: bool = False
    flags: list[tuple[str, str]] = field(default_factory=list)  # (code, label)
    entry_url: str = ""
    village_code: str = ""


@dataclass
class VillageResponse:
    name: str
    ballots: int
    eligible: int
    response: Decimal | None


@dataclass
class Straight:
    """A rater who gave every subject they rated the same mark (audit role only)."""

    rater: str
    mark: Decimal
    ballots: int


@dataclass
class RoundSignals:
    villages: list[VillageResponse]
    short: list[str]  # names (masked as in the rows) of subjects short of ballots
    straight_liners: int
    straight: list[Straight]  # empty unless the reader holds evaluation.ballots
    pool_all_same: bool
    pool_mark: Decimal | None
    relatives: int  # ballots from registered close relatives
    ballots: int
    min_ballots: int

    @property
    def any(self) -> bool:
        return bool(self.short or self.straight_liners or self.pool_all_same or self.relatives)


@dataclass
class RoundReport:
    rows: list[RoundRow]
    signals: RoundSignals
    # Subjects of a closed round nobody could rate (no eligible rater: a member who links no
    # household in a masses_linked round): left out of the rows and of the short ones.
    unratable: int = 0


def _visible(round_: Round, user) -> QuerySet[Subject]:
    subjects = round_.subjects.all()
    if user is None:
        return subjects
    return subjects.filter(pk__in=Subject.objects.for_user(user, "evaluation.view").values("pk"))


def round_report(round_: Round, *, user=None) -> RoundReport:
    """The rows and the signals of `round_` for `user` (all subjects, names masked, when None),
    read together: a dozen queries whatever the round's size."""
    campaign = pools.campaign_of(round_)
    subjects = list(_visible(round_, user).select_related("region", "person").order_by("pk"))
    ids = [s.pk for s in subjects]
    ballots = list(
        Ballot.objects.filter(round=round_, subject_id__in=ids).values_list(
            "subject_id", "rater_key", "mark", "relative"
        )
    )
    counts = Counter(subject_id for subject_id, *_rest in ballots)
    closed = round_.status == RoundStatus.CLOSED
    results = {}
    if closed:
        results = {
            r.subject_id: r for r in RoundResult.objects.filter(round=round_, subject_id__in=ids)
        }
        eligible = {pk: r.eligible for pk, r in results.items()}
    else:
        eligible = pools.eligible_counts(round_)
    village_codes = {pools.village_code(s) for s in subjects}
    villages = dict(Region.objects.filter(code__in=village_codes).values_list("code", "name"))
    full_names, entry_view = set(), set()
    if user is not None:
        full_names = set(
            Subject.objects.for_user(user, "people.view")
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        entry_view = set(
            Subject.objects.for_user(user, "entry.view")
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
    scheme_code = round_.plan.scheme.code
    rows = []
    for subject in subjects:
        result = results.get(subject.pk)
        n = result.ballots if result is not None else counts.get(subject.pk, 0)
        possible = eligible.get(subject.pk, 0)
        person = subject.person_id is not None
        row = RoundRow(
            subject=subject,
            name=subject.name
            if not person or subject.pk in full_names
            else mask_name(subject.name),
            village=villages.get(pools.village_code(subject), subject.region.name),
            village_code=pools.village_code(subject),
            ballots=n,
            eligible=possible,
            response=aggregate.response_rate(n, possible),
        )
        if result is not None:
            row.value, row.valid = result.value, result.valid
            row.short = aggregate.SHORT in result.flags
            row.flags = [(code, flag_label(code)) for code in result.flags]
            if (result.entry_id or result.metric) and subject.pk in entry_view:
                row.entry_url = (
                    reverse("periods:subject", args=[subject.pk]) + f"?scheme={scheme_code}"
                )
        else:
            row.short = n < campaign.min_ballots
        rows.append(row)
    unratable = 0
    if closed:
        rated = [r for r in rows if r.eligible or r.ballots or r.valid]
        unratable = len(rows) - len(rated)
        rows = sorted(rated, key=lambda r: (r.value is None, -(r.value or 0), r.village, r.name))
    else:
        rows.sort(key=lambda r: (r.village, r.name))
    return RoundReport(
        rows=rows, signals=_signals(round_, campaign, rows, ballots, user), unratable=unratable
    )


def _signals(round_, campaign, rows, ballots, user) -> RoundSignals:
    by_village: dict[str, list[int]] = {}
    for row in rows:
        tally = by_village.setdefault(row.village, [0, 0])
        tally[0] += row.ballots
        tally[1] += row.eligible
    villages = [
        VillageResponse(name, n, possible, aggregate.response_rate(n, possible))
        for name, (n, possible) in sorted(by_village.items())
    ]
    straight_keys = aggregate.straight_liners([(key, mark) for _s, key, mark, _r in ballots])
    straight: list[Straight] = []
    if straight_keys and user is not None and may(user, "evaluation.ballots", round_):
        marks: dict[str, list[Decimal]] = {}
        for _s, key, mark, _r in ballots:
            if key in straight_keys:
                marks.setdefault(key, []).append(mark)
        names = rater_names(straight_keys)
        straight = sorted(
            (
                Straight(names.get(key, key), values[0], len(values))
                for key, values in marks.items()
            ),
            key=lambda s: s.rater,
        )
    all_marks = {mark for _s, _k, mark, _r in ballots}
    same = len(ballots) >= 2 and len(all_marks) == 1
    return RoundSignals(
        villages=villages,
        short=[row.name for row in rows if row.short],
        straight_liners=len(straight_keys),
        straight=straight,
        pool_all_same=same,
        pool_mark=next(iter(all_marks)) if same else None,
        relatives=sum(1 for *_rest, relative in ballots if relative),
        ballots=len(ballots),
        min_ballots=campaign.min_ballots,
    )


def rater_names(keys) -> dict[str, str]:
    """What the audit role reads for rater keys on a round's page: a login's name, a household's
    number and head, a member (persons' names masked: who rated what in full is the ballots
    page's), a paper ballot's number (one query per kind of rater)."""
    ids: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for key in keys:
        kind, _sep, value = key.partition(":")
        if kind == pools.PAPER:
            names[key] = _("paper ballot %(n)s") % {"n": value}
        elif value.isdigit():
            ids.setdefault(kind, []).append(int(value))
    if ids.get(pools.USER):
        for user in get_user_model().objects.filter(pk__in=ids[pools.USER]):
            names[f"{pools.USER}:{user.pk}"] = user_label(user)
    if ids.get(pools.HOUSEHOLD):
        for household in Household.objects.filter(pk__in=ids[pools.HOUSEHOLD]).select_related(
            "head"
        ):
            head = mask_name(household.head.name) if household.head_id else ""
            names[f"{pools.HOUSEHOLD}:{household.pk}"] = (
                _("household %(number)s %(head)s") % {"number": household.number, "head": head}
            ).strip()
    if ids.get(pools.PERSON):
        for pk, name in Person.objects.filter(pk__in=ids[pools.PERSON]).values_list("pk", "name"):
            names[f"{pools.PERSON}:{pk}"] = mask_name(name)
    return names


def round_rows(round_: Round, *, user=None) -> list[RoundRow]:
    """Per subject the reader may see: masked name for persons, village, ballots, possible
    raters, response rate, and once closed the result, its validity, flags and entry link."""
    return round_report(round_, user=user).rows


def round_signals(round_: Round, *, user=None) -> RoundSignals:
    """The honesty signals: response per village, subjects short of ballots, raters who gave
    everyone the same mark (a count; who they are for `evaluation.ballots` alone), a pool whose
    marks are all identical, ballots from close relatives."""
    return round_report(round_, user=user).signals


def round_ballot_counts(rounds: list[Round]) -> dict[int, int]:
    """Ballots cast so far in each of `rounds` (one grouped query)."""
    return dict(
        Ballot.objects.filter(round__in=[r.pk for r in rounds])
        .values_list("round_id")
        .annotate(n=Count("id"))
        .values_list("round_id", "n")
    )


# ─── the rounds a user rates ───


@dataclass
class ToRate:
    round: Round
    subjects: int  # the subjects the user rates in it
    done: int  # ballots they have cast
    panel: bool = False  # a judge scores on the panel's judge page, not the rating page

    @property
    def left(self) -> int:
        return max(self.subjects - self.done, 0)


def rounds_to_rate(user, *, today: date) -> list[ToRate]:
    """Open rounds, running today, in which `user` rates with their login (the branch committee,
    a panel's judges), with how many subjects they rate and how many they have rated. One query
    per such round (a user rates in a handful at most), never one per subject."""
    if user is None or not user.is_authenticated:
        return []
    candidates = list(
        Round.objects.filter(pools.user_rates_in(user))
        .filter(status=RoundStatus.OPEN, opens_on__lte=today, closes_on__gte=today)
        .select_related("plan")
        .distinct()
        .order_by("closes_on", "pk")
    )
    found = []
    for round_ in candidates:
        if pools.pool_of(round_) not in (RaterPool.BRANCH_COMMITTEE, RaterPool.PANEL):
            continue
        found.append(round_)
    if not found:
        return []
    done = dict(
        Ballot.objects.filter(round__in=[r.pk for r in found], rater_key=f"{pools.USER}:{user.pk}")
        .values_list("round_id")
        .annotate(n=Count("id"))
        .values_list("round_id", "n")
    )
    rated = []
    for round_ in found:
        subjects = pools.subjects_for_user(round_, user).count()
        if subjects:
            panel = pools.pool_of(round_) is RaterPool.PANEL
            rated.append(ToRate(round_, subjects, done.get(round_.pk, 0), panel))
    return rated
