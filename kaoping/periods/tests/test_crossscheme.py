"""One scheme's result as another's input (`source:` metric items, docs/schemes.md 读取其他方案的
结果): the worked example closes to the numbers the text states, the close's SQL equals the
plain-Python `scoring.source_figure` whatever the results, and the upload refuses what cannot be
read, at the file's line."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.ledger.models import MetricValue
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.crossscheme import source_metrics, sources_missing
from kaoping.periods.metrics import system_metrics
from kaoping.periods.models import ListMembership, Period, PeriodStatus, Result
from kaoping.periods.services import metrics_report, period_close, period_open
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.models import METRIC_SCALE
from kaoping.schemes.scoring import SourceResult, source_figure
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

from .close_harness import rolled_back
from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db

VILLAGES = ("330304001001", "330304001002", "330304002001")


def _load(county, text: str, filename: str = "docs.yaml"):
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _close(scheme, label: str) -> Period:
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    return period


def _teams(county) -> list[Subject]:
    subjects_sync(kind="team")
    return [Subject.objects.get(kind="team", region=county.region(code)) for code in VILLAGES]


def _values(period: Period) -> dict[tuple[int, str], Decimal]:
    return {
        (subject_id, metric): Decimal(value) / METRIC_SCALE
        for subject_id, metric, value in MetricValue.objects.filter(
            scheme_id=period.scheme_id, period_label=period.label
        ).values_list("subject_id", "metric", "value_scaled")
    }


def _points(result: Result) -> Decimal:
    return Decimal(result.total) / result.period.version.scale


# -- the worked example -------------------------------------------------------------------------


def test_the_crossscheme_example_in_the_docs_closes_to_its_numbers(county):
    biwu = _load(county, docs_example("crossscheme-biwu-example"))
    jia, yi, bing = village_subjects(county).values()
    times = {
        "2026-01": (9, 6, 5),
        "2026-02": (9, 8, 5),
        "2026-03": (7, 9, 5),
    }
    for label, counts in times.items():
        day = date(2026, int(label[-2:]), 10)
        for subject, n in zip((jia, yi, bing), counts, strict=True):
            record(biwu, subject, "GZ", str(n), on=day)
        _close(biwu, label)
    reader = _load(county, docs_example("crossscheme-example"))
    quarter = period_open(scheme=reader, label="2026-Q1", acting_user=system_actor())
    biwu_quarter = period_open(scheme=biwu, label="2026-Q1", acting_user=system_actor())
    # The source's quarter is not closed yet: the close page lists it, the close refuses.
    spec = quarter.version.spec()
    assert sources_missing(quarter, spec) == [
        ("擂台比武(来源示例)", "擂台比武季度等次", ["2026-Q1"])
    ]
    with pytest.raises(KaopingError) as refused:
        period_close(period=quarter, acting_user=system_actor())
    assert "2026-Q1" in str(refused.value) and "擂台比武(来源示例)" in str(refused.value)
    quarter.refresh_from_db()
    assert quarter.status == PeriodStatus.OPEN
    assert not Result.objects.filter(period=quarter).exists()

    biwu_quarter = _close(biwu, "2026-Q1")
    red = ListMembership.objects.filter(
        period__scheme=biwu, period__cadence="month", list_code="red"
    )
    assert sorted((m.period.label, m.subject_id) for m in red) == [
        ("2026-01", jia.pk),
        ("2026-02", jia.pk),
        ("2026-03", yi.pk),
    ]
    by_subject = {r.subject_id: r for r in Result.objects.filter(period=biwu_quarter)}
    assert [(_points(by_subject[s.pk]), by_subject[s.pk].grade_code) for s in (jia, yi, bing)] == [
        (Decimal("83.33"), "youxiu"),
        (Decimal("76.67"), "hege"),
        (Decimal("50.00"), "buhege"),
    ]

    assert sources_missing(quarter, spec) == []
    quarter = _close(reader, "2026-Q1")
    teams = _teams(county)
    values = _values(quarter)
    expected = {
        "biwu_red_months": ("2", "1", "0"),
        "biwu_mean_total": ("83.3333", "76.6667", "50"),
        "biwu_quarter_grade": ("10", "6", "0"),
    }
    for metric, figures in expected.items():
        for team, figure in zip(teams, figures, strict=True):
            assert values[(team.pk, metric)] == Decimal(figure), (metric, team)
    results = {r.subject_id: r for r in Result.objects.filter(period=quarter)}
    assert [_points(results[t.pk]) for t in teams] == [Decimal(40), Decimal(23), Decimal(4)]
    # The metric is the system's: the close does not ask for it, nobody reports it.
    assert {"biwu_red_months", "biwu_mean_total", "biwu_quarter_grade"} <= system_metrics(reader.pk)
    with pytest.raises(ImportFailed, match="biwu_red_months"):
        metrics_report(
            period=quarter, values=[(teams[0], "biwu_red_months", 3)], acting_user=system_actor()
        )
    # Closing again reads the same results: identical.
    again = _close(reader, "2026-Q1")
    assert _values(again) == values


# -- the SQL equals the reference ---------------------------------------------------------------

SOURCE = """
code: xs-source
version: 1
name: 来源
subject_kind: village
cadence: month
decimals: 5
tree:
  - {code: A, name: 得分, rule: quantity, points: 1, unit: 分}
