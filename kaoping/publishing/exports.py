"""The one Excel renderer: sheets of row generators → an .xlsx download."""

import tempfile
from collections.abc import Iterable
from urllib.parse import quote

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from kaoping.core.tabular import xlsx_cell, xlsx_row

from .selectors import Sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_write(sheets: Iterable[Sheet], target) -> None:
    """Write `sheets` to the binary file `target`, streaming rows (write-only workbook)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title)
        bold = Font(bold=True)
        worksheet.append([xlsx_cell(worksheet, label, font=bold) for label in sheet.header])
        worksheet.freeze_panes = "A2"
        for row in sheet.rows:
            # Names come from users: `xlsx_row` keeps "=…" a text, never a live formula.
            worksheet.append(xlsx_row(worksheet, row))
    workbook.save(target)


def xlsx_response(sheets: Iterable[Sheet], filename: str) -> FileResponse:
    # A temporary file rather than memory: a household scheme's results run to many rows.
    # FileResponse closes the file when the response is done.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    xlsx_write(sheets, spool)
    spool.seek(0)
    response = FileResponse(spool, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
