"""Writes of a village's file (一村一档): stages reached, the talk rule's totals, key villages and
their teams, the paired department's visits, the 清 lists, talks, and the election's result.

Every service checks first (`ensure`), refuses while the round is closed, writes in one
transaction and audits the change with the village's code.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import Refused, ensure, may
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.limits import name_problem, text_problem
from kaoping.people.book import PHONE_RE
from kaoping.people.models import Person
from kaoping.regions.models import Department

from .access import departments_of
from .models import (
    HelpVisit,
    IssueStatus,
    RoundStatus,
    StageReached,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from .spec import spec_of

TOTAL_MAX = 100_000  # the talk rule's totals: more people than any village has


# ─── helpers ───


def _round_open(file: VillageFile) -> None:
    if file.round.status != RoundStatus.OPEN:
        raise KaopingError(
            {
                "__all__": _("The round %(name)s is closed; its files no longer change.")
                % {"name": file.round.name}
            }
        )


def _text(value: str, field: str, *, required: bool, limit: int, line: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise KaopingError({field: _("This field is required.")})
    if len(value) > limit:
        raise KaopingError({field: _("At most %(n)d characters, please.") % {"n": limit}})
    problem = name_problem(value) if line else text_problem(value)
    if problem:
        raise KaopingError({field: _("This text %(problem)s.") % {"problem": problem}})
    return value


def _past(day, field: str) -> date:
    if not isinstance(day, date):
        raise KaopingError({field: _("Not a date.")})
    if day > timezone.localdate():
        raise KaopingError({field: _("The date lies in the future.")})
    return day


def _audit(
    actor, action: str, file: VillageFile, obj=None, *, before=None, after=None, object_repr=""
) -> None:
    """Audit a change of the village's file. What the log keeps is what a reader understands:
    the names of stages, lists, departments and talk categories, never their codes."""
    audit_record(
        actor=actor,
        action=action,
        obj=obj if obj is not None else file,
        region_code=file.village.code,
        before=before,
        after=after,
        object_repr=object_repr,
    )


def _stage_name(file: VillageFile, code: str) -> str:
    """The name of one of the round's stages (blank before the first; the code if unknown)."""
    return spec_of(file.round).stage_names().get(code, code) if code else ""


def _department_name(department: Department | None) -> str | None:
    return department.name if department is not None else None


def _role_name(file: VillageFile, code: str) -> str:
    return {r.code: r.name for r in spec_of(file.round).team_roles}.get(code, code)


def _list_name(file: VillageFile, code: str) -> str:
    return spec_of(file.round).list_names().get(code, code)


def _stage_codes(file: VillageFile) -> list[str]:
    return [s.code for s in spec_of(file.round).stages]


def _furthest(file: VillageFile) -> str:
    """The furthest of the round's stages the village has reached (blank before the first)."""
    reached = set(file.stages.values_list("stage", flat=True))
    furthest = ""
    for code in _stage_codes(file):
        if code in reached:
            furthest = code
    return furthest


def may_help(user, file: VillageFile) -> bool:
    """Whether `user` may record a help visit to the village: the county (who may manage the
    file), or a member of the file's paired department. The pairing (联片帮村), not the villages
    a department scores, decides which village a department helps."""
    if may(user, "election.manage", file) and may(user, "election.help", file):
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return (
        user_can(user, "election.help")
        and file.paired_department_id is not None
        and file.paired_department_id in {d.pk for d in departments_of(user)}
    )


# ─── stages ───


