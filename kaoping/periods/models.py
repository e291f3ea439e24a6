from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet

from .breakdown import NodeValue, node_values


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")
    POSTED = "posted", _("posted")
    FINAL = "final", _("final")


class Period(models.Model):
    """A month, quarter, half-year or year of a scheme, bound to the version it is scored with."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="periods"
    )
    version = models.ForeignKey(
        "schemes.SchemeVersion",
        verbose_name=_("scheme version"),
        on_delete=models.PROTECT,
        related_name="periods",
    )
    cadence = models.CharField(_("cadence"), max_length=12)
    label = models.CharField(_("period"), max_length=16)  # 2026-03, 2026-Q1, 2026-H1, 2026
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))  # inclusive
    status = models.CharField(
        _("status"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    objection_deadline = models.DateTimeField(_("objections until"), null=True, blank=True)
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the last close could not fill (scheme `ranking.shortfall: warn`): one object per list
    # and ranking group, {list, name, group, wanted, got}; written by lists.lists_compute.
    list_shortfalls = models.JSONField(_("list shortfalls"), default=list, blank=True)
    # The seed of the lot that breaks ties at list cut-offs (`ranking.tie_break: [… {lot: true}]`),
    # drawn at the period's first close and kept through re-closes, so that a lot can be replayed.
    tie_seed = models.CharField(_("lot seed"), max_length=32, blank=True, db_default="")
    # Ties across a cut-off that `at_cutoff: break` settled at the last close: one object per
    # subject of such a tie, {list, subject, position, in, by} (by: the key, `tie` or blank).
    tie_breaks = models.JSONField(_("ties broken"), default=list, blank=True)

    scope_region = "scheme__region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["scheme", "-start", "cadence"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "cadence", "label"], name="period_unique"),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="period_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.name} {self.label}"

    @property
    def seal_reason(self) -> str:
        """The name of the ledger's seal on this period's days while it is final."""
        return f"period:{self.label}"


class Result(models.Model):
    """A subject's result for a period. Only the period close writes results."""

    # No foreign-key constraints in the database: PostgreSQL checks a deferred one row by row
    # at COMMIT, SQLite on every insert, and a close writes a million results at once (Django
    # still protects and cascades). No index of the period's own: result_unique and
    # result_rank_idx begin with it.
    period = models.ForeignKey(
        Period,
        verbose_name=_("period"),
        on_delete=models.CASCADE,
        related_name="results",
        db_index=False,
        db_constraint=False,
    )
    subject = models.ForeignKey(
        "people.Subject",
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        related_name="results",
        db_constraint=False,
    )
    variant = models.CharField(_("variant"), max_length=32, blank=True)
    # Scaled integers (× 10^decimals of the period's version); see Result.points().
    total = models.BigIntegerField(_("total"))
    raw_total = models.BigIntegerField(_("total before vetoes"))
    grade_code = models.CharField(_("grade"), max_length=64, blank=True)
    grade_forced = models.BooleanField(_("grade forced by a veto"), default=False)
    zeroed = models.BooleanField(_("zeroed by a veto"), default=False)
    barred = models.BooleanField(_("barred from red lists and honours"), default=False)
    rank_group = models.CharField(_("ranking group"), max_length=32, blank=True)
    rank = models.PositiveIntegerField(_("rank"))
    # The year-to-date total (累计) at this period, scaled as `total`; kept only for a scheme
    # whose lists rank by it (SchemeSpec.uses_ytd), NULL otherwise.
    ytd = models.BigIntegerField(_("year-to-date total"), null=True, blank=True)
    # Every node's value the close used, packed: see kaoping.periods.breakdown (`nodes()`).
    breakdown = models.TextField(_("breakdown"), default="{}")

    scope_region = "subject__region__code"
    scope_household = "subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["period", "rank_group", "rank", "subject_id"]
        constraints = [models.UniqueConstraint(fields=["period", "subject"], name="result_unique")]
        # A period's results in rank order, or one ranking group's (one village among a
        # million households): the posted list and a household's own place read them so.
        indexes = [models.Index(fields=["period", "rank_group", "rank"], name="result_rank_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.subject}"

    def nodes(self) -> dict[str, NodeValue]:
        """The value of each node this result's close used, by code (sparse: see breakdown)."""
        return node_values(self.breakdown)


class ListMembership(models.Model):
    """A subject on a list, flag, streak or award of a period. Only the period close writes it."""

    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="memberships"
    )
    subject = models.ForeignKey(
        "people.Subject",
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    list_code = models.CharField(_("list"), max_length=64)
    kind = models.CharField(
        _("kind"), max_length=12
    )  # red, black, progress, flag, mark, streak, award
    position = models.PositiveIntegerField(
        _("place"), default=0
    )  # rank on the list; 0 when carried over
    value = models.BigIntegerField(
        _("value"), default=0
    )  # scaled total, or the gain of a progress list
    carried = models.BooleanField(_("carried over"), default=False)
    # A carried row: the period of the listing it carries (延续自 2026-03). Each unresolved
    # earlier listing is carried on its own, beside a fresh listing of the subject now.
    carried_from = models.ForeignKey(
        Period,
        verbose_name=_("carried from"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    tier = models.CharField(_("award tier"), max_length=64, blank=True)
    # The tie-break key that put a subject tied across the cut-off on the list (`node:CODE`,
    # `previous_rank`, `lot`), `tie` when no key told the tie apart (all in); blank otherwise.
    tie_break = models.CharField(_("tie broken by"), max_length=80, blank=True, db_default="")
    # A black listing stays (and is carried into later periods) until its rectification is accepted.
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    scope_region = "subject__region__code"
    scope_household = "subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("list membership")
        verbose_name_plural = _("list memberships")
        ordering = ["period", "list_code", "position", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "list_code", "subject"],
                condition=models.Q(carried=False),
                name="membership_unique",
            ),
            models.UniqueConstraint(
                fields=["period", "list_code", "subject", "carried_from"],
                condition=models.Q(carried=True),
                name="membership_carried_unique",
            ),
        ]
        indexes = [models.Index(fields=["subject", "list_code"], name="membership_subject_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.list_code} {self.subject}"
