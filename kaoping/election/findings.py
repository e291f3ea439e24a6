"""Departments' findings about persons (一人一表's sources) and the qualification check (资格联审).

A department (纪检, 政法, 公安, 信访…) answers the conditions of the round's negative list that
name it, about the persons who have a sheet in the round. Its findings come in by Excel, by the
JSON API or typed in one at a time, all through `findings_submit`: every row is checked (the ID
number's GB 11643 check digit, the person on a sheet of the round, the name, the condition this
department answers, the date), every problem is reported by row and field, and nothing is written
unless the whole batch is good. A department reads and withdraws its own findings only: access is
by department (`access.department_ensure`), not by region, since 公安 answers for every village.

`qualification_refresh` derives each sheet's 通过 / 不宜 / 待核 and its reason from the round's
conditions and the findings, in a few queries for any number of sheets.
"""

import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from kaoping.accounts.scoping import is_system
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.limits import text_problem
from kaoping.core.privacy import id_number_problem
from kaoping.core.tabular import rows_with_header, xlsx_row
from kaoping.people.models import Person
from kaoping.regions.models import Department

from .access import department_ensure, departments_of
from .models import (
    ElectionRound,
    Finding,
    FindingSource,
    PersonSheet,
    Qualification,
    RoundStatus,
)
from .spec import Condition, spec_of

ROWS_MAX = 20_000  # per file or request; a county's whole register of cadres fits many times
SUMMARY_MAX = 500
DOCUMENT_MAX = 100

# The file's columns (Chinese, as the template writes them) and the labels accepted for each.
HEADERS = {
    "id_number": "身份证号",
    "name": "姓名",
    "condition": "条件",
    "hit": "是否存在",
    "summary": "情况说明",
    "found_on": "查核日期",
    "document": "文号",
}
COLUMNS = {
    "id_number": {"身份证号", "身份证号码", "公民身份号码", "id number", "id_number"},
    "name": {"姓名", "name"},
    "condition": {"条件", "负面清单条件", "condition"},
    "hit": {"是否存在", "是否属实", "hit"},
    "summary": {"情况说明", "说明", "summary"},
    "found_on": {"查核日期", "日期", "found_on", "date"},
    "document": {"文号", "文书编号", "document"},
}
YES = {"是", "y", "yes", "true", "1", "√", "有"}
NO = {"否", "n", "no", "false", "0", "×", "无"}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")


# ──────────────────────────────── which department, which conditions ────────────────────────────────


def conditions_answered(round_: ElectionRound, department: Department) -> list[Condition]:
    """The conditions of the round's negative list that `department` answers."""
    return [c for c in spec_of(round_).conditions if c.department == department.code]


def department_choices(user) -> list[Department]:
    """The departments whose findings `user` enters (a superuser: every department)."""
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return list(Department.objects.select_related("county").order_by("county__code", "code"))
    return sorted(departments_of(user), key=lambda d: d.code)


def rounds_of(department: Department) -> list[ElectionRound]:
    """The rounds of the department's county, the open ones first."""
    rounds = ElectionRound.objects.filter(county_id=department.county_id)
    return sorted(rounds, key=lambda r: (r.status != RoundStatus.OPEN, -r.pk))


def department_findings(*, user, round: ElectionRound, department: Department):  # noqa: A002
    """The findings `department` entered in `round`, for a login of that department alone."""
    _department_check(user, department)
    return (
        Finding.objects.filter(round=round, department=department)
        .select_related("sheet__person", "sheet__village")
        .order_by("-found_on", "-id")
    )


def _department_check(user, department: Department) -> None:
    # Jobs act as the system actor (inactive, so department_ensure would refuse it).
    if not is_system(user):
        department_ensure(user, department)


# ──────────────────────────────── the one write ────────────────────────────────


@dataclass
class _Row:
    number: int
    sheet: PersonSheet
    condition: str
    hit: bool
    summary: str
    found_on: date
    document: str