def stage_record(
    *, file: VillageFile, stage: str, reached_on: date, acting_user, note: str = ""
) -> StageReached:
    """Record that the village reached `stage` on `reached_on`. Stages are recorded in the
    round's order: a stage whose predecessor is not recorded is refused, naming it."""
    ensure(acting_user, "election.record", file)
    _round_open(file)
    spec = spec_of(file.round)
    names = spec.stage_names()
    codes = list(names)
    if stage not in names:
        raise KaopingError(
            {
                "stage": _("%(code)s is not a stage of this round (its stages: %(names)s).")
                % {"code": stage, "names": "、".join(names.values())}
            }
        )
    reached_on = _past(reached_on, "reached_on")
    note = _text(note, "note", required=False, limit=200)
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        reached = {r.stage: r for r in file.stages.all()}
        if stage in reached:
            raise KaopingError(
                {
                    "stage": _("%(stage)s was recorded already (reached on %(day)s).")
                    % {"stage": names[stage], "day": reached[stage].reached_on.isoformat()}
                }
            )
        index = codes.index(stage)
        missing = [code for code in codes[:index] if code not in reached]
        if missing:
            raise KaopingError(
                {
                    "stage": _("Record %(missing)s first: stages are recorded in order.")
                    % {"missing": names[missing[0]]}
                }
            )
        if index > 0:
            previous = reached[codes[index - 1]]
            if reached_on < previous.reached_on:
                raise KaopingError(
                    {
                        "reached_on": _(
                            "%(previous)s was reached on %(day)s; %(stage)s cannot come before it."
                        )
                        % {
                            "previous": names[previous.stage],
                            "day": previous.reached_on.isoformat(),
                            "stage": names[stage],
                        }
                    }
                )
        row = StageReached.objects.create(
            file=file, stage=stage, reached_on=reached_on, note=note, recorded_by=acting_user
        )
        before = file.stage
        file.stage = stage
        file.save(update_fields=["stage", "updated_at"])
        _audit(
            acting_user,
            "election.stage.recorded",
            file,
            row,
            before={"stage": names.get(before, before)},
            after={"stage": names[stage], "reached_on": reached_on.isoformat()},
            object_repr=f"{file.village.name} {names[stage]}",
        )
    return row


def stage_undo(*, file: VillageFile, acting_user) -> StageReached:
    """Remove the furthest stage recorded (a mistake); the file falls back to the one before.
    The election day stays while its result is recorded."""
    ensure(acting_user, "election.record", file)
    _round_open(file)
    spec = spec_of(file.round)
    codes = [s.code for s in spec.stages]
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        rows = sorted(
            file.stages.all(),
            key=lambda r: (codes.index(r.stage) if r.stage in codes else -1, r.reached_on, r.pk),
        )
        if not rows:
            raise KaopingError({"__all__": _("No stage has been recorded yet.")})
        last = rows[-1]
        day_stage = next((s for s in spec.stages if s.election_day), None)
        if day_stage and last.stage == day_stage.code and file.elected_on is not None:
            raise KaopingError(
                {
                    "__all__": _("The result of the election is recorded; %(stage)s stays.")
                    % {"stage": day_stage.name}
                }
            )
        removed = StageReached(pk=last.pk, file=file, stage=last.stage, reached_on=last.reached_on)
        last.delete()
        before = file.stage
        file.stage = _furthest(file)
        file.save(update_fields=["stage", "updated_at"])
        _audit(
            acting_user,
            "election.stage.undone",
            file,
            before={
                "stage": _stage_name(file, before),
                "reached_on": removed.reached_on.isoformat(),
            },
            after={"stage": _stage_name(file, file.stage)},
        )
    return removed


# ─── the file's own fields ───


