"""集中评比 (a live panel, as the 擂台比武 rounds end): judges score the contestants on their phones
during a session, the chair watches who has scored, closing the session (`rounds.round_close`)
applies the campaign's aggregate, and the screen in the room shows the standing.

Reads only: the writes are `ballots.ballot_cast` and `rounds.round_close`. The board says who has
scored whom, never the marks: judges must not see each other's marks, and the room sees nothing
of them before the close. The standing is read from the RoundResult rows the close writes.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from kaoping.core.privacy import mask_name
from kaoping.core.templatetags.names import who
from kaoping.people.models import Subject

from .models import Ballot, Round, RoundStatus
from .pools import USER, campaign_of, pool_of
from .spec import Aggregate, RaterPool

# A cell of the board: the judge has scored the contestant, not yet, or is the contestant.
DONE, TODO, SELF = "done", "todo", "self"


def panel_rounds(user) -> QuerySet[Round]:
    """The rounds whose panel pages `user` may open: those they see in their area, and those
    they judge or chair wherever they work (a judge from another township sits on the panel
    without seeing the plan's other rounds). Every panel page starts here: a round not in it
    is 404."""
    seen = Round.objects.for_user(user, "evaluation.view").values("pk")
    return (
        Round.objects.filter(Q(pk__in=seen) | Q(judges=user) | Q(chair=user))
        .distinct()
        .select_related("plan__region")
    )


def is_panel(round_: Round) -> bool:
    return pool_of(round_) is RaterPool.PANEL


def is_judge(round_: Round, user) -> bool:
    return round_.judges.filter(pk=user.pk).exists()


def panel_contestants(round_: Round) -> QuerySet[Subject]:
    """The contestants in the order they are listed everywhere (the board, the phones, the
    screen)."""
    return round_.subjects.select_related("region", "person").order_by("region__code", "name", "id")


def judge_name(user) -> str:
    """A judge as pages name logins (`names.who`): the office or person, else the username."""
    return who(user)


def contestant_name(subject: Subject, *, masked: bool = False) -> str:
    """A village's or a team's name in full; a person's masked where the page is not for those
    who score them (the screen in the room)."""
    if masked and subject.person_id is not None:
        return mask_name(subject.name)
    return subject.name


def contestant_place(subject: Subject) -> str:
    """What tells two contestants apart beside their names: a person's village."""
    return subject.region.name if subject.person_id is not None else ""


@dataclass(frozen=True)
class Judge:
    id: int
    name: str
    scored: int  # contestants this judge has scored
    due: int  # contestants this judge scores (not themselves)

    @property
    def done(self) -> bool:
        return self.scored >= self.due


@dataclass(frozen=True)
class Contestant:
    id: int
    name: str
    place: str
    cells: tuple[str, ...]  # one per judge, in the board's order of judges: DONE, TODO or SELF
    scored: int  # judges who have scored this contestant
    due: int  # judges who score this contestant

    @property
    def done(self) -> bool:
        return self.scored >= self.due


@dataclass(frozen=True)
class Board:
    judges: list[Judge]
    contestants: list[Contestant]
    scored: int  # judges' ballots cast
    due: int  # judges' ballots to cast in all
    closed: bool

    @property
    def done(self) -> bool:
        """Every judge has scored every contestant they score."""
        return bool(self.judges and self.contestants) and self.scored >= self.due


def _user_id(rater_key: str) -> int | None:
    prefix, _sep, rest = rater_key.partition(":")
    return int(rest) if prefix == USER and rest.isdigit() else None


def panel_board(round_: Round, *, masked: bool = False) -> Board:
    """Judges × contestants: who has scored whom, the counts per judge and per contestant, and
    whether everyone is done. Three queries however large the panel. A judge who is a
    contestant does not score themselves (their cell is SELF). Ballots of someone who is no
    longer a judge are not on the board (the close counts them; the board is the session's)."""
    judges = list(round_.judges.select_related("profile").order_by("id"))
    subjects = list(panel_contestants(round_))
    scored = {
        (subject_id, user_id)
        for subject_id, key in Ballot.objects.filter(round=round_).values_list(
            "subject_id", "rater_key"
        )
        if (user_id := _user_id(key)) is not None
    }
    person_of = {
        judge.pk: getattr(getattr(judge, "profile", None), "person_id", None) for judge in judges
    }
    per_judge = {judge.pk: [0, 0] for judge in judges}  # scored, due
    contestants = []
    for subject in subjects:
        cells = []
        for judge in judges:
            if subject.person_id is not None and person_of[judge.pk] == subject.person_id:
                cells.append(SELF)
                continue
            done = (subject.pk, judge.pk) in scored
            cells.append(DONE if done else TODO)
            per_judge[judge.pk][0] += done
            per_judge[judge.pk][1] += 1
        contestants.append(
            Contestant(
                id=subject.pk,
                name=contestant_name(subject, masked=masked),
                place=contestant_place(subject),
                cells=tuple(cells),
                scored=cells.count(DONE),
                due=len(cells) - cells.count(SELF),
            )
        )
    rows = [
        Judge(id=j.pk, name=judge_name(j), scored=per_judge[j.pk][0], due=per_judge[j.pk][1])
        for j in judges
    ]
    return Board(
        judges=rows,
        contestants=contestants,
        scored=sum(j.scored for j in rows),
        due=sum(j.due for j in rows),
        closed=round_.status == RoundStatus.CLOSED,
    )


@dataclass(frozen=True)
class Placed:
    rank: int | None  # None: no valid result (too few ballots)
    subject_id: int
    name: str
    place: str
    value: Decimal | None
    ballots: int
    valid: bool
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Standing:
    rows: list[Placed]
    trimmed: bool  # the highest and the lowest mark were dropped
    min_ballots: int


def panel_standing(round_: Round, *, masked: bool = False) -> Standing | None:
    """The ranking after the close, from the round's results: the highest value first, equal
    values sharing a rank (1, 1, 3), results short of ballots last without a rank. None while
    the session is open: nothing of the marks is shown before the close. One query (the round's
    plan loaded with it)."""
    if round_.status != RoundStatus.CLOSED:
        return None
    campaign = campaign_of(round_)
    results = list(round_.results.select_related("subject__region", "subject__person"))
    valid = sorted(
        (r for r in results if r.valid and r.value is not None),
        key=lambda r: (-r.value, r.subject.region.code, r.subject.name, r.subject_id),
    )
    short = sorted(
        (r for r in results if not (r.valid and r.value is not None)),
        key=lambda r: (r.subject.region.code, r.subject.name, r.subject_id),
    )
    rows = []
    rank = 0
    previous = None
    for position, result in enumerate(valid, start=1):
        if result.value != previous:
            rank, previous = position, result.value
        rows.append(_placed(result, rank, masked))
    rows += [_placed(result, None, masked) for result in short]
    return Standing(
        rows=rows,
        trimmed=campaign.aggregate is Aggregate.TRIMMED_MEAN,
        min_ballots=campaign.min_ballots,
    )


def _placed(result, rank: int | None, masked: bool) -> Placed:
    return Placed(
        rank=rank,
        subject_id=result.subject_id,
        name=contestant_name(result.subject, masked=masked),
        place=contestant_place(result.subject),
        value=result.value if rank is not None else None,
        ballots=result.ballots,
        valid=rank is not None,
        flags=tuple(result.flags or ()),
    )