def findings_submit(
    *,
    round: ElectionRound,  # noqa: A002
    department: Department,
    rows: list[dict],
    source: str,
    acting_user,
) -> list[Finding]:
    """Check every row and write them all, or raise ImportFailed naming every bad row and field.

    A row is a dict with `id_number`, `name` (optional), `condition` (a code or name of a
    condition this department answers; blank for a note), `hit`, `summary`, `found_on`,
    `document`, and optionally `row` (the row number the user sees; else counted from 1).
    The same (person, department, condition, date, document) again updates that finding.
    """
    _department_check(acting_user, department)
    if department.county_id != round.county_id:
        raise KaopingError({"department": _("This department is not of the round's county.")})
    if round.status != RoundStatus.OPEN:
        raise KaopingError({"round": _("The round is closed; findings can no longer be entered.")})
    if source not in FindingSource.values:
        raise KaopingError({"source": _("Unknown source of findings.")})
    labels = HEADERS if source != FindingSource.API else {k: k for k in HEADERS}
    checked = _rows_check(round, department, rows, labels)
    with transaction.atomic():
        findings, created = _rows_write(round, department, checked, source, acting_user)
        qualification_refresh(list({row.sheet.pk: row.sheet for row in checked}.values()))
        audit_record(
            actor=acting_user,
            action="election.findings.submitted",
            obj=round,
            region_code=round.county.code,
            object_repr=f"{department.name} {round.name}"[:200],
            after={
                "department": department.name,
                "source": str(FindingSource(source).label),
                "count": len(findings),
                "created": created,
                "updated": len(findings) - created,
            },
        )
    return findings


def _rows_check(round_, department, rows: list[dict], labels: dict) -> list[_Row]:
    errors: list[RowError] = []

    def error(number: int, column: str, message: str) -> None:
        errors.append(RowError(number, labels[column], message))

    if not rows:
        raise ImportFailed([RowError(1, "", _("There are no findings to enter."))])
    if len(rows) > ROWS_MAX:
        raise ImportFailed(
            [RowError(1, "", _("At most %(n)d rows at a time; split them.") % {"n": ROWS_MAX})]
        )
    all_conditions = {c.code: c for c in spec_of(round_).conditions}
    by_name = {c.name: c for c in all_conditions.values()}
    own = {c.code for c in all_conditions.values() if c.department == department.code}
    department_names = dict(
        Department.objects.filter(county_id=department.county_id).values_list("code", "name")
    )
    today = timezone.localdate()
    numbered = [(int(row.get("row") or index), row) for index, row in enumerate(rows, start=1)]
    ids = {str(row.get("id_number") or "").strip().upper() for _n, row in numbered}
    persons = {
        p.id_number: p
        for p in Person.objects.filter(
            id_number__in=[i for i in ids if i], region__code__startswith=round_.county.code
        )
    }
    sheets = {
        s.person_id: s
        for s in PersonSheet.objects.filter(
            round=round_, person__in=list(persons.values())
        ).select_related("person", "village")
    }
    checked: list[_Row] = []
    seen: dict[tuple, int] = {}
    for number, row in numbered:
        before = len(errors)
        id_number = str(row.get("id_number") or "").strip().upper()
        sheet = None
        if not id_number:
            error(number, "id_number", _("The ID number is required."))
        elif problem := id_number_problem(id_number):
            error(number, "id_number", problem)
        elif (person := persons.get(id_number)) is None:
            error(number, "id_number", _("No resident of the county has this ID number."))
        elif (sheet := sheets.get(person.pk)) is None:
            error(number, "id_number", _("This person is not on a sheet of this round."))
        name = str(row.get("name") or "").strip()
        if name and sheet is not None and name != sheet.person.name:
            error(number, "name", _("The name does not match the person with this ID number."))
        condition = _condition_of(str(row.get("condition") or "").strip(), all_conditions, by_name)
        if condition is None:
            given = str(row.get("condition") or "").strip()
            error(
                number,
                "condition",
                _("“%(c)s” is not a condition of this round; this department answers: %(own)s.")
                % {"c": given, "own": _list_names(all_conditions, own)},
            )
        elif condition and condition.code not in own:
            error(
                number,
                "condition",
                _("“%(c)s” is answered by the department %(d)s, not by this one.")
                % {
                    "c": condition.name,
                    "d": department_names.get(condition.department, condition.department),
                },
            )
        hit = _hit_of(row.get("hit"))
        if hit is None:
            error(number, "hit", _("Write 是 or 否."))
        elif hit and not condition:
            error(number, "hit", _("A note without a condition cannot be marked as found."))
        summary = str(row.get("summary") or "").strip()
        document = str(row.get("document") or "").strip()
        for column, value, most in (
            ("summary", summary, SUMMARY_MAX),
            ("document", document, DOCUMENT_MAX),
        ):
            if len(value) > most:
                error(number, column, _("At most %(n)d characters.") % {"n": most})
            elif problem := text_problem(value, multiline=False):
                error(number, column, problem)
        if not condition and not summary:
            error(number, "summary", _("A note without a condition needs its text."))
        found_on = _date_of(row.get("found_on"))
        if found_on is None:
            error(number, "found_on", _("Write the date of the finding, such as 2026-09-10."))
        elif found_on > today:
            error(number, "found_on", _("The date of the finding is in the future."))
        if len(errors) > before:
            continue
        code = condition.code if condition else ""
        key = (sheet.pk, code, found_on, document)
        if key in seen:
            error(
                number,
                "id_number",
                _("Repeats row %(n)d (same person, condition, date and document).")
                % {"n": seen[key]},
            )
            continue
        seen[key] = number
        checked.append(_Row(number, sheet, code, bool(hit), summary, found_on, document))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    return checked


