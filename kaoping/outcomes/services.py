"""Writes of consequences: what the close triggers (`consequences_apply`), and what people do
with it afterwards (minutes, pledge items, acceptance, exchanges, key villages).

The close hook reads results and lists and never recomputes them. It runs inside the close
transaction and is idempotent: closing again converges on the same rows. A consequence whose
trigger disappeared in a re-close (a corrected score moved a village off the list) is deleted
while nobody has acted on it; once someone has (an interview scheduled or held, a pledge with
items, a pairing with exchanges, a key village with a support team or history), it stays and
is marked `triggered=False`, shown as “no longer triggered”.
"""

from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.people.models import Subject
from kaoping.people.natural_villages import natural_village_groups
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.periods.services import listing_origins, membership_resolve
from kaoping.schemes.calendar import previous_label
from kaoping.schemes.spec import (
    GradeConsequence,
    HonourRule,
    InterviewRule,
    KeyVillageRule,
    PledgeRule,
    SchemeSpec,
    ShareRule,
    variant_label,
)

from .bonus import pool_split
from .decisions import decisions_apply
from .models import (
    BonusPool,
    Decision,
    EventKind,
    Exchange,
    ExperienceShare,
    Honour,
    HonourSource,
    Interview,
    InterviewStatus,
    ItemStatus,
    KeyVillage,
    KeyVillageEvent,
    Pairing,
    PayoutSheet,
    Pledge,
    PledgeItem,
    PledgeStatus,
    ShareStatus,
)
from .payouts import payout_write

PLACE_KINDS = ("village", "team")


def _applies(cadences, cadence: str) -> bool:
    return cadences is None or cadence in {str(c) for c in cadences}


def _listed(period: Period, list_code: str, *, fresh_only: bool):
    """Memberships of `list_code` in `period`; `fresh_only` leaves out carried-over listings."""
    rows = ListMembership.objects.filter(period=period, list_code=list_code)
    return rows.filter(carried=False) if fresh_only else rows


def _earlier(period: Period, steps: int) -> list[str]:
    """Labels of the `steps` periods before `period` (same cadence), newest first."""
    labels, label = [], period.label
    for _step in range(steps):
        label = previous_label(period.cadence, label)
        labels.append(label)
    return labels


def _closed(period: Period, labels: list[str]) -> dict[str, Period]:
    return {
        p.label: p
        for p in Period.objects.filter(
            scheme_id=period.scheme_id, cadence=period.cadence, label__in=labels
        ).exclude(status=PeriodStatus.OPEN)
    }


# -- the close hook -----------------------------------------------------------------------------


def consequences_apply(period: Period, spec: SchemeSpec, acting_user) -> dict | None:
    """Create, update or retire the period's consequences from its results and lists.

    Listed in settings.PERIOD_HOOKS["after_close"]; runs inside the close transaction.
    """
    rules = spec.consequences
    if rules is None:
        return None
    today = timezone.localdate()
    cadence = period.cadence
    counts = {
        "interviews": _apply_interviews(period, rules.interviews, cadence, rules.by_grade),
        "shares": _apply_shares(period, rules.share, cadence),
        "pledges": _apply_pledges(period, rules.pledges, cadence, today, rules.by_grade),
        "pairings": _apply_pairings(period, spec, cadence),
        "payouts": _apply_bonus_pool(period, spec, cadence),
        "pay_by_post": _apply_payout(period, spec, cadence),
        "honours": _apply_honours(period, spec, rules.honours, cadence),
        "key_villages": _apply_key_villages(period, spec, rules.key_villages, cadence, today),
        "decisions": decisions_apply(period, spec),
    }
    audit_record(
        actor=acting_user,
        action="outcomes.consequences.applied",
        obj=period,
        region_code=period.scheme.region.code,
        after=counts,
    )
    return counts


def _next_pairing_end(period) -> date | None:
    """The end of the next period of the same scheme and cadence that made pairings, if any."""
    return (
        Pairing.objects.filter(
            scheme_id=period.scheme_id,
            period__cadence=period.cadence,
            period__start__gt=period.start,
        )
        .order_by("period__start")
        .values_list("period__end", flat=True)
        .first()
    )


def consequences_void(period: Period, reason: str, acting_user) -> dict:
    """Void what the period's close triggered, because the period was reopened (`reason`).

    Listed in settings.PERIOD_HOOKS["after_reopen"]; runs inside the reopening's transaction,
    after its results and lists are gone. What nobody has acted on is deleted: interviews still
    to arrange, sharing not held, pledge lists without items, pairings without exchanges, key
    villages designated by this close with no support team or history, every bonus payout, pay
    by post and honour (nothing is paid before a period is final). What someone has acted on
    stays as a record, marked no longer triggered; the next close triggers it again (the same
    row, never a second one) if the subject is still listed.
    """
    today = timezone.localdate()
    before = _consequence_counts(period)
    _apply_interviews(period, None, period.cadence)
    _apply_shares(period, None, period.cadence)
    _apply_pledges(period, None, period.cadence, today)
    _void_pairings(period)
    BonusPool.objects.filter(period=period).delete()
    PayoutSheet.objects.filter(period=period).delete()
    Honour.objects.filter(period=period).delete()
    _designate(period, "", "", today)
    _withdraw_exits(period, set(), today)
    decisions_apply(period, None)
    after = _consequence_counts(period)
    voided = {name: before[name] - after[name] for name in before}
    kept = {name: after[name] for name in after if after[name]}
    audit_record(
        actor=acting_user,
        action="outcomes.consequences.voided",
        obj=period,
        region_code=period.scheme.region.code,
        after={"reason": reason, "voided": voided, "kept_acted_on": kept},
    )
    return {"voided": voided, "kept": kept}


