"""Stored scheme versions, and their trees materialised as rows for the set-based close.

Numbers in the materialised rows are scaled integers — points × 10^decimals of the version,
quantities × QTY_SCALE, rating factors × FACTOR_SCALE, metric values × METRIC_SCALE — so that
SQLite (which has no decimal arithmetic) and PostgreSQL compute bit-identical results.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet

_PARSED: dict = {}  # (version id, sha256) → SchemeSpec

QTY_SCALE = 1000
FACTOR_SCALE = 10000
METRIC_SCALE = 10000


class Scheme(models.Model):
    """A named set of rules (考评方案) for one kind of subject, with its versions."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    subject_kind = models.CharField(_("subject kind"), max_length=20)
    cadence = models.CharField(_("cadence"), max_length=12)
    # The region whose subjects the scheme scores (a county); every subject of the kind below it.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )

    scope_region = "region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheme")
        verbose_name_plural = _("schemes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self):
        return self.versions.order_by("-number").first()


class SchemeVersion(models.Model):
    """One loaded version of a scheme file; periods stay bound to the version they used."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    filename = models.CharField(_("file"), max_length=255)
    source = models.TextField(_("source"))
    sha256 = models.CharField(max_length=64)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=2)
    summary = models.JSONField(_("summary"), default=dict)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_region = "scheme__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scheme version")
        verbose_name_plural = _("scheme versions")
        ordering = ["scheme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="scheme_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} v{self.number}"

    @property
    def scale(self) -> int:
        return 10**self.decimals

    def to_points(self, scaled: int | None) -> Decimal | None:
        """A scaled integer of this version as Decimal points (None stays None)."""
        if scaled is None:
            return None
        return Decimal(scaled).scaleb(-self.decimals)

    @staticmethod
    def to_metric(scaled: int | None) -> Decimal | None:
        """A metric number stored × METRIC_SCALE (a linear item's target and unit) as Decimal."""
        return None if scaled is None else Decimal(scaled) / METRIC_SCALE

    def spec(self):
        """The parsed scheme. A version never changes, so it is parsed once per process; the
        content hash is part of the key because ids can be reused after a rolled-back insert."""
        key = (self.pk, self.sha256)
        if key not in _PARSED:
            from .loader import load_scheme_text

            _PARSED[key] = load_scheme_text(self.source, filename=self.filename)
        return _PARSED[key]


class SchemeNode(models.Model):
    """One node of a version's tree for one variant ('' is the default tree)."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="nodes")
    variant = models.CharField(max_length=32, blank=True)
    code = models.CharField(max_length=64)
    # NULL for the root: the close joins on it and tests `IS NULL`.
    parent_code = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    depth = models.PositiveSmallIntegerField()
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_item = models.BooleanField()
    section = models.CharField(max_length=12)
    rule = models.CharField(max_length=12, blank=True)
    aggregate = models.CharField(max_length=8, blank=True)
    # Scaled points (× 10^decimals). `lo`/`hi` are the effective clamp of the node's value: for
    # an item the tighter of ±cap and floor/max, for a group its floor and max.
    base = models.BigIntegerField(default=0)
    max = models.BigIntegerField(null=True)
    floor = models.BigIntegerField(null=True)
    cap = models.BigIntegerField(null=True)
    lo = models.BigIntegerField(null=True)
    hi = models.BigIntegerField(null=True)
    points = models.BigIntegerField(null=True)
    # What the node is worth when nothing is recorded below it: clamp(base + children's).
    empty_value = models.BigIntegerField(default=0)
    children_empty = models.BigIntegerField(default=0)
    weight = models.BigIntegerField(null=True)
    unit = models.CharField(max_length=32, blank=True)
    metric = models.CharField(max_length=64, blank=True)
    veto_effect = models.CharField(max_length=8, blank=True)
    veto_grade = models.CharField(max_length=64, blank=True)
    # A linear metric item (`linear`, NULL otherwise): points base + step × (value − target) ÷
    # unit held to [linear_floor, linear_max], points × 10^decimals, target and unit ×
    # METRIC_SCALE. The deviation value − target is first held to [reach_lo, reach_hi]
    # (× METRIC_SCALE; NULL: not held), beyond which floor or max decide anyway, so that the
    # close's products stay inside 64 bits (scoring.linear_reach).
    linear_base = models.BigIntegerField(null=True)
    linear_step = models.BigIntegerField(null=True)
    linear_target = models.BigIntegerField(null=True)
    linear_unit = models.BigIntegerField(null=True)
    linear_floor = models.BigIntegerField(null=True)
    linear_max = models.BigIntegerField(null=True)
    linear_reach_lo = models.BigIntegerField(null=True)
    linear_reach_hi = models.BigIntegerField(null=True)
    declarable = models.BooleanField(default=False)
    evidence_required = models.BooleanField(default=False)
    owner = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["version", "variant", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "variant", "code"], name="scheme_node_unique"
            )
        ]
        indexes = [
            models.Index(fields=["version", "variant", "depth"], name="scheme_node_depth_idx")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SchemeLevel(models.Model):
    """A rating level of a rating item (优秀 → 1.0), factor × FACTOR_SCALE."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="levels")
    variant = models.CharField(max_length=32, blank=True)
    item_code = models.CharField(max_length=64)
    label = models.CharField(max_length=32)
    factor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "variant", "item_code", "label"], name="scheme_level_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_code} {self.label}"


class SchemeBand(models.Model):
    """A band of a metric item: metric values (× METRIC_SCALE) inside it earn `points`."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="bands")
    variant = models.CharField(max_length=32, blank=True)
    item_code = models.CharField(max_length=64)
    lo = models.BigIntegerField(null=True)
    lo_inclusive = models.BooleanField(default=True)
    hi = models.BigIntegerField(null=True)
    hi_inclusive = models.BooleanField(default=False)
    points = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.item_code} {self.lo}–{self.hi}"


class SchemeGrade(models.Model):
    """A grade of a version: totals inside [lo, hi] (each bound inclusive or not) get it."""

    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="grades")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    lo = models.BigIntegerField(null=True)
    lo_inclusive = models.BooleanField(default=True)
    hi = models.BigIntegerField(null=True)
    hi_inclusive = models.BooleanField(default=False)
    honour = models.BooleanField(default=False)
    # Cadences the grade is given on, comma-separated; '' means all.
    cadences = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="scheme_grade_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def variant_labels(self) -> list[str]:
        """The variants (classes) the grade is limited to, [] when it is given to every subject."""
        return sorted({row.variant.split("@", 1)[0] for row in self.variants.all()})


class SchemeGradeVariant(models.Model):
    """A tree (variant key) whose subjects may get a grade limited to some variants (classes);
    a grade without rows is given to every subject."""

    grade = models.ForeignKey(SchemeGrade, on_delete=models.CASCADE, related_name="variants")
    variant = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grade", "variant"], name="scheme_grade_variant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.variant}"
