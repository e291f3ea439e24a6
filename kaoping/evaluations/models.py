"""Evaluations (评议): plans, their rounds, ballots and results; 一联 (members' linked households
served), 二亮 (members' public pledges) and attendance at meetings.

A plan is a YAML file (`evaluations/spec.py`) kept in versions. A round is one campaign of the
plan for one period (支部评议 2026-03, 群众评议 2026-Q1…): ballots are cast while it is open and
closing it writes each subject's aggregate through the ledger's one write as one entry of the
campaign's item, at the campaign's cadence. Individual ballots are read by the audit role only
(`evaluation.ballots`); everyone else sees aggregates.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet


class Plan(models.Model):
    """A county's or township's evaluation plan (e.g. 靖港镇2026年党员“三评”)."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    # The current version's validated configuration (evaluations.spec.PlanSpec as JSON).
    spec = models.JSONField(_("configuration"), default=dict)
    version = models.PositiveIntegerField(_("version"), default=1)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    scope_region = "region__code"
    # Staff inside the plan's region see it and the rounds they rate or type ballots in.
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation plan")
        verbose_name_plural = _("evaluation plans")
        ordering = ["-loaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="evaluation_plan_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PlanVersion(models.Model):
    """Every plan file loaded, as it was written."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    filename = models.CharField(_("file"), max_length=200)
    source = models.TextField(_("text"))
    spec = models.JSONField(_("configuration"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    scope_region = "plan__region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="evaluation_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class RoundStatus(models.TextChoices):
    OPEN = "open", _("open for ballots")
    CLOSED = "closed", _("closed")


class Round(models.Model):
    """One campaign of a plan for one period: 群众评议 2026-Q1."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="rounds")
    campaign = models.CharField(_("campaign"), max_length=40)
    # The campaign's name and cadence as they were when the round opened.
    name = models.CharField(_("name"), max_length=100)
    cadence = models.CharField(_("cadence"), max_length=12)
    period_label = models.CharField(_("period"), max_length=12)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    status = models.CharField(
        _("status"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    # Panel rounds (集中评比): the judges, and who chairs the session.
    judges = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("judges"), related_name="judged_rounds", blank=True
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The subjects rated in this round (fixed when it opens: the contestants of a panel, the
    # party members of the plan's region…).
    subjects = models.ManyToManyField(
        "people.Subject", verbose_name=_("subjects"), related_name="evaluation_rounds"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    scope_region = "plan__region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-opens_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "campaign", "period_label"], name="evaluation_round_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.period_label}"


class RaterCode(models.Model):
    """The code (QR or link) through which a household or a party member rates, without an
    account: one per rater per round. Printed on a sheet per village."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("code"), max_length=16, unique=True)
    village = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_used_at = models.DateTimeField(_("first used"), null=True, blank=True)

    scope_region = "village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["village", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=models.Q(household__isnull=False),
                name="evaluation_code_household_unique",
            ),
            models.UniqueConstraint(
                fields=["round", "person"],
                condition=models.Q(person__isnull=False),
                name="evaluation_code_person_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class BallotChannel(models.TextChoices):
    ACCOUNT = "account", _("by a login")
    CODE = "code", _("by a code")
    PAPER = "paper", _("paper ballot typed in")


class Ballot(models.Model):
    """One rater's marks for one subject in one round. Individual ballots are read by the audit
    role only; the round's result is their aggregate."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="ballots")
    subject = models.ForeignKey(
        "people.Subject", verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )
    # Who rated: "user:<id>", "household:<id>", "person:<id>" or "paper:<n>". One ballot per
    # rater per subject per round.
    rater_key = models.CharField(_("rater"), max_length=40)
    channel = models.CharField(_("channel"), max_length=8, choices=BallotChannel.choices)
    rater_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rater_household = models.ForeignKey(
        "people.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rater_person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The form item code → the mark given (a scale's mark, or a score); Decimal strings.
    marks = models.JSONField(_("marks"), default=dict)
    mark = models.DecimalField(_("mark"), max_digits=9, decimal_places=2)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    # The rater is a registered close relative of the subject (shown for review, still counted).
    relative = models.BooleanField(_("close relative"), default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cast_at = models.DateTimeField(_("cast at"), auto_now_add=True)

    scope_region = "subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["round", "subject", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "subject", "rater_key"], name="evaluation_ballot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.subject_id} · {self.rater_key}"


class RoundResult(models.Model):
    """A subject's aggregate in a closed round, and the entry or metric value it went in as."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="results")
    subject = models.ForeignKey(
        "people.Subject", verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("result"), max_digits=9, decimal_places=2, null=True)
    ballots = models.PositiveIntegerField(_("ballots"))
    eligible = models.PositiveIntegerField(_("raters"), default=0)
    # Fewer ballots than the campaign's minimum: no entry is written, the subject is flagged.
    valid = models.BooleanField(_("valid"))
    # Honesty signals: e.g. ["all_same"] when every ballot gave the same mark.
    flags = models.JSONField(_("flags"), default=list)
    entry = models.ForeignKey(
        "ledger.Entry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Or, when the campaign feeds a metric item (points by bands), the metric the result was
    # stored as for the round's period; empty when nothing went into the score.
    metric = models.CharField(_("metric"), max_length=64, blank=True)

    scope_region = "subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["round", "-value", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["round", "subject"], name="evaluation_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.subject_id}"


class Meeting(models.Model):
    """A branch meeting (主题党日, 组织生活会) that members sign in to on their phones."""

    village = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.CharField(_("party branch"), max_length=100)
    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    item_code = models.CharField(_("item"), max_length=64)
    title = models.CharField(_("title"), max_length=100)
    held_on = models.DateField(_("held on"))
    code = models.CharField(_("sign-in code"), max_length=16, unique=True)
    open = models.BooleanField(_("sign-in open"), default=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    scope_region = "village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(
        "people.PartyMember",
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    entry = models.ForeignKey(
        "ledger.Entry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_region = "meeting__village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["meeting", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"], name="evaluation_attendance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.member_id}"


class LinkService(models.Model):
    """一联: a party member served one of the households they link, on a day."""

    member = models.ForeignKey(
        "people.PartyMember",
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        "people.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    served_on = models.DateField(_("served on"))
    note = models.CharField(_("what was done"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "member__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service to a linked household")
        verbose_name_plural = _("services to linked households")
        ordering = ["-served_on", "-id"]
        indexes = [models.Index(fields=["served_on", "member"], name="evaluation_service_day")]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.household_id} {self.served_on}"


class MemberPledge(models.Model):
    """二亮: a party member's public pledge for a year, and whether it was kept."""

    member = models.ForeignKey(
        "people.PartyMember",
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    text = models.CharField(_("pledge"), max_length=200)
    kept_on = models.DateField(_("kept on"), null=True, blank=True)
    kept_note = models.CharField(_("how it was kept"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "member__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["member", "year", "id"]

    def __str__(self) -> str:
        return self.text
