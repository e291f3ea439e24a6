"""Writes of the points store: credits from the ledger, redemptions, stock, policies.

Concurrency rules, everywhere in this module:

* An account is changed only inside a transaction that first locks its row
  (`select_for_update`), and its columns move by adding to them (`F()` updates guarded by
  `balance__gte` for spending; `col = col + %s` for a batch of credits), never by writing a value
  read earlier, so two redemptions of one household can neither overdraw nor both pass a limit.
* Stock moves with `stock__gte` conditional updates: the last item goes to exactly one of any
  number of simultaneous redemptions.
* Locks are always taken in the order account → goods (→ redemption), so two services never
  wait on each other in a circle.

Credits follow the score. What an approved entry adds to the household's score for its period
(after the item's cap, the group limits and the base, as the scheme computes the score) is what
it adds to the account; the base score itself is never spendable. A deduction takes what it can
from the balance and records the rest as debt, which later credits and refunds pay off first,
so reversing a deduction gives back exactly what it took.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure, may, system_actor
from kaoping.core.audit import audit_record
from kaoping.core.bulk import rows_insert
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.periods.models import Period
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.models import QTY_SCALE, Scheme, SchemeVersion
from kaoping.schemes.scoring import SubjectTally, TallyTree, round_half_away
from kaoping.schemes.spec import AccountPolicy, SchemeSpec

from .models import (
    ZERO,
    Account,
    Goods,
    Movement,
    MovementKind,
    Redemption,
    RedemptionStatus,
    RedemptionWindow,
    StockKind,
    StockMove,
    Store,
)
from .order import (
    Change,
    State,
    apply_delta,
    keeps_resets,
    not_credited,
    refuse_if_suspended,
    resets_apply,
    spend_entry_reverse,
    spend_entry_write,
)

# The redemption state machine, declared once: action → (from, to).
REDEMPTION_TRANSITIONS = {
    "complete": ((RedemptionStatus.REQUESTED,), RedemptionStatus.COMPLETED),
    "cancel": (
        (RedemptionStatus.REQUESTED, RedemptionStatus.COMPLETED),
        RedemptionStatus.CANCELLED,
    ),
}


def _points(value) -> Decimal:
    """`value` to the fen (0.01), as accounts keep points."""
    return round_half_away(Decimal(value), 2)


def _actor(user):
    return user if user is not None and user.is_authenticated else None


# --- policy --------------------------------------------------------------------------------


def version_spec(version: SchemeVersion) -> SchemeSpec:
    return version.spec()  # parsed once per process (SchemeVersion keeps the cache)


def account_policy(scheme: Scheme) -> AccountPolicy | None:
    """The scheme's `account:` rules (its latest version's), or None when it keeps no accounts."""
    version = scheme.latest_version()
    return version_spec(version).account if version is not None else None


def account_schemes() -> dict[int, tuple[Scheme, AccountPolicy]]:
    """Schemes that keep accounts, by id."""
    found = {}
    for scheme in Scheme.objects.all():
        policy = account_policy(scheme)
        if policy is not None:
            found[scheme.pk] = (scheme, policy)
    return found


# --- credits from the ledger ---------------------------------------------------------------


class Credited(NamedTuple):
    """What crediting reads of an entry, as a plain row: a reconcile reads hundreds of thousands
    of entries, and model instances would cost more than the scoring."""

    pk: int
    subject_id: int
    item_code: str
    quantity_scaled: int
    label: str
    cadence: str
    sign: int
    occurred_on: date
    approved_at: datetime | None  # when it was reviewed, or recorded approved


def _entry_rows(queryset, *leading: str, via: str = "") -> list[list]:
    """`leading` columns and then a `Credited` row's, unordered; `via` is the way from the
    queryset's model to the entry ("entry__").

    As `values_list` reads them, except that each distinct value is converted once: Django
    converts every value of every row, and SQLite gives dates and times as text, so parsing
    the days and approval times of a large reconcile took longer than reading its rows.
    It follows Django's own `SQLCompiler.results_iter` (select, col_count, get_converters):
    check it against that method when Django is upgraded.
    """
    fields = [f"{via}{name}" for name in Credited._fields[:-1]]
    approved = Coalesce(f"{via}reviewed_at", f"{via}created_at")
    query = queryset.order_by().values_list(*leading, *fields, approved).query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    columns = [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
    converters = compiler.get_converters(columns).items()
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [list(row) for row in cursor.fetchall()]
    for position, (functions, expression) in converters:
        converted: dict = {}
        for row in rows:
            raw = row[position]
            if raw not in converted:
                value = raw
                for function in functions:
                    value = function(value, expression, compiler.connection)
                converted[raw] = value
            row[position] = converted[raw]
    return rows


def _tally_add(tally: SubjectTally, entry: Credited | Entry) -> None:
    """One entry into a running score (`scoring.SubjectTally`: `evaluate`, entry by entry)."""
    tally.add(
        entry.item_code,
        sign=entry.sign,
        quantity=Decimal(entry.quantity_scaled) / QTY_SCALE,
        label=entry.label,
    )


class _Days:
    """An entry's period key and the day its points count from, each worked out once per
    distinct value: a chunk's thousands of entries fall on a few hundred days."""

    def __init__(self, cadence: str) -> None:
        self.cadence = cadence
        self.zone = timezone.get_current_timezone()
        self.keys: dict[tuple[str, date], str] = {}
        self.local: dict[datetime, date] = {}

    def period_key(self, entry: Credited) -> str:
        cadence = entry.cadence or self.cadence
        key = self.keys.get((cadence, entry.occurred_on))
        if key is None:
            key = f"{cadence}:{label_for(cadence, entry.occurred_on)}"
            self.keys[(cadence, entry.occurred_on)] = key
        return key

    def effective_on(self, entry: Credited) -> date:
        """When the entry was approved (or recorded approved), in local time."""
        moment = entry.approved_at or timezone.now()
        day = self.local.get(moment)
        if day is None:
            day = self.local[moment] = timezone.localdate(moment, self.zone)
        return day


