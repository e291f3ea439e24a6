"""Reads of the ballot pages: what a rater sees to rate (by login or by code), the printable codes
of a village, and the individual ballots the audit role reads (each view audited).

Every list here is a fixed handful of queries however many subjects, codes or ballots it shows.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404

from kaoping.core.audit import audit_record
from kaoping.core.privacy import mask_name
from kaoping.people.models import Subject

from .ballots import code_normal
from .models import Ballot, BallotChannel, RaterCode, Round
from .spec import Campaign

BALLOTS_PAGE = 100  # ballots a page of the audit role's list


# ── rounds a login rates in ────────────────────────────────────────────────────────────────────


def rounds_for_rater(user) -> QuerySet[Round]:
    """The rounds whose rating page `user` may open: those of their area, and those they judge
    (a panel may call on a judge from elsewhere)."""
    visible = Round.objects.for_user(user, "evaluation.view").values("pk")
    return (
        Round.objects.filter(Q(pk__in=visible) | Q(judges=user))
        .distinct()
        .select_related("plan__region", "plan__scheme")
    )


def round_for_rater(user, pk: int) -> Round:
    return get_object_or_404(rounds_for_rater(user), pk=pk)


# ── what one rater rates ───────────────────────────────────────────────────────────────────────


@dataclass
class RatingCard:
    """One subject on a rater's page, with the rater's ballot once cast."""

    subject: Subject
    name: str  # the full name for a login, masked on the public code page
    place: str  # the village (or the region the subject belongs to)
    branch: str  # a party member's branch, else ""
    gender: str = ""  # the person's gender, told apart from a namesake masked alike
    born: int | None = None  # the person's birth year, if known
    mark: Decimal | None = None  # the ballot's mark once rated
    answers: list[tuple[str, str]] = field(default_factory=list)  # (question, answer given)
    form: object = None  # set by the view

    @property
    def done(self) -> bool:
        return self.mark is not None


def answers_of(campaign: Campaign, marks: dict) -> list[tuple[str, str]]:
    """A stored ballot's answers as the rater gave them: (question, level name or score)."""
    shown = []
    for item in campaign.form:
        given = marks.get(item.code)
        if given is None:
            continue
        value = Decimal(str(given))
        if item.scale is not None:
            level = next((name for name, mark in item.scale.items() if mark == value), str(value))
            shown.append((item.name, level))
        else:
            shown.append((item.name, str(value.normalize())))
    return shown


def rating_cards(
    round_: Round, subjects: QuerySet[Subject], key: str, *, masked: bool, campaign: Campaign
) -> list[RatingCard]:
    """The subjects a rater rates in `round_`, each with the ballot cast under `key`: two
    queries. On the public code page names are masked and a ballot's answers are not shown (a
    code passed on shows what was rated, never how); the branch, gender and birth year tell
    apart two people masked alike (徐平 and 徐琴 are both 徐*)."""
    rows = list(
        subjects.select_related("region", "person")
        .annotate(branch=F("person__party_member__branch"))
        .order_by("region__code", "name", "pk")
    )
    cast = {
        b["subject_id"]: b
        for b in Ballot.objects.filter(
            round=round_, rater_key=key, subject__in=[s.pk for s in rows]
        ).values("subject_id", "mark", "marks")
    }
    cards = []
    for subject in rows:
        ballot = cast.get(subject.pk)
        person_like = subject.person_id is not None or subject.household_id is not None
        cards.append(
            RatingCard(
                subject=subject,
                name=mask_name(subject.name) if masked and person_like else subject.name,
                place=subject.region.name,
                branch=subject.branch or "",
                gender=subject.person.get_gender_display() if subject.person_id else "",
                born=subject.person.birth_date.year
                if subject.person_id and subject.person.birth_date
                else None,
                mark=ballot["mark"] if ballot else None,
                answers=answers_of(campaign, ballot["marks"]) if ballot and not masked else [],
            )
        )
    return cards


