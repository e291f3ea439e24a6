"""The households-and-members import: the template, the happy path, errors by row and cell, all
or nothing, who may."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import ImportFailed
from kaoping.core.models import AuditLog
from kaoping.people.household_import import HEADERS, households_template
from kaoping.people.models import Household, HouseholdTag, HouseholdTagSpan, Person, Subject
from kaoping.people.services import households_import
from kaoping.testing import make_id_number

pytestmark = pytest.mark.django_db

GRID1 = "330304001001001"  # 东岭村第1网格 (carol's village)
GRID2 = "330304001001002"
XIXI_GRID = "330304002001001"  # 西溪村: outside carol's village
HEADER = ",".join(HEADERS.values())


def csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def tags(county):
    region = county.region("330304")
    HouseholdTag.objects.create(region=region, name="低保", code="dibao")
    HouseholdTag.objects.create(region=region, name="独居老人", code="alone")


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Household, Person, HouseholdTagSpan, Subject, AuditLog)
    }


def test_two_households_are_imported_with_heads_tags_and_subjects(county, tags):
    a, b, c = (
        make_id_number(601, "19700303"),
        make_id_number(602, "19720404"),
        make_id_number(603, "20100101"),
    )
    data = csv(
        f'H900001,{GRID1},是,钱一,男,{a},户主,13700000001,东岭村3组1号,"低保,alone"',
        f"H900001,{GRID1},否,孙二,,{b},配偶,,,",
        f"H900002,{GRID2},是,周三,男,{c},,,,",
    )
    result = households_import(data=data, filename="户籍.csv", acting_user=county.users["carol"])
    assert result == {"households": 2, "persons": 3, "tags": 2}
    first = Household.objects.get(number="H900001")
    assert (first.region.code, first.address, first.head.name) == (GRID1, "东岭村3组1号", "钱一")
    spouse = first.members.get(name="孙二")
    assert (spouse.gender, str(spouse.birth_date)) == ("F", "1972-04-04")  # read off the ID number
    assert Household.objects.get(number="H900002").head.relation == "户主"
    assert sorted(first.tag_spans.values_list("tag__name", flat=True)) == ["低保", "独居老人"]
    assert Subject.objects.filter(kind="household", household__number__startswith="H9").count() == 2
    audit = AuditLog.objects.get(action="people.households.imported")
    assert audit.region_code == "330304001001" and audit.after["persons"] == 3


def test_every_bad_cell_is_named_by_row_and_column_and_nothing_is_written(county, tags):
    good = make_id_number(611, "19700303")
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    existing = county.persons["王建国"].id_number
    data = csv(
        f"H910001,{GRID1},是,甲,男,{bad_check},户主,,,",  # 2: the check digit
        f"H910001,{GRID1},是,乙,男,{good},子,,,",  # 3: a second head
        f"H910002,{GRID1},否,丙,女,{good},户主,,,",  # 4: ID again; no head in H910002
        "H910003,330304009009009,是,丁,男,,户主,,,",  # 5: no such grid
        f"H910004,{XIXI_GRID},是,戊,男,,户主,,,",  # 6: outside carol's village
        "H910005,330304001001,是,己,男,,户主,,,",  # 7: a village that has grids
        f"H910006,{GRID1},是,庚,男,{existing},户主,,,贫困",  # 8: ID taken; unknown tag
        f"3303040010010001,{GRID1},是,辛,男,,户主,,,",  # 9: the household exists
        f"H910007,{GRID1},是,壬,未知,,户主,12345,,",  # 10: gender, phone
    )
    before = counts()
    with pytest.raises(ImportFailed) as failed:
        households_import(data=data, filename="户籍.csv", acting_user=county.users["carol"])
    found = {(e.row, e.field) for e in failed.value.errors}
    assert found >= {
        (2, "身份证号"),
        (3, "户主"),
        (4, "身份证号"),
        (4, "户主"),
        (5, "网格代码"),
        (6, "网格代码"),
        (7, "网格代码"),
        (8, "身份证号"),
        (8, "标签"),
        (9, "户号"),
        (10, "性别"),
        (10, "电话"),
    }
    messages = {(e.row, e.field): e.message for e in failed.value.errors}
    assert "校验" in messages[(2, "身份证号")]
    assert "第 3 行" in messages[(4, "身份证号")]
    assert "贫困" in messages[(8, "标签")]
    assert counts() == before


def test_the_template_has_the_columns_and_an_example_that_is_checked(county, tags):
    sheet = load_workbook(io.BytesIO(households_template())).worksheets[0]
    assert [c.value for c in sheet[1]] == list(HEADERS.values())
    # Uploaded unchanged, the example's head carries the ID number of 王建国 (make_id_number(1)).
    with pytest.raises(ImportFailed) as failed:
        households_import(
            data=households_template(), filename="t.xlsx", acting_user=county.users["carol"]
        )
    assert [(e.row, e.field) for e in failed.value.errors] == [(2, "身份证号")]


@pytest.mark.parametrize("name", ["dave", "erin", "clara", "grace"])
def test_who_may_not_import_is_refused(county, name):
    before = counts()
    with pytest.raises(Refused):
        households_import(
            data=csv(f"H920001,{GRID1},是,甲,男,,户主,,,"),
            filename="x.csv",
            acting_user=county.users[name],
        )
    assert counts() == before


def test_the_page_shows_row_and_cell_then_imports_the_fixed_file(county, client_for):
    client = client_for(county, "bob")
    url = reverse("people:import")
    assert client.get(url).status_code == 200
    template = client.get(reverse("people:import_template"))
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd")
    bad = io.BytesIO(csv(f"H930001,{GRID1},是,甲,男,330304199001011234,户主,,,"))
    bad.name = "户籍.csv"
    page = client.post(url, {"file": bad})
    assert page.status_code == 200
    text = page.content.decode()
    assert "身份证号" in text and "<td>2</td>" in text
    assert not Household.objects.filter(number="H930001").exists()
    fixed = io.BytesIO(csv(f"H930001,{GRID1},是,甲,男,{make_id_number(631)},户主,,,"))
    fixed.name = "户籍.csv"
    assert client.post(url, {"file": fixed}).status_code == 302
    assert Household.objects.filter(number="H930001").exists()


def test_the_import_page_is_refused_to_a_grid_member(county, client_for):
    client = client_for(county, "dave")
    assert client.get(reverse("people:import")).status_code == 403
    assert client.get(reverse("people:import_template")).status_code == 403
