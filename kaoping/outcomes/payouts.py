"""Pay by post and 得分率 (岗位绩效报酬), exact to the fen.

Each cadre is paid base(post) × 得分率, where 得分率 = total ÷ the scheme's denominator:

1. the rate is never below 0 (a negative total is paid nothing) and never above the cap
   (`cap_rate`, or 100 = 10 000 % when the scheme sets none);
2. the rate is rounded half up to 0.01 % (four places of the fraction), which is what the sheet
   shows, so that every line can be checked by hand: base × the printed rate;
3. the amount is base × that rate, rounded half up to the fen.

A barred result (一票否决 bar) is paid 0, as it gets no bonus and no honour; its line still
shows the rate it would have had.

Whose pay a result decides: a `cadre` subject's own (its person's posts); a `village` or
`team` subject's cadres in post in the village, one line each (the team shares the village's
score). A person is paid once per result, at the highest base among the posts they hold that
`by_post` names; 一肩挑 (the secretary also chairs) holds both secretary and chair. Posts are
read from the people register as it stands at the close, counting a cadre whose `since` is
empty or on or before the period's last day.

`payout_rate_bp` and `payout_fen` are the reference in plain Python (exact fractions);
`payout_write` does the same in SQL on scaled integers over the period's results, one
INSERT … SELECT whatever the number of cadres. The property tests hold the two equal.
"""

from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Count, Sum

from kaoping.people.models import CadrePost
from kaoping.schemes.spec import RATE_CEILING, RATE_PLACES, PayoutRule

from .bonus import to_fen
from .models import FEN, PayoutLine, PayoutSheet

RATE_SCALE = 10**RATE_PLACES  # rates are stored in 0.01 % (basis points of the fraction)
POST_ORDER = [post.value for post in CadrePost]  # equal bases: the post listed first names it


def _half_up(value: Fraction) -> int:
    """`value` ≥ 0 rounded to the nearest integer, halves up."""
    return int(value + Fraction(1, 2))


def payout_rate_bp(total: Decimal, denominator: Decimal, cap_rate: Decimal | None = None) -> int:
    """得分率 in 0.01 %: total ÷ denominator, held to [0, cap], rounded half up."""
    rate = Fraction(total) / Fraction(denominator)
    ceiling = Fraction(cap_rate if cap_rate is not None else RATE_CEILING)
    rate = min(max(rate, Fraction(0)), ceiling)
    return _half_up(rate * RATE_SCALE)


def payout_fen(
    total: Decimal, denominator: Decimal, base: Decimal, cap_rate: Decimal | None = None
) -> int:
    """What base yuan at this total pays, in fen: base × 得分率 (as rounded), half up."""
    rate_bp = payout_rate_bp(total, denominator, cap_rate)
    return _half_up(Fraction(base) * FEN * rate_bp / RATE_SCALE)


def _cap_bp(rule: PayoutRule) -> int:
    return int((rule.cap_rate if rule.cap_rate is not None else RATE_CEILING) * RATE_SCALE)


def payout_write(period, rule: PayoutRule, *, subject_kind: str, decimals: int) -> PayoutSheet:
    """Write the period's payout sheet and lines from its results, replacing any earlier one.

    All arithmetic is on integers: T the result's total × 10^decimals, N the denominator alike,
    B the base in fen. With T clamped to [0, 100·N] first, rate = ⌊(2·T·10^4 + N) / 2N⌋ (half
    up), capped; amount = ⌊(2·B·rate + 10^4) / (2·10^4)⌋. The spec's limits (N ≤ 10^12,
    B ≤ 10^8) keep every product below 2^63 on both databases.
    """
    PayoutSheet.objects.filter(period=period).delete()
    scale = 10**decimals
    denominator = int(rule.denominator * scale)
    cap_bp = _cap_bp(rule)
    bases = {post: to_fen(base) for post, base in rule.by_post.items()}
    sheet = PayoutSheet.objects.create(
        period=period,
        denominator=denominator,
        cap_bp=cap_bp,
        capped=rule.cap_rate is not None,
        by_post=bases,
    )
    base_sql = "CASE c.post " + " ".join("WHEN %s THEN %s" for _ in bases) + " END"
    base_params: list = [v for post, fen in bases.items() for v in (post, fen)]
    order_sql = "CASE c.post " + " ".join("WHEN %s THEN %s" for _ in POST_ORDER) + " END"
    order_params: list = [v for i, post in enumerate(POST_ORDER) for v in (post, i)]
    # Whose posts a result pays: the person's own, or the village's cadres.
    holder = "c.person_id = s.person_id" if subject_kind == "cadre" else "c.region_id = s.region_id"
    # 一肩挑: the secretary's row also holds the chair.
    posts = (
        "SELECT person_id, region_id, post, since FROM people_cadre "
        "UNION ALL SELECT person_id, region_id, 'chair', since FROM people_cadre "
        "WHERE is_one_shoulder = %s"
    )
    clamp = 100 * denominator  # T at most 100 × N: the rate ceiling, before any product
    post_marks = ", ".join("%s" for _ in bases)
    candidates = (
        "SELECT r.subject_id, r.total, r.barred, c.person_id, c.post, "
        f"{base_sql} AS base_fen, {order_sql} AS post_order, "
        "CASE WHEN r.total <= 0 THEN 0 WHEN r.total >= %s THEN %s ELSE r.total END AS t "
        f"FROM periods_result r JOIN people_subject s ON s.id = r.subject_id "
        f"JOIN ({posts}) c ON {holder} "
        f"WHERE r.period_id = %s AND c.post IN ({post_marks}) "
        "AND (c.since IS NULL OR c.since <= %s)"
    )
    candidate_params = [
        *base_params,
        *order_params,
        clamp,
        clamp,
        True,
        period.pk,
        *bases,
        period.end,
    ]
    ranked = (
        "SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.subject_id, x.person_id "
        "ORDER BY x.base_fen DESC, x.post_order ASC) AS n, "
        "(2 * CAST(x.t AS BIGINT) * %s + %s) / (2 * CAST(%s AS BIGINT)) AS raw_bp "
        f"FROM ({candidates}) x"
    )
    ranked_params = [RATE_SCALE, denominator, denominator, *candidate_params]
    rated = (
        "SELECT y.*, CASE WHEN y.raw_bp > %s THEN %s ELSE y.raw_bp END AS rate_bp "
        f"FROM ({ranked}) y WHERE y.n = 1"
    )
    rated_params = [cap_bp, cap_bp, *ranked_params]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO outcomes_payoutline (period_id, subject_id, sheet_id, person_id, post, "
            "base_fen, total, rate_bp, barred, amount_fen) "
            "SELECT %s, z.subject_id, %s, z.person_id, z.post, z.base_fen, z.total, z.rate_bp, "
            "z.barred, CASE WHEN z.barred THEN 0 "
            "ELSE (2 * CAST(z.base_fen AS BIGINT) * z.rate_bp + %s) / (2 * %s) END "
            f"FROM ({rated}) z",
            [period.pk, sheet.pk, RATE_SCALE, RATE_SCALE, *rated_params],
        )
    made = PayoutLine.objects.filter(sheet=sheet).aggregate(n=Count("id"), s=Sum("amount_fen"))
    sheet.lines, sheet.total_fen = made["n"], made["s"] or 0
    sheet.save(update_fields=["lines", "total_fen"])
    return sheet
