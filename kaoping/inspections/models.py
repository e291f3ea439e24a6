"""Inspection draws (随机抽查): the sub-units drawn for one unit, item and period, and the results.

A draw keeps everything an auditor needs to replay it without the database as it is today: the
seed, every sub-unit number it was drawn from (N of them, as they stood), how many were drawn
and the members in the order drawn (docs/schemes.md §5 “随机抽查”).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.accounts.scoping import ScopedQuerySet


class Draw(models.Model):
    """One inspection draw: which of a unit's sub-units one sampled item inspects in one period."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    period_label = models.CharField(_("period"), max_length=16)
    subject = models.ForeignKey(
        "people.Subject", verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )
    item_code = models.CharField(_("item"), max_length=64)
    of = models.CharField(_("drawn from"), max_length=12)  # household | grid
    rule = models.JSONField(_("sample rule"), default=dict)  # the `sample:` as it was drawn
    seed = models.CharField(_("seed"), max_length=64)
    population = models.JSONField(_("sub-units drawn from"), default=list)  # their numbers
    size = models.PositiveIntegerField(_("sample size"))
    members = models.JSONField(_("drawn"), default=list)  # numbers, in the order drawn
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    scope_region = "subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection draw")
        verbose_name_plural = _("inspection draws")
        ordering = ["scheme", "period_label", "subject__region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period_label", "subject", "item_code"], name="draw_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.period_label} {self.item_code}"

    @property
    def population_size(self) -> int:
        return len(self.population)


class DrawResult(models.Model):
    """What the inspector found at one drawn sub-unit (its level, e.g. 合格)."""

    draw = models.ForeignKey(
        Draw, verbose_name=_("inspection draw"), on_delete=models.CASCADE, related_name="results"
    )
    member = models.CharField(_("sub-unit"), max_length=30)
    level = models.CharField(pgettext_lazy("inspection", "level"), max_length=32)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    scope_region = "draw__subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["draw", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "member"], name="draw_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.level}"
