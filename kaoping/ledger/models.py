from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.fields import RegionCodeField
from kaoping.schemes.models import METRIC_SCALE, QTY_SCALE
from kaoping.schemes.spec import ADJUST_CODE


class EntryStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    # Recorded without the evidence its item requires (an imported row): counted nowhere and
    # not reviewable until the evidence is attached, which makes it `submitted`.
    AWAITING = "awaiting", _("awaiting evidence")


class EntrySource(models.TextChoices):
    DECLARED = "declared", _("declared by the household")
    COLLECTED = "collected", _("collected by a grid member")
    DEPARTMENT = "department", _("entered by a department")
    COMPUTED = "computed", _("computed from a metric")
    IMPORTED = "imported", _("imported")
    CONSOLE = "console", _("entered in the console")
    CORRECTION = "correction", _("correction after an upheld objection")
    EVALUATION = "evaluation", _("result of an evaluation")
    # Carried from an entry of a linked subject in another scheme (`ledger.links`).
    LINKED = "linked", _("carried from a linked subject")


class Entry(models.Model):
    """One scored event in the append-only ledger. Corrections are reversing entries.

    `quantity` is stored × QTY_SCALE and `sign` is −1 on a reversal of a positive entry, so
    every aggregate in the close is integer arithmetic and a reversal cancels its original
    exactly. A negative ± adjustment (item ADJUST_CODE) is stored with sign −1 too, so a reversal
    is the entry with `reverses` set, whatever its sign (see ledger.adjustments).
    """

    scheme = models.ForeignKey(
        "schemes.Scheme",
        db_index=False,  # entry_close_idx starts with scheme
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    subject = models.ForeignKey(
        "people.Subject",
        verbose_name=_("subject"),
        db_index=False,  # entry_subject_item_idx starts with subject
        on_delete=models.PROTECT,
        related_name="entries",
    )
    item_code = models.CharField(_("item"), max_length=64)
    quantity_scaled = models.BigIntegerField(_("quantity"), default=QTY_SCALE)
    label = models.CharField(_("rating"), max_length=32, blank=True)  # rating items only
    # '' for the scheme's own cadence; a roll-up cadence (e.g. year) for entries of an assessment
    # held at that level, such as the year-end part of a composite, or its ± adjustments.
    cadence = models.CharField(_("assessed for"), max_length=12, blank=True)
    sign = models.SmallIntegerField(default=1)
    # Points as shown when recorded (under the scheme version then current); the close
    # recomputes from quantity so that a re-score under a new version is exact.
    points = models.DecimalField(_("points"), max_digits=14, decimal_places=4, default=Decimal(0))
    occurred_on = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.SUBMITTED
    )
    source = models.CharField(
        _("source"), max_length=12, choices=EntrySource.choices, default=EntrySource.CONSOLE
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        # A plain index, not only the partial unique one: PostgreSQL's foreign-key checks run as
        # generic plans that cannot use a partial index, so deleting entries would scan per row.
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # The entry of a linked subject this one was carried from (`ledger.links`; its idempotency
    # key, which is chained, names the source too).
    carried_from = models.ForeignKey(
        "self",
        verbose_name=_("carried from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carried",
    )
    # The hash chain of the village the subject belongs to: sequence number in that chain, and
    # sha256 over the previous link and every field that never changes (see ledger.chain).
    chain_region = RegionCodeField(_("chain"), default="")  # indexed by entry_chain_unique
    chain_seq = models.BigIntegerField(default=0)
    chain_hash = models.CharField(max_length=64, default="")
    # Review fields and `flags` (a reused photo is found after insert) are the only ones that
    # change after insert. The review fields as recorded are in the entry's hash; each later
    # change is an EntryDecision in the village's decision chain (see ledger.chain).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        db_index=False,  # never searched by; an index would only slow every insert
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Integrity signals shown to reviewers, set when the entry is recorded (see ledger.flags).
    flags = models.JSONField(_("flags"), default=list, blank=True)
    import_job = models.ForeignKey(
        "ImportJob",
        verbose_name=_("import"),
        db_index=False,  # an import's rows are found by their idempotency keys
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "subject__region__code"
    scope_household = "subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["scheme", "status", "occurred_on"], name="entry_close_idx"),
            models.Index(fields=["subject", "item_code"], name="entry_subject_item_idx"),
            # A region's entries of one status (a review queue, its count on the home page) are
            # found subject by subject, reading only those entries.
            models.Index(fields=["subject", "status"], name="entry_subject_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_region", "chain_seq"],
                condition=models.Q(chain_seq__gt=0),
                name="entry_chain_unique",
            ),
            # An entry is reversed at most once.
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(reverses__isnull=False),
                name="entry_reversed_once",
            ),
            models.CheckConstraint(condition=models.Q(sign__in=[1, -1]), name="entry_sign"),
            models.CheckConstraint(
                condition=models.Q(quantity_scaled__gte=0), name="entry_quantity_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} {self.subject} {self.occurred_on}"

    @property
    def quantity(self) -> Decimal:
        return Decimal(self.sign * self.quantity_scaled) / QTY_SCALE

    @property
    def is_adjustment(self) -> bool:
        """A ± adjustment of a roll-up period (or its reversal): its quantity is points."""
        return self.item_code == ADJUST_CODE


class MetricValue(models.Model):
    """A metric of a subject for one period of a scheme, written by its provider before the close.

    Keyed by the scheme and the period's label, not by the period row: the modules that push
    figures (grid visits, evaluations, departments) sit below `periods` and never need it.
    """

    scheme = models.ForeignKey("schemes.Scheme", on_delete=models.CASCADE, related_name="+")
    period_label = models.CharField(max_length=16)  # 2026-03, 2026-Q1, 2026-H1, 2026
    subject = models.ForeignKey("people.Subject", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=64)
    value_scaled = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period_label", "subject", "metric"],
                name="metric_value_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value}"

    @property
    def value(self) -> Decimal:
        return Decimal(self.value_scaled) / METRIC_SCALE


class SealedSpan(models.Model):
    """Days of one scheme's ledger that take no new entry and no correction: a finalised period.

    `periods` seals a span when it finalises a period and unseals it when the period is
    reopened, so the ledger can refuse entries there without knowing about periods.
    """

    scheme = models.ForeignKey("schemes.Scheme", on_delete=models.CASCADE, related_name="+")
    start = models.DateField()
    end = models.DateField()
    reason = models.CharField(max_length=64)  # e.g. "period:2026-03"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "reason"], name="sealed_span_unique")
        ]

    def __str__(self) -> str:
        return f"{self.start}–{self.end}"


class LedgerChain(models.Model):
    """The head of one village's hash chain; locked while an entry is appended."""

    region_code = RegionCodeField(unique=True)
    length = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    # The head of the village's chain of review decisions (EntryDecision), locked with it.
    decisions = models.BigIntegerField(default=0)
    decisions_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.region_code} #{self.length}"


