"""Reads of a village's file (一村一档): which files a login sees, one file's page, and the talk
rule's arithmetic (`talk_progress`, shared with the board).

A file is seen by whoever holds `election.view` over its village and by the members of the
departments whose villages it is in (`access.department_files`: the villages a department covers
and those it is paired with, 联片帮村; the pairing decides which village a department helps, and
it needs the file to help).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.regions.models import Level, Region

from .access import department_q, departments_of
from .models import (
    HelpVisit,
    IssueStatus,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from .spec import FINANCE, PETITION, RoundSpec, spec_of

# ─── the talk rule ───

# Each category of talks, the file's total it counts against and the rule's per cent.
TALK_GROUPS = (
    (TalkCategory.PARTY_MEMBER, "party_members_total", "party_members"),
    (TalkCategory.REPRESENTATIVE, "representatives_total", "representatives"),
    (TalkCategory.KEY_PERSON, "key_persons_total", "key_persons"),
)


@dataclass(frozen=True)
class TalkProgress:
    """One category of the talk rule in one village: how many must be talked with, how many
    were."""

    category: str  # a TalkCategory value
    label: str
    total: int  # the village's party members, representatives or key persons
    percent: Decimal  # the rule's least share of them (per cent)
    required: int  # ceil(total × percent / 100)
    talked: int

    @property
    def met(self) -> bool:
        return self.talked >= self.required

    @property
    def coverage(self) -> Decimal:
        """Talks held against the rule, per cent, at most 100 (100 when nobody is required)."""
        if self.required == 0:
            return Decimal(100)
        return min(Decimal(100), Decimal(100) * self.talked / self.required).quantize(Decimal(1))


def talk_required(total: int, percent: Decimal) -> int:
    """The least number of people of a group of `total` to talk with under a rule of
    `percent` per cent: rounded up, so 60 % of 5 representatives is 3."""
    exact = Decimal(total) * Decimal(percent) / Decimal(100)
    return int(exact.to_integral_value(rounding=ROUND_CEILING))


def talk_progress(file: VillageFile, spec: RoundSpec, counts: dict[str, int]) -> list[TalkProgress]:
    """The talk rule against one village, category by category (party members, villager
    representatives, key persons): `file` gives the totals, `spec.talks` the per cents and
    `counts` the talks held per TalkCategory value (a missing category counts 0). Pure: no query,
    so the board can feed it counts it gathered for many villages at once."""
    rows = []
    for category, total_field, percent_field in TALK_GROUPS:
        total = getattr(file, total_field)
        percent = getattr(spec.talks, percent_field)
        rows.append(
            TalkProgress(
                category=category.value,
                label=str(category.label),
                total=total,
                percent=percent,
                required=talk_required(total, percent),
                talked=counts.get(category.value, 0),
            )
        )
    return rows


# ─── which files ───


def files_visible(user):
    """The village files `user` may open: by region (`election.view`) or as a department's
    villages (`access.department_q`)."""
    scoped = Q(pk__in=VillageFile.objects.for_user(user, "election.view").values("pk"))
    departments = departments_of(user)
    if departments:
        scoped |= department_q(departments)
    return VillageFile.objects.filter(scoped)


def file_for(user, pk: int) -> VillageFile:
    """One file the user may open, or 404 (a department opens the files of its villages,
    those it is paired with included)."""
    queryset = VillageFile.objects.select_related(
        "round", "village", "village__parent", "paired_department"
    )
    try:
        return get_scoped_or_404(queryset, user, "election.view", pk=pk)
    except Http404:
        departments = departments_of(user)
        found = queryset.filter(department_q(departments), pk=pk).first() if departments else None
        if found is None:
            raise
        return found


# ─── one file's page ───


@dataclass(frozen=True)
class StageRow:
    code: str
    name: str
    due: date
    election_day: bool
    reached_on: date | None
    note: str
    overdue: bool  # not reached and its deadline has passed
    late: bool  # reached after its deadline


@dataclass
class IssueRow:
    issue: VillageIssue
    overdue: bool


@dataclass
class IssueList:
    code: str
    name: str
    group: str  # "campaign", "petition" or "finance"
    rows: list[IssueRow] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(1 for r in self.rows if r.issue.status == IssueStatus.OPEN)

    @property
    def overdue_count(self) -> int:
        return sum(1 for r in self.rows if r.overdue)


@dataclass
class FilePage:
    file: VillageFile
    spec: RoundSpec
    today: date
    stages: list[StageRow]
    stage_name: str  # the furthest stage's name, blank before the first
    next_stage: StageRow | None  # the stage to record next
    talks: list[TalkProgress]
    talks_by_category: dict[str, list[Talk]]
    talk_rows: list[Talk]  # every talk, by category then latest first
    lists: list[IssueList]
    team: list[tuple[str, TeamMember]]  # (role name, member)
    help_visits: list[HelpVisit]
    election_day: StageRow | None
    election_day_reached: bool

    @property
    def talks_met(self) -> bool:
        return all(t.met for t in self.talks)

    @property
    def open_issues(self) -> int:
        return sum(lst.open_count for lst in self.lists)

    @property
    def overdue_issues(self) -> int:
        return sum(lst.overdue_count for lst in self.lists)


def file_page(file: VillageFile, *, today: date | None = None) -> FilePage:
    """Everything the file's page shows, in a fixed handful of queries."""
    today = today or timezone.localdate()
    spec = spec_of(file.round)
    reached = {r.stage: r for r in file.stages.all()}
    stages = [
        StageRow(
            code=s.code,
            name=s.name,
            due=s.due,
            election_day=s.election_day,
            reached_on=reached[s.code].reached_on if s.code in reached else None,
            note=reached[s.code].note if s.code in reached else "",
            overdue=s.code not in reached and s.due < today,
            late=s.code in reached and reached[s.code].reached_on > s.due,
        )
        for s in spec.stages
    ]
    next_stage = next((s for s in stages if s.reached_on is None), None)
    election_day = next((s for s in stages if s.election_day), None)

    talks = list(file.talks.order_by("category", "-held_on", "-id"))
    by_category: dict[str, list[Talk]] = {c.value: [] for c in TalkCategory}
    for talk in talks:
        by_category.setdefault(talk.category, []).append(talk)
    counts = {category: len(rows) for category, rows in by_category.items()}

    names = spec.list_names()
    lists = {
        code: IssueList(
            code=code,
            name=name,
            group=code if code in (PETITION, FINANCE) else "campaign",
        )
        for code, name in names.items()
    }
    for issue in file.issues.order_by("status", "deadline", "id"):
        if issue.kind not in lists:  # a list the round's configuration has since dropped
            lists[issue.kind] = IssueList(code=issue.kind, name=issue.kind, group="campaign")
        lists[issue.kind].rows.append(
            IssueRow(issue, overdue=issue.status == IssueStatus.OPEN and issue.deadline < today)
        )

    roles = {r.code: r.name for r in spec.team_roles}
    team = [(roles.get(m.role, m.role), m) for m in file.team.all()]
    return FilePage(
        file=file,
        spec=spec,
        today=today,
        stages=stages,
        stage_name=spec.stage_names().get(file.stage, ""),
        next_stage=next_stage,
        talks=talk_progress(file, spec, counts),
        talks_by_category=by_category,
        talk_rows=talks,
        lists=list(lists.values()),
        team=team,
        help_visits=list(file.help_visits.select_related("department", "recorded_by")),
        election_day=election_day,
        election_day_reached=election_day is not None and election_day.reached_on is not None,
    )


