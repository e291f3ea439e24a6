"""Read uploaded CSV or Excel files as rows of strings, with the row numbers a user sees."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from .errors import ImportFailed, RowError


def _csv_text(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GBK; everything else is UTF-8 (often with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed([RowError(0, _("file"), _("The file is neither UTF-8 nor GBK text."))])


def iter_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every non-empty row, the header included (row 1)."""
    suffix = Path(filename).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ImportFailed(
                [RowError(0, _("file"), _("Not a readable Excel file: %(e)s") % {"e": exc})]
            ) from exc
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else str(v).strip() for v in row]
            if any(cells):
                yield number, cells
        workbook.close()
    elif suffix in {".csv", ".txt"}:
        for number, row in enumerate(csv.reader(io.StringIO(_csv_text(data))), start=1):
            cells = [c.strip() for c in row]
            if any(cells):
                yield number, cells
    else:
        raise ImportFailed(
            [
                RowError(
                    0, _("file"), _("Upload a .csv or .xlsx file, not “%(n)s”.") % {"n": filename}
                )
            ]
        )


def rows_with_header(
    data: bytes, filename: str, columns: dict[str, set[str]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {column: value}) after matching the header row against `columns`.

    `columns` maps our column name to the header labels accepted for it (Chinese and English).
    """
    rows = iter_rows(data, filename)
    try:
        _number, header = next(rows)
    except StopIteration:
        raise ImportFailed([RowError(1, _("header"), _("The file is empty."))]) from None
    labels = [h.strip().lower() for h in header]
    positions = {}
    missing = []
    for column, accepted in columns.items():
        found = next(
            (i for i, label in enumerate(labels) if label in {a.lower() for a in accepted}), None
        )
        if found is None:
            missing.append("/".join(sorted(accepted)))
        else:
            positions[column] = found
    if missing:
        raise ImportFailed(
            [RowError(1, _("header"), _("Missing column: %(c)s") % {"c": c}) for c in missing]
        )
    for number, cells in rows:
        yield number, {c: (cells[i] if i < len(cells) else "") for c, i in positions.items()}