def _consequence_counts(period: Period) -> dict[str, int]:
    return {
        "interviews": Interview.objects.filter(period=period).count(),
        "shares": ExperienceShare.objects.filter(period=period).count(),
        "pledges": Pledge.objects.filter(period=period).count(),
        "pairings": Pairing.objects.filter(period=period).count(),
        "payouts": BonusPool.objects.filter(period=period).count(),
        "pay_by_post": PayoutSheet.objects.filter(period=period).count(),
        "honours": Honour.objects.filter(period=period).count(),
        "key_villages": KeyVillage.objects.filter(period=period, by_rule=True).count(),
        "decisions": Decision.objects.filter(period=period).count(),
    }


def _void_pairings(period: Period) -> None:
    """Pairings of the period: deleted without exchanges, else no longer triggered; the round
    before gets back the end this round had cut it to."""
    pairings = list(Pairing.objects.filter(period=period))
    if not pairings:
        return
    logged = set(Exchange.objects.filter(pairing__in=pairings).values_list("pairing_id", flat=True))
    Pairing.objects.filter(period=period).exclude(pk__in=logged).delete()
    Pairing.objects.filter(pk__in=logged).update(triggered=False)
    later = _next_pairing_end(period)
    Pairing.objects.filter(
        scheme_id=period.scheme_id,
        period__cadence=period.cadence,
        period__start__lt=period.start,
        end=period.end,
    ).update(end=later)


def _listing_counts(
    period: Period, list_code: str, subjects: list[int], windows: list[int]
) -> dict[int, dict[int, int]]:
    """subject → {window: listings in the last `window` periods, this one included}."""
    widest = max(windows, default=1)
    labels = _earlier(period, widest - 1)
    found = _closed(period, labels)
    listed: dict[int, set[str]] = {s: set() for s in subjects}
    if found and subjects:
        by_id = {p.pk: label for label, p in found.items()}
        for subject_id, period_id in ListMembership.objects.filter(
            period_id__in=list(by_id), list_code=list_code, carried=False, subject_id__in=subjects
        ).values_list("subject_id", "period_id"):
            listed[subject_id].add(by_id[period_id])
    return {
        s: {w: 1 + len(listed[s] & set(labels[: w - 1])) for w in {*windows, widest}}
        for s in subjects
    }


def _apply_interviews(
    period: Period,
    rule: InterviewRule | None,
    cadence: str,
    by_grade: tuple[GradeConsequence, ...] = (),
) -> int:
    existing = {row.subject_id: row for row in Interview.objects.filter(period=period)}
    wanted: dict[int, dict] = {}
    base = None
    if rule is not None:
        base = next((i for i, lv in enumerate(rule.levels) if cadence in lv.cadences), None)
    if rule is not None and base is not None:
        subjects = list(
            _listed(period, rule.list, fresh_only=True).values_list("subject_id", flat=True)
        )
        windows = [e.within for e in rule.escalate]
        counts = _listing_counts(period, rule.list, subjects, windows)
        widest = max(windows, default=1)
        top = len(rule.levels) - 1
        for subject_id in subjects:
            steps = sum(1 for e in rule.escalate if counts[subject_id][e.within] >= e.repeats)
            index = min(base + steps, top)
            level = rule.levels[index]
            wanted[subject_id] = {
                "list_code": rule.list,
                "level": level.code,
                "level_name": level.name,
                "level_index": index,
                "escalated": index > base,
                "repeat_count": counts[subject_id][widest],
                "triggered": True,
            }
    # A grade that sets off an interview: one interview per subject and period, so a subject
    # also listed keeps the list's (it may be escalated); the first grade rule naming it wins.
    for grade_rule in by_grade:
        if grade_rule.interview is None:
            continue
        for subject_id in _graded(period, grade_rule, cadence):
            wanted.setdefault(
                subject_id,
                {
                    "list_code": grade_rule.code,
                    "level": grade_rule.code,
                    "level_name": grade_rule.interview,
                    "level_index": 0,
                    "escalated": False,
                    "repeat_count": 1,
                    "triggered": True,
                },
            )
    create, update, delete = [], [], []
    for subject_id, fields in wanted.items():
        row = existing.pop(subject_id, None)
        if row is None:
            create.append(Interview(period=period, subject_id=subject_id, **fields))
        elif row.status == InterviewStatus.PENDING:
            # Not acted on yet: it follows the corrected results.
            for name, value in fields.items():
                setattr(row, name, value)
            update.append(row)
        elif not row.triggered:
            row.triggered = True
            update.append(row)
    for row in existing.values():
        if row.status == InterviewStatus.PENDING:
            delete.append(row.pk)
        elif row.triggered:
            row.triggered = False
            update.append(row)
    Interview.objects.bulk_create(create)
    Interview.objects.bulk_update(
        update,
        [
            "list_code",
            "level",
            "level_name",
            "level_index",
            "escalated",
            "repeat_count",
            "triggered",
        ],
    )
    Interview.objects.filter(pk__in=delete).delete()
    return len(wanted)


