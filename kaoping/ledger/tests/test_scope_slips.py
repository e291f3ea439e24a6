"""Scope slips of the department scorer and the village secretary (issue 16, item 9), by persona.

grace is the department scorer of 区委政法委, whose department covers 南山社区 and 西溪村;
carol is the secretary of 东岭村, bob the township staff above it, oscar the secretary of 西溪村.
"""

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import Entry, ImportJob, ImportStatus
from kaoping.ledger.services import entry_record
from kaoping.ledger.testing import HOUSEHOLD_SCHEME, import_workbook
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

SCHEMES = Path(__file__).resolve().parents[3] / "schemes"
DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"
NANSHAN_HOUSEHOLD, XIXI_HOUSEHOLD = "3303040010020005", "3303040020010007"

VILLAGE_SCHEME = """
code: duties
version: 1
name: 部门分工测试
subject_kind: village
cadence: quarter
tree:
  - code: PA
    name: 平安指数
    owner: dept:political_legal
    children:
      - {code: PA1, name: 发生刑事案件, rule: count, points: -5}
      - {code: PA2, name: 镇街平安评议, rule: rating, weight: 10, owner: role:township_staff, levels: {好: 1, 差: 0.5}}
  - code: DJ
    name: 堡垒指数
    owner: dept:organization
    children:
      - {code: DJ1, name: 班子成员缺席会议, rule: count, points: -2}
  - code: QT
    name: 其他
    children:
      - {code: QT1, name: 获得表彰, rule: count, points: 2}
"""


def load(county, text, filename):
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


@pytest.fixture
def villages(county):
    subjects_sync(kind="village")
    # Departments are named in scheme files by their code (docs/schemes.md: `dept:部门代码`).
    county.department.code = "political_legal"
    county.department.save(update_fields=["code"])
    return {s.region.code: s for s in Subject.objects.filter(kind="village")}


def record(county, username, scheme, subject, item, label=""):
    with transaction.atomic():
        return entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            label=label,
            occurred_on=date(2026, 3, 5),
            acting_user=county.users[username],
        )[0]


# -- (b) a department scorer records its department's items in its department's villages -------


def test_department_scorer_records_its_own_items_in_its_villages(county, villages):
    scheme = load(county, VILLAGE_SCHEME, "duties.yaml")
    for code in (NANSHAN, XIXI):
        entry = record(county, "grace", scheme, villages[code], "PA1")
        assert entry.item_code == "PA1"
    # An item the scheme gives to nobody in particular is anyone's who records for the village.
    assert record(county, "grace", scheme, villages[NANSHAN], "QT1").item_code == "QT1"


@pytest.mark.parametrize(
    ("item", "label", "says"),
    [
        # Another department's item (the county has no department of that code here).
        ("DJ1", "", "“班子成员缺席会议”不是本部门打分的项目。"),
        # The township's rating, inside grace's own index.
        ("PA2", "好", "“镇街平安评议”由乡镇（街道）工作人员打分，不由本部门打分。"),
    ],
)
def test_department_scorer_may_not_record_items_of_others(county, villages, item, label, says):
    scheme = load(county, VILLAGE_SCHEME, "duties.yaml")
    with pytest.raises(KaopingError) as refused:
        record(county, "grace", scheme, villages[NANSHAN], item, label)
    assert refused.value.message_dict == {"item_code": [says]}
    assert not Entry.objects.exists()


def test_department_scorer_may_not_record_outside_its_villages(county, villages, client_for):
    scheme = load(county, VILLAGE_SCHEME, "duties.yaml")
    with pytest.raises(PermissionDenied):
        record(county, "grace", scheme, villages[DONGLING], "PA1")
    url = reverse("ledger:entry_new", args=[villages[DONGLING].pk, scheme.code])
    assert client_for(county, "grace").get(url).status_code == 404
    assert not Entry.objects.exists()


