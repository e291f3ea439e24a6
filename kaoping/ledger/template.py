"""The Excel template for importing a scheme's entries: the columns the import reads, drop-downs
of the scheme's items and ratings, and a sheet that says how to fill each column."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from kaoping.accounts.permissions import scopes_for
from kaoping.core.tabular import xlsx_row
from kaoping.people.models import SubjectKind
from kaoping.regions.models import Region
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import Scheme, SchemeLevel, SchemeNode
from kaoping.schemes.overlays import overlay_items_by_place
from kaoping.schemes.scoring import assessed_cadences

from .adjustments import adjust_cadences
from .import_rows import (
    ADJUST_NAME,
    COLUMNS,
    HELP_SHEET,
    LISTS_SHEET,
    MAX_ROWS,
    NOTE_MAX,
    OWN_PERIOD,
    PERSON_KINDS,
    SHEET,
)


def template_columns(scheme: Scheme, assessed: list[str]) -> list[str]:
    """Our columns in the template's order (村社 only for schemes that score people, 考核层级
    only for schemes with an assessment of their own at a roll-up level, `assessed`)."""
    keys = ["subject", "item", "quantity", "label", "date", "note"]
    if scheme.subject_kind in PERSON_KINDS:
        keys.insert(1, "village")
    if assessed:
        keys.insert(keys.index("date") + 1, "level")
    return keys


def _subject_help(kind: str) -> str:
    if kind == SubjectKind.HOUSEHOLD:
        return _(
            "The household number (户号), e.g. 3303040010010001. The column is text, so Excel keeps every digit."
        )
    if kind in PERSON_KINDS:
        return _(
            "The person's name, with their village's code or name in 村社; when two people in one village share the name, the 18-digit ID number instead."
        )
    if kind == SubjectKind.NATURAL_VILLAGE:
        return _(
            "The natural village's or villagers' group's name as the scheme lists it: the village's name and the group's together, e.g. 东岭村一组."
        )
    return _(
        "The village's 12-digit division code, or its exact name (use the code when two villages share a name)."
    )


def import_template(scheme: Scheme, user) -> bytes:
    """The Excel template for importing entries of `scheme`.

    Sheet 记分导入 takes the rows; its drop-downs list the scheme's items and rating labels from
    the hidden sheet 选项 through defined names (a list typed into a validation holds at most 255
    characters); sheet 说明 says how to fill each column. Subject rows are left blank.
    """
    version = scheme.latest_version()
    nodes = list(
        SchemeNode.objects.filter(version=version, is_item=True)
        .exclude(aggregate="metric")
        .order_by("variant", "position")
    )
    importable: dict[str, SchemeNode] = {}
    for node in nodes:
        importable.setdefault(node.code, node)
    needs_evidence = {n.code: n.name for n in nodes if n.evidence_required}
    names: dict[str, set[str]] = {}
    for node in nodes:
        names.setdefault(node.name, set()).add(node.code)
    display = [
        n.name if len(names[n.name]) == 1 else f"{n.code} {n.name}" for n in importable.values()
    ]
    labels = list(
        dict.fromkeys(
            SchemeLevel.objects.filter(version=version)
            .order_by("-factor", "label")
            .values_list("label", flat=True)
        )
    )

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    spec = version.spec()
    adjusted = adjust_cadences(spec)
    # The levels a row may name: those assessed in their own right and those taking adjustments.
    assessed = [
        str(r.cadence)
        for r in spec.rollups
        if str(r.cadence) in {*assessed_cadences(spec), *adjusted}
    ]
    levels = [OWN_PERIOD, *(cadence_label(c) for c in assessed)]
    if adjusted:
        display = [*display, ADJUST_NAME]
    keys = template_columns(scheme, assessed)
    bold = Font(bold=True)
    sheet.append(xlsx_row(sheet, [COLUMNS[k][0] for k in keys]))
    widths = {"subject": 22, "village": 16, "item": 40, "quantity": 8, "label": 12, "date": 13}
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="FDE8E7")
        cell.alignment = Alignment(horizontal="center")
        dimension = sheet.column_dimensions[letter]
        dimension.width = widths.get(key, 30)
        if key in ("subject", "village"):
            dimension.number_format = "@"  # 户号 and codes are text, not numbers
        elif key == "date":
            dimension.number_format = "yyyy-mm-dd"
        rule = _validation(
            key,
            has_items=bool(display),
            has_labels=bool(labels),
            levels=levels,
            signed=bool(adjusted),
        )
        if rule is not None:
            rule.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    lists = workbook.create_sheet(LISTS_SHEET)
    lists.append(xlsx_row(lists, [COLUMNS["item"][0], COLUMNS["label"][0]]))
    for index in range(max(len(display), len(labels))):
        lists.append(
            xlsx_row(
                lists,
                [
                    display[index] if index < len(display) else None,
                    labels[index] if index < len(labels) else None,
                ],
            )
        )
    lists.sheet_state = "hidden"
    if display:
        workbook.defined_names["kaoping_items"] = DefinedName(
            "kaoping_items", attr_text=f"'{LISTS_SHEET}'!$A$2:$A${len(display) + 1}"
        )
    if labels:
        workbook.defined_names["kaoping_levels"] = DefinedName(
            "kaoping_levels", attr_text=f"'{LISTS_SHEET}'!$B$2:$B${len(labels) + 1}"
        )

    guide = workbook.create_sheet(HELP_SHEET, 1)
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 90
    for row in _guide_rows(scheme, user, labels, needs_evidence, importable, display, assessed):
        guide.append(xlsx_row(guide, row))
    guide["A1"].font = Font(bold=True, size=13)
    for row in guide.iter_rows(min_row=2, max_col=2):
        row[0].font = bold
        row[0].alignment = Alignment(vertical="top")
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _validation(
    key: str, *, has_items: bool, has_labels: bool, levels: list[str], signed: bool = False
) -> DataValidation | None:
    if key == "item" and has_items:
        return DataValidation(
            type="list",
            formula1="=kaoping_items",
            showErrorMessage=True,
            errorTitle=COLUMNS["item"][0],
            error=_("Choose an item of this scheme from the drop-down list."),
        )
    if key == "label" and has_labels:
        return DataValidation(
            type="list",
            formula1="=kaoping_levels",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=COLUMNS["label"][0],
            error=_("Choose a rating from the drop-down list."),
        )
    if key == "level":
        return DataValidation(
            type="list",
            formula1='"' + ",".join(levels) + '"',  # a few words: well under the 255 allowed
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=COLUMNS["level"][0],
            error=_("Choose an assessment level from the drop-down list, or leave it empty."),
        )
    if key == "date":
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="36526",  # 2000-01-01
            showErrorMessage=True,
            errorTitle=COLUMNS["date"][0],
            error=_("Enter a date, e.g. 2026-03-05."),
        )
    if key == "quantity" and not signed:  # an adjustment's points may be negative
        return DataValidation(
            type="decimal",
            operator="greaterThan",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=COLUMNS["quantity"][0],
            error=_("The quantity is a positive number; left empty it counts as 1."),
        )
    return None


def _adjust_guide(adjusted: list[str]) -> list[tuple]:
    """The guide's lines for ± adjustment rows, when the scheme's roll-ups take them."""
    if not adjusted:
        return []
    text = _(
        "A ± adjustment of a roll-up period: %(item)s as the item, %(levels)s as the level, the "
        "points in %(quantity)s (negative to take points off, e.g. -3) and the reason in "
        "%(note)s (required). It counts in the period of the date at that level."
    ) % {
        "item": ADJUST_NAME,
        "levels": "、".join(cadence_label(c) for c in adjusted),
        "quantity": COLUMNS["quantity"][0],
        "note": COLUMNS["note"][0],
    }
    return [(ADJUST_NAME, text)]


def _level_guide(assessed: list[str]) -> list[tuple]:
    """The guide's line for 考核层级, when the template has that column."""
    if not assessed:
        return []
    text = _(
        "Empty or %(own)s: the scheme's own period of the date. %(levels)s: the "
        "assessment of that level held in its own right (e.g. the year-end "
        "assessment), in the period of the date at that level."
    ) % {"own": OWN_PERIOD, "levels": "、".join(cadence_label(c) for c in assessed)}
    return [(COLUMNS["level"][0], text)]


