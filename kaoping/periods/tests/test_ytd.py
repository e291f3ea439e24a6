"""Year-to-date totals (累计, docs/schemes.md “按累计排名”): the worked example closes to its
stated numbers, the close refuses to leave an open earlier period out, the checks refuse a list
that cannot have a year-to-date total, and the close equals the reference `scoring.ytd_total`
(and the lists on it `lists.reference`) whatever the ledgers, the variants, the base, floor and
max, for `sum` and `mean` years."""

import os
from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import gettext as _
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.api.models import ApiToken
from kaoping.core.errors import KaopingError
from kaoping.periods.lists import Ranked, reference
from kaoping.periods.models import ListMembership, Period, Result
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.publishing.selectors import export_sheets
from kaoping.schemes.calendar import period_dates
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.scoring import result_grade, ytd_total
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

from .close_harness import rolled_back
from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db

D = Decimal
SCALE = int(os.environ.get("KAOPING_EXAMPLES", "1"))
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def _load(county, text: str):
    version, _created = scheme_load(
        text=text, filename="ytd.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _close(scheme, label: str) -> Period:
    period = Period.objects.filter(scheme=scheme, label=label).first() or period_open(
        scheme=scheme, label=label, acting_user=system_actor()
    )
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    return period


def _points(period: Period, subject) -> tuple[Decimal, Decimal]:
    """(total, year-to-date) of `subject` in `period`, in points."""
    result = Result.objects.get(period=period, subject=subject)
    return period.version.to_points(result.total), period.version.to_points(result.ytd)


def _grades(period: Period) -> dict[int, str]:
    return dict(Result.objects.filter(period=period).values_list("subject_id", "grade_code"))


def _listed(period: Period, code: str) -> set[int]:
    return set(
        ListMembership.objects.filter(period=period, list_code=code).values_list(
            "subject_id", flat=True
        )
    )


# -- the worked example -------------------------------------------------------------------------

# Times of 日常工作 (10 points each) per month, January to June, as the docs' table states.
TIMES = {
    "甲": [3, 2, 1, 0, 0, 1],
    "乙": [1, 1, 1, 3, 3, 2],
    "丙": [2, 2, 1, 0, 0, 0],
}


def test_the_ytd_example_in_the_docs_closes_as_stated(county):
    scheme = _load(county, docs_example("ytd-example"))
    jia, yi, bing = village_subjects(county).values()
    villages = {"甲": jia, "乙": yi, "丙": bing}
    for name, times in TIMES.items():
        for month, n in enumerate(times, start=1):
            if n:
                record(scheme, villages[name], "GZ", str(n), on=date(2026, month, 10))
    closed = {label: _close(scheme, label) for label in MONTHS[:6]}
    q1, q2 = _close(scheme, "2026-Q1"), _close(scheme, "2026-Q2")

    # Q1: totals and year-to-date alike; below 60 → 乙 (30) and 丙 (50), not 甲 (60).
    assert [_points(q1, v) for v in (jia, yi, bing)] == [(60, 60), (30, 30), (50, 50)]
    assert _listed(q1, "yujing") == {yi.pk, bing.pk}
    # 累计达标 (a quarterly grade on the year to date, ≥ 60): 甲.
    assert _grades(q1) == {jia.pk: "dabiao", yi.pk: "", bing.pk: ""}
    # Q2: the quarter's own totals 10, 80, 0; year-to-date 70, 110, 50 → only 丙.
    assert [_points(q2, v) for v in (jia, yi, bing)] == [(10, 70), (80, 110), (0, 50)]
    assert _listed(q2, "yujing") == {bing.pk}
    assert _listed(q1, "lianxu") == set() and _listed(q2, "lianxu") == {bing.pk}
    # 甲 scores 10 this quarter, yet its 70 so far is 累计达标, as 乙's 110 is.
    assert _grades(q2) == {jia.pk: "dabiao", yi.pk: "dabiao", bing.pk: ""}
    # The listing shows the year-to-date it was made on.
    assert ListMembership.objects.get(period=q2, list_code="yujing").value == 5000
    # Months have their year-to-date too: 甲 30, 50, 60; no list on months (cadences: [quarter]).
    assert [_points(closed[m], jia)[1] for m in MONTHS[:3]] == [30, 50, 60]
    assert not ListMembership.objects.filter(period__in=closed.values()).exists()

    for label in MONTHS[6:]:
        _close(scheme, label)
    year = _close(scheme, "2026")
    assert [_points(year, v) for v in (jia, yi, bing)] == [(70, 70), (110, 110), (50, 50)]
    assert _grades(year) == {jia.pk: "buhege", yi.pk: "hege", bing.pk: "buhege"}
    # Months have no grade: 合格/不合格 are yearly, 累计达标 quarterly.
    assert set(_grades(closed["2026-03"]).values()) == {""}


def test_the_export_the_posting_and_the_api_show_the_year_to_date(county, client):
    scheme = _load(county, docs_example("ytd-example"))
    jia = village_subjects(county)["330304001001"]
    record(scheme, jia, "GZ", "3", on=date(2026, 1, 10))
    record(scheme, jia, "GZ", "2", on=date(2026, 2, 10))
    _close(scheme, "2026-01")
    february = _close(scheme, "2026-02")  # 甲: 20 this month, 50 so far

    sheet = export_sheets(
        february,
        results=Result.objects.all(),
        memberships=ListMembership.objects.all(),
        name_of=str,
    )[0]
    row = next(r for r in sheet.rows if r[2] == jia.name)
    assert row[sheet.header.index(_("total"))] == 20
    assert row[sheet.header.index(_("year to date"))] == 50

    _token, key = ApiToken.issue(user=county.users["carol"], name="test")
    answer = client.get(
        f"/api/periods/{february.pk}/results", headers={"Authorization": f"Bearer {key}"}
    ).json()
    mine = next(r for r in answer if r["subject_id"] == jia.pk)
    assert (D(mine["total"]), D(mine["ytd"])) == (20, 50)

    period_post(period=february, acting_user=system_actor())
    page = client.get(f"/p/{february.pk}/").content.decode()
    shown = page.split('class="muted ytd">', 1)[1].split("</small>", 1)[0]
    assert shown.split()[-1] == "50"


def test_a_scheme_without_ytd_lists_keeps_none(county):
    scheme = _load(
        county,
        docs_example("ytd-example")
        .replace(", value: ytd", "")
        .replace("累计积分预警", "季度预警")
        .replace("累计达标", "季度达标"),
    )
    village_subjects(county)
    period = _close(scheme, "2026-03")
    assert set(Result.objects.filter(period=period).values_list("ytd", flat=True)) == {None}


# -- what the close refuses and what it counts ------------------------------------------------


def test_an_earlier_month_still_open_stops_the_close(county):
    scheme = _load(county, docs_example("ytd-example"))
    jia, _yi, _bing = village_subjects(county).values()
    record(scheme, jia, "GZ", "2", on=date(2026, 1, 10))
    record(scheme, jia, "GZ", "1", on=date(2026, 3, 10))
    january = period_open(scheme=scheme, label="2026-01", acting_user=system_actor())
    march = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    with pytest.raises(KaopingError) as refused:
        period_close(period=march, acting_user=system_actor())
    assert "2026-01" in " ".join(refused.value.messages)
    march.refresh_from_db()
    assert march.status == "open" and not Result.objects.filter(period=march).exists()
    # Closed, it counts; February was never opened and counts nothing.
    period_close(period=january, acting_user=system_actor())
    period_close(period=march, acting_user=system_actor())
    assert _points(march, jia) == (10, 30)
    # A month of another year is no part of it.
    record(scheme, jia, "GZ", "4", on=date(2027, 1, 10))
    assert _points(_close(scheme, "2027-01"), jia) == (40, 40)


def test_a_mean_year_gives_the_mean_so_far(county):
    text = (
        docs_example("ytd-example")
        .replace("{cadence: year, method: sum}", "{cadence: year, method: mean}")
        .replace("{cadence: quarter, method: sum}", "{cadence: quarter, method: mean}")
    )
    scheme = _load(county, text)
    jia, _yi, _bing = village_subjects(county).values()
    for month, n in ((1, 3), (2, 2), (3, 2)):
        record(scheme, jia, "GZ", str(n), on=date(2026, month, 10))
    months = [_close(scheme, label) for label in MONTHS[:3]]
    # 30; (30 + 20) / 2 = 25; (30 + 20 + 20) / 3 = 23.33…
    assert [_points(m, jia)[1] for m in months] == [30, 25, D("23.33")]


# -- the checks ---------------------------------------------------------------------------------

LIST_LINE = "    - {code: yujing, name: 累计积分预警"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("  - {cadence: year, method: sum}\n", ""), "cadence: year"),
        (
            (
                "  - {cadence: year, method: sum}\n",
                "  - cadence: year\n    method: composite\n    parts:\n"
                "      - {source: month, aggregate: sum, weight: 1}\n",
            ),
            "composite",
        ),
        (
            ("{cadence: year, method: sum}", "{cadence: year, method: sum, source: quarter}"),
            "quarter",
        ),
        (("kind: mark, value: ytd,", "kind: mark, value: ytd, node: GZ,"), "node"),
        (("kind: mark, value: ytd", "kind: progress, value: ytd"), "进步榜"),
    ],
)
def test_the_checks_refuse_a_list_without_a_year_to_date(change, says):
    text = docs_example("ytd-example").replace(*change)
    with pytest.raises(SchemeError) as refused:
        load_scheme_text(text, filename="ytd.yaml")
    message = str(refused.value)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith(LIST_LINE))
    assert f"第 {line} 行" in message and "value" in message and says in message, message
    if says not in ("node", "进步榜"):
        # The grade on the year to date (累计达标) cannot have one either, on its own line.
        grade = next(i for i, row in enumerate(text.splitlines(), 1) if "累计达标" in row)
        assert f"第 {grade} 行" in message, message


