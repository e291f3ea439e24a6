"""The three renderers of a report. Each lays out a `ReportData` and nothing else: what a report
says is decided in `selectors`, how it looks here.

- Excel: a summary sheet, then one sheet per table, written by the one Excel writer
  (`publishing.exports.xlsx_write`, every cell through `core.tabular`).
- PDF: an HTML template (A4, Noto Sans CJK) printed by WeasyPrint, charts as PNG data URIs.
- Word: python-docx, charts as inline pictures.
"""

import base64
import io

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from kaoping.publishing.exports import xlsx_write
from kaoping.publishing.selectors import Sheet

from .selectors import ReportData

EXCEL_TITLE_CHARACTERS = "[]:*?/\\"


def _sheet_title(name: str, used: set[str]) -> str:
    title = "".join("_" if c in EXCEL_TITLE_CHARACTERS else c for c in name)[:31] or "-"
    base, n = title, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def render_xlsx(data: ReportData) -> bytes:
    used: set[str] = set()
    sheets = [
        Sheet(
            title=_sheet_title(_("Summary"), used),
            header=[data.title, ""],
            rows=iter([[data.subtitle, ""], *[[label, value] for label, value in data.facts]]),
        )
    ]
    sheets += [
        Sheet(title=_sheet_title(table.heading, used), header=table.header, rows=iter(table.rows))
        for table in data.tables
    ]
    buffer = io.BytesIO()
    xlsx_write(sheets, buffer)
    return buffer.getvalue()


def render_html(data: ReportData) -> str:
    """The page WeasyPrint prints (also what a test can read)."""
    return render_to_string(
        "reports/print.html",
        {
            "data": data,
            "charts": [
                (chart.title, "data:image/png;base64," + base64.b64encode(chart.png).decode())
                for chart in data.charts
            ],
        },
    )


def render_pdf(data: ReportData) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(data)).write_pdf()


def render_docx(data: ReportData) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(2))
    normal = document.styles["Normal"]
    normal.font.name = "Noto Sans CJK SC"
    normal.font.size = Pt(12 if data.large else 10.5)
    # East Asian text takes its font from w:eastAsia, not from the Latin name.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")

    heading = document.add_heading(data.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph(data.subtitle)
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER

    if data.facts:
        facts = document.add_table(rows=0, cols=2)
        facts.style = "Table Grid"
        for label, value in data.facts:
            cells = facts.add_row().cells
            cells[0].text, cells[1].text = label, value
    for chart in data.charts:
        document.add_paragraph().add_run().add_picture(io.BytesIO(chart.png), width=Cm(16))
    colours = {
        "red": RGBColor(0xC0, 0x39, 0x2B),
        "black": RGBColor(0x2C, 0x3E, 0x50),
        "progress": RGBColor(0x27, 0xAE, 0x60),
    }
    for table in data.tables:
        title = document.add_heading(table.heading, level=1)
        if table.kind in colours:
            for run in title.runs:
                run.font.color.rgb = colours[table.kind]
        if not table.rows:
            document.add_paragraph(table.note)
            continue
        grid = document.add_table(rows=1, cols=len(table.header))
        grid.style = "Table Grid"
        for cell, label in zip(grid.rows[0].cells, table.header, strict=True):
            cell.text = str(label)
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
        for row in table.rows:
            for cell, value in zip(grid.add_row().cells, row, strict=True):
                cell.text = str(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