def _guide_rows(scheme, user, labels, needs_evidence, importable, display, assessed) -> list[tuple]:
    area = _area_names(user)
    rows: list[tuple] = [
        (_("%(scheme)s: how to fill in the import sheet") % {"scheme": scheme.name}, ""),
        (COLUMNS["subject"][0], _subject_help(scheme.subject_kind)),
    ]
    if scheme.subject_kind in PERSON_KINDS:
        rows.append(
            (
                COLUMNS["village"][0],
                _("The village's 12-digit code or name; may stay empty when 对象 is an ID number."),
            )
        )
    rows += [
        (
            COLUMNS["item"][0],
            _("Choose from the drop-down list (the item's code is accepted too)."),
        ),
        (
            COLUMNS["quantity"][0],
            _(
                "A positive number with at most 3 decimal places; empty counts as 1. Rating items ignore it."
            ),
        ),
        (
            COLUMNS["label"][0],
            _("Required for rating items; choose from the list: %(labels)s.")
            % {"labels": "、".join(labels)}
            if labels
            else _("This scheme has no rating items; leave it empty."),
        ),
        (
            COLUMNS["date"][0],
            _(
                "When it happened, e.g. 2026-03-05 or 2026/3/5; not in the future and not in a finalised period."
            ),
        ),
        *_level_guide(assessed),
        *_adjust_guide(adjust_cadences(scheme.latest_version().spec())),
        (COLUMNS["note"][0], _("Optional, at most %(n)d characters.") % {"n": NOTE_MAX}),
        ("", ""),
        (
            _("Whose rows"),
            _("Only subjects you may record for: %(area)s.")
            % {"area": "、".join(area) if area else _("all")},
        ),
        (
            _("All or nothing"),
            _(
                "After the upload every problem is listed by row and column and nothing is written. Importing writes every row at once, or none."
            ),
        ),
        (_("Same file twice"), _("Uploading a file that was already imported changes nothing.")),
        (_("Size"), _("At most %(n)d rows per file.") % {"n": MAX_ROWS}),
    ]
    if needs_evidence:
        rows.append(
            (
                _("Needs evidence"),
                _(
                    "These items need a photo or file, which a spreadsheet cannot carry: their rows are imported as awaiting evidence and count only once you attach it (“Add evidence” on the import's page or under My entries): %(items)s."
                )
                % {"items": "、".join(needs_evidence.values())},
            )
        )
    # An overlay's items are in the drop-down for every row (a list cannot depend on the row's
    # subject); the guide says whose they are, and rows of other subjects are refused.
    version = scheme.latest_version()
    for place, items in overlay_items_by_place(version.spec()) if version else ():
        rows.append(
            (
                _("Local items"),
                _("Only for subjects of %(place)s: %(items)s.")
                % {"place": place, "items": "、".join(items)},
            )
        )
    rows += [("", ""), (_("Code"), COLUMNS["item"][0])]
    rows += [(code, display[i]) for i, code in enumerate(importable)]
    return rows


def _area_names(user) -> list[str]:
    if user is None or user.is_superuser:
        return []
    prefixes = {s.prefix for s in scopes_for(user, "entry.record")}
    return list(
        Region.objects.filter(code__in=prefixes).order_by("code").values_list("name", flat=True)
    )
