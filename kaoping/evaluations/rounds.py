"""Writes of an evaluation round: open it, close it (the results into the score), close the
rounds whose time is up (a daily job).

Opening a round fixes its subjects and, for the pools that rate without an account
(`spec.CODE_POOLS`), makes one unguessable code per rater in bulk: a township's masses round has
thousands of households. Closing it aggregates every subject's ballots (`aggregate`) and puts
the results into the score at the period of the campaign's cadence (the feeder pattern of
docs/architecture.md): for a `quantity` item, each valid, positive result as ONE entry through
the ledger's one write (points = result × the item's points); for a `metric` item, each valid
result as the metric's value of the period (points by the item's bands, at the close). All or
nothing: a subject whose entry the ledger refuses, or a finalised period, leaves the round open
and nothing written.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaoping.accounts.scoping import ensure, may, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import EntrySource
from kaoping.ledger.services import (
    AUDIT_SUMMARY,
    EntryDraft,
    Recorder,
    day_sealed,
    entries_write,
    metric_values_put,
)
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import SchemeNode

from . import aggregate, pools
from .codes import random_code
from .models import Ballot, Plan, RaterCode, Round, RoundResult, RoundStatus
from .round_selectors import fed_item, judge_candidates, user_label
from .spec import CODE_POOLS, Campaign, RaterPool, spec_of

logger = logging.getLogger(__name__)

BATCH = 1000
PROBLEMS_SHOWN = 10
PERIOD_EXAMPLES = {
    "month": "2026-03",
    "quarter": "2026-Q1",
    "half_year": "2026-H1",
    "year": "2026",
}  # a refused close names this many subjects, then counts the rest


# ─── open ───


def round_open(
    *,
    plan: Plan,
    campaign: str,
    period_label: str | None = None,
    opens_on: date | None = None,
    closes_on: date | None = None,
    judges=(),
    chair=None,
    subjects=None,
    acting_user,
) -> Round:
    """Open a round of `campaign` of `plan` for one period: its subjects fixed, its codes made.

    Defaults: the period of today at the campaign's cadence, open from today for the campaign's
    `window_days`, every subject the campaign rates (`pools.campaign_subjects`; a panel may name
    fewer, its contestants). A panel round needs its judges; its chair is the opener unless
    named. One round per campaign and period.
    """
    ensure(acting_user, "evaluation.manage", plan)
    spec = spec_of(plan.spec)
    chosen = next((c for c in spec.campaigns if c.code == campaign), None)
    if chosen is None:
        raise KaopingError(
            {
                "campaign": _("“%(code)s” is not a campaign of %(plan)s; it has %(codes)s.")
                % {
                    "code": campaign,
                    "plan": plan.name,
                    "codes": "、".join(f"{c.name} ({c.code})" for c in spec.campaigns),
                }
            }
        )
    cadence = str(chosen.cadence)
    today = timezone.localdate()
    label = (period_label or "").strip() or label_for(cadence, today)
    try:
        period_dates(cadence, label)
    except ValueError:
        raise KaopingError(
            {
                "period_label": _(
                    "“%(label)s” is not a %(cadence)s period; write it like %(example)s."
                )
                % {
                    "label": label,
                    "cadence": cadence_label(cadence),
                    "example": PERIOD_EXAMPLES.get(cadence, label_for(cadence, today)),
                }
            }
        ) from None
    existing = (
        Round.objects.filter(plan=plan, campaign=chosen.code, period_label=label)
        .only("pk", "opens_on", "status")
        .first()
    )
    if existing is not None:
        raise KaopingError(
            {
                "period_label": _(
                    "%(campaign)s %(period)s was opened on %(day)s already (%(status)s); "
                    "a campaign has one round per period."
                )
                % {
                    "campaign": chosen.name,
                    "period": label,
                    "day": existing.opens_on.isoformat(),
                    "status": existing.get_status_display(),
                }
            }
        )
    opens_on = opens_on or today
    closes_on = closes_on or opens_on + timedelta(days=chosen.window_days)
    if closes_on < opens_on:
        raise KaopingError(
            {
                "closes_on": _("The round closes on %(close)s, before it opens on %(open)s.")
                % {"close": closes_on.isoformat(), "open": opens_on.isoformat()}
            }
        )
    rated = _subjects(plan, chosen, subjects)
    judges, chair = _panel(plan, chosen, judges, chair, acting_user)
    with transaction.atomic():
        round_ = Round.objects.create(
            plan=plan,
            campaign=chosen.code,
            name=chosen.name,
            cadence=cadence,
            period_label=label,
            opens_on=opens_on,
            closes_on=closes_on,
            chair=chair,
            opened_by=acting_user,
        )
        through = Round.subjects.through
        through.objects.bulk_create(
            (through(round_id=round_.pk, subject_id=pk) for pk in rated), batch_size=BATCH
        )
        if judges:
            round_.judges.set(judges)
        codes = 0
        if chosen.raters in CODE_POOLS:
            raters = pools.code_raters(round_)
            fresh = _fresh_codes(len(raters))
            RaterCode.objects.bulk_create(
                (
                    RaterCode(
                        round=round_,
                        code=code,
                        village_id=village,
                        household_id=household,
                        person_id=person,
                    )
                    for code, (village, household, person) in zip(fresh, raters, strict=True)
                ),
                batch_size=BATCH,
            )
            codes = len(raters)
        audit_record(
            actor=acting_user,
            action="evaluation.round.opened",
            obj=round_,
            region_code=plan.region.code,
            after={
                "plan": plan.code,
                "campaign": chosen.code,
                "period": label,
                "opens_on": opens_on.isoformat(),
                "closes_on": closes_on.isoformat(),
                "subjects": len(rated),
                "codes": codes,
                "judges": [u.pk for u in judges],
                "chair": chair.pk if chair is not None else None,
            },
        )
    return round_


def _subjects(plan: Plan, campaign: Campaign, subjects) -> list[int]:
    """The ids of the subjects a new round rates: all the campaign's, or those named (which
    must be among them)."""
    allowed = pools.campaign_subjects(plan, campaign)
    if subjects is None:
        chosen = list(allowed.values_list("pk", flat=True))
    else:
        named = {getattr(s, "pk", s) for s in subjects}
        chosen = list(allowed.filter(pk__in=named).values_list("pk", flat=True))
        if len(chosen) != len(named):
            raise KaopingError(
                {
                    "subjects": ngettext(
                        "%(n)d of the subjects named is not rated by %(campaign)s.",
                        "%(n)d of the subjects named are not rated by %(campaign)s.",
                        len(named) - len(chosen),
                    )
                    % {"n": len(named) - len(chosen), "campaign": campaign.name}
                }
            )
    if not chosen:
        raise KaopingError(
            {
                "subjects": _("%(campaign)s has nobody to rate in %(region)s.")
                % {"campaign": campaign.name, "region": plan.region.name}
            }
        )
    return chosen


def _panel(plan: Plan, campaign: Campaign, judges, chair, acting_user):
    """A panel round's judges and chair (checked); nothing for the other pools."""
    judges = list(judges or ())
    if campaign.raters is not RaterPool.PANEL:
        if judges:
            raise KaopingError(
                {
                    "judges": _("Only a panel round has judges; %(campaign)s does not.")
                    % {"campaign": campaign.name}
                }
            )
        return [], None
    if not judges:
        raise KaopingError({"judges": _("A panel round needs at least one judge.")})
    chair = chair or acting_user
    candidates = set(
        judge_candidates(plan)
        .filter(pk__in=[u.pk for u in judges] + [chair.pk])
        .values_list("pk", flat=True)
    )
    strangers = [u for u in judges if u.pk not in candidates]
    if strangers:
        raise KaopingError(
            {
                "judges": _("%(names)s work outside %(region)s and cannot judge this round.")
                % {
                    "names": "、".join(user_label(u) for u in strangers),
                    "region": plan.region.name,
                }
            }
        )
    if chair.pk not in candidates and chair.pk != getattr(acting_user, "pk", None):
        raise KaopingError(
            {
                "chair": _("%(name)s works outside %(region)s and cannot chair this round.")
                % {"name": user_label(chair), "region": plan.region.name}
            }
        )
    return judges, chair


