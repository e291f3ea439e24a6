from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import RegionCodeField


class AuditLog(models.Model):
    """One row per write: who did what to which object, in which region, before and after."""

    # Set before the row's hash is computed (auto_now_add would set it only while saving).
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    region_code = RegionCodeField(_("region code"), blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    # The chain of the county the row belongs to (core.audit): its position there, and sha256
    # over the previous row's hash and this row's content. 0 for rows written before the chain.
    chain_key = models.CharField(max_length=12, blank=True, default="")
    chain_seq = models.BigIntegerField(default=0)
    chain_hash = models.CharField(max_length=64, blank=True, default="")

    # Read through accounts.scoping.restrict: core imports no app, so no scoped manager here.
    scope_region = "region_code"

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_key", "chain_seq"],
                condition=models.Q(chain_seq__gt=0),
                name="audit_chain_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class AuditChain(models.Model):
    """The head of one county's chain of audit rows, locked while a row is appended."""

    key = models.CharField(max_length=12, unique=True)
    length = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.key or '-'} #{self.length}"


class Lease(models.Model):
    """Background work in progress, renewed as it goes: a lease not renewed for a while belongs
    to a process that died (kill -9, a restart), and the work may be taken over."""

    key = models.CharField(max_length=100, primary_key=True)
    renewed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return self.key


class PeriodicRun(models.Model):
    """One run of a periodic job in one slot of its schedule (kaoping.core.periodic): the row is
    inserted before the job runs, so a second runner in the same slot meets the constraint."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    name = models.CharField(_("job"), max_length=80)
    # The local-time slot of the schedule: "2026-12-06 14:05" (minute), "2026-12-06 14" (hour),
    # "2026-12-06" (day), "2026-W49" (week), "2026-12" (month).
    slot = models.CharField(_("slot"), max_length=20)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    # A failed run is tried again in its slot a few times (kaoping.core.periodic.RETRY_*).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.slot} {self.status}"


class Progress(models.Model):
    """How far one long piece of work has come (a close, a report, an import), for a page that
    polls it and survives a reload (kaoping.core.progress)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    # What the work is about ("period.close:12"): a page finds the running work of its object
    # by it instead of starting a second one.
    key = models.CharField(_("key"), max_length=120, blank=True, db_index=True)
    label = models.CharField(_("label"), max_length=200)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("message"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    url = models.CharField(_("result page"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    # A plain id, not a foreign key: core sits below accounts, and a progress row outlives
    # nothing it would protect.
    started_by_id = models.IntegerField(_("started by"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("progress")
        verbose_name_plural = _("progress")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} {self.done}/{self.total} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)
