"""Casting ballots: by a login (the branch committee, a panel's judges), by a code without an
account (a household's or a member's QR code), and on paper typed in by staff.

The rules, whichever way a ballot comes in:

- one ballot per rater per subject per round (`Ballot.rater_key`: ``user:<id>``,
  ``household:<id>``, ``person:<id>``; a database constraint holds it too). A paper ballot is
  the paper form of a code: staff type in the code printed on the sheet, and the ballot counts
  as that household's or member's one ballot. A
  rater does not change their ballot once cast: a second one is refused, so what a household
  said cannot be rewritten later by whoever holds its code;
- nobody rates themselves, and only subjects of the rater's pool (`pools`), the same functions
  that decide what a page offers;
- marks are checked by question (`aggregate.marks_problems`), a comment only where the campaign
  takes one;
- a ballot from a registered close relative of the subject is kept and flagged (`relative`).

`Ballot.marks` keeps, for each question, the mark the answer is worth as a Decimal string (the
scale level's mark, or the score), so every later reader adds numbers without the form.

Audit: a login's ballot and every batch of paper ballots write an audit row (who acted, on which
round and subject; never the marks: the audit log is read more widely than ballots). A code's
ballot writes none: there are thousands, each already records its code and time, and the code
page is rate-limited (views_ballots).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import Refused, ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.limits import text_problem
from kaoping.people.models import Subject

from . import aggregate, pools
from .models import Ballot, BallotChannel, RaterCode, Round, RoundStatus
from .spec import CODE_POOLS, Campaign

COMMENT_MAX = 300  # Ballot.comment
PAPER_BATCH_MAX = 200  # paper ballots typed in one go


# ── reading the rules (the pages ask the same questions) ───────────────────────────────────────


def window_problem(round_: Round, *, paper: bool = False, today=None) -> str | None:
    """Why `round_` takes no ballot today, or None. Paper ballots, filled in during the window,
    may still be typed in after its last day, until the round is closed."""
    today = today or timezone.localdate()
    dates = {"opens": round_.opens_on.isoformat(), "closes": round_.closes_on.isoformat()}
    if round_.status != RoundStatus.OPEN:
        return _("%(name)s is closed; it takes no more ballots.") % {"name": round_.name}
    if today < round_.opens_on or (not paper and today > round_.closes_on):
        return _("%(name)s takes ballots from %(opens)s to %(closes)s.") % {
            "name": round_.name,
            **dates,
        }
    return None


def code_normal(code) -> str:
    """A code as typed or scanned: codes are upper case, so "hzaurspvgs" finds HZAURSPVGS."""
    return str(code or "").strip().upper()


def rater_key(*, user=None, code: RaterCode | None = None) -> str:
    """The key that makes a rater's ballot one per subject (Ballot.rater_key)."""
    if user is not None:
        return f"{pools.USER}:{user.pk}"
    if code.household_id:
        return f"{pools.HOUSEHOLD}:{code.household_id}"
    return f"{pools.PERSON}:{code.person_id}"


def _is_self(subject: Subject, *, user=None, code: RaterCode | None = None) -> bool:
    """A login's own person, a member's own code, a household's code for itself or for someone
    who lives in it."""
    if code is not None and code.household_id:
        if subject.household_id == code.household_id:
            return True
        return subject.person_id is not None and subject.person.household_id == code.household_id
    if subject.person_id is None:
        return False
    if user is not None:
        return getattr(getattr(user, "profile", None), "person_id", None) == subject.person_id
    return code.person_id == subject.person_id


def _comment_problem(campaign: Campaign, comment: str) -> str | None:
    if not comment:
        return None
    if not campaign.comment:
        return _("This round takes marks only, no comment.")
    if len(comment) > COMMENT_MAX:
        return _("A comment has at most %(max)d characters; this one has %(n)d.") % {
            "max": COMMENT_MAX,
            "n": len(comment),
        }
    problem = text_problem(comment)
    if problem:
        return _("The comment %(problem)s.") % {"problem": problem}
    return None


def _cleaned(marks: dict) -> dict:
    return {str(k): v.strip() if isinstance(v, str) else v for k, v in (marks or {}).items()}


def _stored_marks(campaign: Campaign, marks: dict) -> dict[str, str]:
    return {
        item.code: str(aggregate.item_mark(campaign, item.code, marks[item.code]))
        for item in campaign.form
    }