def _fresh_codes(count: int) -> list[str]:
    """`count` distinct codes that no round uses yet (a few queries however many)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        batch = {random_code() for _ in range(wanted)}
        batch -= codes
        batch_list = list(batch)
        for start in range(0, len(batch_list), BATCH * 10):
            chunk = batch_list[start : start + BATCH * 10]
            taken = set(RaterCode.objects.filter(code__in=chunk).values_list("code", flat=True))
            codes |= set(chunk) - taken
    return list(codes)[:count]


# ─── close ───


def may_close(user, round_: Round) -> bool:
    """Whether `user` may close `round_`: who manages it, or the chair of a panel round (the
    session's chair closes it in the room, even without managing the plan)."""
    if _is_chair(user, round_):
        return True
    return may(user, "evaluation.manage", round_)


def _is_chair(user, round_: Round) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and round_.chair_id is not None
        and round_.chair_id == user.pk
        and pools.pool_of(round_) is RaterPool.PANEL
    )


def round_close(*, round: Round, acting_user) -> list[RoundResult]:  # noqa: A002
    """Close `round`: every subject's aggregate as a RoundResult, and each valid, positive one
    as one entry of the campaign's item through the ledger's one write. All or nothing."""
    round_ = round
    if not _is_chair(acting_user, round_):
        ensure(acting_user, "evaluation.manage", round_)
    with transaction.atomic():
        closed_at = timezone.now()
        moved = Round.objects.filter(pk=round_.pk, status=RoundStatus.OPEN).update(
            status=RoundStatus.CLOSED, closed_by=acting_user, closed_at=closed_at
        )
        if not moved:
            raise KaopingError(
                _("%(round)s is closed already; its results stand.") % {"round": str(round_)}
            )
        round_ = Round.objects.select_related("plan__scheme", "plan__region").get(pk=round_.pk)
        campaign = pools.campaign_of(round_)
        subjects = list(round_.subjects.select_related("region", "person").order_by("pk"))
        ballots = list(
            Ballot.objects.filter(round=round_).values_list(
                "subject_id", "rater_key", "mark", "relative"
            )
        )
        marks: dict[int, list] = {}
        relatives: dict[int, int] = {}
        for subject_id, _key, mark, relative in ballots:
            marks.setdefault(subject_id, []).append(mark)
            relatives[subject_id] = relatives.get(subject_id, 0) + int(relative)
        eligible = pools.eligible_counts(round_)
        outcomes = {
            s.pk: aggregate.subject_outcome(
                campaign, marks.get(s.pk, []), relatives=relatives.get(s.pk, 0)
            )
            for s in subjects
        }
        item = _fed_item(round_, campaign)
        if item.rule == "metric":
            # Every valid result, 0 included: the bands decide what it is worth.
            fed = [s for s in subjects if outcomes[s.pk].valid]
            _put_metric(round_, item, fed, outcomes)
            entries, metric_of = [], {s.pk: item.metric for s in fed}
        else:
            written = [s for s in subjects if outcomes[s.pk].valid and outcomes[s.pk].value > 0]
            entries = _write_entries(round_, campaign, written, outcomes, acting_user)
            metric_of = {}
        entry_of = {e.subject_id: e.pk for e in entries}
        results = RoundResult.objects.bulk_create(
            (
                RoundResult(
                    round=round_,
                    subject=s,
                    value=outcomes[s.pk].value,
                    ballots=outcomes[s.pk].ballots,
                    eligible=eligible.get(s.pk, 0),
                    valid=outcomes[s.pk].valid,
                    flags=outcomes[s.pk].flags,
                    entry_id=entry_of.get(s.pk),
                    metric=metric_of.get(s.pk, ""),
                )
                for s in subjects
            ),
            batch_size=BATCH,
        )
        straight = aggregate.straight_liners([(key, mark) for _s, key, mark, _r in ballots])
        all_marks = {mark for _s, _k, mark, _r in ballots}
        audit_record(
            actor=acting_user,
            action="evaluation.round.closed",
            obj=round_,
            region_code=round_.plan.region.code,
            before={"status": RoundStatus.OPEN},
            after={
                "status": RoundStatus.CLOSED,
                "subjects": len(subjects),
                "ballots": len(ballots),
                "entries": len(entries),
                "metric_values": len(metric_of),
                "valid": sum(o.valid for o in outcomes.values()),
                "short": sum(aggregate.SHORT in o.flags for o in outcomes.values()),
                "straight_liners": len(straight),
                "pool_all_same": len(ballots) >= 2 and len(all_marks) == 1,
            },
        )
    return results