def _apply_shares(period: Period, rule: ShareRule | None, cadence: str) -> int:
    existing = {row.subject_id: row for row in ExperienceShare.objects.filter(period=period)}
    wanted: dict[int, tuple[str, int]] = {}
    if rule is not None and _applies(rule.cadences, cadence):
        # A subject on several lists shares once, for the first list that names it.
        for code in reversed(rule.lists):
            for subject_id, position in _listed(period, code, fresh_only=True).values_list(
                "subject_id", "position"
            ):
                wanted[subject_id] = (code, position)
    create, update, delete = [], [], []
    for subject_id, (code, position) in wanted.items():
        row = existing.pop(subject_id, None)
        if row is None:
            create.append(
                ExperienceShare(
                    period=period, subject_id=subject_id, list_code=code, position=position
                )
            )
        else:
            row.position, row.triggered, row.list_code = position, True, code
            update.append(row)
    for row in existing.values():
        if row.status == ShareStatus.PENDING:
            delete.append(row.pk)
        elif row.triggered:
            row.triggered = False
            update.append(row)
    ExperienceShare.objects.bulk_create(create)
    ExperienceShare.objects.bulk_update(update, ["position", "triggered", "list_code"])
    ExperienceShare.objects.filter(pk__in=delete).delete()
    return len(wanted)


def _graded(period: Period, rule: GradeConsequence, cadence: str) -> list[int]:
    """Subjects given one of `rule`'s grades in `period` (when the rule applies to it)."""
    if not _applies(rule.cadences, cadence):
        return []
    rows = (
        Result.objects.filter(period=period, grade_code__in=rule.grades)
        .order_by("subject_id")
        .values_list("subject_id", "variant")
    )
    # A rule limited to some variants (classes) leaves the other subjects' grades alone.
    return [s for s, v in rows if rule.variants is None or variant_label(v) in rule.variants]


def _apply_pledges(
    period: Period,
    rule: PledgeRule | None,
    cadence: str,
    today: date,
    by_grade: tuple[GradeConsequence, ...] = (),
) -> int:
    """Pledge lists (干事清单) of listed subjects, and rectifications (整改) set off by grades:
    both are a `Pledge`, keyed by (subject, list code); a grade rule's code is its list code."""
    existing = {
        (row.subject_id, row.list_code): row for row in Pledge.objects.filter(period=period)
    }
    # (subject, list code) → (deadline days, items needed)
    wanted: dict[tuple[int, str], tuple[int, int]] = {}
    fresh: set[tuple[int, str]] = set()  # (subject, list) listed anew in this period
    if rule is not None and _applies(rule.cadences, cadence):
        # A pledge of this period accepted before a reopening still resolves its listing.
        for subject_id, accepted_at in Pledge.objects.filter(
            period=period, list_code=rule.list, status=PledgeStatus.ACCEPTED
        ).values_list("subject_id", "accepted_at"):
            origins = listing_origins(period=period, subject_id=subject_id, list_code=rule.list)
            ListMembership.objects.filter(
                Q(carried=False, period_id__in=origins)
                | Q(carried=True, carried_from_id__in=origins),
                period=period,
                subject_id=subject_id,
                list_code=rule.list,
                resolved_at__isnull=True,
            ).update(resolved_at=accepted_at)
        # A fresh listing is answered by its own pledge, even while an earlier one is open.
        fresh |= {
            (subject_id, rule.list)
            for subject_id in _listed(period, rule.list, fresh_only=True).values_list(
                "subject_id", flat=True
            )
        }
        # Carried listings count too (the pledge is what ends them); resolved ones need none.
        for subject_id in (
            _listed(period, rule.list, fresh_only=False)
            .filter(resolved_at__isnull=True)
            .values_list("subject_id", flat=True)
        ):
            wanted[(subject_id, rule.list)] = (rule.deadline_days, rule.items_min)
    for grade_rule in by_grade:
        if grade_rule.rectification:
            for subject_id in _graded(period, grade_rule, cadence):
                wanted[(subject_id, grade_rule.code)] = (
                    grade_rule.deadline_days,
                    grade_rule.items_min,
                )
    still_open = set(
        Pledge.objects.filter(
            scheme_id=period.scheme_id,
            list_code__in={code for _subject, code in wanted},
            status=PledgeStatus.OPEN,
            subject_id__in={subject for subject, _code in wanted},
        )
        .exclude(period=period)
        .values_list("subject_id", "list_code")
    )
    create, update = [], []
    for (subject_id, code), (days, items_min) in wanted.items():
        row = existing.pop((subject_id, code), None)
        if row is not None:
            if not row.triggered:
                row.triggered = True
                update.append(row)
        elif (subject_id, code) not in still_open or (subject_id, code) in fresh:
            # An earlier open pledge carries on for the listing it answers, not for a new one.
            create.append(
                Pledge(
                    period=period,
                    subject_id=subject_id,
                    scheme_id=period.scheme_id,
                    list_code=code,
                    deadline=today + timedelta(days=days),
                    items_min=items_min,
                )
            )
    leftover = [row for row in existing.values() if row.status == PledgeStatus.OPEN]
    with_items = set(
        PledgeItem.objects.filter(pledge__in=leftover).values_list("pledge_id", flat=True)
    )
    delete = [row.pk for row in leftover if row.pk not in with_items]
    for row in leftover:
        if row.pk in with_items and row.triggered:
            row.triggered = False
            update.append(row)
    Pledge.objects.bulk_create(create)
    Pledge.objects.bulk_update(update, ["triggered"])
    Pledge.objects.filter(pk__in=delete).delete()
    return len(wanted)


