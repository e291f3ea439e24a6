"""Points accounts and the points store (积分超市).

Points and prices are Decimal with two places. Every change of a balance is a `Movement` row
with its reason, and every change of stock a `StockMove` row; the balance and stock columns are
the running sums of those rows, changed only by conditional `F()` updates, so a balance or a
stock can never go below zero (the check constraints say so too).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet

ZERO = Decimal("0.00")
POINTS = {"max_digits": 14, "decimal_places": 2}


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of `digits`: one mistyped digit or swapped pair is caught."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def card_number_for(pk: int) -> str:
    body = f"{pk:09d}"
    return body + luhn_digit(body)


def account_pk_from_card(number: str) -> int | None:
    """The account a typed or scanned card number names, or None if it is not a card number."""
    digits = "".join(ch for ch in number if not ch.isspace() and ch != "-")
    # Cards have 10 digits (more only past a billion accounts); a household number is longer.
    if not 10 <= len(digits) <= 12 or not digits.isdigit() or luhn_digit(digits[:-1]) != digits[-1]:
        return None
    return int(digits[:-1])


class Account(models.Model):
    """A subject's points account under one scheme: spendable balance, debt and honour total."""

    scheme = models.ForeignKey(
        "schemes.Scheme", verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        "people.Subject",
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    balance = models.DecimalField(_("spendable points"), default=ZERO, **POINTS)
    # Deductions that found the balance empty; later credits and refunds pay them off first.
    debt = models.DecimalField(_("points owed"), default=ZERO, **POINTS)
    # The honour total: every point earned less every point deducted. Spending never lowers it.
    earned = models.DecimalField(_("points earned"), default=ZERO, **POINTS)
    # The scheme's `account.base`, granted at opening and at each reset, that deductions may
    # take from (`deduct_from`); credits made while the account is excluded wait in `held`
    # and lapse at the reset. See kaoping/schemes/accounts.py for the order of events.
    base = models.DecimalField(_("base points"), default=ZERO, **POINTS)
    held = models.DecimalField(_("points held"), default=ZERO, **POINTS)
    excluded_until = models.DateField(_("redemption suspended until"), null=True, blank=True)
    reset_on = models.DateField(null=True, blank=True)  # the last reset day applied
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "subject__region__code"
    scope_household = "subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["subject_id", "scheme_id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "subject"], name="store_account_unique"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="store_account_balance_nonnegative"
            ),
            models.CheckConstraint(
                condition=models.Q(debt__gte=0), name="store_account_debt_nonnegative"
            ),
            models.CheckConstraint(
                condition=models.Q(base__gte=0, held__gte=0), name="store_account_base_held"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.card_number}"

    @property
    def card_number(self) -> str:
        return card_number_for(self.pk)

    @property
    def card_display(self) -> str:
        number = self.card_number
        return f"{number[:-7]} {number[-7:-4]} {number[-4:]}"


class MovementKind(models.TextChoices):
    CREDIT = "credit", _("points earned")
    DEDUCT = "deduct", _("points deducted")
    REDEEM = "redeem", _("redeemed")
    REFUND = "refund", _("redemption cancelled")
    CLEAR = "clear", _("yearly clearing")
    EXPIRE = "expire", _("expired")
    RESET = "reset", _("base granted")