def _occurred_on(round_: Round, today: date) -> date:
    """The day a round's entries carry: the period's last day, or today while it runs (the
    ledger refuses a day in the future), never before the period starts."""
    start, end = period_dates(round_.cadence, round_.period_label)
    return max(start, min(end, today))


def _fed_item(round_: Round, campaign: Campaign) -> SchemeNode:
    """The item the round feeds (the plan's checks held it to rule: quantity or metric when the
    plan was loaded; the scheme may have changed since)."""
    item = fed_item(round_)
    if item is None or item.rule not in ("quantity", "metric"):
        raise KaopingError(
            _(
                "%(round)s cannot be closed: the scheme %(scheme)s no longer has %(item)s as an "
                "item that takes a number. Load a plan that names one of its items."
            )
            % {"round": str(round_), "scheme": round_.plan.scheme.name, "item": campaign.item}
        )
    return item


def _put_metric(round_: Round, item: SchemeNode, subjects, outcomes) -> None:
    """Each subject's result as the value of the item's metric for the round's period (the value
    the close scores by the item's bands); refused when the period is finalised."""
    scheme = round_.plan.scheme
    start, end = period_dates(round_.cadence, round_.period_label)
    if day_sealed(scheme.pk, start) or day_sealed(scheme.pk, end):
        raise KaopingError(
            _(
                "%(round)s cannot be closed: %(cadence)s %(period)s of the scheme %(scheme)s is "
                "finalised, so its results can no longer count. Nothing was written."
            )
            % {
                "round": str(round_),
                "cadence": cadence_label(round_.cadence),
                "period": round_.period_label,
                "scheme": scheme.name,
            }
        )
    metric_values_put(
        scheme=scheme,
        period_label=round_.period_label,
        values=[(s, item.metric, outcomes[s.pk].value) for s in subjects],
    )