def _condition_of(given: str, conditions: dict, by_name: dict):
    """The condition named by code or name; "" for none given; None if unknown."""
    if not given:
        return ""
    return conditions.get(given) or conditions.get(given.lower()) or by_name.get(given)


def _list_names(conditions: dict, codes: set[str]) -> str:
    names = [f"{conditions[c].name}（{c}）" for c in conditions if c in codes]
    return "、".join(names) or _("none")


def _hit_of(value) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value if value is not None else "").strip().lower()
    if word in YES:
        return True
    if word in NO or word == "":
        return False
    return None


def _date_of(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(str(value or "").strip())
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _rows_write(round_, department, rows: list[_Row], source, acting_user):
    existing = {
        (f.sheet_id, f.condition, f.found_on, f.document): f
        for f in Finding.objects.select_for_update().filter(
            round=round_, department=department, sheet__in=[r.sheet.pk for r in rows]
        )
    }
    new, changed = [], []
    for row in rows:
        finding = existing.get((row.sheet.pk, row.condition, row.found_on, row.document))
        if finding is None:
            new.append(
                Finding(
                    round=round_,
                    sheet=row.sheet,
                    department=department,
                    condition=row.condition,
                    hit=row.hit,
                    summary=row.summary,
                    found_on=row.found_on,
                    document=row.document,
                    source=source,
                    recorded_by=acting_user,
                )
            )
        else:
            finding.hit, finding.summary = row.hit, row.summary
            finding.source, finding.recorded_by = source, acting_user
            changed.append(finding)
    created = Finding.objects.bulk_create(new, batch_size=1000)
    Finding.objects.bulk_update(
        changed, ["hit", "summary", "source", "recorded_by"], batch_size=1000
    )
    return created + changed, len(created)


def findings_import(
    *,
    round: ElectionRound,  # noqa: A002
    department: Department,
    data: bytes,
    filename: str,
    acting_user,
) -> list[Finding]:
    """A department's Excel or CSV file of findings (the template's columns), all or nothing."""
    _department_check(acting_user, department)
    rows = []
    for number, values in rows_with_header(data, filename, COLUMNS):
        if len(rows) >= ROWS_MAX:
            raise ImportFailed(
                [
                    RowError(
                        number,
                        "",
                        _("At most %(n)d rows per file; split the file.") % {"n": ROWS_MAX},
                    )
                ]
            )
        rows.append({"row": number, **values})
    if not rows:
        raise ImportFailed([RowError(2, "", _("The file has no rows below its header."))])
    return findings_submit(
        round=round,
        department=department,
        rows=rows,
        source=FindingSource.EXCEL,
        acting_user=acting_user,
    )


def finding_withdraw(*, finding: Finding, acting_user) -> None:
    """The department takes back one of its own findings (entered by mistake)."""
    _department_check(acting_user, finding.department)
    round_ = finding.round
    if round_.status != RoundStatus.OPEN:
        raise KaopingError({"round": _("The round is closed; findings can no longer be changed.")})
    with transaction.atomic():
        sheet = finding.sheet
        conditions = {c.code: c.name for c in spec_of(round_).conditions}
        condition = conditions.get(finding.condition, finding.condition)
        audit_record(
            actor=acting_user,
            action="election.finding.withdrawn",
            obj=finding,
            region_code=sheet.village.code,
            object_repr=f"{sheet.person.name} {finding.department.name}"[:200],
            before={
                "person": sheet.person.name,
                "department": finding.department.name,
                "condition": condition,
                "hit": finding.hit,
                "summary": finding.summary,
                "found_on": finding.found_on.isoformat(),
                "document": finding.document,
                "source": str(FindingSource(finding.source).label),
            },
        )
        finding.delete()
        qualification_refresh([sheet])


# ──────────────────────────────── the template ────────────────────────────────


def findings_template(*, round: ElectionRound, department: Department) -> bytes:  # noqa: A002
    """Sheet 查核结果 with the headers and an example row; sheet 本部门条件 lists the conditions
    this department answers (code and name: either may be written)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "查核结果"
    keys = list(HEADERS)
    sheet.append(xlsx_row(sheet, [HEADERS[k] for k in keys]))
    own = conditions_answered(round, department)
    example = {
        "id_number": "330304198001010011",
        "name": "张三",
        "condition": own[0].name if own else "",
        "hit": "否",
        "summary": _("No record found"),
        "found_on": timezone.localdate().isoformat(),
        "document": "",
    }
    sheet.append(xlsx_row(sheet, [example[k] for k in keys]))
    widths = {"id_number": 22, "condition": 18, "summary": 40, "found_on": 12, "document": 22}
    for index, key in enumerate(keys, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE8E7")
        sheet.column_dimensions[cell.column_letter].width = widths.get(key, 10)
        if key in ("id_number", "found_on", "document"):
            for row in range(2, 1002):  # text: Excel keeps the X of an ID number and the date
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    lists = workbook.create_sheet("本部门条件")
    lists.column_dimensions["A"].width = 22
    lists.column_dimensions["B"].width = 30
    lists.append(xlsx_row(lists, [_("code"), _("condition")]))
    for condition in own:
        lists.append(xlsx_row(lists, [condition.code, condition.name]))
    lists.append(xlsx_row(lists, ["", ""]))
    lists.append(
        xlsx_row(
            lists,
            [
                _("Note"),
                _(
                    "Write a condition's code or name, 是 if it applies and 否 if not; leave the "
                    "condition empty for a note. The whole file is imported or nothing is."
                ),
            ],
        )
    )
    for cell in lists[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ──────────────────────────────── the qualification check ────────────────────────────────


def qualification_refresh(sheets) -> int:
    """Recompute 通过 / 不宜 / 待核 and the reason of `sheets` (any number, of any rounds):
    不宜 if the answering department found a condition applies (its latest finding on it), else
    待核 while a condition has no answer from its department, else 通过. Returns how many
    sheets changed. One query for the findings, one per round for department names, one update."""
    sheets = list(sheets)
    if not sheets:
        return 0
    rounds = ElectionRound.objects.in_bulk({s.round_id for s in sheets})
    latest: dict[tuple[int, str], dict] = {}
    findings = (
        Finding.objects.filter(sheet__in=[s.pk for s in sheets])
        .exclude(condition="")
        .values(
            "sheet_id", "condition", "hit", "found_on", "document", "id",
            "department__code", "department__name",
        )
        .order_by("found_on", "id")
    )  # fmt: skip
    for f in findings:
        # Only the department a condition names answers it; its latest finding stands.
        latest[(f["sheet_id"], f["condition"], f["department__code"])] = f
    changed = []
    for round_id, round_ in rounds.items():
        conditions = spec_of(round_).conditions
        codes = {c.department for c in conditions}
        names = dict(
            Department.objects.filter(county_id=round_.county_id, code__in=codes).values_list(
                "code", "name"
            )
        )
        for sheet in (s for s in sheets if s.round_id == round_id):
            status, reason = _qualification_of(sheet, conditions, latest, names)
            if (sheet.qualification, sheet.qualification_reason) != (status, reason):
                sheet.qualification, sheet.qualification_reason = status, reason
                changed.append(sheet)
    PersonSheet.objects.bulk_update(
        changed, ["qualification", "qualification_reason"], batch_size=1000
    )
    return len(changed)


def _qualification_of(sheet, conditions, latest: dict, names: dict) -> tuple[str, str]:
    found, unanswered = [], []
    for condition in conditions:
        finding = latest.get((sheet.pk, condition.code, condition.department))
        department = names.get(condition.department, condition.department)
        if finding is None:
            unanswered.append(
                _("%(condition)s (by %(department)s)")
                % {"condition": condition.name, "department": department}
            )
        elif finding["hit"]:
            source = ", ".join(
                part
                for part in (department, finding["found_on"].isoformat(), finding["document"])
                if part
            )
            found.append(
                _("%(condition)s (%(source)s)") % {"condition": condition.name, "source": source}
            )
    if found:
        return Qualification.UNFIT, _("Found: %(list)s.") % {"list": "；".join(found)}
    if unanswered:
        return Qualification.PENDING, _("Not yet answered: %(list)s.") % {
            "list": "；".join(unanswered)
        }
    return Qualification.PASS, _("Every condition answered; none applies.")