# ── writes ─────────────────────────────────────────────────────────────────────────────────────


def ballot_cast(
    *,
    round: Round,
    subject: Subject,
    marks: dict,
    comment: str = "",
    acting_user,
    code: RaterCode | None = None,
) -> Ballot:
    """Cast one ballot: by a login (`acting_user`, with `code=None`) or by a code
    (`acting_user=None`, `code`). Refused (403) when the rater does not rate this subject in
    this round; a KaopingError says what else is wrong (the marks by question code)."""
    round_ = round
    if code is not None and acting_user is not None:
        raise TypeError("a ballot is cast by a login or by a code, not both")
    if code is None:
        user = acting_user
        if user is None or not user.is_authenticated or not user.is_active:
            raise Refused()
        if not user_can(user, "evaluation.rate"):
            raise Refused()
    elif code.round_id != round_.pk:
        raise Refused(_("This code is not for this round."))

    who = {"user": acting_user} if code is None else {"code": code}
    if _is_self(subject, **who):
        raise KaopingError(_("Nobody rates themselves."))
    allowed = (
        pools.subjects_for_user(round_, acting_user)
        if code is None
        else pools.subjects_for_code(round_, code)
    )
    if not allowed.filter(pk=subject.pk).exists():
        raise Refused(_("You do not rate %(name)s in this round.") % {"name": subject.name})

    problem = window_problem(round_)
    if problem:
        raise KaopingError(problem)
    key = rater_key(**who)
    if Ballot.objects.filter(round=round_, subject=subject, rater_key=key).exists():
        raise KaopingError(
            _("You have already rated %(name)s in this round.") % {"name": subject.name}
        )

    campaign = pools.campaign_of(round_)
    marks = _cleaned(marks)
    comment = (comment or "").strip()
    problems = aggregate.marks_problems(campaign, marks)
    if problem := _comment_problem(campaign, comment):
        problems["comment"] = problem
    if problems:
        raise KaopingError(problems)

    persons = pools.rater_person_ids(**who)
    ballot = Ballot(
        round=round_,
        subject=subject,
        rater_key=key,
        channel=BallotChannel.ACCOUNT if code is None else BallotChannel.CODE,
        rater_user=acting_user if code is None else None,
        rater_household_id=code.household_id if code is not None else None,
        rater_person_id=code.person_id if code is not None else None,
        marks=_stored_marks(campaign, marks),
        mark=aggregate.ballot_mark(campaign, marks),
        comment=comment,
        relative=pools.is_relative(subject, persons),
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                ballot.save(force_insert=True)
        except IntegrityError:
            # Two posts of the same rater at once: the other one got there first.
            raise KaopingError(
                _("You have already rated %(name)s in this round.") % {"name": subject.name}
            ) from None
        if code is not None:
            RaterCode.objects.filter(pk=code.pk, first_used_at__isnull=True).update(
                first_used_at=timezone.now()
            )
        else:
            audit_record(
                actor=acting_user,
                action="evaluation.ballot.cast",
                obj=ballot,
                region_code=subject.region.code,
                after={"round": round_.pk, "subject": subject.pk, "channel": ballot.channel},
            )
    return ballot


def paper_ballots_enter(
    *,
    round: Round,
    subject: Subject,
    ballots: list[dict],
    acting_user,
) -> list[Ballot]:
    """Type in the paper ballots collected for one subject, all or none: each item
    ``{"code": the rater's code printed on the sheet, "marks": {question code: answer},
    "comment": ""}``. A paper ballot is the paper form of a household's (or a member's) code, so
    it counts as that rater's one ballot for the subject (its rater key, channel paper): the code
    cannot vote again for the subject, and its page shows the subject as rated. Only rounds rated
    through codes take paper ballots. A bad row refuses the batch with an error per row and field
    (ImportFailed): a code unknown, of another round, not rating this subject, or already used
    for it. The batch is one audit row (never the codes: who rated whom is the audit role's)."""
    round_ = round
    ensure(acting_user, "evaluation.paper", subject)
    if not round_.subjects.filter(pk=subject.pk).exists():
        raise KaopingError(_("%(name)s is not rated in this round.") % {"name": subject.name})
    if pools.pool_of(round_) not in CODE_POOLS:
        raise KaopingError(
            _("In %(name)s the raters use a login, not a code; it takes no paper ballots.")
            % {"name": round_.name}
        )
    problem = window_problem(round_, paper=True)
    if problem:
        raise KaopingError(problem)
    if not ballots:
        raise KaopingError(_("Type in at least one ballot."))
    if len(ballots) > PAPER_BATCH_MAX:
        raise KaopingError(
            _("Type in at most %(max)d ballots at a time.") % {"max": PAPER_BATCH_MAX}
        )

    campaign = pools.campaign_of(round_)
    typed = [code_normal(given.get("code")) for given in ballots]
    found = {
        c.code: c
        for c in RaterCode.objects.filter(code__in=[t for t in typed if t]).select_related(
            "household", "person"
        )
    }
    raters = [rater_key(code=c) for c in found.values() if c.round_id == round_.pk]
    used = set(
        Ballot.objects.filter(round=round_, subject=subject, rater_key__in=raters).values_list(
            "rater_key", flat=True
        )
    )
    rows: list[tuple[RaterCode, dict, str]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    rates: dict[int, bool] = {}
    for n, (given, typed_code) in enumerate(zip(ballots, typed, strict=True), start=1):
        code = found.get(typed_code)
        message = None
        if not typed_code:
            message = _("Type in the code printed on the ballot.")
        elif code is None:
            message = _("There is no code %(code)s; check it against the ballot.") % {
                "code": typed_code
            }
        elif code.round_id != round_.pk:
            message = _("Code %(code)s is for another round.") % {"code": typed_code}
        elif typed_code in seen:
            message = _("Code %(code)s is already typed in on ballot %(n)d.") % {
                "code": typed_code,
                "n": seen[typed_code],
            }
        else:
            if code.pk not in rates:
                rates[code.pk] = not _is_self(subject, code=code) and (
                    pools.subjects_for_code(round_, code).filter(pk=subject.pk).exists()
                )
            if not rates[code.pk]:
                message = _("Code %(code)s does not rate %(name)s in this round.") % {
                    "code": typed_code,
                    "name": subject.name,
                }
            elif rater_key(code=code) in used:
                message = _("Code %(code)s has already rated %(name)s.") % {
                    "code": typed_code,
                    "name": subject.name,
                }
        if message:
            errors.append(RowError(n, "code", message))
        if typed_code and typed_code not in seen:
            seen[typed_code] = n
        marks = _cleaned(given.get("marks") or {})
        comment = (given.get("comment") or "").strip()
        for field, text in aggregate.marks_problems(campaign, marks).items():
            errors.append(RowError(n, field, text))
        if problem := _comment_problem(campaign, comment):
            errors.append(RowError(n, "comment", problem))
        rows.append((code, marks, comment))
    if errors:
        raise ImportFailed(errors)

    with transaction.atomic():
        # Closing the round takes the same lock: no paper ballot slips in after it.
        locked = Round.objects.select_for_update().get(pk=round_.pk)
        problem = window_problem(locked, paper=True)
        if problem:
            raise KaopingError(problem)
        try:
            with transaction.atomic():
                created = Ballot.objects.bulk_create(
                    Ballot(
                        round=round_,
                        subject=subject,
                        rater_key=rater_key(code=code),
                        channel=BallotChannel.PAPER,
                        rater_household_id=code.household_id,
                        rater_person_id=code.person_id,
                        marks=_stored_marks(campaign, marks),
                        mark=aggregate.ballot_mark(campaign, marks),
                        comment=comment,
                        relative=pools.is_relative(subject, pools.rater_person_ids(code=code)),
                        entered_by=acting_user,
                    )
                    for code, marks, comment in rows
                )
        except IntegrityError:
            # A code rated the subject on a phone while the sheets were being typed in.
            raise KaopingError(
                _("One of these codes has just rated %(name)s; type the ballots in again.")
                % {"name": subject.name}
            ) from None
        RaterCode.objects.filter(
            pk__in=[code.pk for code, _m, _c in rows], first_used_at__isnull=True
        ).update(first_used_at=timezone.now())
        audit_record(
            actor=acting_user,
            action="evaluation.paper.entered",
            obj=round_,
            region_code=subject.region.code,
            after={"subject": subject.pk, "count": len(created)},
        )
    return created