def code_find(code: str) -> RaterCode | None:
    """The code typed or scanned (in any case), with its round, plan and village, or None."""
    return (
        RaterCode.objects.select_related("round__plan", "village", "household", "person")
        .filter(code=code_normal(code))
        .first()
    )


# ── the printable codes ────────────────────────────────────────────────────────────────────────


def code_villages(round_: Round, user) -> list[dict]:
    """The villages of `round_` whose codes `user` may print, with how many codes and how many
    have been used: one query."""
    return list(
        RaterCode.objects.for_user(user, "evaluation.paper")
        .filter(round=round_)
        .values("village_id", "village__name", "village__parent__name", "village__code")
        .annotate(
            codes=Count("id"),
            used=Count("id", filter=Q(first_used_at__isnull=False)),
        )
        .order_by("village__code")
    )


@dataclass
class CodeCard:
    code: str
    url: str  # set by the view (an absolute URL needs the request)
    number: str  # the household's number, or ""
    address: str  # the household's address, or ""
    whom: str  # the head's or the member's masked name
    used: bool
    link: str = ""  # the URL as printed text, for a phone that cannot scan (set by the view)


def code_cards(round_: Round, village) -> list[CodeCard]:
    """One village's codes for the sheet, in household order: one query."""
    codes = (
        RaterCode.objects.filter(round=round_, village=village)
        .select_related("household__head", "person")
        .order_by("household__number", "person__name", "pk")
    )
    cards = []
    for c in codes:
        if c.household_id:
            head = c.household.head
            whom, number = (mask_name(head.name) if head else ""), c.household.number
            address = c.household.address
        else:
            whom, number = (mask_name(c.person.name) if c.person_id else ""), ""
            address = ""
        cards.append(
            CodeCard(
                code=c.code,
                url="",
                number=number,
                address=address,
                whom=whom,
                used=c.first_used_at is not None,
            )
        )
    return cards


# ── individual ballots: the audit role alone ───────────────────────────────────────────────────


@dataclass
class BallotRow:
    ballot: Ballot
    rater: str  # masked: who rated


def rater_shown(ballot: Ballot) -> str:
    """Who cast a ballot, masked: a login's name, a household's number and head, a member."""
    if ballot.channel == BallotChannel.PAPER and ballot.rater_key.startswith("paper:"):
        return ballot.rater_key.replace("paper:", "#")  # typed in before paper took codes
    if ballot.rater_user_id:
        user = ballot.rater_user
        return mask_name(user.get_full_name() or user.get_username())
    if ballot.rater_household_id:
        household = ballot.rater_household
        head = household.head
        return f"{household.number} {mask_name(head.name) if head else ''}".strip()
    if ballot.rater_person_id:
        return mask_name(ballot.rater_person.name)
    return ballot.rater_key


def round_ballots_open(user, round_: Round, *, page: str | int | None = 1, subject=None):
    """A page of the individual ballots of `round_` that `user` may read (`evaluation.ballots`,
    the audit role; the view has checked the round), auditing the view
    (`evaluation.ballots.viewed`) each time: a fixed number of queries a page."""
    ballots = (
        Ballot.objects.for_user(user, "evaluation.ballots")
        .filter(round=round_)
        .select_related(
            "subject__region", "rater_user", "rater_household__head", "rater_person", "entered_by"
        )
        .order_by("subject__region__code", "subject__name", "subject_id", "cast_at", "pk")
    )
    if subject is not None:
        ballots = ballots.filter(subject=subject)
    shown = Paginator(ballots, BALLOTS_PAGE).get_page(page)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="evaluation.ballots.viewed",
            obj=round_,
            region_code=round_.plan.region.code,
            after={"page": shown.number, "subject": subject.pk if subject else None},
        )
    rows = [BallotRow(ballot=b, rater=rater_shown(b)) for b in shown.object_list]
    return shown, rows
