"""Bounds on what users send: text characters, names, numbers, dates and uploaded archives.

Every input edge (forms, import rows, scheme files, the API) checks against these, so a hostile
or mistaken value gets a message saying what and where instead of a 500 deep in the database.
The numbers follow from the columns they end up in (see each constant).
"""

import unicodedata
import zipfile
from decimal import Decimal
from typing import Annotated

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

# ── numbers ──
# A quantity is stored × 1000 in a BigIntegerField and multiplied by an item's points into a
# DecimalField(14, 4); a million of anything is more than any village records in one entry.
QUANTITY_MAX = Decimal(1_000_000)
# Entry.points is DecimalField(max_digits=14, decimal_places=4): below 10^10.
ENTRY_POINTS_LIMIT = Decimal(10) ** 10
# Scheme numbers (points, caps, bands…) are stored × 10^decimals (up to 6) in BigIntegerFields
# and summed over many entries; a billion leaves room for both.
SCHEME_NUMBER_MAX = Decimal(1_000_000_000)
# Metric values are stored × 10,000 in a BigIntegerField.
METRIC_VALUE_MAX = Decimal(10) ** 12
# Positions, counts and other whole numbers stored in PositiveIntegerField.
WHOLE_NUMBER_MAX = 2_147_483_647

# ── nesting ──
SCHEME_YAML_DEPTH = 64  # YAML levels (mappings and lists) in a scheme file
SCHEME_TREE_DEPTH = 12  # groups and items below the top of a scheme's tree

# ── batches ──
REVIEW_BATCH_MAX = 1000  # entries decided in one request

# ── dates ──
# An entry's date may lie this far before the first day of its scheme's year (late records of
# last year's work) and never after today in the county's time zone.
ENTRY_YEARS_BACK = 2

# ── uploaded archives (.xlsx is a zip) ──
_MB = 1024 * 1024
# Unpacked size of each part, by path prefix: sheets hold the rows (a 200,000-row import), shared
# strings are read whole, pictures are never parsed; everything else (workbook, styles, relations)
# is small in any real file and is parsed whole.
ZIP_PART_MAX_BYTES = {
    "xl/worksheets/": 400 * _MB,
    "xl/sharedStrings.xml": 100 * _MB,
    "xl/media/": 50 * _MB,
}
ZIP_OTHER_PART_MAX_BYTES = 20 * _MB
ZIP_TOTAL_MAX_BYTES = 500 * _MB
ZIP_MAX_MEMBERS = 1000

# Control characters a text may not contain: C0 and C1 except tab, newline and carriage return.
_CONTROL = {chr(c) for c in range(0x20)} - {"\t", "\n", "\r"} | {chr(0x7F)}
_CONTROL |= {chr(c) for c in range(0x80, 0xA0)}
# What makes a name display as something it is not: direction overrides and isolates, zero-width
# characters, line and paragraph separators.
_NAME_FORBIDDEN = {
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2060",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
}


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why `value` cannot be stored as text (a control character), or None."""
    if value.isprintable():
        return None  # every control character is unprintable: most texts are answered here
    for position, char in enumerate(value, start=1):
        if char in _CONTROL or (not multiline and char in "\t\n\r"):
            if char == "\x00":
                return _("contains a NUL character (at character %(n)d)") % {"n": position}
            return _("contains the control character U+%(code)04X (at character %(n)d)") % {
                "code": ord(char),
                "n": position,
            }
    return None


def plain_text(value: str) -> str:
    """A pydantic validator: `value` unchanged, or refused with why it cannot be stored as text."""
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


# Text of the JSON APIs: no control characters (their message says where the character is).
PlainText = Annotated[str, AfterValidator(plain_text)]


def api_text(max_length: int):
    """An API string field of at most `max_length` characters and no control characters."""
    return Annotated[str, Field(max_length=max_length), AfterValidator(plain_text)]


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name: control characters, line breaks, invisible characters."""
    problem = text_problem(value, multiline=False)
    if problem:
        return problem
    for position, char in enumerate(value, start=1):
        if char in _NAME_FORBIDDEN or unicodedata.category(char) == "Cf":
            return _(
                "contains the invisible or direction-changing character U+%(code)04X "
                "(at character %(n)d)"
            ) % {"code": ord(char), "n": position}
    return None


def validate_text(value: str) -> None:
    """A form/model validator: no control characters except tab and line breaks."""
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValidationError(_("This text %(problem)s.") % {"problem": problem}, code="control")


def validate_line(value: str) -> None:
    """A form validator for one-line text: no control characters, no line breaks."""
    if isinstance(value, str) and (problem := text_problem(value, multiline=False)):
        raise ValidationError(_("This text %(problem)s.") % {"problem": problem}, code="control")


def validate_name(value: str) -> None:
    """A form validator for names."""
    if isinstance(value, str) and (problem := name_problem(value)):
        raise ValidationError(_("This name %(problem)s.") % {"problem": problem}, code="name")


class PlainTextMixin:
    """A form mixin: every text field refuses control characters (Django refuses only NUL);
    one-line inputs refuse line breaks too, and fields named in `name_fields` are checked as
    names (no invisible or direction-changing characters)."""

    name_fields: tuple[str, ...] = ("name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if not isinstance(field, forms.CharField) or isinstance(
                field.widget, forms.HiddenInput
            ):
                continue
            if name in self.name_fields:
                field.validators.append(validate_name)
            elif isinstance(field.widget, forms.Textarea):
                field.validators.append(validate_text)
            else:
                field.validators.append(validate_line)


def zip_problem(archive: zipfile.ZipFile) -> str | None:
    """Why an uploaded archive must not be unpacked (a zip bomb), from its directory alone.

    Python's zip reader stops at each member's declared size (and a lie fails the CRC check), so
    the declared sizes bound what unpacking can cost.
    """
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        return _("it holds more than %(n)d parts") % {"n": ZIP_MAX_MEMBERS}
    total = 0
    for member in members:
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return _("its part %(name)s is compressed in an unusual way") % {
                "name": member.filename
            }
        limit = next(
            (v for k, v in ZIP_PART_MAX_BYTES.items() if member.filename.startswith(k)),
            ZIP_OTHER_PART_MAX_BYTES,
        )
        if member.file_size > limit:
            return _("its part %(name)s unpacks to more than %(mb)d MB") % {
                "name": member.filename,
                "mb": limit // _MB,
            }
        total += member.file_size
    if total > ZIP_TOTAL_MAX_BYTES:
        return _("it unpacks to more than %(mb)d MB") % {"mb": ZIP_TOTAL_MAX_BYTES // _MB}
    return None
