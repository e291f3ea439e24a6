"""Entries the system records from metrics (`from_metric` count items)."""

from datetime import date

import pytest
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, MetricValue
from kaoping.ledger.services import entry_record, metric_values_put
from kaoping.people.models import Subject
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

pytestmark = pytest.mark.django_db

SCHEME = """
code: visits
version: 1
name: 走访积分
subject_kind: household
cadence: month
base: 100
tree:
  - code: POS
    name: 正面清单
    children:
      - code: VISITED
        name: 按时接受走访
        rule: count
        points: 2
        from_metric: {metric: visit_coverage, min: 1, min_inclusive: true}
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 1}
"""


def test_from_metric_needs_explicit_bounds():
    with pytest.raises(SchemeError, match="min_inclusive"):
        load_scheme_text(SCHEME.replace(", min_inclusive: true", ""), filename="v.yaml")


def test_close_writes_computed_entries_once_and_reverses_when_no_longer_true(county):
    version, _ = scheme_load(
        text=SCHEME, filename="v.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    scheme = version.scheme
    households = list(Subject.objects.filter(kind="household").order_by("id"))
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    for subject, value in zip(households[:3], (1, "0.5", 1), strict=True):
        MetricValue.objects.create(
            scheme=scheme,
            period_label=period.label,
            subject=subject,
            metric="visit_coverage",
            value_scaled=int(float(value) * 10000),
        )
    period_close(period=period, acting_user=system_actor())
    computed = Entry.objects.filter(source="computed")
    assert sorted(computed.values_list("subject_id", flat=True)) == [
        households[0].pk,
        households[2].pk,
    ]
    assert set(computed.values_list("status", flat=True)) == {"approved"}
    totals = dict(Result.objects.filter(period=period).values_list("subject_id", "total"))
    assert totals[households[0].pk] == 10200 and totals[households[1].pk] == 10000

    period_close(period=period, acting_user=system_actor())  # again: nothing new
    assert computed.count() == 2

    MetricValue.objects.filter(subject=households[2]).update(value_scaled=9000)
    period_close(period=period, acting_user=system_actor())
    assert (
        Entry.objects.filter(source="computed", sign=-1, reverses__subject=households[2]).count()
        == 1
    )
    assert (
        dict(Result.objects.filter(period=period).values_list("subject_id", "total"))[
            households[2].pk
        ]
        == 10000
    )
    assert list(chain_verify()) == []


def test_people_cannot_record_a_system_item(county):
    version, _ = scheme_load(
        text=SCHEME, filename="v.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    subject = Subject.objects.filter(kind="household").first()
    with pytest.raises(KaopingError) as caught:
        entry_record(
            scheme=version.scheme,
            subject=subject,
            item_code="VISITED",
            occurred_on=date(2026, 3, 2),
            acting_user=county.users["dave"],
        )
    assert "item_code" in caught.value.message_dict


def test_pushed_metric_values_replace_earlier_ones_and_the_last_given_wins(county):
    version, _ = scheme_load(
        text=SCHEME, filename="v.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    households = list(Subject.objects.filter(kind="household").order_by("id")[:3])
    with transaction.atomic():
        metric_values_put(
            scheme=version.scheme,
            period_label="2026-03",
            values=[(households[0], "visit_coverage", "0.5"), (households[1], "visit_coverage", 1)],
        )
    with transaction.atomic():
        metric_values_put(
            scheme=version.scheme,
            period_label="2026-03",
            values=[
                (households[0], "visit_coverage", "0.25"),
                (households[2], "visit_coverage", "0.1"),
                (households[2], "visit_coverage", "0.75"),
            ],
        )
    stored = dict(
        MetricValue.objects.filter(period_label="2026-03").values_list("subject_id", "value_scaled")
    )
    assert stored == {households[0].pk: 2500, households[1].pk: 10000, households[2].pk: 7500}