class _Values:
    """Database values of days and the time, each prepared once (points are Decimals already
    rounded to the fen by `_points`, which both engines take as they are)."""

    def __init__(self) -> None:
        self.ops = connection.ops
        self.now = self.ops.adapt_datetimefield_value(timezone.now())
        self.days: dict[date, object] = {}

    def day(self, value: date):
        if value not in self.days:
            self.days[value] = self.ops.adapt_datefield_value(value)
        return self.days[value]


def _ensure_accounts(scheme: Scheme, subject_ids) -> None:
    """Open the accounts of `subject_ids` that have none under `scheme`."""
    subject_ids = set(subject_ids)
    subject_ids -= set(
        Account.objects.filter(scheme=scheme, subject_id__in=subject_ids)
        .order_by()
        .values_list("subject_id", flat=True)
    )
    now = _Values().now
    rows_insert(
        Account,
        ("scheme", "subject", "balance", "debt", "earned", "base", "held", "created_at"),
        [(scheme.pk, pk, ZERO, ZERO, ZERO, ZERO, ZERO, now) for pk in sorted(subject_ids)],
        ignore=True,  # opened meanwhile by another receiver
    )


def _write_credits(movements: list[tuple], totals: dict[int, Change]) -> None:
    """Insert credit movements in bulk and move the accounts by their totals (one `executemany`).
    Balances move by adding to the column under the account lock, as everywhere in this module,
    never by writing a value read earlier."""
    values = _Values()
    rows_insert(
        Movement,
        ("account", "kind", "amount", "debt_change", "earned", "base_change", "held_change")
        + ("excluded_until", "entry", "period_key", "effective_on", "redemption", "note")
        + ("created_at",),
        [
            (account, kind, c.amount, c.debt, c.earned, c.base, c.held)
            + (c.excluded_until and values.day(c.excluded_until), entry, key, values.day(day))
            + (None, "", values.now)
            for account, kind, c, entry, key, day in movements
        ],
    )
    moved = [
        (c.amount, c.debt, c.earned, c.base, c.held, pk)
        for pk, c in totals.items()
        if c.amount or c.debt or c.earned or c.base or c.held
    ]
    if moved:
        quote = connection.ops.quote_name
        columns = ("balance", "debt", "earned", "base", "held")
        sets = ", ".join(f"{quote(c)} = {quote(c)} + %s" for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {quote(Account._meta.db_table)} SET {sets} "
                f"WHERE {quote(Account._meta.pk.column)} = %s",
                moved,
            )
    for pk, c in totals.items():
        if c.excluded_until is not None:  # suspended by one of these deductions
            Account.objects.filter(pk=pk, excluded_until=None).update(
                excluded_until=c.excluded_until
            )