def _groups(period: Period, subjects: list[int], within) -> dict[int, str]:
    """subject → the group it is paired within: the weak list's `within`, else its ranking group."""
    if within is None:
        return dict(
            Result.objects.filter(period=period, subject_id__in=subjects).values_list(
                "subject_id", "rank_group"
            )
        )
    if str(within) == "natural_village":
        return natural_village_groups(subjects)
    rows = Subject.objects.filter(pk__in=subjects).values_list("pk", "region__code", "track")
    cut = {"county": 0, "township": 9, "village": 12}
    if str(within) in cut:
        return {pk: code[: cut[str(within)]] for pk, code, _track in rows}
    return {pk: track for pk, _code, track in rows}


def _apply_pairings(period: Period, spec: SchemeSpec, cadence: str) -> int:
    rule = spec.consequences.pairing
    existing = {(p.strong_id, p.weak_id): p for p in Pairing.objects.filter(period=period)}
    wanted: list[tuple[int, int]] = []
    applies = rule is not None and _applies(rule.cadences, cadence)
    if applies:
        strong = list(
            _listed(period, rule.strong_list, fresh_only=True)
            .order_by("position", "subject_id")
            .values_list("subject_id", flat=True)
        )
        # A bottom list's first place is the weakest: the best is paired with the weakest.
        weak = list(
            _listed(period, rule.weak_list, fresh_only=True)
            .order_by("position", "subject_id")
            .values_list("subject_id", flat=True)
        )
        within = next((r.within for r in spec.ranking.lists if r.code == rule.weak_list), None)
        groups = _groups(period, [*strong, *weak], within)
        for group in sorted({groups.get(s, "") for s in weak}):
            helpers = [s for s in strong if groups.get(s, "") == group and s not in weak]
            helped = [s for s in weak if groups.get(s, "") == group]
            wanted += list(zip(helpers, helped, strict=False))
    if applies:
        # This round replaces earlier ones from the day after its period.
        Pairing.objects.filter(
            scheme_id=period.scheme_id,
            period__cadence=period.cadence,
            period__start__lt=period.start,
        ).filter(Q(end__isnull=True) | Q(end__gt=period.end)).update(end=period.end)
    later = _next_pairing_end(period)
    create, update = [], []
    for strong_id, weak_id in wanted:
        row = existing.pop((strong_id, weak_id), None)
        if row is None:
            create.append(
                Pairing(
                    period=period,
                    scheme_id=period.scheme_id,
                    strong_id=strong_id,
                    weak_id=weak_id,
                    start=period.end + timedelta(days=1),
                    end=later,
                    min_per_month=rule.min_exchanges_per_month,
                    offline_only=rule.count == "offline",
                )
            )
        else:
            row.triggered = True
            row.min_per_month = rule.min_exchanges_per_month
            row.offline_only = rule.count == "offline"
            update.append(row)
    logged = set(
        Exchange.objects.filter(pairing__in=list(existing.values())).values_list(
            "pairing_id", flat=True
        )
    )
    delete = [row.pk for row in existing.values() if row.pk not in logged]
    for row in existing.values():
        if row.pk in logged and row.triggered:
            row.triggered = False
            update.append(row)
    Pairing.objects.bulk_create(create)
    Pairing.objects.bulk_update(update, ["triggered", "min_per_month", "offline_only"])
    Pairing.objects.filter(pk__in=delete).delete()
    return len(wanted)


def _apply_bonus_pool(period: Period, spec: SchemeSpec, cadence: str) -> int:
    # Payouts follow the latest close exactly; pay them once the period is final.
    BonusPool.objects.filter(period=period).delete()
    rule = spec.consequences.bonus_pool
    if rule is None or not _applies(rule.cadences, cadence):
        return 0
    pool = pool_split(period, rule, ascending=str(spec.ranking.order) == "asc")
    return pool.recipients


def _apply_payout(period: Period, spec: SchemeSpec, cadence: str) -> int:
    # Like the pool: the latest close decides the sheet; pay it once the period is final.
    PayoutSheet.objects.filter(period=period).delete()
    rule = spec.consequences.payout
    if rule is None or not _applies(rule.cadences, cadence):
        return 0
    sheet = payout_write(period, rule, subject_kind=str(spec.subject_kind), decimals=spec.decimals)
    return sheet.lines