def _write_entries(round_: Round, campaign: Campaign, subjects, outcomes, acting_user) -> list:
    """One entry per subject (the feeder pattern): checked first, all refused if one is."""
    if not subjects:
        return []
    scheme = round_.plan.scheme
    recorder = Recorder(scheme=scheme, acting_user=acting_user, source=EntrySource.EVALUATION)
    day = _occurred_on(round_, recorder.today)
    cadence = "" if round_.cadence == scheme.cadence else round_.cadence
    drafts = [
        EntryDraft(
            subject=subject,
            item_code=campaign.item,
            quantity=outcomes[subject.pk].value,
            occurred_on=day,
            cadence=cadence,
            idempotency_key=f"evaluation:{round_.pk}:{subject.pk}",
            note=ngettext(
                "%(campaign)s %(value)s (%(n)d ballot)",
                "%(campaign)s %(value)s (%(n)d ballots)",
                outcomes[subject.pk].ballots,
            )
            % {
                "campaign": campaign.name,
                "value": outcomes[subject.pk].value,
                "n": outcomes[subject.pk].ballots,
            },
        )
        for subject in subjects
    ]
    refused = [
        (draft.subject, problem)
        for draft in drafts
        for problem in recorder.problems(draft).values()
    ]
    if refused:
        lines = [
            _("%(subject)s: %(problem)s") % {"subject": subject.name, "problem": problem}
            for subject, problem in refused[:PROBLEMS_SHOWN]
        ]
        if len(refused) > PROBLEMS_SHOWN:
            lines.append(
                _("… and %(n)d more.") % {"n": len(refused) - PROBLEMS_SHOWN},
            )
        head = _(
            "%(round)s cannot be closed: the scheme refuses its results as entries of %(item)s "
            "(%(cadence)s %(period)s). Nothing was written."
        ) % {
            "round": str(round_),
            "item": campaign.item,
            "cadence": cadence_label(round_.cadence),
            "period": round_.period_label,
        }
        raise KaopingError([head, *lines])
    return entries_write(
        entries=[recorder.build(d) for d in drafts],
        acting_user=acting_user,
        recorder=recorder,
        audit=AUDIT_SUMMARY,
        summary_of=round_,
        context={"round": round_.pk, "campaign": campaign.code, "period": round_.period_label},
    )


# ─── the daily job ───


def _due(today: date):
    return Round.objects.filter(status=RoundStatus.OPEN, closes_on__lt=today)


def _close_due(*, acting_user, today: date) -> tuple[list[Round], list[tuple[Round, str]]]:
    due = _due(today)
    ensure(acting_user, "evaluation.manage", due)
    closed, refused = [], []
    for round_ in due.select_related("plan").order_by("closes_on", "pk"):
        try:
            with transaction.atomic():  # one round's refusal undoes that round alone
                round_close(round=round_, acting_user=acting_user)
        except KaopingError as exc:
            refused.append((round_, "; ".join(exc.messages)))
            logger.warning("evaluation round %s not closed: %s", round_.pk, exc.messages)
            continue
        closed.append(round_)
    return closed, refused


def rounds_close_due(*, acting_user, today: date | None = None) -> int:
    """Close every open round whose last day (`closes_on`) is before `today`; how many closed.
    A round the ledger refuses (its period finalised) stays open, is logged and waits for a
    manager (the home's to-do lists it as overdue); the others close."""
    closed, _refused = _close_due(acting_user=acting_user, today=today or timezone.localdate())
    return len(closed)


def rounds_close_due_job(*, now) -> str:
    """settings.PERIODIC_JOBS: close the rounds whose time is up, as the system actor."""
    closed, refused = _close_due(acting_user=system_actor(), today=timezone.localdate(now))
    summary = f"{len(closed)} evaluation round(s) closed"
    if refused:
        names = ", ".join(f"{r.pk} {r}" for r, _message in refused[:5])
        summary += f"; {len(refused)} refused: {names}"
    return summary


__all__ = [
    "may_close",
    "round_close",
    "round_open",
    "rounds_close_due",
    "rounds_close_due_job",
]
