"""A small scheme that uses every rule, and helpers to record entries and close periods."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry, MetricValue
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.schemes.models import METRIC_SCALE, QTY_SCALE
from kaoping.schemes.services import scheme_load

TEST_SCHEME = """
code: test-village
version: 1
name: 测试考评
subject_kind: village
cadence: month
base: 0
max: 200
tree:
  - code: A
    name: 党建
    max: 50
    children:
      - {code: A1, name: 开会, rule: count, points: 5, cap: 15}
      - {code: A2, name: 种树, rule: quantity, points: 0.5, unit: 株, cap: 20}
      - {code: A3, name: 群众评议, rule: rating, weight: 20, levels: {好: 1, 中: 0.6, 差: 0.2}}
  - code: B
    name: 平安
    base: 30
    floor: 0
    max: 30
    children:
      - {code: B1, name: 发生案件, rule: count, points: -10}
      - {code: B2, name: 信访, rule: count, points: -4, cap: 12}
  - code: C
    name: 加分
    section: bonus
    max: 10
    children:
      - {code: C1, name: 获奖, rule: count, points: 6}
  - code: D
    name: 扣分
    section: deduction
    floor: -8
    children:
      - {code: D1, name: 违纪, rule: count, points: -5}
  - code: E
    name: 指标
    children:
      - code: E1
        name: 走访率
        rule: metric
        metric: reported_rate
        bands:
          - {min: 0.9, min_inclusive: true, points: 10}
          - {min: 0.5, min_inclusive: true, max: 0.9, max_inclusive: false, points: 5}
  - code: V
    name: 否决
    children:
      - {code: V0, name: 重大事故, rule: veto, effect: zero}
      - {code: V1, name: 违法建设, rule: veto, effect: grade, grade: poor}
      - {code: V2, name: 失信, rule: veto, effect: bar}
grades:
  - {code: good, name: 优秀, min: 60, min_inclusive: true, honour: true}
  - {code: fair, name: 合格, min: 30, min_inclusive: true, max: 60, max_inclusive: false}
  - {code: poor, name: 不合格, max: 30, max_inclusive: false}
rollups:
  - {cadence: quarter, method: sum}
variants:
  强基村:
    items:
      A1: {points: 8}
    exclude: [C1]
ranking:
  within: track
"""


def load_test_scheme(county, text: str = TEST_SCHEME):
    version, _created = scheme_load(
        text=text, filename="test.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version


def village_subjects(county, tracks: dict[str, str] | None = None) -> dict[str, Subject]:
    """The village subjects (made when a village scheme is loaded), with the given tracks set."""
    subjects_sync(kind="village")
    subjects = {}
    for code in ("330304001001", "330304001002", "330304002001"):
        subject = Subject.objects.get(kind="village", region=county.region(code))
        if tracks and code in tracks:
            subject.track = tracks[code]
            subject.save(update_fields=["track"])
        subjects[code] = subject
    return subjects


def record(
    scheme,
    subject,
    item,
    quantity="1",
    *,
    on=date(2026, 3, 10),
    label="",
    status="approved",
    sign=1,
    cadence="",
    note="",
):
    return Entry.objects.create(
        scheme=scheme,
        subject=subject,
        item_code=item,
        quantity_scaled=int(Decimal(quantity) * QTY_SCALE),
        label=label,
        occurred_on=on,
        status=status,
        sign=sign,
        cadence=cadence,
        note=note,
    )


def report_metric(period, subject, metric, value):
    MetricValue.objects.create(
        scheme_id=period.scheme_id,
        period_label=period.label,
        subject=subject,
        metric=metric,
        value_scaled=int(Decimal(value) * METRIC_SCALE),
    )


DOCS = Path(__file__).resolve().parents[3] / "docs" / "schemes.md"


def docs_example(code: str) -> str:
    """The worked example of docs/schemes.md whose ```yaml block has `code: <code>`: the tests
    load the very text the format page shows, so the stated numbers are held by a test."""
    doc = DOCS.read_text(encoding="utf-8")
    return next(
        block.split("```", 1)[0]
        for block in doc.split("```yaml\n")[1:]
        if f"code: {code}\n" in block.split("```", 1)[0]
    )
