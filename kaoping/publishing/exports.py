"""The one Excel renderer: sheets of row generators → an .xlsx download."""

import tempfile
from collections.abc import Iterable
from urllib.parse import quote

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .selectors import Sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_write(sheets: Iterable[Sheet], target) -> None:
    """Write `sheets` to the binary file `target`, streaming rows (write-only workbook)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title)
        header = []
        for label in sheet.header:
            cell = WriteOnlyCell(worksheet, value=label)
            cell.font = Font(bold=True)
            header.append(cell)
        worksheet.append(header)
        worksheet.freeze_panes = "A2"
        for row in sheet.rows:
            worksheet.append(row)
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