def _total(value, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= TOTAL_MAX:
        raise KaopingError({field: _("A whole number from 0 to %(n)d, please.") % {"n": TOTAL_MAX}})
    return value


# The file's totals and the talk category each one counts.
_TOTALS = {
    "party_members_total": TalkCategory.PARTY_MEMBER,
    "representatives_total": TalkCategory.REPRESENTATIVE,
    "key_persons_total": TalkCategory.KEY_PERSON,
}


def file_update(
    *,
    file: VillageFile,
    acting_user,
    representatives_total: int,
    key_persons_total: int,
    party_members_total: int,
    one_shoulder_intended: bool,
    help_plan: str,
) -> VillageFile:
    """The talk rule's totals, the 一肩挑 intention and the help plan. A total may not fall
    below the talks already held in its category."""
    ensure(acting_user, "election.record", file)
    _round_open(file)
    totals = {
        "party_members_total": _total(party_members_total, "party_members_total"),
        "representatives_total": _total(representatives_total, "representatives_total"),
        "key_persons_total": _total(key_persons_total, "key_persons_total"),
    }
    help_plan = _text(help_plan, "help_plan", required=False, limit=2000, line=False)
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        held = talk_counts(file)
        for field, category in _TOTALS.items():
            if totals[field] < held.get(category, 0):
                raise KaopingError(
                    {
                        field: _(
                            "%(n)d talks with %(group)s are recorded already; the total cannot be "
                            "less. Remove a talk first if one was recorded by mistake."
                        )
                        % {"n": held[category], "group": TalkCategory(category).label}
                    }
                )
        fields = [*totals, "one_shoulder_intended", "help_plan"]
        before = {f: getattr(file, f) for f in fields}
        for field, value in totals.items():
            setattr(file, field, value)
        file.one_shoulder_intended = bool(one_shoulder_intended)
        file.help_plan = help_plan
        file.save(update_fields=[*fields, "updated_at"])
        _audit(
            acting_user,
            "election.file.updated",
            file,
            before=before,
            after={f: getattr(file, f) for f in fields},
        )
    return file


def talk_counts(file: VillageFile) -> dict[str, int]:
    """The talks held per category (TalkCategory value → count)."""
    from django.db.models import Count

    rows = file.talks.values("category").annotate(n=Count("id"))
    return {row["category"]: row["n"] for row in rows}


def key_village_set(
    *, file: VillageFile, is_key: bool, paired_department: Department | None, acting_user
) -> VillageFile:
    """Mark the village a key village (重点村社) or not, and name the department paired with it
    (联片帮村; any village may have one). The county's decision."""
    ensure(acting_user, "election.manage", file)
    _round_open(file)
    if paired_department is not None and paired_department.county_id != file.round.county_id:
        raise KaopingError(
            {
                "paired_department": _("%(department)s is not a department of this county.")
                % {"department": paired_department.name}
            }
        )
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        if not is_key and file.team.exists():
            raise KaopingError(
                {
                    "is_key": _(
                        "%(village)s has a team; remove its members before it stops being a key "
                        "village."
                    )
                    % {"village": file.village.name}
                }
            )
        before = {
            "is_key": file.is_key,
            "paired_department": _department_name(file.paired_department),
        }
        file.is_key = bool(is_key)
        file.paired_department = paired_department
        file.save(update_fields=["is_key", "paired_department", "updated_at"])
        _audit(
            acting_user,
            "election.key_village.set",
            file,
            before=before,
            after={
                "is_key": file.is_key,
                "paired_department": _department_name(file.paired_department),
            },
        )
    return file


# ─── the team of a key village ───


def team_member_add(
    *, file: VillageFile, role: str, name: str, unit: str, phone: str, acting_user
) -> TeamMember:
    """Add a member to a key village's team (the round's `team_roles`)."""
    ensure(acting_user, "election.manage", file)
    _round_open(file)
    roles = {r.code: r.name for r in spec_of(file.round).team_roles}
    if role not in roles:
        raise KaopingError(
            {
                "role": _("%(code)s is not a team role of this round (its roles: %(names)s).")
                % {"code": role, "names": "、".join(roles.values()) or "—"}
            }
        )
    name = _text(name, "name", required=True, limit=50)
    unit = _text(unit, "unit", required=False, limit=100)
    phone = (phone or "").strip()
    if phone and not PHONE_RE.fullmatch(phone):
        raise KaopingError({"phone": _("A mobile number has 11 digits starting with 1.")})
    if not file.is_key:
        raise KaopingError(
            {
                "__all__": _("%(village)s is not a key village; only key villages have a team.")
                % {"village": file.village.name}
            }
        )
    with transaction.atomic():
        member = TeamMember.objects.create(file=file, role=role, name=name, unit=unit, phone=phone)
        _audit(
            acting_user,
            "election.team_member.added",
            file,
            member,
            after={"role": roles[role], "name": name, "unit": unit},
        )
    return member


def team_member_remove(*, member: TeamMember, acting_user) -> None:
    ensure(acting_user, "election.manage", member)
    file = member.file
    _round_open(file)
    with transaction.atomic():
        _audit(
            acting_user,
            "election.team_member.removed",
            file,
            member,
            before={
                "role": _role_name(file, member.role),
                "name": member.name,
                "unit": member.unit,
            },
        )
        member.delete()


# ─── the paired department's visits ───


def help_visit_record(*, file: VillageFile, visited_on: date, note: str, acting_user) -> HelpVisit:
    """A visit of the paired department to its village (联片帮村), recorded by the department
    (or by the county for it)."""
    if not may_help(acting_user, file):
        raise Refused(
            _("Only the county or the department paired with %(village)s records its visits.")
            % {"village": file.village.name}
        )
    _round_open(file)
    if file.paired_department_id is None:
        raise KaopingError(
            {
                "__all__": _("%(village)s has no paired department yet.")
                % {"village": file.village.name}
            }
        )
    visited_on = _past(visited_on, "visited_on")
    note = _text(note, "note", required=True, limit=2000, line=False)
    with transaction.atomic():
        visit = HelpVisit.objects.create(
            file=file,
            department=file.paired_department,
            visited_on=visited_on,
            note=note,
            recorded_by=acting_user,
        )
        _audit(
            acting_user,
            "election.help_visit.recorded",
            file,
            visit,
            after={"department": file.paired_department.name, "visited_on": visited_on.isoformat()},
        )
    return visit


# ─── the 清 lists, petitions and finance flags ───


def issue_add(
    *, file: VillageFile, kind: str, title: str, owner: str, deadline: date, acting_user
) -> VillageIssue:
    ensure(acting_user, "election.record", file)
    _round_open(file)
    lists = spec_of(file.round).list_names()
    if kind not in lists:
        raise KaopingError(
            {
                "kind": _("%(code)s is not a list of this round (its lists: %(names)s).")
                % {"code": kind, "names": "、".join(lists.values())}
            }
        )
    title = _text(title, "title", required=True, limit=200)
    owner = _text(owner, "owner", required=True, limit=50)
    if not isinstance(deadline, date):
        raise KaopingError({"deadline": _("Not a date.")})
    with transaction.atomic():
        issue = VillageIssue.objects.create(
            file=file,
            kind=kind,
            title=title,
            owner=owner,
            deadline=deadline,
            recorded_by=acting_user,
        )
        _audit(
            acting_user,
            "election.issue.added",
            file,
            issue,
            after={
                "list": lists[kind],
                "title": title,
                "owner": owner,
                "deadline": deadline.isoformat(),
            },
        )
    return issue


def issue_clear(*, issue: VillageIssue, done_on: date, acting_user) -> VillageIssue:
    ensure(acting_user, "election.record", issue)
    file = issue.file
    _round_open(file)
    done_on = _past(done_on, "done_on")
    with transaction.atomic():
        # Conditional: two people clearing the same issue clear it once.
        changed = VillageIssue.objects.filter(pk=issue.pk, status=IssueStatus.OPEN).update(
            status=IssueStatus.DONE, done_on=done_on
        )
        if not changed:
            raise KaopingError(
                {"__all__": _("%(title)s is cleared already.") % {"title": issue.title}}
            )
        issue.refresh_from_db()
        _audit(
            acting_user,
            "election.issue.cleared",
            file,
            issue,
            before={"list": _list_name(file, issue.kind), "status": str(IssueStatus.OPEN.label)},
            after={"status": str(IssueStatus.DONE.label), "done_on": done_on.isoformat()},
        )
    return issue


# ─── talks ───


def talk_record(
    *,
    file: VillageFile,
    category: str,
    person_name: str,
    held_on: date,
    acting_user,
    note: str = "",
) -> Talk:
    """A talk held with one person (谈心谈话), counted against the rule. A person counts once per
    category, and a category cannot hold more talks than its total."""
    ensure(acting_user, "election.record", file)
    _round_open(file)
    if category not in TalkCategory.values:
        raise KaopingError({"category": _("Choose a category of the talk rule.")})
    group = TalkCategory(category).label
    person_name = _text(person_name, "person_name", required=True, limit=50)
    held_on = _past(held_on, "held_on")
    note = _text(note, "note", required=False, limit=200)
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        if file.talks.filter(category=category, person_name=person_name).exists():
            raise KaopingError(
                {
                    "person_name": _("A talk with %(name)s as %(group)s is recorded already.")
                    % {"name": person_name, "group": group}
                }
            )
        total = getattr(file, {v: k for k, v in _TOTALS.items()}[category])
        if file.talks.filter(category=category).count() >= total:
            raise KaopingError(
                {
                    "person_name": _(
                        "All %(n)d of %(group)s are talked with already; correct the total on the "
                        "file first if it is wrong."
                    )
                    % {"n": total, "group": group}
                }
            )
        # The person register's entry when the name is one person's in the village.
        people = list(
            Person.objects.filter(
                region__code__startswith=file.village.code, name=person_name
            ).values_list("pk", flat=True)[:2]
        )
        try:
            with transaction.atomic():
                talk = Talk.objects.create(
                    file=file,
                    category=category,
                    person_name=person_name,
                    person_id=people[0] if len(people) == 1 else None,
                    held_on=held_on,
                    note=note,
                    held_by=acting_user,
                )
        except IntegrityError:  # recorded at the same moment by somebody else
            raise KaopingError(
                {
                    "person_name": _("A talk with %(name)s as %(group)s is recorded already.")
                    % {"name": person_name, "group": group}
                }
            ) from None
        _audit(
            acting_user,
            "election.talk.recorded",
            file,
            talk,
            after={
                "category": str(group),
                "person_name": person_name,
                "held_on": held_on.isoformat(),
            },
        )
    return talk


def talk_remove(*, talk: Talk, acting_user) -> None:
    ensure(acting_user, "election.record", talk)
    file = talk.file
    _round_open(file)
    with transaction.atomic():
        _audit(
            acting_user,
            "election.talk.removed",
            file,
            talk,
            before={
                "category": str(TalkCategory(talk.category).label),
                "person_name": talk.person_name,
                "held_on": talk.held_on.isoformat(),
            },
        )
        talk.delete()


# ─── the result ───


def result_record(
    *,
    file: VillageFile,
    elected_on: date,
    first_time_success: bool,
    intent_realised: bool,
    one_shoulder_done: bool,
    acting_user,
) -> VillageFile:
    """The election's result (一次选举成功, 组织意图, 一肩挑), once the village reached the round's
    election-day stage; recording it again corrects it."""
    ensure(acting_user, "election.record", file)
    _round_open(file)
    spec = spec_of(file.round)
    day_stage = next((s for s in spec.stages if s.election_day), None)
    if day_stage is None:
        raise KaopingError(
            {"__all__": _("This round has no election-day stage; no result can be recorded.")}
        )
    reached = file.stages.filter(stage=day_stage.code).first()
    if reached is None:
        raise KaopingError(
            {
                "__all__": _(
                    "%(village)s has not reached %(stage)s yet; record that stage before the result."
                )
                % {"village": file.village.name, "stage": day_stage.name}
            }
        )
    elected_on = _past(elected_on, "elected_on")
    if elected_on < reached.reached_on:
        raise KaopingError(
            {
                "elected_on": _("%(stage)s was reached on %(day)s; the election cannot be earlier.")
                % {"stage": day_stage.name, "day": reached.reached_on.isoformat()}
            }
        )
    fields = ["elected_on", "first_time_success", "intent_realised", "one_shoulder_done"]
    with transaction.atomic():
        file = (
            VillageFile.objects.select_for_update(of=("self",))
            .select_related("village", "round")
            .get(pk=file.pk)
        )
        before = {f: getattr(file, f) for f in fields}
        file.elected_on = elected_on
        file.first_time_success = bool(first_time_success)
        file.intent_realised = bool(intent_realised)
        file.one_shoulder_done = bool(one_shoulder_done)
        file.save(update_fields=[*fields, "updated_at"])
        _audit(
            acting_user,
            "election.result.recorded",
            file,
            before={k: v.isoformat() if isinstance(v, date) else v for k, v in before.items()},
            after={
                "elected_on": elected_on.isoformat(),
                "first_time_success": file.first_time_success,
                "intent_realised": file.intent_realised,
                "one_shoulder_done": file.one_shoulder_done,
            },
        )
    return file


__all__ = [
    "file_update",
    "help_visit_record",
    "issue_add",
    "issue_clear",
    "key_village_set",
    "may_help",
    "result_record",
    "stage_record",
    "stage_undo",
    "talk_counts",
    "talk_record",
    "talk_remove",
    "team_member_add",
    "team_member_remove",
]