def _credit_scheme(scheme: Scheme, policy: AccountPolicy, subject_ids, entries) -> int:
    """Credit the approved entries of `scheme` among `entries` (a queryset of entries of
    `subject_ids`) that have no credit yet; call inside a transaction.

    The entries are read once their accounts are locked, so whatever another receiver
    credited meanwhile is not read. Scheme and status are matched here, not in the query: with
    them in the WHERE, SQLite (without statistics) walks the scheme's whole ledger through the
    close's index, 60 times slower than reading these subjects' entries.
    """
    subject_ids = sorted(set(subject_ids))
    _ensure_accounts(scheme, subject_ids)
    locked = Account.objects.select_for_update().filter(scheme=scheme, subject_id__in=subject_ids)
    if keeps_resets(policy):
        resets_apply(policy, list(locked.order_by("pk").values_list("pk", flat=True)), _today())
    accounts = {
        subject_id: (pk, State(balance, debt, base, excluded_until), track)
        for pk, subject_id, balance, debt, base, excluded_until, track in locked.order_by(
            "pk"
        ).values_list(
            "pk", "subject_id", "balance", "debt", "base", "excluded_until", "subject__track"
        )
    }
    skipped = not_credited(policy)
    fresh = [
        Credited._make(entry)
        for scheme_id, status, *entry in _entry_rows(
            entries.filter(~Exists(Movement.objects.filter(entry_id=OuterRef("pk")))),
            "scheme_id",
            "status",
        )
        if scheme_id == scheme.pk and status == EntryStatus.APPROVED and entry[2] not in skipped
    ]
    if not fresh:
        return 0
    days = _Days(scheme.cadence)
    groups: dict[tuple[int, str], list[Credited]] = defaultdict(list)
    for entry in sorted(fresh, key=lambda e: e.pk):
        groups[(entry.subject_id, days.period_key(entry))].append(entry)
    # What was credited before in the same accounts and periods: its entries and its sum.
    keys = {key for _s, key in groups}
    account_ids = {accounts[s][0] for s, _k in groups}
    credited_entries: dict[tuple[int, str], list[Credited]] = defaultdict(list)
    credited_sum: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for period_key, earned, *entry in _entry_rows(
        Movement.objects.filter(
            account_id__in=account_ids, period_key__in=keys, entry__isnull=False
        ),
        "period_key",
        "earned",
        via="entry__",
    ):
        earlier = Credited._make(entry)
        credited_entries[(earlier.subject_id, period_key)].append(earlier)
        credited_sum[(earlier.subject_id, period_key)] += earned
    versions = _period_versions(scheme, keys)
    region_codes: dict[int, str] = {}  # read once, for schemes with overlays only

    def variant_of(spec, subject_id: int, track: str) -> str | None:
        """The subject's tree: its track's variant, with its township's and village's overlays."""
        if not spec.overlays:
            return track if track in spec.variants else None
        if not region_codes:
            from kaoping.people.models import Subject

            region_codes.update(
                Subject.objects.filter(pk__in=subject_ids).values_list("pk", "region__code")
            )
        return spec.variant_for(track, region_codes[subject_id]) or None

    trees: dict[tuple[int, str], TallyTree] = {}
    totals: dict[int, Change] = defaultdict(Change)
    movements = []
    for (subject_id, key), new in groups.items():
        account, state, track = accounts[subject_id]
        version = versions[key]
        spec = version_spec(version)
        variant = variant_of(spec, subject_id, track)
        tree = trees.get((version.pk, variant or ""))
        if tree is None:
            tree = trees[(version.pk, variant or "")] = TallyTree(spec, variant)
        tally = tree.tally()
        for earlier in sorted(credited_entries[(subject_id, key)], key=lambda e: e.pk):
            _tally_add(tally, earlier)
        so_far = credited_sum[(subject_id, key)]
        for entry in new:
            _tally_add(tally, entry)
            target = _points(tally.earned)
            delta, so_far = target - so_far, target
            day = days.effective_on(entry)
            kind, change = apply_delta(delta, state, policy, day)
            state.apply(change)
            total = totals[account]
            total.amount += change.amount
            total.debt += change.debt
            total.earned += change.earned
            total.base += change.base
            total.held += change.held
            total.excluded_until = total.excluded_until or change.excluded_until
            movements.append((account, kind, change, entry.pk, key, day))
    _write_credits(movements, totals)
    return len(movements)


def _today() -> date:
    return timezone.localdate()


def _period_versions(scheme: Scheme, keys) -> dict[str, SchemeVersion]:
    """The version each period is scored with: the period's own, else the latest."""
    labels = {tuple(key.split(":", 1)) for key in keys}
    bound = {
        f"{p.cadence}:{p.label}": p.version
        for p in Period.objects.filter(
            scheme=scheme, label__in={label for _c, label in labels}
        ).select_related("version")
    }
    latest = scheme.latest_version()
    return {key: bound.get(key, latest) for key in keys}