def _apply_honours(period: Period, spec: SchemeSpec, rule: HonourRule | None, cadence: str) -> int:
    # Honours are nothing anyone acts on: the latest close decides them. Set-based, because a
    # household scheme's 星级文明户 can be many thousands of rows.
    Honour.objects.filter(period=period).delete()
    if rule is None or not _applies(rule.cadences, cadence):
        return 0
    codes = rule.grades if rule.grades is not None else [g.code for g in spec.grades if g.honour]
    names = {g.code: g.name for g in spec.grades}
    statements = [
        (
            "INSERT INTO outcomes_honour (period_id, subject_id, source, code, title) "
            "SELECT r.period_id, r.subject_id, %s, r.grade_code, %s FROM periods_result r "
            "WHERE r.period_id = %s AND r.grade_code = %s AND r.barred = %s",
            [HonourSource.GRADE.value, names[code], period.pk, code, False],
        )
        for code in codes
    ]
    awards = {award.code: award for award in spec.ranking.awards}
    for code in rule.awards:
        award = awards[code]
        for tier in award.tiers:
            title = tier.name if tier.name == award.name else f"{award.name}·{tier.name}"
            statements.append(
                (
                    "INSERT INTO outcomes_honour (period_id, subject_id, source, code, title) "
                    "SELECT m.period_id, m.subject_id, %s, %s, %s FROM periods_listmembership m "
                    "WHERE m.period_id = %s AND m.list_code = %s AND m.tier = %s",
                    [
                        HonourSource.AWARD.value,
                        f"{code}:{tier.code}",
                        title,
                        period.pk,
                        code,
                        tier.code,
                    ],
                )
            )
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    return Honour.objects.filter(period=period).count()


def _apply_key_villages(
    period: Period, spec: SchemeSpec, rule: KeyVillageRule | None, cadence: str, today: date
) -> int:
    if rule is None:
        return 0
    designated = 0
    designate = rule.designate
    if designate is not None and _applies(designate.cadences, cadence):
        designated = _designate(period, designate.list, rule.criteria, today)
    leave = rule.exit
    if leave is not None and cadence == str(leave.cadence or spec.cadence):
        lists = list(leave.lists or (designate.list,))
        _check_exits(period, lists, leave.periods, leave.automatic, today)
    return designated


def _designate(period: Period, list_code: str, criteria: str, today: date) -> int:
    wanted = list(_listed(period, list_code, fresh_only=True).values_list("subject_id", flat=True))
    mine = {kv.subject_id: kv for kv in KeyVillage.objects.filter(period=period, by_rule=True)}
    active = {
        kv.subject_id: kv
        for kv in KeyVillage.objects.filter(left_on__isnull=True, subject_id__in=wanted)
    }
    for subject_id in wanted:
        kv = mine.pop(subject_id, None)
        if kv is not None:
            if not kv.triggered:
                KeyVillage.objects.filter(pk=kv.pk).update(triggered=True)
            continue
        other = active.get(subject_id)
        if other is not None:
            KeyVillageEvent.objects.get_or_create(
                key_village=other,
                period=period,
                kind=EventKind.LISTED_AGAIN,
                defaults={"on": today},
            )
            continue
        kv = KeyVillage.objects.create(
            subject_id=subject_id,
            scheme_id=period.scheme_id,
            period=period,
            by_rule=True,
            list_code=list_code,
            designated_on=today,
            exit_criteria=criteria,
        )
        KeyVillageEvent.objects.create(
            key_village=kv, period=period, kind=EventKind.DESIGNATED, on=today
        )
    KeyVillageEvent.objects.filter(period=period, kind=EventKind.LISTED_AGAIN).exclude(
        key_village__subject_id__in=wanted
    ).delete()
    for kv in mine.values():
        acted = (
            kv.support_team.strip()
            or kv.left_on is not None
            or kv.events.exclude(
                kind__in=[EventKind.DESIGNATED, EventKind.LISTED_AGAIN, EventKind.UNTRIGGERED]
            ).exists()
        )
        if not acted:
            kv.delete()
        elif kv.triggered:
            KeyVillage.objects.filter(pk=kv.pk).update(triggered=False)
            KeyVillageEvent.objects.get_or_create(
                key_village=kv, period=period, kind=EventKind.UNTRIGGERED, defaults={"on": today}
            )
    return len(wanted)


def _check_exits(
    period: Period, lists: list[str], periods: int, automatic: bool, today: date
) -> None:
    """Key villages of this scheme off every list in `lists` for `periods` periods in a row."""
    labels = [period.label, *_earlier(period, periods - 1)]
    window = [period] + [p for label, p in _closed(period, labels[1:]).items()]
    met: set[int] = set()
    if len(window) == periods:
        first_day = min(p.start for p in window)
        # Still active, or already out by this period's earlier close (a re-close).
        candidates = (
            KeyVillage.objects.filter(scheme_id=period.scheme_id)
            .filter(
                Q(left_on__isnull=True)
                | Q(left_period=period)
                | Q(events__period=period, events__kind=EventKind.EXIT_MET)
            )
            .distinct()
            .filter(
                # Only periods after the designation count towards leaving.
                Q(period__isnull=False, period__end__lt=first_day)
                | Q(period__isnull=True, designated_on__lt=first_day)
            )
        )
        subjects = {kv.subject_id: kv for kv in candidates}
        scored = {
            row["subject_id"]
            for row in Result.objects.filter(period__in=window, subject_id__in=list(subjects))
            .values("subject_id")
            .annotate(n=Count("period_id", distinct=True))
            if row["n"] == periods
        }
        listed = set(
            ListMembership.objects.filter(
                period__in=window, list_code__in=lists, subject_id__in=list(subjects)
            ).values_list("subject_id", flat=True)
        )
        for subject_id in sorted(scored - listed):
            kv = subjects[subject_id]
            met.add(kv.pk)
            KeyVillageEvent.objects.get_or_create(
                key_village=kv, period=period, kind=EventKind.EXIT_MET, defaults={"on": today}
            )
            if automatic and KeyVillage.objects.filter(pk=kv.pk, left_on__isnull=True).update(
                left_on=today, left_by_rule=True, left_period=period
            ):
                KeyVillageEvent.objects.get_or_create(
                    key_village=kv, period=period, kind=EventKind.LEFT, defaults={"on": today}
                )
    _withdraw_exits(period, met, today)


