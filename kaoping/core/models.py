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
