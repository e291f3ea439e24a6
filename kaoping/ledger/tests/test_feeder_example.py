"""The smallest feeder of docs/architecture.md, run exactly as the page writes it.

The code block under "Adding a feeder" is executed here, so the example cannot drift from the
code: it checks permission, writes through the one ledger write, records nothing twice, and the
close scores what it wrote.
"""

import re
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from kaoping.core.models import AuditLog
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry
from kaoping.people.models import Subject
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"

SCHEME = """
code: meetings
version: 1
name: 会议出勤
subject_kind: household
cadence: month
base: 0
review: {auto_approve: [collected]}  # attendance is taken at the door, nothing to review
tree:
  - {code: CAME, name: 参加村民会议, rule: count, points: 2}
"""


def _feeder():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Adding a feeder") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # our own document
    return namespace["attendance_record"]


def test_the_documented_feeder_writes_through_the_one_write(county):
    attendance_record = _feeder()
    alice = county.users["alice"]
    version, _ = scheme_load(
        text=SCHEME, filename="m.yaml", region=county.region("330304"), acting_user=alice
    )
    scheme = version.scheme
    period = period_open(scheme=scheme, label="2026-03", acting_user=alice)
    came = list(Subject.objects.filter(kind="household").order_by("id")[:3])
    day = date(2026, 3, 5)

    written = attendance_record(
        scheme=scheme, subjects=came, day=day, item_code="CAME", acting_user=alice
    )
    assert len(written) == 3
    assert AuditLog.objects.filter(action="ledger.entries.recorded").count() == 1
    # Twice changes nothing: the idempotency keys were used.
    again = attendance_record(
        scheme=scheme, subjects=came, day=day, item_code="CAME", acting_user=alice
    )
    assert again == [] and Entry.objects.count() == 3
    assert list(chain_verify()) == []

    # Out of scope: oscar is the secretary of another village.
    with pytest.raises(PermissionDenied):
        attendance_record(
            scheme=scheme,
            subjects=came,
            day=day,
            item_code="CAME",
            acting_user=county.users["oscar"],
        )
    assert Entry.objects.count() == 3

    period_close(period=period, acting_user=alice)
    totals = dict(Result.objects.filter(period=period).values_list("subject_id", "total"))
    assert {version.to_points(totals[s.pk]) for s in came} == {2}
