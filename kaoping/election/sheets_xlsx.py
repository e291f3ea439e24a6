"""The sheets' export as an .xlsx download (one worksheet; every text through core's
`xlsx_row`, so no name typed by a user becomes a live formula)."""

import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from kaoping.core.tabular import xlsx_cell, xlsx_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(*, title: str, header: list[str], rows: list[list], filename: str):
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    worksheet.append([xlsx_cell(worksheet, label, font=bold) for label in header])
    worksheet.freeze_panes = "A2"
    for row in rows:
        worksheet.append(xlsx_row(worksheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    # The file carries names of persons: no cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response