def _withdraw_exits(period: Period, met: set[int], today: date) -> None:
    """A re-close that no longer meets the criteria (or a reopening, `met` empty) takes back
    the exits this period gave."""
    withdrawn = KeyVillageEvent.objects.filter(
        period=period, kind__in=[EventKind.EXIT_MET, EventKind.LEFT]
    ).exclude(key_village_id__in=met)
    for kv in KeyVillage.objects.filter(pk__in=withdrawn.values("key_village_id")).distinct():
        if kv.left_period_id == period.pk and kv.left_by_rule:
            if KeyVillage.objects.filter(subject_id=kv.subject_id, left_on__isnull=True).exists():
                continue  # designated anew since; the old one stays closed
            KeyVillage.objects.filter(pk=kv.pk).update(
                left_on=None, left_by_rule=False, left_period=None
            )
        KeyVillageEvent.objects.get_or_create(
            key_village=kv, period=period, kind=EventKind.EXIT_WITHDRAWN, defaults={"on": today}
        )
    withdrawn.delete()


# -- what people do afterwards ------------------------------------------------------------------

# Allowed interview transitions, declared once: status → statuses it may move to. Minutes of a
# held interview may be corrected (audited); a held interview never goes back.
INTERVIEW_TRANSITIONS = {
    InterviewStatus.PENDING: {InterviewStatus.SCHEDULED, InterviewStatus.HELD},
    InterviewStatus.SCHEDULED: {InterviewStatus.SCHEDULED, InterviewStatus.HELD},
    InterviewStatus.HELD: {InterviewStatus.HELD},
}


def _stale() -> KaopingError:
    return KaopingError(_("The record changed while you were working; reload and try again."))


def _region(subject) -> str:
    return subject.region.code


