"""Pay by post and 得分率: the reference, the SQL close held equal to it on random rules and
totals, the worked example of docs/schemes.md §17 closed to its stated amounts, and the checks
that refuse a wrong `payout` block at its line."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Cadre, Person, Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open, period_reopen
from kaoping.periods.tests.scheme_fixture import docs_example, record
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import PayoutRule, SchemeError

from ..models import PayoutLine, PayoutSheet
from ..payouts import POST_ORDER, payout_fen, payout_rate_bp, payout_write
from .fixtures import build_villages

D = Decimal


# -- the reference ------------------------------------------------------------------------------


def test_rate_and_amount_round_half_up_at_each_step():
    assert payout_rate_bp(D("87.35"), D(100)) == 8735
    assert payout_fen(D("87.35"), D(100), D(1000)) == 87350
    # 450 × 87.35 % = 393.075 yuan: the half fen goes up.
    assert payout_fen(D("87.35"), D(100), D(450)) == 39308
    # 80 ÷ 120 = 66.666…% → 66.67 %; 1000 × 66.67 % = 666.70, not 666.67.
    assert payout_rate_bp(D(80), D(120)) == 6667
    assert payout_fen(D(80), D(120), D(1000)) == 66670
    # A rate exactly half-way between two 0.01 % steps goes up: 1 ÷ 20000 = 0.005 %.
    assert payout_rate_bp(D(1), D(20000)) == 1


def test_negative_totals_pay_nothing_and_the_cap_holds():
    assert payout_rate_bp(D("-3.5"), D(100)) == 0
    assert payout_fen(D("-3.5"), D(100), D(1000)) == 0
    assert payout_fen(D("104.5"), D(100), D(800), D(1)) == 80000
    assert payout_fen(D("104.5"), D(100), D(800)) == 83600  # no cap: 104.5 %
    # Without cap_rate the rate still stops at 100 (10 000 %), far beyond any real scheme.
    assert payout_rate_bp(D(10**9), D("0.01")) == 1_000_000


@given(
    total=st.decimals(min_value=-1000, max_value=100_000, places=3),
    denominator=st.decimals(min_value="0.001", max_value=1_000_000, places=3),
    base=st.decimals(min_value="0.01", max_value=1_000_000, places=2),
    cap=st.none() | st.decimals(min_value="0.0001", max_value=100, places=4),
)
def test_the_reference_agrees_with_decimal_arithmetic_to_the_fen(total, denominator, base, cap):
    # The same rule stated with Decimal at 80 digits (exact for these inputs) instead of fractions.
    with localcontext() as ctx:
        ctx.prec = 80
        rate = min(max(total / denominator, D(0)), cap if cap is not None else D(100))
        rate = rate.quantize(D("0.0001"), rounding=ROUND_HALF_UP)
        amount = (base * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert payout_rate_bp(total, denominator, cap) == int(rate * 10_000)
    assert payout_fen(total, denominator, base, cap) == int(amount * 100)


# -- the SQL close against the reference -------------------------------------------------------

VILLAGE_SCHEME = """
code: pay-villages
version: 1
name: 村级考核(报酬测试)
subject_kind: village
cadence: month
tree:
  - {code: P, name: 得分, rule: count, points: 1}
