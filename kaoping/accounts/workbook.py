"""The Excel template for importing logins (姓名, 手机号, 角色, 范围) with a sheet that says how."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from .models import Role
from .permissions import ROLE_LEVELS, grantable_roles
from .services import IMPORT_MAX_ROWS, LOGIN_HEADERS


def _scope_help(role: str) -> str:
    if role == Role.DEPARTMENT_SCORER:
        return _("the department's code or name")
    if role == Role.VILLAGER:
        return _("the household number (户号)")
    names = {
        "county": _("county"),
        "township": _("township"),
        "village": _("village"),
        "grid": _("grid"),
    }
    return _("the division code of a %(levels)s") % {
        "levels": _(" or ").join(str(names[level]) for level in ROLE_LEVELS[role])
    }


def logins_template(user) -> bytes:
    """Sheet 账号 takes the rows (角色 is a drop-down of the roles `user` may grant); sheet 说明
    says what each column holds."""
    roles = grantable_roles(user)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("logins")
    keys = ["name", "phone", "role", "scope"]
    sheet.append([LOGIN_HEADERS[k] for k in keys])
    widths = {"name": 12, "phone": 16, "role": 16, "scope": 22}
    for index, key in enumerate(keys, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE8E7")
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = widths[key]
        if key in ("phone", "scope"):
            # Text, so Excel keeps every digit of a number and a code.
            for row in range(2, IMPORT_MAX_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
    if roles:
        labels = ",".join(str(Role(r).label) for r in roles)
        rule = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=False)
        rule.error = _("Choose a role from the list.")
        rule.add(f"C2:C{IMPORT_MAX_ROWS + 1}")
        sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("how to fill"))
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 60
    notes.append([_("column"), _("what to write")])
    notes.append([LOGIN_HEADERS["name"], _("The person's name, as it appears on screen.")])
    notes.append(
        [
            LOGIN_HEADERS["phone"],
            _("The 11-digit mobile number; it is the username of the login."),
        ]
    )
    notes.append([LOGIN_HEADERS["role"], _("One of the roles below.")])
    notes.append([LOGIN_HEADERS["scope"], _("Where the role is held; see below for each role.")])
    notes.append([])
    notes.append([_("role"), _("scope")])
    for role in roles:
        notes.append([str(Role(role).label), _scope_help(role)])
    notes.append([])
    notes.append(
        [
            _("Note"),
            _(
                "The whole file is imported or nothing is. Each new login gets a temporary "
                "password, shown once after the import, to be changed at the first sign-in."
            ),
        ]
    )
    for row in notes.iter_rows(min_row=1, max_row=1):
        for cell in row:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
