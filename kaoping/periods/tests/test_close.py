"""Period close: hand-computed results for every rule, roll-ups, re-close and failure."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.periods.models import Period, Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.testing import result_node, result_nodes

from .scheme_fixture import load_test_scheme, record, report_metric, village_subjects

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"


def totals(period) -> dict[str, Decimal]:
    version = period.version
    return {
        r.subject.region.code: version.to_points(r.total)
        for r in Result.objects.filter(period=period).select_related("subject__region")
    }


def node(period, subject, code) -> Decimal:
    return period.version.to_points(result_node(period, subject, code).value)


@pytest.fixture
def setup(county):
    version = load_test_scheme(county)
    subjects = village_subjects(county, {XIXI: "强基村"})
    return version.scheme, subjects


def test_every_rule_by_hand(setup):
    scheme, s = setup
    d = s[DONGLING]
    for _ in range(4):
        record(scheme, d, "A1")  # 4 × 5 = 20, capped at 15
    record(scheme, d, "A2", "7.5")  # 7.5 × 0.5 = 3.75
    record(scheme, d, "A3", label="好")
    record(scheme, d, "A3", label="中")  # mean 0.8 × 20 = 16 → A = 15 + 3.75 + 16 = 34.75
    record(scheme, d, "B1", "2")
    record(scheme, d, "B2", "5")  # 30 − 20 − 12 (cap) = −2 → floor 0
    record(scheme, d, "C1", "2")  # 12 → bonus cap 10
    record(scheme, d, "D1", "1")  # −5
    record(scheme, d, "A1", on=date(2026, 4, 1))  # outside March: ignored
    record(scheme, d, "A1", status="submitted")  # not approved: ignored
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    report_metric(period, d, "reported_rate", "0.9")  # inclusive lower bound → 10
    period_close(period=period, acting_user=system_actor())

    assert node(period, d, "A") == Decimal("34.75")
    assert node(period, d, "B") == Decimal("0")
    assert node(period, d, "C") == Decimal("10")
    assert node(period, d, "D") == Decimal("-5")
    assert node(period, d, "E1") == Decimal("10")
    result = Result.objects.get(period=period, subject=d)
    assert period.version.to_points(result.total) == Decimal("49.75")  # 34.75 + 0 + 10 − 5 + 10
    assert result.grade_code == "fair"
    a1 = result_node(period, d, "A1")
    assert (a1.raw, a1.value, a1.entry_count) == (
        2000,
        1500,
        4,
    )  # the cap is visible as raw ≠ value

    # A village with nothing recorded still gets its bases: B = 30.
    assert totals(period)[NANSHAN] == Decimal("30")
    assert Result.objects.get(period=period, subject=s[NANSHAN]).grade_code == "fair"


def test_vetoes_take_effect_and_are_recorded(setup):
    scheme, s = setup
    for code in (DONGLING, NANSHAN, XIXI):
        record(scheme, s[code], "C1", "2")
        for _ in range(3):
            record(scheme, s[code], "A1")
    record(scheme, s[DONGLING], "V0")
    record(scheme, s[NANSHAN], "V1")
    record(scheme, s[XIXI], "V2")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    results = {
        r.subject.region.code: r
        for r in Result.objects.filter(period=period).select_related("subject__region")
    }
    assert results[DONGLING].zeroed and results[DONGLING].total == 0
    assert results[DONGLING].raw_total == 5500  # 15 + 30 + 10
    assert results[NANSHAN].grade_code == "poor" and results[NANSHAN].grade_forced
    # 强基村 variant: A1 is worth 8 and C1 is excluded → 24 (cap 15) + 30 = 45 → fair; barred.
    assert (
        results[XIXI].barred and results[XIXI].total == 4500 and results[XIXI].grade_code == "fair"
    )
    fired = {code for (_s, code), n in result_nodes(period).items() if n.fired}
    assert fired == {"V0", "V1", "V2"}


def test_honour_grade_is_withheld_when_barred(setup):
    scheme, s = setup
    for code in (DONGLING, NANSHAN):
        for _ in range(3):
            record(scheme, s[code], "A1")
        record(scheme, s[code], "A3", label="好")
        record(scheme, s[code], "C1", "2")  # 15 + 20 + 30 + 10 = 75 → good (an honour)
    record(scheme, s[NANSHAN], "V2")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    grades = {
        r.subject.region.code: r.grade_code
        for r in Result.objects.filter(period=period).select_related("subject__region")
    }
    assert grades[DONGLING] == "good"
    assert grades[NANSHAN] == ""


def test_reversal_cancels_and_ranks_are_competition_within_track(setup):
    scheme, s = setup
    original = record(scheme, s[DONGLING], "B1")
    record(scheme, s[DONGLING], "B1", sign=-1).__class__.objects.filter(pk=original.pk)
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    results = {
        r.subject.region.code: r
        for r in Result.objects.filter(period=period).select_related("subject__region")
    }
    assert results[DONGLING].total == 3000
    # Same total, same rank; 西溪村 is alone in its track.
    assert (results[DONGLING].rank, results[NANSHAN].rank, results[XIXI].rank) == (1, 1, 1)
    assert results[XIXI].rank_group == "强基村" and results[DONGLING].rank_group == ""


def test_close_twice_is_identical_and_audited(setup):
    scheme, s = setup
    record(scheme, s[DONGLING], "A1")
    record(scheme, s[NANSHAN], "A3", label="差")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    first = list(
        Result.objects.filter(period=period)
        .order_by("subject_id")
        .values_list("subject_id", "total", "rank", "grade_code")
    )
    nodes = sorted(result_nodes(period).items())
    period_close(period=period, acting_user=system_actor())
    assert first == list(
        Result.objects.filter(period=period)
        .order_by("subject_id")
        .values_list("subject_id", "total", "rank", "grade_code")
    )
    assert nodes == sorted(result_nodes(period).items())
    assert AuditLog.objects.filter(action="periods.period.closed").count() == 2
    # The audit row counts what the close wrote (from the statements' own row counts).
    counted = AuditLog.objects.filter(action="periods.period.closed").latest("pk").after
    assert counted["results"] == len(first) and nodes
    period.refresh_from_db()
    assert period.status == "closed"


def test_failed_close_leaves_previous_state(setup, monkeypatch):
    scheme, s = setup
    record(scheme, s[DONGLING], "A1")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    before = list(Result.objects.filter(period=period).values_list("subject_id", "total"))
    record(scheme, s[DONGLING], "A1")

    from kaoping.periods import engine

    def broken(scope):
        sql, params = original(scope)
        return sql + " GARBAGE", params

    original = engine.result_statement
    monkeypatch.setattr(engine, "result_statement", broken)
    with pytest.raises(Exception):  # noqa: B017 — any database error
        period_close(period=period, acting_user=system_actor())
    assert list(Result.objects.filter(period=period).values_list("subject_id", "total")) == before
    assert AuditLog.objects.filter(action="periods.period.closed").count() == 1


def test_quarter_rollup_sums_months_and_needs_them_closed(setup):
    scheme, s = setup
    for month in (1, 2, 3):
        record(scheme, s[DONGLING], "A1", on=date(2026, month, 5))
    quarter = period_open(scheme=scheme, label="2026-Q1", acting_user=system_actor())
    with pytest.raises(KaopingError, match="2026-01"):
        period_close(period=quarter, acting_user=system_actor())
    for label in ("2026-01", "2026-02", "2026-03"):
        period_close(
            period=period_open(scheme=scheme, label=label, acting_user=system_actor()),
            acting_user=system_actor(),
        )
    period_close(period=quarter, acting_user=system_actor())
    assert totals(quarter)[DONGLING] == Decimal("105")  # 3 × (5 + 30)
    assert totals(quarter)[NANSHAN] == Decimal("90")
    assert node(quarter, s[DONGLING], "A1") == Decimal("15")
    assert Period.objects.get(pk=quarter.pk).status == "closed"


def test_close_runs_one_statement_per_level_not_per_subject(setup, django_assert_max_num_queries):
    scheme, s = setup
    for subject in s.values():
        for _ in range(5):
            record(scheme, subject, "A1")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    with django_assert_max_num_queries(30):
        period_close(period=period, acting_user=system_actor())


def test_engine_sql_is_the_same_text_on_every_database(setup):
    # Guard against vendor branches creeping into the engine.
    import inspect

    from kaoping.periods import engine

    assert "connection.vendor" not in inspect.getsource(engine)
    assert connection.vendor in {"sqlite", "postgresql"}