# -- the close equals the reference -------------------------------------------------------------

PROPERTY = """
code: ytd-property
version: 1
name: 累计
subject_kind: village
cadence: month
decimals: {decimals}
base: {base}
floor: {floor}
max: 150
tree:
  - {{code: GZ, name: 工作, rule: count, points: 7.5}}
  - {{code: KF, name: 扣分, rule: quantity, unit: 分, points: -3}}
  - {{code: VZ, name: 清零, rule: veto, effect: zero}}
  - {{code: VB, name: 不得评优, rule: veto, effect: bar}}
  - {{code: VG, name: 定为一般, rule: veto, effect: grade, grade: fair}}
grades:
  - {{code: star, name: 累计之星, honour: true, value: ytd, min: {star}, min_inclusive: true}}
  - {{code: good, name: 本期良好, min: 30, min_inclusive: true}}
  - {{code: fair, name: 一般, value: ytd, max: {star}, max_inclusive: false}}
variants:
  强基村:
    nodes:
      __root__: {{base: {variant_base}}}
rollups:
  - {{cadence: quarter, method: {method}}}
  - {{cadence: year, method: {method}}}
ranking:
  lists:
    - {{code: low, name: 累计偏低, kind: mark, value: ytd, max: {bound}, max_inclusive: {inclusive}}}
    - {{code: top, name: 累计前二, kind: flag, value: ytd, count: 2, at_cutoff: {cutoff}}}
  awards:
    - code: yprize
      name: 累计奖
      value: ytd
      tiers: [{{code: one, name: 一等, quota: 1}}, {{code: two, name: 二等, min: 40}}]
"""


