import io

import pytest
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed
from kaoping.core.models import AuditLog
from kaoping.regions.models import Region
from kaoping.regions.services import regions_import_file

pytestmark = pytest.mark.django_db

GOOD_CSV = """代码,名称
330304000000,瓯海区
330304001000,景山街道
330304001001,景山社区
330304001201,慈湖村
330304001201001,慈湖村第1网格
330304100000,泽雅镇
330304100201,纸山村
""".encode()


def test_csv_import_builds_the_tree_and_is_idempotent():
    counts = regions_import_file(data=GOOD_CSV, filename="list.csv", acting_user=system_actor())
    assert counts == {"created": 7, "renamed": 0, "unchanged": 0}
    village = Region.objects.get(code="330304001201")
    assert (village.level, village.kind, village.parent.code, village.initials) == (
        "village",
        "村",
        "330304001",
        "chc",
    )
    assert Region.objects.get(code="330304001001").kind == "社区"
    assert Region.objects.get(code="330304100").kind == "镇"
    assert regions_import_file(data=GOOD_CSV, filename="list.csv", acting_user=system_actor()) == {
        "created": 0,
        "renamed": 0,
        "unchanged": 7,
    }
    assert AuditLog.objects.filter(action="regions.imported").count() == 2


def test_rename_is_audited():
    regions_import_file(data=GOOD_CSV, filename="list.csv", acting_user=system_actor())
    renamed = GOOD_CSV.replace("纸山村".encode(), "纸山新村".encode())
    assert (
        regions_import_file(data=renamed, filename="list.csv", acting_user=system_actor())[
            "renamed"
        ]
        == 1
    )
    row = AuditLog.objects.get(action="regions.region.renamed")
    assert (row.before, row.after) == ({"name": "纸山村"}, {"name": "纸山新村"})


def test_excel_import_and_gbk_csv():
    book = Workbook()
    sheet = book.active
    sheet.append(["区划代码", "区划名称"])
    sheet.append([330304000000, "瓯海区"])  # Excel often stores codes as numbers
    sheet.append(["330304001000", "景山街道"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert (
        regions_import_file(
            data=buffer.getvalue(), filename="list.xlsx", acting_user=system_actor()
        )["created"]
        == 2
    )
    gbk = "代码,名称\n330304002000,新桥街道\n".encode("gbk")
    assert (
        regions_import_file(data=gbk, filename="list.csv", acting_user=system_actor())["created"]
        == 1
    )


def test_bad_file_names_every_row_and_writes_nothing():
    bad = """代码,名称
330304000000,瓯海区
3303040010,短代码
330304001201,孤儿村
330304000000,重复
330304002000,
""".encode()
    with pytest.raises(ImportFailed) as caught:
        regions_import_file(data=bad, filename="list.csv", acting_user=system_actor())
    problems = [(e.row, e.field) for e in caught.value.errors]
    assert problems == [(3, _("code")), (4, _("code")), (5, _("code")), (6, _("name"))]
    assert "330304001000" in caught.value.errors[1].message  # names the missing parent
    assert not Region.objects.exists()
    assert not AuditLog.objects.exists()


def test_missing_header_column_is_reported():
    with pytest.raises(ImportFailed, match="name/区划名称/名称"):
        regions_import_file(
            data=b"code,title\n330304000000,x\n", filename="a.csv", acting_user=system_actor()
        )


def test_unknown_file_type_is_refused():
    with pytest.raises(ImportFailed, match="csv"):
        regions_import_file(data=b"x", filename="a.pdf", acting_user=system_actor())
