"""The bonus pool split (梯度绩效奖金池), exact to the fen.

Money is whole fen (integers) and weights are integers × 10^4, so every step is integer
arithmetic. Each recipient first gets ⌊amount × weight / Σ weights⌋ fen; what rounding down
left over is R = amount − Σ shares, with 0 ≤ R < recipients. The remainder rule says who gets it:

- `largest_remainder`: one fen each to the R recipients whose share lost the most in rounding
  down (amount × weight mod Σ weights), ties to the better result;
- `first`: all R fen to the best result;
- `keep`: nobody; the R fen stay in the pool and are recorded as kept.

"Better result" is one order everywhere: higher total (lower when the scheme ranks ascending),
then better rank, then the lower subject id. Σ payouts + kept == amount, always.

`split_fen` is the reference in plain Python; `pool_split` does the same in SQL over the
period's results (one INSERT … SELECT and one UPDATE, whatever the number of recipients).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Sum

from kaoping.schemes.spec import WEIGHT_PLACES, BonusPoolRule

from .models import FEN, BonusPayout, BonusPool

WEIGHT_SCALE = 10**WEIGHT_PLACES


@dataclass(frozen=True)
class Recipient:
    key: int
    weight: int  # × 10^4, > 0
    total: int  # scaled total; the order below decides ties
    rank: int


def _better_first(recipients: Sequence[Recipient], ascending: bool) -> list[int]:
    return sorted(
        range(len(recipients)),
        key=lambda i: (
            recipients[i].total if ascending else -recipients[i].total,
            recipients[i].rank,
            recipients[i].key,
        ),
    )


def split_fen(
    amount_fen: int, recipients: Sequence[Recipient], remainder: str, *, ascending: bool = False
) -> tuple[list[int], list[int], int]:
    """(fen per recipient, leftover fen per recipient, fen kept) in the order given."""
    total_weight = sum(r.weight for r in recipients)
    if not recipients or total_weight <= 0:
        return [], [], amount_fen
    shares = [amount_fen * r.weight // total_weight for r in recipients]
    losses = [amount_fen * r.weight % total_weight for r in recipients]
    left = amount_fen - sum(shares)
    extra = [0] * len(recipients)
    kept = 0
    order = _better_first(recipients, ascending)
    if remainder == "largest_remainder":
        # Stable sort: equal losses keep the better-result order.
        for i in sorted(order, key=lambda i: -losses[i])[:left]:
            extra[i] = 1
    elif remainder == "first":
        extra[order[0]] = left
    else:
        kept = left
    return [s + e for s, e in zip(shares, extra, strict=True)], extra, kept


def to_fen(amount: Decimal) -> int:
    return int(amount * FEN)


def to_weight(weight: Decimal) -> int:
    return int(weight * WEIGHT_SCALE)


def _weight_sql(rule: BonusPoolRule) -> tuple[str, list, str, list]:
    """CASE expressions over periods_result r: (weight, params, basis, params)."""
    if rule.by_grade is not None:
        whens = " ".join("WHEN %s THEN %s" for _ in rule.by_grade)
        params: list = []
        for code, weight in rule.by_grade.items():
            params += [code, to_weight(weight)]
        return f"CASE r.grade_code {whens} ELSE 0 END", params, "r.grade_code", []
    bands = rule.by_rank or ()
    whens = " ".join("WHEN r.rank BETWEEN %s AND %s THEN %s" for _ in bands)
    weight_params: list = []
    basis_params: list = []
    for band in bands:
        weight_params += [band.from_rank, band.to_rank, to_weight(band.weight)]
        basis_params += [band.from_rank, band.to_rank, f"{band.from_rank}-{band.to_rank}"]
    return (
        f"CASE {whens} ELSE 0 END",
        weight_params,
        f"CASE {whens} ELSE '' END",
        basis_params,
    )


def pool_split(period, rule: BonusPoolRule, *, ascending: bool) -> BonusPool:
    """Write the period's pool and payouts from its results, replacing any earlier split."""
    BonusPool.objects.filter(period=period).delete()
    amount = to_fen(rule.amount)
    weight_sql, weight_params, basis_sql, basis_params = _weight_sql(rule)
    # Barred subjects (一票否决 bar) are given no money, as they are given no honour.
    source = (
        f"SELECT r.subject_id, r.total, r.rank, {weight_sql} AS w, {basis_sql} AS basis "
        "FROM periods_result r WHERE r.period_id = %s AND r.barred = %s"
    )
    source_params = [*weight_params, *basis_params, period.pk, False]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(t.w), 0), COUNT(*) FROM ({source}) t WHERE t.w > 0",
            source_params,
        )
        total_weight, recipients = (int(v) for v in cursor.fetchone())
    pool = BonusPool.objects.create(
        period=period,
        amount_fen=amount,
        split="by_grade" if rule.by_grade is not None else "by_rank",
        remainder_rule=rule.remainder,
        total_weight=total_weight,
        recipients=recipients,
    )
    if not recipients:
        BonusPool.objects.filter(pk=pool.pk).update(remainder_fen=amount, kept_fen=amount)
        pool.remainder_fen = pool.kept_fen = amount
        return pool
    # amount × weight stays below 2^63: amount < 10^10 fen and weight ≤ 10^8 (spec limits).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO outcomes_bonuspayout (period_id, subject_id, pool_id, basis, weight, "
            "total, rank, rounding_loss, amount_fen, remainder_fen) "
            "SELECT %s, t.subject_id, %s, t.basis, t.w, t.total, t.rank, "
            "(CAST(%s AS BIGINT) * t.w) %% %s, (CAST(%s AS BIGINT) * t.w) / %s, 0 "
            f"FROM ({source}) t WHERE t.w > 0",
            [period.pk, pool.pk, amount, total_weight, amount, total_weight, *source_params],
        )
    shared = BonusPayout.objects.filter(pool=pool).aggregate(s=Sum("amount_fen"))["s"] or 0
    left = amount - shared
    total_order = "total" if ascending else "-total"
    if left and rule.remainder == "largest_remainder":
        direction = "ASC" if ascending else "DESC"
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE outcomes_bonuspayout SET amount_fen = amount_fen + 1, remainder_fen = 1 "
                "WHERE id IN (SELECT x.id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY "
                f"rounding_loss DESC, total {direction}, rank ASC, subject_id ASC) AS n "
                "FROM outcomes_bonuspayout WHERE pool_id = %s) x WHERE x.n <= %s)",
                [pool.pk, left],
            )
    kept = left if rule.remainder == "keep" else 0
    first = None
    if left and rule.remainder == "first":
        best = BonusPayout.objects.filter(pool=pool).order_by(total_order, "rank", "subject_id")
        first = best.first()
        BonusPayout.objects.filter(pk=first.pk).update(
            amount_fen=F("amount_fen") + left, remainder_fen=left
        )
    BonusPool.objects.filter(pk=pool.pk).update(
        remainder_fen=left, kept_fen=kept, remainder_to=first.subject_id if first else None
    )
    pool.refresh_from_db()
    return pool