@st.composite
def years(draw):
    """A scheme, tracks, and per month (Jan–May) entries of three villages; April may be left
    unopened (it counts nothing)."""
    text = PROPERTY.format(
        decimals=draw(st.sampled_from([1, 2])),
        base=draw(st.sampled_from([0, 60, 100])),
        floor=draw(st.sampled_from([0, -20])),
        variant_base=draw(st.sampled_from([0, 80])),
        method=draw(st.sampled_from(["sum", "mean"])),
        bound=draw(st.sampled_from([40, 75, 120])),
        inclusive=draw(st.sampled_from(["true", "false"])),
        cutoff=draw(st.sampled_from(["include", "exclude"])),
        star=draw(st.sampled_from([50, 90, 130])),
    )
    tracks = draw(st.lists(st.sampled_from(["", "强基村"]), min_size=3, max_size=3))
    skipped = draw(st.sampled_from([None, "2026-04"]))
    entries = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),  # village
                st.integers(1, 5),  # month
                st.sampled_from(["GZ", "GZ", "KF", "VZ", "VB", "VG"]),
                st.integers(1, 9),
            ),
            max_size=14,
        )
    )
    return text, tracks, skipped, entries


def test_the_close_equals_the_reference(county):
    villages = list(village_subjects(county).values())

    @settings(
        max_examples=6 * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(case=years())
    def example(case):
        text, tracks, skipped, entries = case
        with rolled_back():
            scheme = _load(county, text)
            spec = load_scheme_text(text, filename="ytd.yaml")
            for village, track in zip(villages, tracks, strict=True):
                village.track = track
                village.save(update_fields=["track"])
            for village, month, item, n in entries:
                record(scheme, villages[village], item, str(n), on=date(2026, month, 5 + n))
            labels = [m for m in MONTHS[:5] if m != skipped] + ["2026-Q1"]
            labels.sort(
                key=lambda label: period_dates("quarter" if "Q" in label else "month", label)[1]
            )
            for label in labels:
                period = _close(scheme, label)
                scale = period.version.scale
                closed = Result.objects.filter(
                    period__scheme=scheme,
                    period__cadence="month",
                    period__end__lte=period.end,
                )
                rows = []
                for result in Result.objects.filter(period=period):
                    totals = [
                        period.version.to_points(r.total)
                        for r in closed.filter(subject_id=result.subject_id)
                    ]
                    expected = ytd_total(spec, totals, variant=result.variant or None)
                    assert period.version.to_points(result.ytd) == expected, (label, totals)
                    grade = result_grade(
                        spec,
                        period.version.to_points(result.total),
                        cadence=period.cadence,
                        ytd=expected,
                        barred=result.barred,
                        forced=spec.grade("fair") if result.grade_forced else None,
                        variant=result.variant or None,
                    )
                    assert result.grade_code == (grade.code if grade else ""), (label, expected)
                    rows.append(
                        Ranked(
                            subject=result.subject_id,
                            group=result.rank_group,
                            total=result.total,
                            barred=result.barred,
                            ytd=result.ytd,
                        )
                    )
                listed = set(
                    ListMembership.objects.filter(period=period).values_list(
                        "list_code", "subject_id", "tier"
                    )
                )
                assert listed == reference(spec, rows, scale)[0], label

    example()
