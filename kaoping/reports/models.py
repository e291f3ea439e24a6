from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet


class ReportKind(models.TextChoices):
    # The 考评通报 of one period (monthly for a monthly scheme, quarterly for a quarterly one).
    BULLETIN = "bulletin", _("assessment bulletin")
    RED_BLACK = "red_black", _("red and black list bulletin")
    VILLAGE_ANNUAL = "village_annual", _("village annual report")
    # 换届工作周报: an election round's week, per township and per paired department.
    ELECTION_WEEKLY = "election_weekly", _("election weekly report")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("being built")
    DONE = "done", _("ready")
    FAILED = "failed", _("failed")


# queued → running → done | failed; a failed report may be built again (queued).
TRANSITIONS = {
    ReportStatus.QUEUED: {ReportStatus.RUNNING},
    ReportStatus.RUNNING: {ReportStatus.DONE, ReportStatus.FAILED},
    ReportStatus.FAILED: {ReportStatus.QUEUED},
    ReportStatus.DONE: set(),
}


class Report(models.Model):
    """One built report of a scheme's period (or year), or of an election round's week, for a
    region, with its files."""

    kind = models.CharField(_("kind"), max_length=16, choices=ReportKind.choices)
    # Blank for an election weekly report: it is about a round, not a scheme.
    scheme = models.ForeignKey(
        "schemes.Scheme",
        verbose_name=_("scheme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    election_round = models.ForeignKey(
        "election.ElectionRound",
        verbose_name=_("election round"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The paired department an election weekly report is for (`region` is then the county).
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The period the report is about; a village's annual report names a year instead.
    period = models.ForeignKey(
        "periods.Period",
        verbose_name=_("period"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The period's label, a year, or an ISO week (2026-W49).
    label = models.CharField(_("period"), max_length=16)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    pdf = models.FileField(_("PDF"), upload_to="reports/", blank=True)
    docx = models.FileField(_("Word"), upload_to="reports/", blank=True)
    xlsx = models.FileField(_("Excel"), upload_to="reports/", blank=True)
    schedule = models.ForeignKey(
        "ReportSchedule",
        verbose_name=_("schedule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["schedule", "label"], name="report_schedule_idx")]
        constraints = [
            # One weekly report per round, week and township, or round, week and department: a
            # job run twice (or by two runners) builds nothing twice.
            models.UniqueConstraint(
                fields=["election_round", "label", "region"],
                condition=models.Q(kind="election_weekly", department__isnull=True),
                name="report_election_region_week_unique",
            ),
            models.UniqueConstraint(
                fields=["election_round", "label", "department"],
                condition=models.Q(kind="election_weekly", department__isnull=False),
                name="report_election_department_week_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.label}"

    @property
    def busy(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.RUNNING)


class ScheduleWhen(models.TextChoices):
    # Once a period of the scheme (of the cadence the kind reads) is closed, or posted.
    AFTER_CLOSE = "after_close", _("when a period is closed")
    AFTER_POST = "after_post", _("when a period is posted")


class ReportSchedule(models.Model):
    """Which report the county sends to whom, and when: one delivery per period of the scheme."""

    kind = models.CharField(_("kind"), max_length=16, choices=ReportKind.choices)
    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # Role slugs (accounts.Role): everyone holding one of them inside the region, and above it.
    recipients = models.JSONField(_("recipients"), default=list)
    when = models.CharField(
        _("when"), max_length=16, choices=ScheduleWhen.choices, default=ScheduleWhen.AFTER_CLOSE
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The newest period delivered: the runner looks only at periods after it.
    last_label = models.CharField(_("last delivered"), max_length=16, blank=True)
    last_run_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ["scheme", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.scheme.name}"