def test_the_shipped_village_appearance_rating_is_the_townships_not_a_departments(
    county, villages, client_for
):
    """村容村貌 (六比六争 HJ06.1) is rated by the township staff: grace is refused it even in her
    own villages, and bob records it in his township."""
    scheme = load(
        county, (SCHEMES / "liubi-liuzheng.yaml").read_text(encoding="utf-8"), "liubi.yaml"
    )
    grace = client_for(county, "grace")
    url = reverse("ledger:entry_new", args=[villages[NANSHAN].pk, scheme.code])
    page = grace.get(url)
    offered = dict(page.context["form"].fields["item_code"].choices)
    assert "HJ06.1" not in offered
    assert "PA01.1" in offered  # 平安指数 is 政法委's
    assert "PA02.1" not in offered  # …but its 信访维稳 is the petition bureau's
    assert not any(code.startswith(("BL", "WM")) for code in offered)  # other departments'
    response = grace.post(
        url,
        {"item_code": "HJ06.1", "label": "好", "occurred_on": "2026-03-05", "quantity": 1},
    )
    assert response.status_code == 200 and not Entry.objects.exists()
    assert record(county, "bob", scheme, villages[NANSHAN], "HJ06.1", "好").label == "好"


def test_other_roles_are_not_narrowed_by_item_owners(county, villages):
    scheme = load(county, VILLAGE_SCHEME, "duties.yaml")
    assert record(county, "bob", scheme, villages[DONGLING], "DJ1").item_code == "DJ1"
    assert record(county, "carol", scheme, villages[DONGLING], "PA1").item_code == "PA1"


# -- (a) a department scorer sees its own imports, and nobody outside does ----------------------


def upload(client, scheme, rows):
    return client.post(
        reverse("ledger:imports"),
        {"scheme": scheme.pk, "file": SimpleUploadedFile("e.xlsx", import_workbook(rows))},
    )


def test_department_scorer_sees_and_imports_its_own_upload(county, client_for):
    scheme = load(county, HOUSEHOLD_SCHEME, "hh.yaml")
    grace = client_for(county, "grace")
    rows = [
        (NANSHAN_HOUSEHOLD, "参加志愿服务活动", 1, None, date(2026, 3, 5), ""),
        (XIXI_HOUSEHOLD, "乱倒垃圾", 1, None, date(2026, 3, 6), ""),
    ]
    response = upload(grace, scheme, rows)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.errors == []
    page = grace.get(reverse("ledger:import_job", args=[job.pk]))
    assert page.status_code == 200 and page.context["can_commit"]
    assert [j.pk for j in grace.get(reverse("ledger:imports")).context["jobs"]] == [job.pk]
    assert grace.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.COMMITTED and Entry.objects.count() == 2


@pytest.mark.parametrize("username", ["bob", "carol", "oscar", "dave"])
def test_nobody_outside_sees_a_departments_import(county, client_for, username):
    scheme = load(county, HOUSEHOLD_SCHEME, "hh.yaml")
    upload(
        client_for(county, "grace"),
        scheme,
        [(NANSHAN_HOUSEHOLD, "参加志愿服务活动", 1, None, date(2026, 3, 5), "")],
    )
    job = ImportJob.objects.get()
    client = client_for(county, username)
    assert client.get(reverse("ledger:import_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and not Entry.objects.exists()


def test_the_county_admin_sees_a_departments_import_but_only_the_uploader_imports(
    county, client_for
):
    scheme = load(county, HOUSEHOLD_SCHEME, "hh.yaml")
    upload(
        client_for(county, "grace"),
        scheme,
        [(NANSHAN_HOUSEHOLD, "参加志愿服务活动", 1, None, date(2026, 3, 5), "")],
    )
    job = ImportJob.objects.get()
    alice = client_for(county, "alice")
    page = alice.get(reverse("ledger:import_job", args=[job.pk]))
    assert page.status_code == 200 and not page.context["can_commit"]


# -- (c) a secretary rating its own village is flagged for the reviewers ------------------------


def test_secretary_rating_its_own_village_is_flagged_and_shown_to_the_reviewer(
    county, villages, client_for
):
    scheme = load(county, (SCHEMES / "leitai-biwu.yaml").read_text(encoding="utf-8"), "lt.yaml")
    own = record(county, "carol", scheme, villages[DONGLING], "HJ", "优秀")
    assert own.flags == ["own_village"]
    by_township = record(county, "bob", scheme, villages[NANSHAN], "HJ", "良好")
    assert by_township.flags == []
    page = client_for(county, "bob").get(reverse("ledger:review"))
    assert [e.pk for e in page.context["page"]] == [own.pk]  # bob's own rating is not his to decide
    assert "自评本村" in page.content.decode()


def test_oscar_cannot_rate_carols_village(county, villages):
    scheme = load(county, (SCHEMES / "leitai-biwu.yaml").read_text(encoding="utf-8"), "lt.yaml")
    with pytest.raises(PermissionDenied):
        record(county, "oscar", scheme, villages[DONGLING], "HJ", "优秀")
    assert not Entry.objects.exists()
