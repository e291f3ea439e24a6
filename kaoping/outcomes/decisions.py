"""Decisions a grade sets off (`consequences.decisions`, docs/schemes.md §17 “处理决定”): e.g. a
预备党员 graded 不合格 gets a decision to take — 取消预备党员资格, 延长预备期 or 按期转正.

The close opens one pending decision per subject given one of the rule's grades (limited to the
rule's variants, i.e. classes), idempotently; a re-close or a reopening deletes the pending ones
it no longer triggers and keeps the recorded ones, marked no longer triggered. Township or
county staff covering the subject (`outcome.manage`) record the option chosen with a required
reason; a recorded decision is never edited in place: a change is a new `DecisionRecord`, its
own reason beside it, and the decision row shows the latest.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.limits import text_problem
from kaoping.periods.models import Period, PeriodStatus, Result
from kaoping.schemes.spec import DecisionRule, SchemeSpec, variant_label

from .models import Decision, DecisionRecord

REASON_MAX = 2000


def _applies(rule: DecisionRule, cadence: str) -> bool:
    return rule.cadences is None or cadence in {str(c) for c in rule.cadences}


def decision_subjects(period: Period, rule: DecisionRule) -> dict[int, str]:
    """subject id → grade, of the subjects `rule` opens a decision for in `period`."""
    if not _applies(rule, period.cadence):
        return {}
    rows = Result.objects.filter(period=period, grade_code__in=rule.grades).values_list(
        "subject_id", "variant", "grade_code"
    )
    return {
        subject_id: grade
        for subject_id, variant, grade in rows
        if rule.variants is None or variant_label(variant) in rule.variants
    }


def decisions_apply(period: Period, spec: SchemeSpec | None) -> int:
    """Open, keep or retire the period's decisions; returns how many are triggered. With no
    spec (a reopening), none is triggered."""
    rules = spec.consequences.decisions if spec and spec.consequences else ()
    grade_names = {grade.code: grade.name for grade in spec.grades} if spec else {}
    wanted: dict[tuple[str, int], tuple[DecisionRule, str]] = {}
    for rule in rules:
        for subject_id, grade in decision_subjects(period, rule).items():
            wanted[(rule.code, subject_id)] = (rule, grade)
    existing = {(d.rule, d.subject_id): d for d in Decision.objects.filter(period=period)}
    gone = [d for key, d in existing.items() if key not in wanted]
    Decision.objects.filter(pk__in=[d.pk for d in gone if d.pending]).delete()
    Decision.objects.filter(pk__in=[d.pk for d in gone if not d.pending]).update(triggered=False)
    new = []
    for (code, subject_id), (rule, grade) in wanted.items():
        options = [{"code": o.code, "name": o.name} for o in rule.options]
        current = existing.get((code, subject_id))
        if current is None:
            new.append(
                Decision(
                    period=period,
                    subject_id=subject_id,
                    scheme_id=period.scheme_id,
                    rule=code,
                    rule_name=rule.name,
                    grade_code=grade,
                    grade_name=grade_names[grade],
                    options=options,
                )
            )
        elif (
            not current.triggered
            or current.grade_code != grade
            or current.grade_name != grade_names[grade]
            or (current.pending and (current.options != options or current.rule_name != rule.name))
        ):
            # A pending decision follows the file; a recorded one keeps the options it was
            # decided among.
            changes = {"triggered": True, "grade_code": grade, "grade_name": grade_names[grade]}
            if current.pending:
                changes |= {"options": options, "rule_name": rule.name}
            Decision.objects.filter(pk=current.pk).update(**changes)
    Decision.objects.bulk_create(new)
    return len(wanted)


def decision_record(*, decision: Decision, option: str, reason: str, acting_user) -> Decision:
    """Record the option chosen for `decision`, with the reason; a decision already recorded
    gets a new record (the earlier ones stay in its history)."""
    ensure(acting_user, "outcome.manage", decision)
    reason = (reason or "").strip()
    errors = {}
    names = {o["code"]: o["name"] for o in decision.options}
    if option not in names:
        errors["option"] = _("Choose one of the options the scheme lists.")
    if not reason:
        errors["reason"] = _("Give the reason for the decision.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _("The reason has at most %(n)d characters.") % {"n": REASON_MAX}
    elif problem := text_problem(reason):
        errors["reason"] = _("The reason %(problem)s.") % {"problem": problem}
    if errors:
        raise KaopingError(errors)
    now = timezone.now()
    with transaction.atomic():
        current = (
            Decision.objects.select_for_update()
            .select_related("subject__region", "period")
            .get(pk=decision.pk)
        )
        if current.option == option and current.reason == reason:
            return current  # the same decision submitted twice: nothing new to record
        before = {"option": current.option, "reason": current.reason}
        DecisionRecord.objects.create(
            decision=current,
            option=option,
            option_name=names[option],
            reason=reason,
            decided_by=acting_user,
            decided_at=now,
        )
        changes = {
            "option": option,
            "option_name": names[option],
            "reason": reason,
            "decided_by": acting_user,
            "decided_at": now,
        }
        updated = Decision.objects.filter(pk=current.pk, option=current.option).update(**changes)
        if not updated:
            raise KaopingError(
                _("The record changed while you were working; reload and try again.")
            )
        audit_record(
            actor=acting_user,
            action="outcomes.decision.recorded",
            obj=current,
            region_code=current.subject.region.code,
            before=before,
            after={"rule": current.rule, "option": option, "reason": reason},
        )
    current.refresh_from_db()
    return current


# -- reads ---------------------------------------------------------------------------------------


def decision_list(user, *, period: Period | None = None, subject=None, pending: bool = False):
    """The decisions `user` may see, newest period first: of one period or subject, or only the
    pending ones still triggered (a home to-do), out of open periods."""
    rows = Decision.objects.for_user(user, "outcome.view").select_related(
        "subject__region", "period__scheme", "decided_by"
    )
    if period is not None:
        rows = rows.filter(period=period)
    if subject is not None:
        rows = rows.filter(subject=subject)
    if pending:
        rows = rows.filter(option="", triggered=True).exclude(period__status=PeriodStatus.OPEN)
    return rows.order_by("-period__start", "rule", "subject__region__code", "subject_id")


def decision_history(user, decision: Decision) -> list[DecisionRecord]:
    """Every recording of `decision`, oldest first."""
    return list(
        DecisionRecord.objects.for_user(user, "outcome.view")
        .filter(decision=decision)
        .select_related("decided_by")
        .order_by("decided_at", "id")
    )
