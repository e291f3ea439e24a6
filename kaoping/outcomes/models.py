"""Consequences of results (结果运用): interviews, experience sharing, pledges, pairings, bonus
payouts, pay by post and 得分率, honours and key villages.

The close writes them from results and lists (see services.consequences_apply); people then act
on them (record minutes, tick pledge items off, log exchanges). A consequence a re-close no longer
triggers is deleted while nobody has acted on it, and kept with `triggered=False` once someone has.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet

FEN = 100  # fen per yuan: money is stored as whole fen


def yuan(fen: int | None) -> Decimal | None:
    """Whole fen as yuan with two places (None stays None)."""
    return None if fen is None else Decimal(fen).scaleb(-2)


class _Subjected(models.Model):
    """Scoped by the subject's region: a township sees its villages', a secretary their own."""

    period = models.ForeignKey(
        "periods.Period", verbose_name=_("period"), on_delete=models.CASCADE, related_name="+"
    )
    subject = models.ForeignKey(
        "people.Subject", verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )

    scope_region = "subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class InterviewStatus(models.TextChoices):
    PENDING = "pending", _("to arrange")
    SCHEDULED = "scheduled", _("scheduled")
    HELD = "held", _("held")


class Interview(_Subjected):
    """An interview (约谈) of a subject listed at the bottom, at the level its cadence and repeats set."""

    list_code = models.CharField(_("list"), max_length=64)
    level = models.CharField(_("level"), max_length=64)
    level_name = models.CharField(_("level"), max_length=200)
    level_index = models.PositiveSmallIntegerField(default=0)  # rung on the ladder, 0 mildest
    escalated = models.BooleanField(_("escalated"), default=False)
    # Listings within the widest escalation window, this one included (1: first time).
    repeat_count = models.PositiveSmallIntegerField(_("times listed"), default=1)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InterviewStatus.choices,
        default=InterviewStatus.PENDING,
    )
    scheduled_on = models.DateField(_("scheduled for"), null=True, blank=True)
    held_on = models.DateField(_("held on"), null=True, blank=True)
    interviewer = models.CharField(_("held by"), max_length=200, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    triggered = models.BooleanField(_("still triggered"), default=True)

    class Meta:
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        ordering = ["period", "-level_index", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "subject"], name="interview_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="held")
                | (models.Q(held_on__isnull=False) & ~models.Q(minutes="")),
                name="interview_held_has_minutes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.subject} {self.level_name}"


class ShareStatus(models.TextChoices):
    PENDING = "pending", _("to arrange")
    HELD = "held", _("held")


class ExperienceShare(_Subjected):
    """A subject at the top asked to share its experience (经验分享) with the others."""

    list_code = models.CharField(_("list"), max_length=64)
    position = models.PositiveIntegerField(_("place"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ShareStatus.choices, default=ShareStatus.PENDING
    )
    held_on = models.DateField(_("held on"), null=True, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    triggered = models.BooleanField(_("still triggered"), default=True)

    class Meta:
        verbose_name = _("experience sharing")
        verbose_name_plural = _("experience sharing")
        ordering = ["period", "position", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "subject"], name="share_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.subject}"


class PledgeStatus(models.TextChoices):
    OPEN = "open", _("rectifying")
    ACCEPTED = "accepted", _("accepted")


class Pledge(_Subjected):
    """A listed subject's pledge list (干事清单); accepting it resolves the listing."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    list_code = models.CharField(_("list"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=PledgeStatus.choices, default=PledgeStatus.OPEN
    )
    deadline = models.DateField(_("deadline"))  # default deadline of its items
    items_min = models.PositiveSmallIntegerField(_("items needed"), default=1)
    triggered = models.BooleanField(_("still triggered"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("pledge list")
        verbose_name_plural = _("pledge lists")
        ordering = ["-period__start", "subject_id"]
        # One pledge per listing (the period it was made in): a subject listed again while an
        # earlier pledge is open gets a second one, and each accepted pledge ends its own
        # listing's carry-over only (docs/schemes.md §11 “每次上榜各自延续”).
        constraints = [
            models.UniqueConstraint(
                fields=["period", "subject", "list_code"], name="pledge_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.subject}"


class ItemStatus(models.TextChoices):
    OPEN = "open", _("not done")
    DONE = "done", _("done")


class PledgeItem(models.Model):
    """One item of a pledge list: what, who answers for it, by when."""

    pledge = models.ForeignKey(
        Pledge, verbose_name=_("pledge list"), on_delete=models.CASCADE, related_name="items"
    )
    text = models.CharField(_("item"), max_length=500)
    owner = models.CharField(_("owner"), max_length=100)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    scope_region = "pledge__subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge item")
        verbose_name_plural = _("pledge items")
        ordering = ["pledge", "deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="pledge_item_due_idx")]

    def __str__(self) -> str:
        return self.text


class Pairing(models.Model):
    """A strong subject paired with a weak one (结对共建) from one round until the next."""

    period = models.ForeignKey(
        "periods.Period", verbose_name=_("period"), on_delete=models.CASCADE, related_name="+"
    )
    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    strong = models.ForeignKey(
        "people.Subject", verbose_name=_("strong"), on_delete=models.PROTECT, related_name="+"
    )
    weak = models.ForeignKey(
        "people.Subject", verbose_name=_("weak"), on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateField(_("starts on"))  # the day after the round's period
    end = models.DateField(_("ends on"), null=True, blank=True)  # None: until the next round
    min_per_month = models.PositiveSmallIntegerField(_("exchanges a month"), default=2)
    offline_only = models.BooleanField(_("only offline exchanges count"), default=True)
    triggered = models.BooleanField(_("still triggered"), default=True)

    # Scoped by the weak subject: the township of the village being helped looks after it.
    scope_region = "weak__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["-start", "weak_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "strong", "weak"], name="pairing_unique"),
            models.CheckConstraint(
                condition=~models.Q(strong=models.F("weak")), name="pairing_two_subjects"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strong} → {self.weak}"


class ExchangeKind(models.TextChoices):
    OFFLINE = "offline", _("offline (on site)")
    ONLINE = "online", _("online")


class Exchange(models.Model):
    """One exchange between paired subjects (交流), counted towards the monthly minimum."""

    pairing = models.ForeignKey(
        Pairing, verbose_name=_("pairing"), on_delete=models.CASCADE, related_name="exchanges"
    )
    on = models.DateField(_("date"))
    kind = models.CharField(
        _("kind"), max_length=8, choices=ExchangeKind.choices, default=ExchangeKind.OFFLINE
    )
    note = models.CharField(_("what was done"), max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "pairing__weak__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")
        ordering = ["pairing", "-on", "-id"]

    def __str__(self) -> str:
        return f"{self.pairing} {self.on}"


class RemainderRule(models.TextChoices):
    LARGEST_REMAINDER = "largest_remainder", _("one fen each to the largest rounding losses")
    FIRST = "first", _("all to the best result")
    KEEP = "keep", _("kept in the pool")


class BonusPool(models.Model):
    """A period's bonus pool (奖金池) as split at the close: the amount, the rule, the leftover fen.

    Σ payouts + kept_fen == amount_fen, always; kept_fen is 0 unless the remainder rule is keep
    (or nobody qualified).
    """

    period = models.OneToOneField(
        "periods.Period",
        verbose_name=_("period"),
        on_delete=models.CASCADE,
        related_name="bonus_pool",
    )
    amount_fen = models.BigIntegerField(_("pool"))
    split = models.CharField(_("split"), max_length=10)  # by_grade / by_rank
    remainder_rule = models.CharField(
        _("remainder rule"), max_length=20, choices=RemainderRule.choices
    )
    total_weight = models.BigIntegerField(_("total weight"), default=0)  # × 10^4
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    remainder_fen = models.BigIntegerField(_("fen left after rounding down"), default=0)
    kept_fen = models.BigIntegerField(_("kept in the pool"), default=0)
    remainder_to = models.ForeignKey(
        "people.Subject",
        verbose_name=_("leftover paid to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )  # the rule first only; largest_remainder marks each payout that got a fen

    scope_region = "period__scheme__region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bonus pool")
        verbose_name_plural = _("bonus pools")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="pool_positive"),
            models.CheckConstraint(condition=models.Q(kept_fen__gte=0), name="pool_kept"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)

    @property
    def kept(self) -> Decimal:
        return yuan(self.kept_fen)

    @property
    def remainder(self) -> Decimal:
        return yuan(self.remainder_fen)


class BonusPayout(_Subjected):
    """One subject's share of a bonus pool, in whole fen (exact; floats never touch money)."""

    pool = models.ForeignKey(
        BonusPool, verbose_name=_("bonus pool"), on_delete=models.CASCADE, related_name="payouts"
    )
    basis = models.CharField(_("basis"), max_length=64)  # grade code, or ranks "1-3"
    weight = models.BigIntegerField(_("weight"))  # × 10^4
    total = models.BigIntegerField(_("total"))  # the result's scaled total, for ordering
    rank = models.PositiveIntegerField(_("rank"))
    # amount × weight mod Σ weights: what rounding down took, which largest_remainder orders by.
    rounding_loss = models.BigIntegerField(default=0)
    amount_fen = models.BigIntegerField(_("amount"))
    remainder_fen = models.BigIntegerField(_("of which leftover fen"), default=0)

    class Meta:
        verbose_name = _("bonus payout")
        verbose_name_plural = _("bonus payouts")
        ordering = ["pool", "-amount_fen", "rank", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "subject"], name="payout_unique"),
            models.CheckConstraint(condition=models.Q(amount_fen__gte=0), name="payout_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.amount}"

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)

    @property
    def weight_value(self) -> Decimal:
        return Decimal(self.weight).scaleb(-4).normalize()


class PayoutSheet(models.Model):
    """A period's payout sheet (绩效报酬发放表) as the close wrote it: the rule it paid by.

    `denominator` is scaled like the period's totals (× 10^decimals); `cap_bp` is the highest
    rate paid, in 0.01 % (10 000 = 100 %); `by_post` is post → base in fen.
    """

    period = models.OneToOneField(
        "periods.Period",
        verbose_name=_("period"),
        on_delete=models.CASCADE,
        related_name="payout_sheet",
    )
    denominator = models.BigIntegerField(_("denominator"))
    cap_bp = models.PositiveIntegerField(_("rate cap"))
    capped = models.BooleanField(_("rate capped by the scheme"), default=False)
    by_post = models.JSONField(_("base by post"), default=dict)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    total_fen = models.BigIntegerField(_("paid in total"), default=0)

    scope_region = "period__scheme__region__code"
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout sheet")
        verbose_name_plural = _("payout sheets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(denominator__gt=0), name="payout_sheet_denominator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.total}"

    @property
    def total(self) -> Decimal:
        return yuan(self.total_fen)

    @property
    def cap_rate(self) -> Decimal:
        return Decimal(self.cap_bp).scaleb(-2)  # as a percentage


class PayoutLine(_Subjected):
    """One cadre's pay for one subject's result: base(post) × 得分率, in whole fen.

    A cadre subject has one line (its person); a village or team subject one line per cadre in
    post in the village. `rate_bp` is the rate in 0.01 % after the floor at 0 and the cap; a
    barred result (一票否决 bar) keeps its rate on the sheet and is paid 0.
    """

    sheet = models.ForeignKey(
        PayoutSheet, verbose_name=_("payout sheet"), on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.CharField(_("post"), max_length=20)  # people.CadrePost code that set the base
    base_fen = models.BigIntegerField(_("base"))
    total = models.BigIntegerField(_("total"))  # the result's scaled total
    rate_bp = models.PositiveIntegerField(_("score rate"))
    barred = models.BooleanField(_("barred"), default=False)
    amount_fen = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["sheet", "subject_id", "person_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "subject", "person"], name="payout_line_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0), name="payout_line_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.amount}"

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)

    @property
    def base(self) -> Decimal:
        return yuan(self.base_fen)

    @property
    def rate_percent(self) -> Decimal:
        return Decimal(self.rate_bp).scaleb(-2)


class HonourSource(models.TextChoices):
    GRADE = "grade", _("grade")
    AWARD = "award", _("award")


class Honour(_Subjected):
    """An honour (荣誉) a result earned: an honour grade, or a tier of an award."""

    source = models.CharField(_("source"), max_length=8, choices=HonourSource.choices)
    code = models.CharField(_("code"), max_length=130)  # grade code, or award:tier
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["period", "code", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "subject", "source", "code"], name="honour_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.title}"


class KeyVillage(models.Model):
    """A key village (重点村): designated by a scheme rule or by hand, helped until it leaves."""

    subject = models.ForeignKey(
        "people.Subject", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    scheme = models.ForeignKey(
        "schemes.Scheme",
        verbose_name=_("scheme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )  # whose exit rule applies; None for one designated by hand without a scheme
    period = models.ForeignKey(
        "periods.Period",
        verbose_name=_("designated by the results of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    by_rule = models.BooleanField(_("designated by the scheme"), default=False)
    list_code = models.CharField(_("list"), max_length=64, blank=True)
    designated_on = models.DateField(_("designated on"))
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("designated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    support_team = models.TextField(_("support team"), blank=True)  # one member per line
    exit_criteria = models.TextField(_("exit criteria"), blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_by_rule = models.BooleanField(_("left by the exit rule"), default=False)
    left_period = models.ForeignKey(
        "periods.Period",
        verbose_name=_("left with the results of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    left_reason = models.TextField(_("how it left"), blank=True)
    triggered = models.BooleanField(_("still triggered"), default=True)

    scope_region = "subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key village")
        verbose_name_plural = _("key villages")
        ordering = ["left_on", "-designated_on", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=models.Q(left_on__isnull=True),
                name="key_village_one_active",
            ),
        ]

    def __str__(self) -> str:
        return str(self.subject)

    @property
    def active(self) -> bool:
        return self.left_on is None

    @property
    def team(self) -> list[str]:
        return [line.strip() for line in self.support_team.splitlines() if line.strip()]


class EventKind(models.TextChoices):
    DESIGNATED = "designated", _("designated")
    LISTED_AGAIN = "listed_again", _("on the list again")
    UNTRIGGERED = "untriggered", _("no longer on the list after a correction")
    SUPPORT = "support", _("support team changed")
    CRITERIA = "criteria", _("exit criteria changed")
    NOTE = "note", _("note")
    EXIT_MET = "exit_met", _("exit criteria met")
    LEFT = "left", _("left the key villages")
    EXIT_WITHDRAWN = "exit_withdrawn", _("exit withdrawn after a correction")


class KeyVillageEvent(models.Model):
    """One line of a key village's history."""

    key_village = models.ForeignKey(
        KeyVillage, verbose_name=_("key village"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("what"), max_length=16, choices=EventKind.choices)
    on = models.DateField(_("date"))
    period = models.ForeignKey(
        "periods.Period",
        verbose_name=_("period"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_region = "key_village__subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key village event")
        verbose_name_plural = _("key village events")
        ordering = ["key_village", "on", "id"]
        constraints = [
            # Events the close writes are written once per period, however often it runs.
            models.UniqueConstraint(
                fields=["key_village", "period", "kind"],
                condition=models.Q(period__isnull=False),
                name="key_village_event_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_village} {self.kind} {self.on}"


class Decision(_Subjected):
    """A decision a grade set off for a subject (预备党员 不合格 → 取消资格, 延长预备期 or 按期转正),
    pending until someone with the authority records the option chosen; `DecisionRecord` keeps
    every recording, the latest of which the row repeats."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField(_("rule"), max_length=64)
    rule_name = models.CharField(_("decision"), max_length=200)
    grade_code = models.CharField(_("grade"), max_length=64)
    grade_name = models.CharField(_("grade"), max_length=200, blank=True)
    # The options the scheme listed when the close opened it: [{"code": …, "name": …}, …].
    options = models.JSONField(_("options"), default=list)
    option = models.CharField(_("option chosen"), max_length=64, blank=True)
    option_name = models.CharField(_("option chosen"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    triggered = models.BooleanField(_("still triggered"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-period__start", "rule", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "subject", "rule"], name="decision_unique"),
            models.CheckConstraint(
                condition=models.Q(option="")
                | (~models.Q(reason="") & models.Q(decided_at__isnull=False)),
                name="decision_recorded_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.subject} {self.rule_name}"

    @property
    def pending(self) -> bool:
        return not self.option


class DecisionRecord(models.Model):
    """One recording of a decision: the option chosen, by whom, when and why. A change is a
    new record; none is edited or deleted while its decision lives."""

    decision = models.ForeignKey(
        Decision, verbose_name=_("decision"), on_delete=models.CASCADE, related_name="records"
    )
    option = models.CharField(_("option chosen"), max_length=64)
    option_name = models.CharField(_("option chosen"), max_length=200)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))

    scope_region = "decision__subject__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision record")
        verbose_name_plural = _("decision records")
        ordering = ["decision", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="decision_record_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.option_name}"
