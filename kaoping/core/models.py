from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import RegionCodeField


class AuditLog(models.Model):
    """One row per write: who did what to which object, in which region, before and after."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
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

    # Read through accounts.scoping.restrict: core imports no app, so no scoped manager here.
    scope_region = "region_code"

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


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
