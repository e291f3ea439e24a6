"""The payout sheet (绩效报酬发放表) as an Excel workbook; the PDF is a template printed by
WeasyPrint in the view. Both lay out `selectors.payout_rows` and nothing else."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from kaoping.core.tabular import xlsx_cell, xlsx_row

from .models import yuan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY = "0.00"


def payout_workbook(period, rows, basis: list[tuple[str, object]]) -> bytes:
    """One sheet: a title, how it was paid, a header, a line per cadre, the total. Money and
    rates are numbers (two places), so the county's own sums in Excel come out the same."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Pay by post")
    bold = Font(bold=True)
    title = _("Payout sheet: %(scheme)s %(label)s") % {
        "scheme": period.scheme.name,
        "label": period.label,
    }
    sheet.append([xlsx_cell(sheet, title, font=Font(bold=True, size=14))])
    for label, value in basis:
        sheet.append(xlsx_row(sheet, [str(label), str(value)]))
    header = [
        _("village"),
        _("subject"),
        _("full name"),
        _("post"),
        _("total"),
        _("score rate (%)"),
        _("base (yuan)"),
        _("amount (yuan)"),
        _("note"),
    ]
    sheet.append([xlsx_cell(sheet, str(label), font=bold) for label in header])
    first = sheet.max_row + 1
    for row in rows:
        line = row.line
        sheet.append(
            xlsx_row(
                sheet,
                [
                    row.place,
                    line.subject.name,
                    row.name,
                    row.post,
                    row.score,
                    line.rate_percent,
                    line.base,
                    line.amount,
                    _("barred by a veto: not paid") if line.barred else "",
                ],
            )
        )
    for number in range(first, sheet.max_row + 1):
        for column in "FGH":
            sheet[f"{column}{number}"].number_format = MONEY
    total = yuan(sum(row.line.amount_fen for row in rows))
    sheet.append([xlsx_cell(sheet, _("Total paid"), font=bold), "", "", "", "", "", "", total])
    sheet[f"H{sheet.max_row}"].number_format = MONEY
    for column, width in zip("ABCDEFGHI", (14, 18, 10, 14, 10, 12, 12, 12, 20), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
