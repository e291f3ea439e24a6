from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.ledger.models import StoredEvidence


class VisitKind(models.TextChoices):
    IN_PERSON = "in_person", _("home visit")
    PHONE = "phone", _("phone call")


class Visit(models.Model):
    """A grid worker's visit (or phone call) to a household: whom they met, what they noted."""

    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    # The household's grid at the time of the visit: coverage counts visits by the grid they were
    # made in, even after the household moves.
    grid = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visitor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    visitor_person = models.ForeignKey(
        "people.Person",
        verbose_name=_("visitor (resident)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A GridPostKind value (member, leader, chief) or a 三长 post slug; blank when the visitor
    # holds no post (a secretary visiting on the village's behalf).
    visitor_post = models.CharField(_("visitor's post"), max_length=10, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=VisitKind.choices, default=VisitKind.IN_PERSON
    )
    visited_on = models.DateField(_("visited on"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    met = models.ManyToManyField(
        "people.Person", verbose_name=_("members met"), blank=True, related_name="+"
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # A resubmitted form (or a retried API call) carries the same key and records nothing more.
    idempotency_key = models.CharField(max_length=64)

    scope_region = "grid__code"
    # A 三长's scope is their households, not the village their post is anchored at.
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "idempotency_key"], name="visit_idempotency_unique"
            )
        ]
        indexes = [
            models.Index(fields=["grid", "visited_on"], name="visit_grid_day_idx"),
            models.Index(fields=["household", "visited_on"], name="visit_household_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_on}"


class VisitEvidence(StoredEvidence):
    """A photo taken on a visit, cleaned and stored by content like an entry's evidence (the
    same storage path, so a photo used for a visit and an entry is stored once)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="evidence"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope_region = "visit__grid__code"
    scope_household = "visit__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        constraints = [
            models.UniqueConstraint(fields=["visit", "sha256"], name="visit_evidence_unique")
        ]


class CoverageCycle(models.TextChoices):
    MONTH = "month", _("every month")
    TWO_MONTHS = "two_months", _("every two months")
    QUARTER = "quarter", _("every quarter")


class CoverageRule(models.Model):
    """How often a county wants every household visited, and when a household counts overdue."""

    county = models.OneToOneField(
        "regions.Region", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    cycle = models.CharField(
        _("visit cycle"),
        max_length=12,
        choices=CoverageCycle.choices,
        default=CoverageCycle.MONTH,
    )
    overdue_days = models.PositiveSmallIntegerField(_("overdue after (days)"), default=31)

    scope_region = "county__code"
    # Everyone in the county reads the county's rule; changing it takes a county scope.
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("coverage rule")
        verbose_name_plural = _("coverage rules")

    def __str__(self) -> str:
        return f"{self.county} {self.get_cycle_display()}"


class BookRequest(models.Model):
    """One request that edited a household's book outside a visit, by its idempotency key: a
    mini-program that retries after a lost answer gets the first request's changes back instead
    of a second newborn or a second move (a visit carries its own key on `Visit`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    household = models.ForeignKey("people.Household", on_delete=models.PROTECT, related_name="+")
    change_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "household__region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("book edit request")
        verbose_name_plural = _("book edit requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="grid_book_request_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.idempotency_key}"