def _plain(values: dict) -> dict:
    """Dates as ISO text, for the audit row's JSON."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def interview_record(
    *,
    interview: Interview,
    acting_user,
    scheduled_on: date | None = None,
    held_on: date | None = None,
    interviewer: str = "",
    minutes: str = "",
    today: date | None = None,
) -> Interview:
    """Schedule an interview, or record that it was held with its minutes."""
    ensure(acting_user, "outcome.manage", interview)
    today = today or timezone.localdate()
    minutes, interviewer = minutes.strip(), interviewer.strip()
    if held_on or minutes:
        errors = {}
        if not held_on:
            errors["held_on"] = _("Give the date the interview was held.")
        elif held_on > today:
            errors["held_on"] = _("The interview cannot have been held in the future.")
        if not minutes:
            errors["minutes"] = _("Record the minutes of the interview.")
        if errors:
            raise KaopingError(errors)
        to = InterviewStatus.HELD
    elif scheduled_on:
        to = InterviewStatus.SCHEDULED
    else:
        raise KaopingError(
            _("Give the date it is scheduled for, or the date it was held and the minutes.")
        )
    with transaction.atomic():
        current = (
            Interview.objects.select_for_update()
            .select_related("subject__region", "period")
            .get(pk=interview.pk)
        )
        if to not in INTERVIEW_TRANSITIONS[current.status]:
            raise KaopingError(_("A held interview cannot go back to scheduled."))
        changes = {
            "status": to,
            "scheduled_on": scheduled_on or current.scheduled_on,
            "held_on": held_on,
            "interviewer": interviewer,
            "minutes": minutes,
        }
        updated = Interview.objects.filter(pk=current.pk, status=current.status).update(
            **changes, recorded_by=acting_user, recorded_at=timezone.now()
        )
        if not updated:
            raise _stale()
        audit_record(
            actor=acting_user,
            action="outcomes.interview.recorded",
            obj=current,
            region_code=_region(current.subject),
            before={"status": current.status, "minutes": current.minutes},
            after=_plain({**changes, "level": current.level}),
        )
    current.refresh_from_db()
    return current


def share_mark_held(
    *, share: ExperienceShare, acting_user, held_on: date | None = None, topic: str = ""
) -> ExperienceShare:
    """Record that a subject shared its experience (at the 擂台, a meeting, a site visit)."""
    ensure(acting_user, "outcome.manage", share)
    held_on = held_on or timezone.localdate()
    if held_on > timezone.localdate():
        raise KaopingError(_("The date cannot be in the future."))
    with transaction.atomic():
        updated = ExperienceShare.objects.filter(pk=share.pk, status=ShareStatus.PENDING).update(
            status=ShareStatus.HELD, held_on=held_on, topic=topic.strip()
        )
        if not updated:
            raise KaopingError(_("The sharing is already recorded."))
        current = ExperienceShare.objects.select_related("subject__region").get(pk=share.pk)
        audit_record(
            actor=acting_user,
            action="outcomes.share.held",
            obj=current,
            region_code=_region(current.subject),
            before={"status": ShareStatus.PENDING},
            after=_plain({"status": ShareStatus.HELD, "held_on": held_on, "topic": topic.strip()}),
        )
    return current


def pledge_item_add(
    *, pledge: Pledge, text: str, owner: str, deadline: date | None = None, acting_user
) -> PledgeItem:
    """Add an item (what, who answers for it, by when) to an open pledge list."""
    ensure(acting_user, "outcome.pledge", pledge)
    text, owner = text.strip(), owner.strip()
    errors = {}
    if not text:
        errors["text"] = _("Say what will be done.")
    if not owner:
        errors["owner"] = _("Say who answers for it.")
    if errors:
        raise KaopingError(errors)
    with transaction.atomic():
        locked = (
            Pledge.objects.select_for_update().select_related("subject__region").get(pk=pledge.pk)
        )
        if locked.status != PledgeStatus.OPEN:
            raise KaopingError(_("The pledge list is accepted; nothing more is added to it."))
        item = PledgeItem.objects.create(
            pledge=locked,
            text=text,
            owner=owner,
            deadline=deadline or locked.deadline,
            created_by=acting_user if acting_user and acting_user.is_authenticated else None,
        )
        audit_record(
            actor=acting_user,
            action="outcomes.pledge_item.added",
            obj=item,
            region_code=_region(locked.subject),
            after=_plain(
                {"pledge": locked.pk, "text": text, "owner": owner, "deadline": item.deadline}
            ),
        )
    return item


def pledge_item_done(*, item: PledgeItem, acting_user) -> PledgeItem:
    """Tick an item of an open pledge list off."""
    ensure(acting_user, "outcome.pledge", item)
    with transaction.atomic():
        updated = PledgeItem.objects.filter(
            pk=item.pk, status=ItemStatus.OPEN, pledge__status=PledgeStatus.OPEN
        ).update(
            status=ItemStatus.DONE,
            done_at=timezone.now(),
            done_by=acting_user if acting_user and acting_user.is_authenticated else None,
        )
        if not updated:
            raise KaopingError(_("That item is already done."))
        current = PledgeItem.objects.select_related("pledge__subject__region").get(pk=item.pk)
        audit_record(
            actor=acting_user,
            action="outcomes.pledge_item.done",
            obj=current,
            region_code=_region(current.pledge.subject),
            before={"status": ItemStatus.OPEN},
            after={"status": ItemStatus.DONE},
        )
    return current


def pledge_accept(*, pledge: Pledge, acting_user) -> Pledge:
    """Accept a pledge list whose items are all done; its listing is resolved and stops being
    carried over (periods.services.membership_resolve), in the same transaction."""
    ensure(acting_user, "outcome.manage", pledge)
    with transaction.atomic():
        locked = (
            Pledge.objects.select_for_update()
            .select_related("subject__region", "scheme")
            .get(pk=pledge.pk)
        )
        if locked.status != PledgeStatus.OPEN:
            raise KaopingError(_("The pledge list is already accepted."))
        items = locked.items.aggregate(
            total=Count("id"), open=Count("id", filter=Q(status=ItemStatus.OPEN))
        )
        if items["total"] < locked.items_min:
            raise KaopingError(
                ngettext(
                    "The pledge list needs at least %(n)d item before it can be accepted.",
                    "The pledge list needs at least %(n)d items before it can be accepted.",
                    locked.items_min,
                )
                % {"n": locked.items_min}
            )
        if items["open"]:
            raise KaopingError(
                ngettext(
                    "%(n)d item is not done yet; accept when every item is done.",
                    "%(n)d items are not done yet; accept when every item is done.",
                    items["open"],
                )
                % {"n": items["open"]}
            )
        updated = Pledge.objects.filter(pk=locked.pk, status=PledgeStatus.OPEN).update(
            status=PledgeStatus.ACCEPTED, accepted_at=timezone.now(), accepted_by=acting_user
        )
        if not updated:
            raise _stale()
        resolved = membership_resolve(
            subject=locked.subject,
            list_code=locked.list_code,
            acting_user=acting_user,
            scheme=locked.scheme,
            origins=listing_origins(
                period=locked.period, subject_id=locked.subject_id, list_code=locked.list_code
            ),
        )
        audit_record(
            actor=acting_user,
            action="outcomes.pledge.accepted",
            obj=locked,
            region_code=_region(locked.subject),
            before={"status": PledgeStatus.OPEN},
            after={"status": PledgeStatus.ACCEPTED, "listings_resolved": resolved},
        )
    locked.refresh_from_db()
    return locked


def exchange_record(
    *, pairing: Pairing, on: date, kind: str, note: str, acting_user, today: date | None = None
) -> Exchange:
    """Log one exchange between a pairing's subjects."""
    ensure(acting_user, "outcome.manage", pairing)
    today = today or timezone.localdate()
    note = note.strip()
    errors = {}
    if on > today:
        errors["on"] = _("An exchange cannot be logged before it happens.")
    elif on < pairing.start:
        errors["on"] = _("The pairing starts on %(day)s.") % {"day": pairing.start.isoformat()}
    elif pairing.end and on > pairing.end:
        errors["on"] = _("The pairing ended on %(day)s.") % {"day": pairing.end.isoformat()}
    if not note:
        errors["note"] = _("Say what was done.")
    if errors:
        raise KaopingError(errors)
    with transaction.atomic():
        exchange = Exchange.objects.create(
            pairing=pairing, on=on, kind=kind, note=note, recorded_by=acting_user
        )
        audit_record(
            actor=acting_user,
            action="outcomes.exchange.recorded",
            obj=exchange,
            region_code=_region(pairing.weak),
            after=_plain({"pairing": pairing.pk, "on": on, "kind": kind, "note": note}),
        )
    return exchange