grades:
  - {code: g1, name: 一等, min: 50, min_inclusive: true}
  - {code: g2, name: 二等, min: 20, min_inclusive: true, max: 50, max_inclusive: false}
rollups:
  - {cadence: quarter, method: mean}
ranking:
  lists:
    - {code: red, name: 红榜, kind: red, count: 1}
    - {code: black, name: 黑榜, kind: black, pick: bottom, count: 1}
"""

READER = """
code: xs-reader
version: 1
name: 读取
subject_kind: {kind}
cadence: quarter
decimals: 4
tree:
  - {{code: T, name: 总分, rule: metric, metric: m_total, linear: {{target: 0, step: 1, floor: -1000, max: 1000}},
      source: {{scheme: xs-source, take: total, cadence: month, aggregate: {a_total}}}}}
  - {{code: R, name: 名次, rule: metric, metric: m_rank, linear: {{target: 0, step: 1, floor: -1000, max: 1000}},
      source: {{scheme: xs-source, take: rank, cadence: month, aggregate: {a_rank}}}}}
  - {{code: G, name: 等次, rule: metric, metric: m_grade, linear: {{target: 0, step: 1, floor: -1000, max: 1000}},
      source: {{scheme: xs-source, take: grade, grades: {{g1: 1.3333, g2: 0.5}}, cadence: {g_cadence}}}}}
  - {{code: L, name: 上榜, rule: metric, metric: m_list, linear: {{target: 0, step: 1, floor: -1000, max: 1000}},
      source: {{scheme: xs-source, take: list, list: {list}, cadence: month, aggregate: {a_list}}}}}
"""

MONTHS = ("2026-01", "2026-02", "2026-03")
AGGREGATES = st.sampled_from(["mean", "sum", "min", "max"])
# (total in 10^-5 points, rank, grade, lists) of one village in one period; None: no result.
RESULT = st.one_of(
    st.none(),
    st.tuples(
        st.integers(-3_000_000, 9_999_999),
        st.integers(1, 3),
        st.sampled_from(["", "g1", "g2"]),
        st.sets(st.sampled_from(["red", "black"])),
    ),
)


def test_the_close_equals_source_figure_whatever_the_results(county):
    villages = list(village_subjects(county).values())
    teams = _teams(county)
    source = _load(county, SOURCE, "source.yaml")
    periods = {
        label: period_open(scheme=source, label=label, acting_user=system_actor())
        for label in (*MONTHS, "2026-Q1")
    }

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        results=st.lists(RESULT, min_size=12, max_size=12),
        aggregates=st.tuples(AGGREGATES, AGGREGATES, AGGREGATES),
        g_cadence=st.sampled_from(["month", "quarter"]),
        list_code=st.sampled_from(["red", "black"]),
        kind=st.sampled_from(["team", "village"]),
    )
    def example(results, aggregates, g_cadence, list_code, kind):
        a_total, a_rank, a_list = aggregates
        text = READER.format(
            kind=kind,
            a_total=a_total,
            a_rank=a_rank,
            a_list=a_list,
            g_cadence=g_cadence,
            list=list_code,
        )
        with rolled_back():
            given: dict[tuple[str, int], SourceResult] = {}
            for index, drawn in enumerate(results):
                label = (*MONTHS, "2026-Q1")[index // 3]
                village = villages[index % 3]
                if drawn is None:
                    continue
                total, rank, grade, lists = drawn
                period = periods[label]
                Result.objects.create(
                    period=period,
                    subject=village,
                    total=total,
                    raw_total=total,
                    grade_code=grade,
                    rank=rank,
                )
                for code in lists:
                    ListMembership.objects.create(
                        period=period, subject=village, list_code=code, kind=code
                    )
                given[(label, village.pk)] = SourceResult(
                    Decimal(total).scaleb(-5), rank, grade, frozenset(lists)
                )
            Period.objects.filter(pk__in=[p.pk for p in periods.values()]).update(
                status=PeriodStatus.CLOSED
            )
            reader = _load(county, text, "reader.yaml")
            spec = load_scheme_text(text)
            quarter = _close(reader, "2026-Q1")
            values = _values(quarter)
            readers = teams if kind == "team" else villages
            for item in spec.tree:
                source = item.source
                labels = MONTHS if str(source.cadence) == "month" else ("2026-Q1",)
                for subject, village in zip(readers, villages, strict=True):
                    read = [given[(lb, village.pk)] for lb in labels if (lb, village.pk) in given]
                    expected = source_figure(source, read)
                    assert values.get((subject.pk, item.metric)) == expected, (item.code, read)

    example()


# -- what the upload refuses --------------------------------------------------------------------

ONE_ITEM = """code: xs-one
version: 1
name: 读取一项
subject_kind: {kind}
cadence: {cadence}
tree:
  - code: X
    name: 读取
    rule: metric
    metric: m_x
    linear: {{target: 0, step: 1}}
    source: {{scheme: {scheme}, take: {take}{more}}}