class Movement(models.Model):
    """One change of an account with its reason: an entry, a redemption, or a policy."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=MovementKind.choices)
    amount = models.DecimalField(_("points"), **POINTS)  # change of the balance
    debt_change = models.DecimalField(default=ZERO, **POINTS)
    earned = models.DecimalField(default=ZERO, **POINTS)  # change of the honour total
    base_change = models.DecimalField(default=ZERO, **POINTS)
    held_change = models.DecimalField(default=ZERO, **POINTS)
    # A deduction that emptied the balance `exclude_when_empty` names: suspended until this day.
    excluded_until = models.DateField(null=True, blank=True)
    entry = models.ForeignKey(
        "ledger.Entry",
        verbose_name=_("entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="store_movements",
    )
    redemption = models.ForeignKey(
        "Redemption",
        verbose_name=_("redemption"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
    )
    # For entries: the scored period the entry counts in ("month:2026-03"), whose score the
    # credit follows (see services.accounts_credit).
    period_key = models.CharField(max_length=24, blank=True)
    # The day the points count from (credits) or the day of the change; expiry is first in,
    # first out by this day.
    effective_on = models.DateField(_("date"))
    note = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "account__subject__region__code"
    scope_household = "account__subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("account movement")
        verbose_name_plural = _("account movements")
        ordering = ["-effective_on", "-id"]
        indexes = [
            models.Index(fields=["account", "kind", "effective_on"], name="store_movement_idx"),
            models.Index(fields=["account", "period_key"], name="store_movement_period_idx"),
        ]
        constraints = [
            # An entry is credited once, however often its approval is announced.
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(entry__isnull=False), name="store_entry_once"
            ),
            # A redemption debits once and is refunded at most once.
            models.UniqueConstraint(
                fields=["redemption", "kind"],
                condition=models.Q(redemption__isnull=False),
                name="store_redemption_movement_once",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["credit", "deduct"], entry__isnull=False)
                    | models.Q(kind__in=["redeem", "refund"], redemption__isnull=False)
                    | models.Q(kind__in=["clear", "expire"], amount__lte=0)
                    | models.Q(kind="reset", amount=0, entry__isnull=True)
                ),
                name="store_movement_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def not_taken(self):
        """What a deduction could not take: the balances `deduct_from` names were used up."""
        if self.kind != MovementKind.DEDUCT:
            return ZERO
        return -self.earned + self.amount + self.base_change - self.debt_change


class Store(models.Model):
    """A points store (积分超市) serving the households and members of its region."""

    region = models.OneToOneField(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="store"
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    # Requested goods wait this many days after their window closes, then go back on the shelf.
    pickup_days = models.PositiveSmallIntegerField(_("days to collect"), default=7)
    active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("points store")
        verbose_name_plural = _("points stores")
        ordering = ["region__code"]

    def __str__(self) -> str:
        return self.name


class RedemptionWindow(models.Model):
    """Days on which a store redeems points, e.g. the first week of each quarter."""

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="windows"
    )
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))  # inclusive

    scope_region = "store__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption window")
        verbose_name_plural = _("redemption windows")
        ordering = ["store", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="store_window_dates"
            ),
            models.UniqueConstraint(
                fields=["store", "starts_on", "ends_on"], name="store_window_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.starts_on:%m-%d}–{self.ends_on:%m-%d}"


class Goods(models.Model):
    """Something a store hands out for points, with its price and what is on the shelf."""

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="goods"
    )
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=10, default="件")
    description = models.CharField(_("description"), max_length=300, blank=True)
    price = models.DecimalField(_("price in points"), max_digits=10, decimal_places=2)
    stock = models.IntegerField(_("in stock"), default=0)
    # Stored by content (see services.goods_photo_save); '' when there is no photo.
    photo = models.CharField(_("photo"), max_length=120, blank=True)
    # Most a household may take of this in one redemption window; None: no limit.
    limit_per_household = models.PositiveSmallIntegerField(
        _("limit per household and window"), null=True, blank=True
    )
    active = models.BooleanField(_("on offer"), default=True)
    position = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "store__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("goods")
        verbose_name_plural = _("goods")
        ordering = ["store", "position", "price", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stock__gte=0), name="store_goods_stock_nonnegative"
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="store_goods_price"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def photo_token(self) -> str:
        """Changes with the photo, so a URL carrying it may be cached for long."""
        return self.photo.rsplit("/", 1)[-1][:16]


class StockKind(models.TextChoices):
    PURCHASE = "purchase", _("purchase")
    DONATION = "donation", _("donation")
    REDEMPTION = "redemption", _("redeemed")
    RETURN = "return", _("back from a cancelled redemption")
    ADJUST = "adjust", _("stock count correction")


class StockMove(models.Model):
    """One change of a goods' stock: stock-in from a purchase or donation, or a redemption."""

    goods = models.ForeignKey(
        Goods, verbose_name=_("goods"), on_delete=models.PROTECT, related_name="moves"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=StockKind.choices)
    quantity = models.IntegerField(_("quantity"))  # signed: + in, − out
    donor = models.CharField(_("donor"), max_length=100, blank=True)
    # The donor agreed to be thanked by name on the store's public page.
    thank_publicly = models.BooleanField(_("thank by name"), default=False)
    unit_cost = models.DecimalField(
        _("unit cost (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    redemption = models.ForeignKey(
        "Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="stock_moves"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_on = models.DateField(_("date"))
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "goods__store__region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["purchase", "donation"], quantity__gt=0)
                    | models.Q(kind="redemption", quantity__lt=0, redemption__isnull=False)
                    | models.Q(kind="return", quantity__gt=0, redemption__isnull=False)
                    | models.Q(kind="adjust")
                ),
                name="store_stock_move_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="donation") | models.Q(donor=""),
                name="store_stock_move_donor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.goods} {self.quantity:+d}"


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    COMPLETED = "completed", _("handed over")
    CANCELLED = "cancelled", _("cancelled")


class Redemption(models.Model):
    """Goods exchanged for points: points and stock are taken when it is made, returned if cancelled."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="redemptions"
    )
    goods = models.ForeignKey(
        Goods, verbose_name=_("goods"), on_delete=models.PROTECT, related_name="redemptions"
    )
    window = models.ForeignKey(
        RedemptionWindow,
        verbose_name=_("window"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.DecimalField(_("points"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.REQUESTED,
    )
    requested_on = models.DateField(_("date"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # The entry that lowered the score by the points spent (`account.spend_item`); reversed
    # when the redemption is cancelled.
    spend_entry = models.OneToOneField(
        "ledger.Entry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "account__subject__region__code"
    scope_household = "account__subject__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-requested_on", "-id"]
        indexes = [
            models.Index(fields=["goods", "status"], name="store_redemption_goods_idx"),
            models.Index(fields=["account", "status"], name="store_redemption_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="store_redemption_qty"),
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="store_redemption_points"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goods} × {self.quantity}"