# ─── the list of files ───


@dataclass
class FileListRow:
    file: VillageFile
    stage_name: str
    open_issues: int
    overdue_issues: int


def files_list(
    user, *, township: str = "", key_only: bool = False, stage: str = ""
) -> tuple[list[FileListRow], list[Region], RoundSpec | None]:
    """The files of the latest round the user sees, filtered; with the townships to filter by
    and the round's configuration (for the stages)."""
    visible = files_visible(user)
    latest = visible.order_by("-round__opened_at", "-round_id").values_list("round", flat=True)
    round_id = latest.first()
    if round_id is None:
        return [], [], None
    files = visible.filter(round_id=round_id)
    township_ids = files.values("village__parent")
    townships = list(
        Region.objects.filter(pk__in=township_ids, level=Level.TOWNSHIP).order_by("code")
    )
    if township:
        files = files.filter(village__code__startswith=township)
    if key_only:
        files = files.filter(is_key=True)
    if stage == "-":
        files = files.filter(stage="")
    elif stage:
        files = files.filter(stage=stage)
    today = timezone.localdate()
    files = (
        files.select_related("round", "village", "village__parent", "paired_department")
        .annotate(
            open_issues=Count("issues", filter=Q(issues__status=IssueStatus.OPEN), distinct=True),
            overdue_issues=Count(
                "issues",
                filter=Q(issues__status=IssueStatus.OPEN, issues__deadline__lt=today),
                distinct=True,
            ),
        )
        .order_by("village__code")
    )
    rows = list(files)
    spec = spec_of(rows[0].round) if rows else None
    if spec is None:
        from .models import ElectionRound

        spec = spec_of(ElectionRound.objects.get(pk=round_id))
    names = spec.stage_names()
    return (
        [FileListRow(f, names.get(f.stage, ""), f.open_issues, f.overdue_issues) for f in rows],
        townships,
        spec,
    )
