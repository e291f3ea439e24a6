from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.fields import RegionCodeField


class ObjectionStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("objection", "submitted")
    UPHELD = "upheld", pgettext_lazy("objection", "upheld")
    DISMISSED = "dismissed", pgettext_lazy("objection", "dismissed")


class Objection(models.Model):
    """An objection to a posted period (公示异议), filed by anyone, decided by a county admin."""

    period = models.ForeignKey(
        "periods.Period",
        verbose_name=_("period"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    # The line of the posting objected to; empty for an objection to the period as a whole.
    subject = models.ForeignKey(
        "people.Subject",
        verbose_name=_("subject"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The subject's region, or the scheme's (county) region when there is no subject: who may
    # see the objection follows from it, without a join.
    region_code = RegionCodeField(_("region code"), db_index=True)
    name = models.CharField(_("name"), max_length=50)
    # Only the handlers (county admins) see name and contact in full; see selectors.mask_contact.
    contact = models.CharField(_("contact"), max_length=60)
    reason = models.TextField(_("reason"), max_length=2000)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ObjectionStatus.choices,
        default=ObjectionStatus.SUBMITTED,
    )
    decision = models.TextField(_("decision"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Ledger entries written by an upheld decision: {"reversed": [ids], "recorded": [ids]}.
    corrections = models.JSONField(_("corrections"), default=dict, blank=True)
    # Set by the first close that includes the corrections (see services.objections_mark_applied).
    applied_at = models.DateTimeField(_("corrected results published at"), null=True, blank=True)
    # Keyed hash of the client address (never the address itself), for rate limits and abuse review.
    address_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True, db_index=True)

    scope_region = "region_code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["period", "status"], name="objection_period_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "upheld", "dismissed"]),
                name="objection_status_valid",
            ),
            # A decision has a time; an undecided objection has none.
            models.CheckConstraint(
                condition=(
                    models.Q(status="submitted", decided_at__isnull=True)
                    | (~models.Q(status="submitted") & models.Q(decided_at__isnull=False))
                ),
                name="objection_decided_at",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.period}"