"""

CADRE_SCHEME = VILLAGE_SCHEME.replace("pay-villages", "pay-cadres").replace(
    "subject_kind: village", "subject_kind: cadre"
)


def _person(county, name: str, village_code: str) -> Person:
    if name in county.persons:
        return county.persons[name]
    person = Person.objects.create(region=county.region(village_code), name=name)
    county.persons[name] = person
    return person


def _appoint(county, name: str, village_code: str, post: str, **extra) -> Cadre:
    return Cadre.objects.create(
        person=_person(county, name, village_code),
        region=county.region(village_code),
        post=post,
        **extra,
    )


def _cadres(county) -> None:
    """Posts that exercise every reading: 王建国 一肩挑 (the small county's), two posts of one
    person in one village, posts of one person in two villages, a post taken after the period,
    a post of no base."""
    _appoint(county, "张伟", "330304001001", "committee_member")
    _appoint(county, "李秀英", "330304001001", "branch_member")
    _appoint(county, "李秀英", "330304002001", "deputy_chair")
    _appoint(county, "陈明", "330304001002", "chair")
    _appoint(county, "杨丽", "330304001002", "deputy_secretary")
    _appoint(county, "杨丽", "330304001002", "committee_member")
    _appoint(county, "黄敏", "330304002001", "deputy_secretary", since=date(2030, 1, 1))
    _appoint(county, "周杰", "330304002001", "committee_member", since=date(2025, 5, 1))


def _closed_month(county, text: str, kind: str):
    version, _created = scheme_load(
        text=text, filename="pay.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    subjects_sync(kind=kind)
    for subject in Subject.objects.filter(kind=kind):
        record(version.scheme, subject, "P", "5", on=date(2026, 1, 10))
    period = period_open(scheme=version.scheme, label="2026-01", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


@pytest.fixture
def worlds(county):
    build_villages(county, extra=3)
    _cadres(county)
    return {
        "village": _closed_month(county, VILLAGE_SCHEME, "village"),
        "cadre": _closed_month(county, CADRE_SCHEME, "cadre"),
    }


def expected_lines(period, rule: PayoutRule, kind: str, decimals: int) -> dict:
    """(subject, person) → (post, base fen, rate, amount fen, barred), from the register and
    the reference, one Python loop per result."""
    held = [
        (c.person_id, c.region_id, post, c.since)
        for c in Cadre.objects.all()
        for post in ((c.post, "chair") if c.is_one_shoulder else (c.post,))
    ]
    lines = {}
    for result in Result.objects.filter(period=period).select_related("subject"):
        subject = result.subject
        total = D(result.total).scaleb(-decimals)
        best: dict[int, tuple] = {}
        for person, region, post, since in held:
            mine = person == subject.person_id if kind == "cadre" else region == subject.region_id
            if not mine or post not in rule.by_post or (since and since > period.end):
                continue
            key = (rule.by_post[post], -POST_ORDER.index(post))
            if person not in best or key > best[person][0]:
                best[person] = (key, post)
        for person, ((base, _order), post) in best.items():
            amount = payout_fen(total, rule.denominator, base, rule.cap_rate)
            lines[(subject.pk, person)] = (
                post,
                int(base * 100),
                payout_rate_bp(total, rule.denominator, rule.cap_rate),
                0 if result.barred else amount,
                result.barred,
            )
    return lines


def written_lines(period) -> dict:
    return {
        (line.subject_id, line.person_id): (
            line.post,
            line.base_fen,
            line.rate_bp,
            line.amount_fen,
            line.barred,
        )
        for line in PayoutLine.objects.filter(period=period)
    }


totals = st.one_of(
    st.integers(min_value=-20_000, max_value=20_000),  # the usual: −200 to 200 points
    # Far beyond, up to what the column holds: the clamp comes before any product.
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
)
bases = st.decimals(min_value="0.01", max_value=1_000_000, places=2)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["village", "cadre"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    decimals=st.sampled_from([0, 2, 6]),  # the scheme's places; 6 is the most a file may set
    by_post=st.dictionaries(st.sampled_from(POST_ORDER), bases, min_size=1),
    cap=st.none() | st.decimals(min_value="0.0001", max_value=100, places=4),
)
def test_the_sql_close_pays_what_the_reference_says(worlds, kind, data, decimals, by_post, cap):
    period = worlds[kind]
    # No finer than the totals (the checks refuse that): at 6 places N reaches 10^12.
    smallest = D(1).scaleb(-decimals)
    denominator = data.draw(
        st.decimals(min_value=smallest, max_value=1_000_000, places=decimals), label="denominator"
    )
    results = list(Result.objects.filter(period=period).order_by("subject_id"))
    for result in results:
        Result.objects.filter(pk=result.pk).update(
            total=data.draw(totals, label="total"), barred=data.draw(st.booleans(), label="barred")
        )
    rule = PayoutRule(denominator=denominator, by_post=by_post, cap_rate=cap)
    sheet = payout_write(period, rule, subject_kind=kind, decimals=decimals)
    want = expected_lines(period, rule, kind, decimals)
    assert written_lines(period) == want
    assert (sheet.lines, sheet.total_fen) == (len(want), sum(v[3] for v in want.values()))
    assert PayoutSheet.objects.filter(period=period).count() == 1


@pytest.mark.django_db
def test_one_line_per_person_at_the_highest_base(worlds, county):
    period = worlds["village"]
    rule = PayoutRule(
        denominator=D(10),
        by_post={"secretary": D(1000), "chair": D(1200), "committee_member": D(300)},
    )
    payout_write(period, rule, subject_kind="village", decimals=2)
    lines = {
        (line.subject.region.name, line.person.name): (line.post, line.amount_fen)
        for line in PayoutLine.objects.filter(period=period).select_related("subject__region")
    }
    # Every village scored 5 of 10: 50 %. 王建国 is secretary 一肩挑: paid once, as chair (the
    # higher base); 杨丽 holds two posts: paid once, at the one named; 黄敏 took post in 2030.
    assert lines == {
        ("东岭村", "王建国"): ("chair", 60000),
        ("东岭村", "张伟"): ("committee_member", 15000),
        ("南山社区", "陈明"): ("chair", 60000),
        ("南山社区", "杨丽"): ("committee_member", 15000),
        ("西溪村", "赵强"): ("secretary", 50000),
        ("西溪村", "周杰"): ("committee_member", 15000),
    }


# -- the worked example of docs/schemes.md §17 --------------------------------------------------


def docs_world(county):
    version, _created = scheme_load(
        text=docs_example("payout-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    # 王建国 is already 东岭村's secretary 一肩挑 and 赵强 西溪村's secretary.
    _appoint(county, "张伟", "330304001001", "committee_member")
    _appoint(county, "陈明", "330304001002", "chair")
    _appoint(county, "杨丽", "330304001002", "deputy_secretary")
    _appoint(county, "黄敏", "330304002001", "deputy_secretary")
    _appoint(county, "周杰", "330304002001", "branch_member")
    _appoint(county, "吴静", "330304002001", "committee_member", since=date(2027, 3, 1))
    subjects_sync(kind="village")
    village = {s.region.name: s for s in Subject.objects.filter(kind="village")}
    day = date(2026, 11, 20)
    record(version.scheme, village["东岭村"], "JC1", "87.35", on=day)
    record(version.scheme, village["南山社区"], "JC1", "100", on=day)
    record(version.scheme, village["南山社区"], "JF1", "4.5", on=day)
    record(version.scheme, village["西溪村"], "JC1", "66.67", on=day)
    period = period_open(scheme=version.scheme, label="2026", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


DOCS_AMOUNTS = {
    ("东岭村", "王建国", "secretary", "87.35", "873.50"),
    ("东岭村", "张伟", "committee_member", "87.35", "393.08"),
    ("南山社区", "陈明", "chair", "100.00", "800.00"),
    ("南山社区", "杨丽", "deputy_secretary", "100.00", "650.00"),
    ("西溪村", "赵强", "secretary", "66.67", "666.70"),
    ("西溪村", "黄敏", "deputy_secretary", "66.67", "433.36"),
}


def _sheet_as_stated(period) -> set:
    return {
        (
            line.subject.region.name,
            line.person.name,
            line.post,
            str(line.rate_percent),
            str(line.amount),
        )
        for line in PayoutLine.objects.filter(period=period).select_related(
            "subject__region", "person"
        )
    }


@pytest.mark.django_db
def test_the_payout_example_in_the_docs_pays_as_stated(county):
    period = docs_world(county)
    assert _sheet_as_stated(period) == DOCS_AMOUNTS
    sheet = PayoutSheet.objects.get(period=period)
    assert (sheet.lines, str(sheet.total)) == (6, "3816.64")

    # Closing again converges on the same lines; reopening deletes the sheet.
    period_close(period=period, acting_user=system_actor())
    assert _sheet_as_stated(period) == DOCS_AMOUNTS
    assert PayoutSheet.objects.filter(period=period).count() == 1
    period_reopen(period=period, reason="更正记分", acting_user=system_actor())
    assert not PayoutSheet.objects.filter(period=period).exists()
    assert not PayoutLine.objects.filter(period=period).exists()


# -- the checks ----------------------------------------------------------------------------------

HEAD = """code: pay-check
version: 1
name: 报酬检查
subject_kind: {kind}
cadence: year
tree:
  - {{code: P, name: 得分, rule: count, points: 1}}
consequences:
  payout:
"""


def _problems(kind: str, payout: str) -> str:
    text = HEAD.format(kind=kind) + payout
    with pytest.raises(SchemeError) as failed:
        load_scheme_text(text, filename="pay.yaml")
    return str(failed.value)


def test_an_unknown_post_is_refused_at_its_line():
    message = _problems(
        "cadre",
        "    denominator: 100\n    by_post:\n      secretary: 1000\n      accountant: 500\n",
    )
    assert message.startswith("pay.yaml 第 13 行，结果运用 consequences › payout › by_post：")
    assert "“accountant”" in message and "committee_member（村委委员）" in message


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ("    denominator: 0\n    by_post: {chair: 700}\n", 10, "denominator 必须大于 0"),
        ("    denominator: 100.005\n    by_post: {chair: 700}\n", 10, "denominator 100.005"),
        ("    denominator: 100\n    by_post: {chair: 1000.001}\n", 11, "1000.001"),
        ("    denominator: 100\n    by_post: {chair: 2000000}\n", 11, "不能大于 1000000"),
        ("    denominator: 100\n    by_post: {}\n", 11, "by_post 不能为空"),
        ("    by_post: {chair: 700}\n", 9, "必须写 denominator"),
        ("    denominator: 100\n    by_post: {chair: 7}\n    cap_rate: 0.00001\n", 12, "0.00001"),
        ("    denominator: 100\n    by_post: {chair: 7}\n    cap_rate: 101\n", 12, "cap_rate"),
    ],
)
def test_a_wrong_payout_block_is_refused_at_its_line(body, line, says):
    message = _problems("village", body)
    assert message.startswith(f"pay.yaml 第 {line} 行") and says in message


def test_only_schemes_of_cadres_villages_or_teams_pay_by_post():
    message = _problems("household", "    denominator: 100\n    by_post: {chair: 700}\n")
    assert message.startswith("pay.yaml 第 9 行，结果运用 consequences › payout：")
    assert "农户" in message
    for kind in ("cadre", "village", "team"):
        spec = load_scheme_text(
            HEAD.format(kind=kind) + "    denominator: 100\n    by_post: {chair: 700}\n",
            filename="pay.yaml",
        )
        assert spec.consequences.payout.by_post == {"chair": D(700)}