def key_village_designate(
    *,
    subject,
    reason: str,
    acting_user,
    support_team: str = "",
    exit_criteria: str = "",
    scheme=None,
    today: date | None = None,
) -> KeyVillage:
    """Designate a key village by hand, with the reason (the scheme's exit rule applies if given)."""
    ensure(acting_user, "outcome.manage", subject)
    today = today or timezone.localdate()
    if subject.kind not in PLACE_KINDS:
        raise KaopingError(_("Only villages (and their teams) can be key villages."))
    if not reason.strip():
        raise KaopingError({"reason": _("Say why the village becomes a key village.")})
    with transaction.atomic():
        if KeyVillage.objects.filter(subject=subject, left_on__isnull=True).exists():
            raise KaopingError(_("%(name)s is already a key village.") % {"name": subject.name})
        try:
            with transaction.atomic():
                kv = KeyVillage.objects.create(
                    subject=subject,
                    scheme=scheme,
                    designated_on=today,
                    designated_by=acting_user,
                    reason=reason.strip(),
                    support_team=support_team.strip(),
                    exit_criteria=exit_criteria.strip(),
                )
        except IntegrityError:
            raise KaopingError(
                _("%(name)s is already a key village.") % {"name": subject.name}
            ) from None
        KeyVillageEvent.objects.create(
            key_village=kv,
            kind=EventKind.DESIGNATED,
            on=today,
            note=reason.strip(),
            actor=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="outcomes.key_village.designated",
            obj=kv,
            region_code=_region(subject),
            after={"reason": kv.reason, "support_team": kv.support_team, "by_rule": False},
        )
    return kv


def key_village_update(
    *,
    key_village: KeyVillage,
    acting_user,
    support_team: str | None = None,
    exit_criteria: str | None = None,
    note: str = "",
    today: date | None = None,
) -> KeyVillage:
    """Change a key village's support team or exit criteria, or add a note to its history."""
    ensure(acting_user, "outcome.manage", key_village)
    today = today or timezone.localdate()
    with transaction.atomic():
        kv = (
            KeyVillage.objects.select_for_update()
            .select_related("subject__region")
            .get(pk=key_village.pk)
        )
        changes, events = {}, []
        if support_team is not None and support_team.strip() != kv.support_team:
            changes["support_team"] = support_team.strip()
            events.append((EventKind.SUPPORT, support_team.strip()))
        if exit_criteria is not None and exit_criteria.strip() != kv.exit_criteria:
            changes["exit_criteria"] = exit_criteria.strip()
            events.append((EventKind.CRITERIA, exit_criteria.strip()))
        if note.strip():
            events.append((EventKind.NOTE, note.strip()))
        if not events:
            raise KaopingError(_("Nothing was changed."))
        before = {name: getattr(kv, name) for name in changes}
        if changes:
            KeyVillage.objects.filter(pk=kv.pk).update(**changes)
        KeyVillageEvent.objects.bulk_create(
            KeyVillageEvent(key_village=kv, kind=kind, on=today, note=text, actor=acting_user)
            for kind, text in events
        )
        audit_record(
            actor=acting_user,
            action="outcomes.key_village.updated",
            obj=kv,
            region_code=_region(kv.subject),
            before=before,
            after={**changes, "note": note.strip()},
        )
    kv.refresh_from_db()
    return kv


def key_village_leave(
    *,
    key_village: KeyVillage,
    left_on: date,
    reason: str,
    acting_user,
    today: date | None = None,
) -> KeyVillage:
    """Record that a key village left (整转晋位), on which day and why."""
    ensure(acting_user, "outcome.manage", key_village)
    today = today or timezone.localdate()
    errors = {}
    if not reason.strip():
        errors["reason"] = _("Say how the village met the exit criteria.")
    if left_on > today:
        errors["left_on"] = _("The date cannot be in the future.")
    elif left_on < key_village.designated_on:
        errors["left_on"] = _("The village was designated on %(day)s.") % {
            "day": key_village.designated_on.isoformat()
        }
    if errors:
        raise KaopingError(errors)
    with transaction.atomic():
        updated = KeyVillage.objects.filter(pk=key_village.pk, left_on__isnull=True).update(
            left_on=left_on, left_reason=reason.strip(), left_by_rule=False, left_period=None
        )
        if not updated:
            raise KaopingError(_("The village has already left the key villages."))
        KeyVillageEvent.objects.create(
            key_village=key_village,
            kind=EventKind.LEFT,
            on=left_on,
            note=reason.strip(),
            actor=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="outcomes.key_village.left",
            obj=key_village,
            region_code=key_village.subject.region.code,
            after=_plain({"left_on": left_on, "reason": reason.strip()}),
        )
    key_village.refresh_from_db()
    return key_village