"""


def _refused(county, **given) -> str:
    values = {"kind": "team", "cadence": "quarter", "scheme": "xs-source", "take": "total"}
    values["more"] = ""
    values.update(given)
    with pytest.raises(SchemeError) as refused:
        _load(county, ONE_ITEM.format(**values), "one.yaml")
    return str(refused.value)


def test_the_upload_refuses_what_cannot_be_read_at_the_line(county):
    _load(county, SOURCE, "source.yaml")
    assert _refused(county, scheme="xs-nowhere") == (
        "one.yaml 第 12 行，X 读取 › source：没有代码为 xs-nowhere 的方案："
        "先上传来源方案，再上传读取它的方案"
    )
    assert "不能读取自己" in _refused(county, scheme="xs-one")
    assert "没有代码为 top9 的榜单" in _refused(county, take="list", more=", list: top9")
    assert "take: list 需要写 list" in _refused(county, take="list")
    assert "缺少" in _refused(county, take="grade", more=", grades: {g1: 1}")
    assert "没有等次 g9" in _refused(county, take="grade", more=", grades: {g1: 1, g2: 0, g9: 2}")
    assert "只能读取同类对象" in _refused(county, kind="household")
    # A year reads the source's year, which it does not have; a month cannot read a quarter.
    assert "没有" in _refused(county, cadence="year")
    assert "不能长于" in _refused(county, cadence="month", more=", cadence: quarter")


def test_a_cycle_is_refused(county):
    _load(county, SOURCE, "source.yaml")
    _load(
        county,
        ONE_ITEM.format(
            kind="village", cadence="quarter", scheme="xs-source", take="total", more=""
        ),
        "one.yaml",
    )
    back = SOURCE.replace("version: 1", "version: 2").replace(
        "  - {code: A, name: 得分, rule: quantity, points: 1, unit: 分}",
        "  - {code: A, name: 得分, rule: quantity, points: 1, unit: 分}\n"
        "  - {code: B, name: 读回, rule: metric, metric: m_back,"
        " linear: {target: 0, step: 1, floor: 0, max: 10},"
        " source: {scheme: xs-one, take: rank}}",
    )
    with pytest.raises(SchemeError) as refused:
        _load(county, back, "source.yaml")
    assert "循环读取：xs-source → xs-one → xs-source" in str(refused.value)


def test_source_metrics_names_the_filled_metrics(county):
    _load(county, SOURCE, "source.yaml")
    one = _load(
        county,
        ONE_ITEM.format(kind="team", cadence="quarter", scheme="xs-source", take="total", more=""),
        "one.yaml",
    )
    assert source_metrics(one.pk) == {"m_x"}
    assert "m_x" in system_metrics(one.pk)


def test_a_source_period_never_opened_reads_as_no_result(county):
    """A month the contest was not held (no period at all) is skipped, an open one refuses."""
    biwu = _load(county, docs_example("crossscheme-biwu-example"))
    jia, yi, bing = village_subjects(county).values()
    for subject, n in ((jia, 7), (yi, 4)):
        record(biwu, subject, "GZ", str(n), on=date(2026, 4, 10))
    _close(biwu, "2026-04")  # May and June: no contest, no period
    reader = _load(county, docs_example("crossscheme-example"))
    quarter = period_open(scheme=reader, label="2026-Q2", acting_user=system_actor())
    assert sources_missing(quarter, quarter.version.spec()) == []
    quarter = _close(reader, "2026-Q2")
    teams = _teams(county)
    values = _values(quarter)
    # April alone: 甲 70 on the red list, 乙 40, 丙 0; the quarter's grade was never closed.
    assert [values.get((t.pk, "biwu_mean_total")) for t in teams] == [70, 40, 0]
    assert [values.get((t.pk, "biwu_red_months")) for t in teams] == [1, 0, 0]
    assert [values.get((t.pk, "biwu_quarter_grade")) for t in teams] == [None, None, None]
    results = {r.subject_id: r for r in Result.objects.filter(period=quarter)}
    assert [_points(results[t.pk]) for t in teams] == [Decimal(5 + 12), Decimal(4), Decimal(4)]
    # May opened (an entry, a period) but not closed: the close waits for it.
    period_open(scheme=biwu, label="2026-05", acting_user=system_actor())
    with pytest.raises(KaopingError, match="2026-05"):
        period_close(period=quarter, acting_user=system_actor())
