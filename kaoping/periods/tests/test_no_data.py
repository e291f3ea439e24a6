"""`no_data`: what the close does with subjects that have no data in the period."""

from datetime import date
from pathlib import Path

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.periods.models import ListMembership, Period, Result
from kaoping.periods.services import period_close, period_open, subjects_without_data
from kaoping.schemes.services import scheme_load

from .scheme_fixture import record, report_metric, village_subjects

pytestmark = pytest.mark.django_db

SCHEME = """
code: nodata
version: 1
name: 无数据
subject_kind: village
cadence: month
base: 50
no_data: {policy}
tree:
  - {{code: P, name: 得分, rule: count, points: 5}}
  - code: M
    name: 指标
    rule: metric
    metric: reported_rate
    bands:
      - {{min: 0.5, min_inclusive: true, points: 10}}
rollups:
  - {{cadence: quarter, method: sum}}
ranking:
  lists:
    - {{code: black, name: 后进, kind: black, pick: bottom, count: 1}}
"""


def _setup(county, policy):
    version, _ = scheme_load(
        text=SCHEME.format(policy=policy),
        filename="nodata.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects = village_subjects(county)
    return version.scheme, list(subjects.values())


def _month(scheme, label="2026-03"):
    return period_open(scheme=scheme, label=label, acting_user=system_actor())


def test_zero_scores_subjects_without_data_from_the_base(county):
    scheme, (a, b, c) = _setup(county, "zero")
    record(scheme, a, "P", on=date(2026, 3, 3))
    period = _month(scheme)
    period_close(period=period, acting_user=system_actor())
    totals = dict(Result.objects.filter(period=period).values_list("subject_id", "total"))
    assert totals == {a.pk: 5500, b.pk: 5000, c.pk: 5000}
    assert ListMembership.objects.filter(period=period, list_code="black").count() == 2


def test_exclude_leaves_them_unranked_and_off_every_list(county):
    scheme, (a, b, c) = _setup(county, "exclude")
    record(scheme, a, "P", on=date(2026, 3, 3))
    record(scheme, c, "P", on=date(2026, 2, 28))  # outside March: no data in March
    record(scheme, c, "P", on=date(2026, 3, 4), status="submitted")  # not approved: none either
    period = _month(scheme)
    report_metric(period, b, "reported_rate", "0.2")  # a reported figure is data
    assert subjects_without_data(period, period.version.spec()) == (1, [(c.pk, c.name)])
    period_close(period=period, acting_user=system_actor())
    results = {r.subject_id: r for r in Result.objects.filter(period=period)}
    assert set(results) == {a.pk, b.pk}
    assert (results[a.pk].rank, results[b.pk].rank) == (1, 2)
    assert list(
        ListMembership.objects.filter(period=period, list_code="black").values_list(
            "subject_id", flat=True
        )
    ) == [b.pk]
    # The quarter is summed from the months a subject has a result in; c has none.
    for label in ("2026-01", "2026-02"):
        period_close(period=_month(scheme, label), acting_user=system_actor())
    quarter = _month(scheme, "2026-Q1")
    period_close(period=quarter, acting_user=system_actor())
    february = set(
        Result.objects.filter(period__label="2026-02").values_list("subject_id", flat=True)
    )
    assert february == {c.pk}  # c's February entry
    assert set(Result.objects.filter(period=quarter).values_list("subject_id", flat=True)) == {
        a.pk,
        b.pk,
        c.pk,
    }


def test_block_refuses_naming_them_and_changes_nothing(county):
    scheme, (a, b, c) = _setup(county, "block")
    record(scheme, a, "P", on=date(2026, 3, 3))
    period = _month(scheme)
    with pytest.raises(KaopingError) as refused:
        period_close(period=period, acting_user=system_actor())
    message = str(refused.value)
    assert "2" in message and b.name in message and c.name in message
    assert "no_data: block" in message
    assert Period.objects.get(pk=period.pk).status == "open"
    assert not Result.objects.filter(period=period).exists()
    record(scheme, b, "P", on=date(2026, 3, 5))
    record(scheme, c, "P", on=date(2026, 3, 5))
    period_close(period=period, acting_user=system_actor())
    assert Result.objects.filter(period=period).count() == 3


DOCS = Path(__file__).resolve().parents[3] / "docs" / "schemes.md"


@pytest.mark.parametrize("policy", ["exclude", "zero", "block"])
def test_the_example_in_the_docs_closes_as_stated(county, policy):
    doc = DOCS.read_text(encoding="utf-8")
    example = next(
        block.split("```", 1)[0]
        for block in doc.split("```yaml\n")[1:]
        if "code: nodata-example" in block.split("```", 1)[0]
    )
    text = example.replace("no_data: exclude", f"no_data: {policy}")
    version, _ = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    for subject, times in ((jia, 2), (yi, 1)):
        for day in range(times):
            record(scheme, subject, "HD", on=date(2026, 3, 3 + day))
    period = _month(scheme)
    if policy == "block":
        with pytest.raises(KaopingError, match=bing.name):
            period_close(period=period, acting_user=system_actor())
        return
    period_close(period=period, acting_user=system_actor())
    results = {r.subject_id: (r.total, r.rank) for r in Result.objects.filter(period=period)}
    last = ListMembership.objects.get(period=period, list_code="last").subject_id
    if policy == "exclude":
        assert results == {jia.pk: (8000, 1), yi.pk: (7000, 2)} and last == yi.pk
    else:
        assert results[bing.pk] == (6000, 3) and last == bing.pk