class EntryDecision(models.Model):
    """One change of an entry's review fields (status, reviewer, reason) after it was recorded:
    approve, reject, evidence attached. Chained per village like the entries, and hashed with
    the entry's own hash, so `ledger verify` recomputes every entry's status from its record."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    before_status = models.CharField(max_length=10)
    before_reviewer_id = models.BigIntegerField(null=True)  # a user id, as in the hash
    before_reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10)
    reviewer_id = models.BigIntegerField(null=True)
    reason = models.CharField(max_length=500, blank=True)
    chain_region = RegionCodeField()
    chain_seq = models.BigIntegerField()
    chain_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain_region", "chain_seq"], name="entry_decision_chain_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.chain_region} #{self.chain_seq}: entry {self.entry_id} {self.action}"


def evidence_path(instance, filename: str) -> str:
    # Content-addressed, so the same photo is stored once however often it is uploaded.
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}{instance.extension}"


class StoredEvidence(models.Model):
    """A checked photo or file kept by its content (`ledger/evidence.py` prepares and stores
    it): what an entry's evidence and a visit's photo have in common."""

    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    original_name = models.CharField(_("file name"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class Evidence(StoredEvidence):
    """A photo or file behind an entry, stored through Django's storage API."""

    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="evidence"
    )
    # The same file was already evidence for another entry: shown to reviewers as a flag.
    reused = models.BooleanField(_("used before"), default=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("checked")
    COMMITTING = "committing", _("importing")
    COMMITTED = "committed", _("imported")
    FAILED = "failed", _("failed")


class ImportJob(models.Model):
    """One uploaded Excel file of entries: checked first, then imported all-or-nothing."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="imports/", max_length=200)
    filename = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    region_code = RegionCodeField(blank=True)

    scope_region = "region_code"
    # The uploader always sees its own job: a department's villages have no common region below
    # the county, so `region_code` (their common code prefix) is no region its scopes cover.
    scope_owner = "uploaded_by"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename
