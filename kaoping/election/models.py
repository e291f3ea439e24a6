"""Village-election readiness (M8, 村社换届): a county's round, its villages' files (一村一档) and
the persons' sheets (一人一表) merged from the findings of departments.

The round's configuration (stages, the negative list of the qualification check, the six 清
campaigns, the talk rule, the board's thresholds) is a YAML file read by the schemes' loader
(`election/spec.py`), kept in versions; the current version's data is copied onto the round.
A person's sheet and the findings behind it are the most sensitive rows of the product: read
them only through `election/selectors.py`, which audits every view.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet


class RoundStatus(models.TextChoices):
    OPEN = "open", _("under way")
    CLOSED = "closed", _("closed")


class ElectionRound(models.Model):
    """One county's round of village elections (e.g. 瓯海区2026年村社组织换届)."""

    county = models.ForeignKey(
        "regions.Region", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    # The current version's validated configuration (election.spec.RoundSpec as JSON) and number.
    spec = models.JSONField(_("configuration"), default=dict)
    version = models.PositiveIntegerField(_("version"), default=1)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    scope_region = "county__code"
    # County-wide: a township's staff and a department's scorers see the round they work in.
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("election round")
        verbose_name_plural = _("election rounds")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "code"], name="election_round_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class RoundVersion(models.Model):
    """Every configuration file the county loaded for a round, as uploaded."""

    round = models.ForeignKey(
        ElectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    source = models.TextField(_("file text"))
    spec = models.JSONField(_("configuration"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    scope_region = "round__county__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("round configuration version")
        verbose_name_plural = _("round configuration versions")
        ordering = ["round", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["round", "number"], name="election_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round} v{self.number}"


class VillageFile(models.Model):
    """一村一档: one village's (村社's) file in a round."""

    round = models.ForeignKey(
        ElectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="files"
    )
    village = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    # The code of the furthest stage reached (the round's `stages`), blank before the first.
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    is_key = models.BooleanField(_("key village"), default=False)  # 重点村社
    paired_department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("paired department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    help_plan = models.TextField(_("help plan"), blank=True)  # 联片帮村 帮扶方案
    # The talk rule's denominators (谈心谈话): all party members, the villager representatives,
    # every key person. Party members are counted from the people register when the file is made.
    party_members_total = models.PositiveIntegerField(_("party members"), default=0)
    representatives_total = models.PositiveIntegerField(_("villager representatives"), default=0)
    key_persons_total = models.PositiveIntegerField(_("key persons"), default=0)
    one_shoulder_intended = models.BooleanField(_("一肩挑 intended"), default=False)
    # After election day: blank until the result is recorded.
    elected_on = models.DateField(_("election day"), null=True, blank=True)
    first_time_success = models.BooleanField(_("elected at the first vote"), null=True, blank=True)
    intent_realised = models.BooleanField(
        _("organisation's intention realised"), null=True, blank=True
    )
    one_shoulder_done = models.BooleanField(_("一肩挑 achieved"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_region = "village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("village file")
        verbose_name_plural = _("village files")
        ordering = ["village__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "village"], name="election_file_unique")
        ]

    def __str__(self) -> str:
        return self.village.name


class StageReached(models.Model):
    """A stage a village reached, on which day, recorded by whom (the stage history)."""

    file = models.ForeignKey(
        VillageFile, verbose_name=_("village file"), on_delete=models.CASCADE, related_name="stages"
    )
    stage = models.CharField(_("stage"), max_length=40)
    reached_on = models.DateField(_("reached on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "file__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage reached")
        verbose_name_plural = _("stages reached")
        ordering = ["file", "reached_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["file", "stage"], name="election_stage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.file} {self.stage}"


class TeamMember(models.Model):
    """A member of a key village's team (the round's `team_roles`: 区领导, 驻村联系领导, 第一书记,
    结对部门, 乡贤, 民警)."""

    file = models.ForeignKey(
        VillageFile, verbose_name=_("village file"), on_delete=models.CASCADE, related_name="team"
    )
    role = models.CharField(_("role"), max_length=40)
    name = models.CharField(_("full name"), max_length=50)
    unit = models.CharField(_("work unit"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    scope_region = "file__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["file", "id"]

    def __str__(self) -> str:
        return self.name


class HelpVisit(models.Model):
    """A paired department's visit to its village (联片帮村)."""

    file = models.ForeignKey(
        VillageFile,
        verbose_name=_("village file"),
        on_delete=models.CASCADE,
        related_name="help_visits",
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    visited_on = models.DateField(_("visited on"))
    note = models.TextField(_("what was done"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "file__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("help visit")
        verbose_name_plural = _("help visits")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.file} {self.visited_on}"


class IssueStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("cleared")


class VillageIssue(models.Model):
    """One item on a village's lists: a problem of one of the six 清 campaigns (the round's
    `campaigns`), a petition (信访) or a finance flag (财务)."""

    file = models.ForeignKey(
        VillageFile, verbose_name=_("village file"), on_delete=models.CASCADE, related_name="issues"
    )
    # A campaign code of the round, or "petition" or "finance".
    kind = models.CharField(_("list"), max_length=40)
    title = models.CharField(_("issue"), max_length=200)
    owner = models.CharField(_("owner"), max_length=50)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=IssueStatus.choices, default=IssueStatus.OPEN
    )
    done_on = models.DateField(_("cleared on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "file__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("village issue")
        verbose_name_plural = _("village issues")
        ordering = ["status", "deadline", "id"]
        indexes = [models.Index(fields=["file", "status"], name="election_issue_status_idx")]

    def __str__(self) -> str:
        return self.title


class TalkCategory(models.TextChoices):
    PARTY_MEMBER = "party_member", _("party member")
    REPRESENTATIVE = "representative", _("villager representative")
    KEY_PERSON = "key_person", _("key person")


class Talk(models.Model):
    """A talk held with one person before the election (谈心谈话), counted against the rule."""

    file = models.ForeignKey(
        VillageFile, verbose_name=_("village file"), on_delete=models.CASCADE, related_name="talks"
    )
    category = models.CharField(_("category"), max_length=16, choices=TalkCategory.choices)
    person_name = models.CharField(_("talked with"), max_length=50)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    held_on = models.DateField(_("held on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "file__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("talk")
        verbose_name_plural = _("talks")
        ordering = ["-held_on", "-id"]
        constraints = [
            # One talk per person and category counts once: the same person twice is one.
            models.UniqueConstraint(
                fields=["file", "category", "person_name"], name="election_talk_unique"
            )
        ]

    def __str__(self) -> str:
        return self.person_name


class Qualification(models.TextChoices):
    PASS = "pass", _("passed")  # 通过
    UNFIT = "unfit", _("not suitable")  # 不宜
    PENDING = "pending", _("to be checked")  # 待核


class PersonSheet(models.Model):
    """一人一表: an incumbent cadre or a prospective candidate in a round, with the merged
    findings and the qualification check's result (kept current by `election.findings`)."""

    round = models.ForeignKey(
        ElectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="sheets"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    is_incumbent = models.BooleanField(_("incumbent cadre"), default=False)
    is_candidate = models.BooleanField(_("prospective candidate"), default=False)
    intended = models.BooleanField(_("organisation's intended candidate"), default=False)
    intended_post = models.CharField(_("intended post"), max_length=50, blank=True)
    one_shoulder_intended = models.BooleanField(_("一肩挑 intended"), default=False)
    qualification = models.CharField(
        _("qualification check"),
        max_length=8,
        choices=Qualification.choices,
        default=Qualification.PENDING,
    )
    # Why: the conditions found and the departments that answered them, as shown on the sheet.
    qualification_reason = models.TextField(_("reason"), blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    scope_region = "village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("person's sheet")
        verbose_name_plural = _("persons' sheets")
        ordering = ["village__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="election_sheet_unique")
        ]
        indexes = [models.Index(fields=["round", "qualification"], name="election_sheet_qual_idx")]

    def __str__(self) -> str:
        return self.person.name


class FindingSource(models.TextChoices):
    FORM = "form", _("typed in")
    EXCEL = "excel", _("Excel import")
    API = "api", _("API")

    def __str__(self) -> str:
        return f"{self.department} {self.condition or self.summary}"[:100]


class Finding(models.Model):
    """One department's finding about one person: an answer to a condition of the round's
    negative list (`condition`, `hit` says whether it applies) or a note with no condition."""

    round = models.ForeignKey(
        ElectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="findings"
    )
    sheet = models.ForeignKey(
        PersonSheet,
        verbose_name=_("person's sheet"),
        on_delete=models.CASCADE,
        related_name="findings",
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    condition = models.CharField(_("condition"), max_length=40, blank=True)
    hit = models.BooleanField(_("applies"), default=False)
    summary = models.CharField(_("finding"), max_length=500, blank=True)
    found_on = models.DateField(_("date of the finding"))
    document = models.CharField(_("document reference"), max_length=100, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=FindingSource.choices, default=FindingSource.FORM
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "sheet__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["sheet", "department", "-found_on", "-id"]
        indexes = [models.Index(fields=["round", "department"], name="election_finding_dept_idx")]

    def __str__(self) -> str:
        return f"{self.department} {self.condition or self.summary}"[:100]