def accounts_credit(*, entry_ids: list[int], acting_user) -> int:
    """Credit approved entries to their accounts, once each; returns how many were credited.

    Idempotent per entry: an entry already credited (a re-sent signal, a reconcile running
    beside the receiver) is skipped under the account lock, and a unique constraint backs that.
    """
    ensure(acting_user, "store.manage", Entry.objects.filter(pk__in=entry_ids))
    by_scheme: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for scheme_id, pk, subject_id in (
        Entry.objects.filter(pk__in=entry_ids, status=EntryStatus.APPROVED)
        .filter(~Exists(Movement.objects.filter(entry_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("scheme_id", "pk", "subject_id")
    ):
        by_scheme[scheme_id].append((pk, subject_id))
    if not by_scheme:
        return 0
    schemes = Scheme.objects.select_related("region").in_bulk(by_scheme)
    credited = 0
    for scheme_id, found in by_scheme.items():
        scheme = schemes[scheme_id]
        policy = account_policy(scheme)
        if policy is None:
            continue
        ids = [pk for pk, _subject in found]
        with transaction.atomic():
            count = _credit_scheme(
                scheme,
                policy,
                [subject_id for _pk, subject_id in found],
                Entry.objects.filter(pk__in=ids),
            )
            if count:
                audit_record(
                    actor=acting_user,
                    action="store.accounts.credited",
                    obj=scheme,
                    region_code=scheme.region.code,
                    after={"entries": count, "ids": ids[:200]},
                )
        credited += count
    return credited


def accounts_reconcile(*, acting_user, chunk: int = 500, out=None) -> int:
    """Credit every approved entry that has no credit yet (a receiver that crashed, old data).

    The missing entries are found with one anti-join per scheme; they are credited in chunks of
    subjects so that no transaction holds many locks for long: call it outside a transaction,
    and each chunk commits on its own. The actor manages the store of every such scheme's area.
    `out`, if given, is told of every chunk done.
    """
    schemes = list(account_schemes().values())
    ensure(acting_user, "store.manage", _regions_of(scheme for scheme, _policy in schemes))
    total = 0
    for scheme, policy in schemes:
        missing = (
            Entry.objects.filter(scheme=scheme, status=EntryStatus.APPROVED)
            .exclude(item_code__in=not_credited(policy))
            .filter(~Exists(Movement.objects.filter(entry_id=OuterRef("pk"))))
            .values_list("subject_id", flat=True)
            .distinct()
            .order_by("subject_id")
        )
        subjects = list(missing)
        for start in range(0, len(subjects), chunk):
            part = subjects[start : start + chunk]
            with transaction.atomic():
                total += _credit_scheme(
                    scheme, policy, part, Entry.objects.filter(subject_id__in=part)
                )
            if out is not None:
                out(f"{scheme.code}: {min(start + chunk, len(subjects))}/{len(subjects)} subjects")
    if total:
        with transaction.atomic():
            audit_record(
                actor=acting_user,
                action="store.accounts.reconciled",
                after={"entries": total},
                object_repr=_("points accounts"),
            )
    return total


def entries_approved_receiver(sender, entry_ids, **kwargs) -> None:
    """Credit announced entries. Never raises: the ledger's write has already committed, and a
    credit that fails here is made by `kaoping store_reconcile`."""
    import logging

    try:
        accounts_credit(entry_ids=list(entry_ids), acting_user=system_actor())
    except Exception:  # noqa: BLE001 - repaired by store_reconcile; must not fail the caller
        logging.getLogger(__name__).exception("crediting entries %s failed", entry_ids[:20])


# --- clearing and expiry -------------------------------------------------------------------


def lapse_cutoff(policy: AccountPolicy, today: date) -> tuple[date, str] | None:
    """Points credited before the returned day lapse today, and why (clear or expire)."""
    candidates = []
    if policy.clear_on:
        month, day = (int(part) for part in policy.clear_on.split("-"))
        this_year = date(today.year, month, day)
        candidates.append(
            (this_year if this_year <= today else date(today.year - 1, month, day), "clear")
        )
    if policy.expire_months:
        months = today.year * 12 + today.month - 1 - policy.expire_months
        year, month = divmod(months, 12)
        day = min(today.day, _month_days(year, month + 1))
        candidates.append((date(year, month + 1, day), "expire"))
    return max(candidates) if candidates else None


def _month_days(year: int, month: int) -> int:
    return period_dates("month", f"{year}-{month:02d}")[1].day


def accounts_lapse(*, today: date | None = None, acting_user, chunk: int = 2000) -> dict[str, int]:
    """Apply yearly clearings and expiry to every account whose scheme has them.

    First in, first out: what lapses is the part of the balance not covered by the credits made
    since the cut-off day, i.e. max(0, balance − credits since). Running it again the same day
    finds nothing to do; a refund of points that were already old lapses on the next run.
    Chunked as `accounts_reconcile` is; the actor manages the store of every scheme that lapses.
    """
    today = today or timezone.localdate()
    lapsing = [
        (scheme, rule)
        for scheme, policy in account_schemes().values()
        if policy.spendable and (rule := lapse_cutoff(policy, today)) is not None
    ]
    ensure(acting_user, "store.manage", _regions_of(scheme for scheme, _rule in lapsing))
    counts: dict[str, int] = {}
    for scheme, rule in lapsing:
        cutoff, kind = rule
        ids = list(
            Account.objects.filter(scheme=scheme, balance__gt=0)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        lapsed = 0
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            with transaction.atomic():
                # Lock first, then read: the amounts are computed from committed rows only.
                list(Account.objects.select_for_update().filter(pk__in=part).values_list("pk"))
                since = (
                    Movement.objects.filter(
                        account_id=OuterRef("pk"),
                        kind=MovementKind.CREDIT,
                        effective_on__gte=cutoff,
                    )
                    .values("account_id")
                    .annotate(total=Sum("amount"))
                    .values("total")
                )
                rows = (
                    Account.objects.filter(pk__in=part)
                    .annotate(recent=Coalesce(since, ZERO))
                    .values_list("pk", "balance", "recent")
                )
                movements = []
                for pk, balance, recent in rows:
                    amount = balance - max(recent, ZERO)
                    if amount <= 0:
                        continue
                    changed = Account.objects.filter(pk=pk, balance__gte=amount).update(
                        balance=F("balance") - amount
                    )
                    if changed:
                        movements.append(
                            Movement(
                                account_id=pk,
                                kind=kind,
                                amount=-amount,
                                effective_on=today,
                                note=cutoff.isoformat(),  # credited before this day
                            )
                        )
                Movement.objects.bulk_create(movements)
                if movements:
                    audit_record(
                        actor=acting_user,
                        action=f"store.accounts.{kind}",
                        obj=scheme,
                        region_code=scheme.region.code,
                        after={
                            "accounts": len(movements),
                            "points": str(sum((-m.amount for m in movements), ZERO)),
                            "cutoff": cutoff.isoformat(),
                        },
                    )
                lapsed += len(movements)
        counts[scheme.code] = lapsed
    return counts


# --- stores, windows, goods, stock ---------------------------------------------------------


def _regions_of(schemes) -> models.QuerySet:
    """The areas of `schemes` (their counties): where a job over their accounts acts."""
    from kaoping.regions.models import Region

    return Region.objects.filter(pk__in={scheme.region_id for scheme in schemes})


def store_save(
    *,
    region,
    name: str,
    acting_user,
    address: str = "",
    hours: str = "",
    pickup_days: int = 7,
    active: bool = True,
) -> Store:
    """Open a store for a village (or change its details)."""
    ensure(acting_user, "store.manage", region)
    with transaction.atomic():
        store, created = Store.objects.select_for_update().get_or_create(
            region=region,
            defaults={"name": name, "address": address, "hours": hours, "pickup_days": pickup_days},
        )
        before = None
        if not created:
            before = {"name": store.name, "address": store.address, "hours": store.hours}
            store.name, store.address, store.hours = name, address, hours
            store.pickup_days, store.active = pickup_days, active
            store.save()
        audit_record(
            actor=acting_user,
            action="store.store.created" if created else "store.store.changed",
            obj=store,
            region_code=region.code,
            before=before,
            after={"name": name, "address": address, "hours": hours, "active": active},
        )
    return store


def window_add(
    *, store: Store, name: str, starts_on: date, ends_on: date, acting_user
) -> RedemptionWindow:
    ensure(acting_user, "store.manage", store)
    if ends_on < starts_on:
        raise KaopingError({"ends_on": _("The window ends before it starts.")})
    with transaction.atomic():
        window, created = RedemptionWindow.objects.get_or_create(
            store=store, starts_on=starts_on, ends_on=ends_on, defaults={"name": name}
        )
        if created:
            audit_record(
                actor=acting_user,
                action="store.window.added",
                obj=window,
                region_code=store.region.code,
                after={"name": name, "from": starts_on.isoformat(), "to": ends_on.isoformat()},
            )
    return window


def windows_quarterly(*, store: Store, year: int, days: int, acting_user) -> int:
    """Add the first `days` days of each quarter of `year` as windows; returns how many were new."""
    ensure(acting_user, "store.manage", store)
    if not 1 <= days <= 31:
        raise KaopingError({"days": _("Between 1 and 31 days.")})
    added = 0
    with transaction.atomic():
        for quarter in range(1, 5):
            start = date(year, quarter * 3 - 2, 1)
            end = start + timedelta(days=days - 1)
            _window, created = RedemptionWindow.objects.get_or_create(
                store=store,
                starts_on=start,
                ends_on=end,
                defaults={
                    "name": _("%(year)s Q%(q)s redemption week") % {"year": year, "q": quarter}
                },
            )
            added += created
        audit_record(
            actor=acting_user,
            action="store.window.quarterly",
            obj=store,
            region_code=store.region.code,
            after={"year": year, "days": days, "added": added},
        )
    return added


def open_window(store: Store, day: date) -> RedemptionWindow | None:
    return (
        RedemptionWindow.objects.filter(store=store, starts_on__lte=day, ends_on__gte=day)
        .order_by("starts_on", "pk")
        .first()
    )


def next_window(store: Store, day: date) -> RedemptionWindow | None:
    return (
        RedemptionWindow.objects.filter(store=store, starts_on__gt=day)
        .order_by("starts_on", "pk")
        .first()
    )


GOODS_FIELDS = ("name", "unit", "description", "price", "limit_per_household", "active", "position")


def goods_save(
    *,
    store: Store,
    acting_user,
    goods: Goods | None = None,
    photo=None,
    idempotency_key: str | None = None,
    **fields,
) -> Goods:
    """Create or change goods. Stock is never edited here: it moves only with stock moves.

    A repeated creation with the same idempotency key returns the goods made the first time.
    """
    ensure(acting_user, "store.manage", store)
    if goods is None and idempotency_key:
        existing = Goods.objects.filter(idempotency_key=idempotency_key, store=store).first()
        if existing is not None:
            return existing
    unknown = set(fields) - set(GOODS_FIELDS)
    if unknown:
        raise TypeError(f"not goods fields: {sorted(unknown)}")
    if "price" in fields and _points(fields["price"]) <= 0:
        raise KaopingError({"price": _("The price must be more than 0 points.")})
    stored_photo = goods_photo_store(photo) if photo else None
    with transaction.atomic():
        if goods is None:
            goods = Goods(store=store, idempotency_key=idempotency_key or None)
            before = None
        else:
            goods = Goods.objects.select_for_update().get(pk=goods.pk, store=store)
            before = {f: str(getattr(goods, f)) for f in fields}
        for name, value in fields.items():
            setattr(goods, name, _points(value) if name == "price" else value)
        if stored_photo:
            goods.photo = stored_photo
        goods.save()
        audit_record(
            actor=acting_user,
            action="store.goods.created" if before is None else "store.goods.changed",
            obj=goods,
            region_code=store.region.code,
            before=before,
            after={**{f: str(v) for f, v in fields.items()}, "photo": goods.photo},
        )
    return goods


def goods_photo_store(upload) -> str:
    """Clean a photo upload (as evidence is cleaned: no EXIF, scaled) and store it once."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kaoping.ledger.evidence import evidence_prepare

    prepared = evidence_prepare(upload)
    if not prepared.content_type.startswith("image/"):
        raise KaopingError({"photo": _("Choose a photo (JPEG or PNG).")})
    name = f"goods/{prepared.sha256}{prepared.extension}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(prepared.data))
    if prepared.thumbnail:
        thumb = f"goods/{prepared.sha256}.thumb.jpg"
        if not default_storage.exists(thumb):
            default_storage.save(thumb, ContentFile(prepared.thumbnail))
    return name


def _existing_stock_move(key: str | None) -> StockMove | None:
    return StockMove.objects.filter(idempotency_key=key).first() if key else None


def stock_in(
    *,
    goods: Goods,
    quantity: int,
    kind: str,
    acting_user,
    donor: str = "",
    thank_publicly: bool = False,
    unit_cost: Decimal | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    day: date | None = None,
) -> tuple[StockMove, bool]:
    """Put goods on the shelf from a purchase or a donation; returns (move, created)."""
    ensure(acting_user, "store.stock", goods)
    existing = _existing_stock_move(idempotency_key)
    if existing is not None:
        return existing, False
    if kind not in (StockKind.PURCHASE, StockKind.DONATION):
        raise KaopingError({"kind": _("Stock comes in as a purchase or a donation.")})
    if quantity <= 0:
        raise KaopingError({"quantity": _("The quantity must be at least 1.")})
    donor = donor.strip()
    if kind == StockKind.DONATION and not donor:
        raise KaopingError({"donor": _("Say who donated, so that they can be thanked.")})
    if kind != StockKind.DONATION:
        donor, thank_publicly = "", False
    try:
        with transaction.atomic():
            move = StockMove.objects.create(
                goods=goods,
                kind=kind,
                quantity=quantity,
                donor=donor[:100],
                thank_publicly=thank_publicly,
                unit_cost=unit_cost,
                note=note.strip()[:200],
                idempotency_key=idempotency_key or None,
                created_by=_actor(acting_user),
                created_on=day or timezone.localdate(),
            )
            Goods.objects.filter(pk=goods.pk).update(stock=F("stock") + quantity)
            audit_record(
                actor=acting_user,
                action=f"store.stock.{kind}",
                obj=goods,
                region_code=goods.store.region.code,
                after={
                    "quantity": quantity,
                    "donor": donor,
                    "unit_cost": None if unit_cost is None else str(unit_cost),
                },
            )
    except IntegrityError:
        existing = _existing_stock_move(idempotency_key)
        if existing is None:
            raise
        return existing, False
    return move, True


def stock_adjust(
    *, goods: Goods, quantity: int, note: str, acting_user, idempotency_key: str | None = None
) -> tuple[StockMove, bool]:
    """Correct the stock after a count (spoilt, lost, found); never below zero."""
    ensure(acting_user, "store.stock", goods)
    existing = _existing_stock_move(idempotency_key)
    if existing is not None:
        return existing, False
    if not quantity:
        raise KaopingError({"quantity": _("The correction cannot be 0.")})
    if not note.strip():
        raise KaopingError({"note": _("Say why the stock is corrected.")})
    with transaction.atomic():
        changed = Goods.objects.filter(pk=goods.pk, stock__gte=max(0, -quantity)).update(
            stock=F("stock") + quantity
        )
        if not changed:
            raise KaopingError({"quantity": _("There is less on the shelf than that.")})
        move = StockMove.objects.create(
            goods=goods,
            kind=StockKind.ADJUST,
            quantity=quantity,
            note=note.strip()[:200],
            idempotency_key=idempotency_key or None,
            created_by=_actor(acting_user),
            created_on=timezone.localdate(),
        )
        audit_record(
            actor=acting_user,
            action="store.stock.adjusted",
            obj=goods,
            region_code=goods.store.region.code,
            after={"quantity": quantity, "note": note.strip()},
        )
    return move, True


# --- redemptions ---------------------------------------------------------------------------


def store_for_account(account: Account) -> Store | None:
    """The store that serves an account: the one of the nearest region above its subject."""
    code = account.subject.region.code
    prefixes = [code[:n] for n in range(len(code), 5, -1)]
    stores = {
        s.region.code: s
        for s in Store.objects.filter(region__code__in=prefixes).select_related("region")
    }
    for prefix in prefixes:
        if prefix in stores:
            return stores[prefix]
    return None


def _existing_redemption(key: str | None) -> Redemption | None:
    return Redemption.objects.filter(idempotency_key=key).first() if key else None


def redemption_make(
    *,
    account: Account,
    goods: Goods,
    quantity: int = 1,
    acting_user,
    idempotency_key: str | None = None,
    hand_over: bool = False,
    day: date | None = None,
) -> tuple[Redemption, bool]:
    """Take points and stock for goods; returns (redemption, created).

    A household's request (`hand_over=False`, action store.request) reserves the goods until the
    keeper hands them over; a keeper's redemption at the counter (`hand_over=True`, action
    store.redeem) is handed over at once. Either way balance and stock move here, once.
    """
    ensure(acting_user, "store.redeem" if hand_over else "store.request", account)
    existing = _existing_redemption(idempotency_key)
    if existing is not None:
        return existing, False
    day = day or timezone.localdate()
    store = goods.store
    if not store.active or not goods.active:
        raise KaopingError(_("“%(goods)s” is not on offer.") % {"goods": goods.name})
    served = store_for_account(account)
    if served is None or served.pk != store.pk:
        raise KaopingError(_("This household is served by another store."))
    policy = account_policy(account.scheme)
    if policy is None or not policy.spendable:
        raise KaopingError(_("These points cannot be spent in the store."))
    if quantity < 1:
        raise KaopingError({"quantity": _("The quantity must be at least 1.")})
    window = open_window(store, day)
    if window is None:
        upcoming = next_window(store, day)
        if upcoming is None:
            raise KaopingError(_("The store is not redeeming points now."))
        raise KaopingError(
            _("The store is not redeeming points now; the next days are %(from)s to %(to)s.")
            % {"from": upcoming.starts_on.isoformat(), "to": upcoming.ends_on.isoformat()}
        )
    cost = _points(goods.price * quantity)
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            if keeps_resets(policy) and resets_apply(policy, [locked.pk], day):
                locked.refresh_from_db()
            refuse_if_suspended(locked, policy)
            if goods.limit_per_household is not None:
                taken = (
                    Redemption.objects.filter(account=locked, goods=goods, window=window)
                    .exclude(status=RedemptionStatus.CANCELLED)
                    .aggregate(n=Coalesce(Sum("quantity"), 0))["n"]
                )
                if taken + quantity > goods.limit_per_household:
                    raise KaopingError(
                        _(
                            "A household may take at most %(limit)s %(unit)s of “%(goods)s” in"
                            " these days; this one has taken %(taken)s."
                        )
                        % {
                            "limit": goods.limit_per_household,
                            "unit": goods.unit,
                            "goods": goods.name,
                            "taken": taken,
                        }
                    )
            if not Goods.objects.filter(pk=goods.pk, stock__gte=quantity).update(
                stock=F("stock") - quantity
            ):
                raise KaopingError(_("“%(goods)s” is sold out.") % {"goods": goods.name})
            if not Account.objects.filter(pk=locked.pk, balance__gte=cost).update(
                balance=F("balance") - cost
            ):
                raise KaopingError(
                    _("Not enough points: %(goods)s costs %(cost)s, the balance is %(balance)s.")
                    % {"goods": goods.name, "cost": cost, "balance": locked.balance}
                )
            now = timezone.now()
            actor = _actor(acting_user)
            redemption = Redemption.objects.create(
                account=locked,
                goods=goods,
                window=window,
                quantity=quantity,
                points=cost,
                status=RedemptionStatus.COMPLETED if hand_over else RedemptionStatus.REQUESTED,
                requested_on=day,
                requested_by=actor,
                completed_at=now if hand_over else None,
                completed_by=actor if hand_over else None,
                idempotency_key=idempotency_key or None,
            )
            if policy.spend_item:
                redemption.spend_entry = spend_entry_write(
                    account=locked,
                    policy=policy,
                    points=cost,
                    day=day,
                    note=f"{goods.name} × {quantity}",
                    user=acting_user,
                )
                redemption.save(update_fields=["spend_entry"])
            Movement.objects.create(
                account=locked,
                kind=MovementKind.REDEEM,
                amount=-cost,
                redemption=redemption,
                effective_on=day,
                note=f"{goods.name} × {quantity}",
            )
            StockMove.objects.create(
                goods=goods,
                kind=StockKind.REDEMPTION,
                quantity=-quantity,
                redemption=redemption,
                created_by=actor,
                created_on=day,
            )
            audit_record(
                actor=acting_user,
                action="store.redemption.completed" if hand_over else "store.redemption.requested",
                obj=redemption,
                region_code=account.subject.region.code,
                after={
                    "account": locked.pk,
                    "goods": goods.pk,
                    "quantity": quantity,
                    "points": str(cost),
                    "status": redemption.status,
                },
            )
    except IntegrityError:
        existing = _existing_redemption(idempotency_key)
        if existing is None:
            raise
        return existing, False
    return redemption, True


def redemption_complete(*, redemption: Redemption, acting_user) -> bool:
    """Hand over requested goods; False when it was already handed over or cancelled."""
    ensure(acting_user, "store.redeem", redemption.account)
    before, after = REDEMPTION_TRANSITIONS["complete"]
    with transaction.atomic():
        changed = Redemption.objects.filter(pk=redemption.pk, status__in=before).update(
            status=after, completed_at=timezone.now(), completed_by=_actor(acting_user)
        )
        if changed:
            audit_record(
                actor=acting_user,
                action="store.redemption.completed",
                obj=redemption,
                region_code=redemption.account.subject.region.code,
                before={"status": RedemptionStatus.REQUESTED},
                after={"status": after},
            )
    return bool(changed)


def redemption_cancel(*, redemption: Redemption, acting_user, reason: str) -> bool:
    """Cancel a redemption: its points go back to the account and its goods to the shelf.

    A keeper cancels any (goods handed over must come back first); a household withdraws its
    own request before it is handed over. False when it was already cancelled.
    """
    account = redemption.account
    if not may(acting_user, "store.redeem", account):
        ensure(acting_user, "store.request", account)
        if redemption.status != RedemptionStatus.REQUESTED:
            raise KaopingError(_("Goods already handed over are returned at the store."))
    if not reason.strip():
        raise KaopingError({"reason": _("Say why the redemption is cancelled.")})
    before, after = REDEMPTION_TRANSITIONS["cancel"]
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        current = Redemption.objects.get(pk=redemption.pk).status
        changed = Redemption.objects.filter(pk=redemption.pk, status__in=before).update(
            status=after,
            cancelled_at=timezone.now(),
            cancelled_by=_actor(acting_user),
            cancel_reason=reason.strip()[:200],
        )
        if not changed:
            return False
        if redemption.spend_entry_id is not None:
            spend_entry_reverse(redemption=redemption, reason=reason.strip(), user=acting_user)
        Goods.objects.filter(pk=redemption.goods_id).update(stock=F("stock") + redemption.quantity)
        StockMove.objects.create(
            goods_id=redemption.goods_id,
            kind=StockKind.RETURN,
            quantity=redemption.quantity,
            redemption=redemption,
            created_by=_actor(acting_user),
            created_on=timezone.localdate(),
        )
        # Points come back as they went: a debt run up since is paid off first.
        pay = min(locked.debt, redemption.points)
        refund = redemption.points - pay
        Account.objects.filter(pk=locked.pk).update(
            balance=F("balance") + refund, debt=F("debt") - pay
        )
        Movement.objects.create(
            account=locked,
            kind=MovementKind.REFUND,
            amount=refund,
            debt_change=-pay,
            redemption=redemption,
            effective_on=timezone.localdate(),
            note=reason.strip()[:200],
        )
        audit_record(
            actor=acting_user,
            action="store.redemption.cancelled",
            obj=redemption,
            region_code=account.subject.region.code,
            before={"status": current},
            after={"status": after, "reason": reason.strip(), "points": str(redemption.points)},
        )
    return True


def redemptions_lapse(*, today: date | None = None, acting_user) -> int:
    """Cancel requests not collected within the store's days after their window closed.

    The actor keeps (store.redeem) the accounts of every request that lapses.
    """
    today = today or timezone.localdate()
    stale = (
        Redemption.objects.filter(status=RedemptionStatus.REQUESTED)
        .select_related("account__subject__region", "goods__store", "window")
        .order_by("pk")
    )
    due = []
    for redemption in stale.iterator():
        closes = redemption.window.ends_on if redemption.window else redemption.requested_on
        last_day = closes + timedelta(days=redemption.goods.store.pickup_days)
        if last_day < today:
            due.append((redemption, last_day))
    accounts = Account.objects.filter(pk__in={r.account_id for r, _day in due})
    ensure(acting_user, "store.redeem", accounts)
    cancelled = 0
    for redemption, last_day in due:
        try:
            cancelled += redemption_cancel(
                redemption=redemption,
                acting_user=acting_user,
                reason=_("not collected by %(day)s") % {"day": last_day.isoformat()},
            )
        except KaopingError:  # its spending is in a finalised period: the keeper decides
            continue
    return cancelled


def accounts_open(*, scheme: Scheme, acting_user, subject_ids=None) -> int:
    """Open the accounts of a scheme's subjects that have none yet (for cards before any credit).

    Whoever prints the cards (store.report on every subject asked for) opens their accounts.
    """
    from kaoping.people.models import Subject

    subjects = Subject.objects.filter(kind=scheme.subject_kind, active=True).filter(
        Q(region__code__startswith=scheme.region.code)
    )
    if subject_ids is not None:
        subjects = subjects.filter(pk__in=subject_ids)
    ensure(acting_user, "store.report", subjects)
    missing = subjects.filter(
        ~Exists(Account.objects.filter(scheme=scheme, subject_id=OuterRef("pk")))
    )
    ids = list(missing.values_list("pk", flat=True))
    policy = account_policy(scheme)
    with transaction.atomic():
        _ensure_accounts(scheme, ids)
        if policy is not None and keeps_resets(policy):
            opened = Account.objects.select_for_update().filter(scheme=scheme, subject_id__in=ids)
            resets_apply(policy, list(opened.values_list("pk", flat=True)), _today())
    return len(ids)


def accounts_reset(*, today: date | None = None, acting_user, chunk: int = 2000) -> int:
    """Apply each scheme's reset (`clear_on`, else 1 January) to accounts that have not had it:
    the base granted again, suspensions ended, held credits lapsed (kaoping/store/order.py).
    Chunked and acted on as `accounts_lapse`; running it again finds nothing to do."""
    today = today or timezone.localdate()
    every = list(account_schemes().values())
    # As the other daily jobs: the actor manages the stores of every account scheme, whether or
    # not a reset is due in one, so a township's login cannot run the county's job.
    ensure(acting_user, "store.manage", _regions_of(scheme for scheme, _p in every))
    schemes = [(s, p) for s, p in every if keeps_resets(p)]
    total = 0
    for scheme, policy in schemes:
        ids = list(
            Account.objects.filter(scheme=scheme).order_by("pk").values_list("pk", flat=True)
        )
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            with transaction.atomic():
                list(Account.objects.select_for_update().filter(pk__in=part).values_list("pk"))
                count = resets_apply(policy, part, today)
                if count:
                    audit_record(
                        actor=acting_user,
                        action="store.accounts.reset",
                        obj=scheme,
                        region_code=scheme.region.code,
                        after={"accounts": count, "day": today.isoformat()},
                    )
                total += count
    return total
