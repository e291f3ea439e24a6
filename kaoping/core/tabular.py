"""Read uploaded CSV or Excel files as rows of strings, with the row numbers a user sees."""

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell

from .errors import ImportFailed, RowError
from .limits import text_problem, zip_problem


def _csv_text(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GBK; everything else is UTF-8 (often with a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed([RowError(0, _("file"), _("The file is neither UTF-8 nor GBK text."))])


def excel_guard(data: bytes) -> None:
    """Refuse an .xlsx whose parts would unpack to too much, before any of it is unpacked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ImportFailed(
            [RowError(0, _("file"), _("Not a readable Excel file: %(e)s") % {"e": exc})]
        ) from exc
    problem = zip_problem(archive)
    if problem:
        raise ImportFailed(
            [
                RowError(
                    0,
                    _("file"),
                    _("This Excel file is refused: %(problem)s.") % {"problem": problem},
                )
            ]
        )


def iter_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every non-empty row, the header included (row 1)."""
    suffix = Path(filename).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        excel_guard(data)
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
    data: bytes, filename: str, columns: dict[str, set[str]], optional: frozenset[str] = frozenset()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {column: value}) after matching the header row against `columns`.

    `columns` maps our column name to the header labels accepted for it (Chinese and English);
    a column named in `optional` may be absent from the file, and reads as empty then.
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
        if found is not None:
            positions[column] = found
        elif column not in optional:
            missing.append("/".join(sorted(accepted)))
    if missing:
        raise ImportFailed(
            [RowError(1, _("header"), _("Missing column: %(c)s") % {"c": c}) for c in missing]
        )
    for number, cells in rows:
        values = {c: (cells[i] if i < len(cells) else "") for c, i in positions.items()}
        values.update((c, "") for c in optional if c not in positions)
        # A NUL stored on SQLite fails PostgreSQL; no control character belongs in a cell.
        bad = [(c, p) for c, v in values.items() if (p := text_problem(v, multiline=False))]
        if bad:
            raise ImportFailed(
                [RowError(number, c, _("This cell %(problem)s.") % {"problem": p}) for c, p in bad]
            )
        yield number, values


# ── writing ──
# A text cell starting with one of these is a formula in a spreadsheet, or becomes one when the
# cell is edited or the sheet saved as CSV (OWASP, "CSV injection"): `=HYPERLINK(…)` as a village
# or person name would be live in every export. Such text is written as a text cell with Excel's
# own quote prefix (what Excel does when one types '=…): it shows exactly as typed, stays text
# when edited, and the value read back is unchanged.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_CHARACTERS = frozenset(FORMULA_TRIGGERS)


def xlsx_cell(worksheet, value, *, font=None):
    """`value` for a cell of `worksheet` (write-only or not), as `worksheet.append` takes it.

    Every Excel write goes through this (or `xlsx_row`), so no text from users becomes a
    formula or an error value, or a crash on a control character (openpyxl refuses those; they
    are dropped). A plain value comes back as it is; a cell when it needs a style."""
    risky = False
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        risky = value[:1] in _TRIGGER_CHARACTERS or value in ERROR_CODES
    if not risky and font is None:
        return value
    cell = Cell(worksheet, column=1, row=1, value=value)
    if risky:
        cell.data_type = "s"  # openpyxl made it "f" (a formula) or "e" (an error value)
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def xlsx_row(worksheet, values) -> list:
    """A row for `worksheet.append`, every text through `xlsx_cell` (a household export runs to
    a million cells: numbers and dates pass as they are)."""
    return [xlsx_cell(worksheet, value) if isinstance(value, str) else value for value in values]
