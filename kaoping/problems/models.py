from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.limits import validate_line, validate_text


class Category(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", _("infrastructure")
    DISPUTE = "dispute", _("dispute")
    POLICY = "policy", _("policy question")
    ENVIRONMENT = "environment", _("environment and sanitation")
    RELIEF = "relief", _("help and relief")
    OTHER = "other", _("other")


class Level(models.TextChoices):
    """Who holds the problem now: the grid, the village, the township, or a county department."""

    GRID = "grid", _("grid")
    VILLAGE = "village", _("village")
    TOWNSHIP = "township", _("township")
    DEPARTMENT = "department", _("department")


# Days a level has to resolve a problem from the day it is handed the problem (民情办理时限).
DEADLINE_DAYS = {Level.GRID: 3, Level.VILLAGE: 7, Level.TOWNSHIP: 15, Level.DEPARTMENT: 15}

# Where an overdue problem goes (escalation). A township's or a department's overdue problem goes
# nowhere higher: the county admins are told once instead.
ESCALATES_TO = {Level.GRID: Level.VILLAGE, Level.VILLAGE: Level.TOWNSHIP}

# Days a household has to confirm a resolution before the township may close it unconfirmed.
CONFIRM_DAYS = 7


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("problem", "open")
    IN_PROGRESS = "in_progress", pgettext_lazy("problem", "in progress")
    RESOLVED = "resolved", _("resolved, awaiting the household")
    REOPENED = "reopened", pgettext_lazy("problem", "reopened")
    CLOSED = "closed", pgettext_lazy("problem", "closed")


ACTIVE = (Status.OPEN, Status.IN_PROGRESS, Status.REOPENED)

# The state machine, declared once: action → (statuses it may start from, status it leads to).
# Assigning and escalating move the level, not the status (None: the status stays).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "assign": (ACTIVE, None),
    "escalate": (ACTIVE, None),
    "progress": (ACTIVE, Status.IN_PROGRESS),
    "resolve": (ACTIVE, Status.RESOLVED),
    "accept": ((Status.RESOLVED,), Status.CLOSED),
    "reject": ((Status.RESOLVED,), Status.REOPENED),
    "close_unconfirmed": ((Status.RESOLVED,), Status.CLOSED),
}


class RaisedVia(models.TextChoices):
    VISIT = "visit", _("on a visit")
    HOUSEHOLD = "household", _("by the household")
    STAFF = "staff", _("by staff")


class Problem(models.Model):
    """A problem or request of a household (民情), tracked from raised to closed."""

    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="problems",
    )
    # The household's grid (or village) when the problem was raised: the problem stays with the
    # grid that took it, as a visit does, even if the household moves.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_via = models.CharField(
        pgettext_lazy("problem", "raised via"), max_length=10, choices=RaisedVia.choices
    )
    visit = models.ForeignKey(
        "grid.Visit",
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    title = models.CharField(
        pgettext_lazy("problem", "title"), max_length=100, validators=[validate_line]
    )
    description = models.TextField(_("description"), blank=True, validators=[validate_text])
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    assigned_region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    household_comment = models.TextField(_("household's comment"), blank=True)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    # A township's or department's overdue problem is reported to the county once.
    overdue_reported = models.BooleanField(default=False)
    # A resubmitted form (or a retried API call) carries the same key and raises nothing more.
    idempotency_key = models.CharField(max_length=100)

    scope_region = "region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["raised_by", "idempotency_key"], name="problem_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="problem_satisfaction_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(level="department")
                | models.Q(assigned_department__isnull=False),
                name="problem_department_named",
            ),
        ]
        indexes = [
            models.Index(fields=["region", "status"], name="problem_region_status_idx"),
            models.Index(fields=["status", "deadline"], name="problem_status_deadline_idx"),
            models.Index(fields=["household", "-raised_at"], name="problem_household_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in ACTIVE

    def overdue_on(self, day) -> bool:
        return self.status in ACTIVE and self.deadline < day

    def confirm_by(self):
        """The last day the household has to answer a resolution."""
        if self.resolved_at is None:
            return None
        return timezone.localdate(self.resolved_at) + timedelta(days=CONFIRM_DAYS)


EVENT_LABELS = {
    "raised": _("raised"),
    "assigned": _("handed on"),
    "escalated": _("escalated: overdue"),
    "progress": _("progress"),
    "resolved": _("resolved"),
    "accepted": _("confirmed by the household"),
    "rejected": _("not solved, says the household"),
    "closed": _("closed without the household's answer"),
    "overdue": _("overdue: reported to the county"),
}


class ProblemEvent(models.Model):
    """One step of a problem's history: raised, assigned, escalated, progress, resolved, …"""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    from_level = models.CharField(max_length=12, choices=Level.choices, blank=True)
    to_level = models.CharField(max_length=12, choices=Level.choices, blank=True)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)

    scope_region = "problem__region__code"
    scope_household = "problem__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action}"

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)

    @property
    def actor_name(self) -> str:
        return self.actor.first_name or self.actor.get_username()
