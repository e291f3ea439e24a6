"""Reading an import file's rows: its columns and header, each cell parsed (dates, quantities,
levels), the subjects and items found by what a row writes, and every row checked through the
same `Recorder` as the console form (`FileCheck`), CHUNK rows at a time.

`ledger.imports` runs the job around it (upload, preview, the all-or-nothing commit);
`ledger.template` writes the spreadsheet these columns are read from.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from kaoping.core.errors import ImportFailed, RowError
from kaoping.core.fields import subtree_q
from kaoping.core.limits import text_problem
from kaoping.core.privacy import mask_id_number
from kaoping.people.models import Subject, SubjectKind
from kaoping.regions.models import Region
from kaoping.schemes.labels import CADENCE_LABELS, cadence_label
from kaoping.schemes.models import Scheme

from .adjustments import ADJUST_CODE
from .models import ImportJob
from .services import EntryDraft, Recorder
from .sheets import sheet_rows


def _file_data(job: ImportJob) -> bytes:
    with job.file.open("rb") as stream:
        return stream.read()


CHUNK = 5000  # rows validated and inserted at a time: bounds memory and query size
MAX_ROWS = 200_000
NOTE_MAX = 500

SHEET = "记分导入"
HELP_SHEET = "说明"
LISTS_SHEET = "选项"
# Our column → header labels accepted for it; the first is the one the template writes.
COLUMNS = {
    "subject": ("对象", "考评对象", "subject"),
    "village": ("村社", "village"),
    "item": ("评分项", "item"),
    "quantity": ("数量", "quantity"),
    "label": ("评议等次", "等次", "rating"),
    "date": ("日期", "date"),
    # Which assessment the row counts in: empty (or 本期) for the scheme's own period of the
    # date, or a roll-up level assessed in its own right (年度 for the year-end assessment).
    "level": ("考核层级", "层级", "level"),
    "note": ("备注", "note"),
}
OWN_PERIOD = "本期"
# 评分项 of a ± adjustment row (a roll-up with `adjust: true`): 数量 holds its signed points,
# 考核层级 the roll-up level, 备注 the reason (required).
ADJUST_NAME = "加减分"
REQUIRED = ("subject", "item", "date")
PERSON_KINDS = {SubjectKind.CADRE, SubjectKind.PARTY_MEMBER}
# Which column a Recorder problem belongs to.
FIELD_COLUMN = {
    "subject": "subject",
    "item_code": "item",
    "evidence": "item",
    "quantity": "quantity",
    "label": "label",
    "occurred_on": "date",
    "cadence": "level",
    "note": "note",
}


def row_problem(row: int, column: str, message: str, cell: str = "") -> dict:
    return {"row": row, "column": column, "cell": cell, "message": message}


def _normal(label: str) -> str:
    return re.sub(r"[\s*＊]", "", label).lower()


@dataclass
class Header:
    """Where each of our columns is in the file, and how the file names it."""

    row: int
    positions: dict[str, int]
    labels: dict[str, str]

    def cell(self, key: str, row: int) -> str:
        position = self.positions.get(key)
        return f"{get_column_letter(position + 1)}{row}" if position is not None else ""

    def label(self, key: str) -> str:
        return self.labels.get(key, COLUMNS[key][0])


def _header(number: int, cells: list[str], scheme: Scheme) -> Header:
    accepted = {_normal(a): key for key, labels in COLUMNS.items() for a in labels}
    positions, labels = {}, {}
    for index, text in enumerate(cells):
        key = accepted.get(_normal(text))
        if key is not None and key not in positions:
            positions[key], labels[key] = index, text
    missing = [k for k in REQUIRED if k not in positions]
    if missing:
        raise ImportFailed(
            [
                RowError(
                    number,
                    COLUMNS[k][0],
                    _(
                        "The column “%(column)s” is missing from the header row; start from the template."
                    )
                    % {"column": COLUMNS[k][0]},
                )
                for k in missing
            ]
        )
    return Header(number, positions, labels)


_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)


def _level(text: str) -> str | None:
    """The cadence a 考核层级 cell names: "" for the scheme's own period (empty or 本期), a roll-up
    level by its code or its Chinese name (年度, year); None when it names none. Whether the
    scheme holds an assessment at that level is the Recorder's check."""
    text = text.strip()
    if text in ("", OWN_PERIOD):
        return ""
    for code, label in CADENCE_LABELS.items():
        if text in (code, str(label)):
            return code
    return None


def parse_date(text: str) -> date | None:
    """2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305 or an Excel day number."""
    found = _DATE_TEXT.match(text)
    parts = None
    if found:
        parts = found.groups()
    elif len(text) == 8 and text.isdigit():
        parts = (text[:4], text[4:6], text[6:])
    elif text.isdigit() and 36526 <= int(text) <= 73050:  # a day number in 2000…2099
        return date(1899, 12, 30) + timedelta(days=int(text))
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _quantity(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


RESOLVED_KEPT = 10_000  # item texts answered, per file, before the answers are dropped


class ItemNames:
    """Items of the scheme's latest version, found by code, by name, or by 'code name'."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.resolved: dict[tuple[str, str | None], tuple[str | None, str]] = {}
        self.codes: dict[str, set[str]] = {}  # text → item codes it may mean
        names: dict[str, set[str]] = {}
        for (_variant, code), node in recorder.items.items():
            if node.aggregate == "metric":
                continue
            self.codes.setdefault(code, set()).add(code)
            names.setdefault(node.name, set()).add(code)
            self.codes.setdefault(f"{code} {node.name}", set()).add(code)
        for name, codes in names.items():
            self.codes.setdefault(name, set()).update(codes)
        self.display = {
            code: (node.name if len(names[node.name]) == 1 else f"{code} {node.name}")
            for (_variant, code), node in recorder.items.items()
            if node.aggregate != "metric"
        }
        if recorder.adjust_cadences:
            # Beside the scheme's items (an item named 加减分 keeps its name; write the code).
            for text in (ADJUST_NAME, ADJUST_CODE):
                self.codes.setdefault(text, {ADJUST_CODE})

    def resolve(self, text: str, subject: Subject | None) -> tuple[str | None, str]:
        """(item code, '') or (None, why not); without a subject, only whether it exists.

        The answer depends only on the text and the subject's variant, so it is kept for the
        file (a column of items repeats a few dozen names)."""
        key = (text, None if subject is None else self.recorder.variant_of(subject))
        found = self.resolved.get(key)
        if found is None:
            if len(self.resolved) > RESOLVED_KEPT:
                self.resolved.clear()
            found = self.resolved[key] = self._resolve(text, subject)
        return found

    def _resolve(self, text: str, subject: Subject | None) -> tuple[str | None, str]:
        text = re.sub(r"\s+", " ", text.strip())
        if not text:
            return None, _("Choose an item from the drop-down list.")
        candidates = self.codes.get(text)
        if not candidates:
            return None, _(
                "“%(value)s” is not an item of %(scheme)s; choose one from the drop-down list."
            ) % {"value": text, "scheme": self.recorder.scheme.name}
        if subject is None:
            return sorted(candidates)[0], ""
        fitting = sorted(c for c in candidates if self.recorder.item(subject, c) is not None)
        if len(fitting) == 1:
            return fitting[0], ""
        if not fitting:
            return sorted(candidates)[0], ""  # the Recorder says why it does not fit the subject
        return None, _("Several items are called “%(value)s”; write its code (%(codes)s).") % {
            "value": text,
            "codes": "、".join(fitting),
        }


SUBJECT_FIELDS = [f.attname for f in Subject._meta.concrete_fields]
_KIND_INDEX = SUBJECT_FIELDS.index("kind")
SUBJECT_CACHE = 20_000  # subjects remembered between chunks; a village's file fits many times


class Subjects:
    """Finds the subjects rows name, a chunk at a time, and checks the user may record for them.

    How a row names its subject, by subject kind (also written on the template's 说明 sheet):
    households by 户号; villages and teams by the 12-digit village code or the exact village
    name; cadres and party members by name plus the village (code or name) in 村社, or by
    the 18-digit ID number. Subjects found are remembered (up to SUBJECT_CACHE), so a file that
    names the same households again and again costs one query per chunk at most.
    """

    def __init__(self, scheme: Scheme, user):
        self.kind = scheme.subject_kind
        # The scheme's area, unordered. The kind is checked in `_subjects`, not here: SQLite,
        # with no statistics on subjects, would read every subject of the kind through the
        # (kind, …) indexes rather than the few hundred a chunk names by key or number.
        self.base = Subject.objects.filter(subtree_q("region__code", scheme.region.code)).order_by()
        self.user = user
        self.known: dict[str, list[Subject] | str] = {}  # row key → candidates, or the problem
        self.allowed: dict[int, bool] = {}
        self.regions: dict[int, Region] = {}
        self.by_pk: dict[int, Subject] = {}

    def key(self, cells: dict[str, str]) -> str:
        value = cells.get("subject", "")
        if self.kind in PERSON_KINDS and not _is_id_number(value):
            return f"{value}\x1f{cells.get('village', '')}"
        return value.upper() if self.kind in PERSON_KINDS else value

    def resolve(self, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Subject | str]:
        """{row number: subject, or the problem with the subject column}."""
        if len(self.known) > SUBJECT_CACHE:
            self.known.clear()
            self.allowed.clear()
            self.by_pk.clear()
        wanted = {}
        for _number, cells in rows:
            key = self.key(cells)
            if key not in self.known:
                wanted[key] = cells
        if wanted:
            self._look_up(wanted)
        unchecked = {
            s.pk
            for key in {self.key(c) for _n, c in rows}
            if isinstance(self.known[key], list)
            for s in self.known[key]
            if s.pk not in self.allowed
        }
        if unchecked:
            mine = set(
                Subject.objects.for_user(self.user, "entry.record")
                .filter(pk__in=unchecked)
                .order_by()
                .values_list("pk", flat=True)
            )
            self.allowed.update((pk, pk in mine) for pk in unchecked)
        result: dict[int, Subject | str] = {}
        for number, cells in rows:
            options = self.known[self.key(cells)]
            if isinstance(options, str):
                result[number] = options
                continue
            mine = [s for s in options if self.allowed[s.pk]]
            if len(mine) == 1:
                result[number] = mine[0]
            elif mine:
                result[number] = self._ambiguous(cells)
            else:
                # Echo what the row says, not the subject's name: a resident's name outside the
                # user's area is not theirs to learn.
                written = cells.get("subject", "")
                result[number] = _(
                    "“%(subject)s” is not in your area; you cannot record for it."
                ) % {"subject": mask_id_number(written) if _is_id_number(written) else written}
        return result

    def _subjects(self, rows: list[tuple]) -> list[tuple[Subject, tuple]]:
        """Subjects of the scheme's kind built from value rows (the subject's fields, then
        extras), sharing regions."""
        width = len(SUBJECT_FIELDS)
        region_index = SUBJECT_FIELDS.index("region_id")
        rows = [row for row in rows if row[_KIND_INDEX] == self.kind]
        missing = {row[region_index] for row in rows} - set(self.regions)
        if missing:
            self.regions.update((r.pk, r) for r in Region.objects.filter(pk__in=missing))
        built = []
        for row in rows:
            subject = self.by_pk.get(row[0])
            if subject is None:
                subject = Subject.from_db(self.base.db, SUBJECT_FIELDS, row[:width])
                subject.region = self.regions[row[region_index]]
                self.by_pk[subject.pk] = subject
            built.append((subject, row[width:]))
        return built

    def mine_by_ids(self, ids: set[int]) -> set[int]:
        """Which of `ids` are subjects the user may record for now, read in one query (and
        remembered for `by_ids`); a subject moved out of the area or deleted is not."""
        if len(self.by_pk) > SUBJECT_CACHE:
            self.by_pk.clear()
        rows = list(
            self.base.for_user(self.user, "entry.record")
            .filter(pk__in=ids)
            .values_list(*SUBJECT_FIELDS)
        )
        return {subject.pk for subject, _extra in self._subjects(rows)}

    def by_ids(self, ids: set[int]) -> dict[int, Subject]:
        """Subjects by primary key (those the check pass found are usually still remembered)."""
        if len(self.by_pk) > SUBJECT_CACHE:
            self.by_pk.clear()
        missing = ids - set(self.by_pk)
        if missing:
            self._subjects(list(self.base.filter(pk__in=missing).values_list(*SUBJECT_FIELDS)))
        # A subject deleted since the rows were checked is left out (the caller says so).
        return {pk: self.by_pk[pk] for pk in ids if pk in self.by_pk}

    def _look_up(self, wanted: dict[str, dict[str, str]]) -> None:
        if self.kind == SubjectKind.HOUSEHOLD:
            self._households(wanted)
        elif self.kind in PERSON_KINDS:
            self._persons(wanted)
        else:
            self._villages(wanted)

    def _households(self, wanted):
        rows = self.base.filter(household__number__in=[k for k in wanted if k]).values_list(
            *SUBJECT_FIELDS, "household__number"
        )
        found: dict[str, list[Subject]] = {}
        for subject, (number,) in self._subjects(list(rows)):
            found.setdefault(number, []).append(subject)
        for key in wanted:
            if not key:
                self.known[key] = _("Fill in the household number (户号).")
            else:
                self.known[key] = found.get(key) or _(
                    "No household with the number “%(value)s”."
                ) % {"value": key}

    def _villages(self, wanted):
        values = [k for k in wanted if k]
        rows = self.base.filter(
            Q(region__code__in=values) | Q(region__name__in=values) | Q(name__in=values)
        ).values_list(*SUBJECT_FIELDS)
        found: dict[str, list[Subject]] = {}
        for subject, _extra in self._subjects(list(rows)):
            for key in {subject.region.code, subject.region.name, subject.name}:
                found.setdefault(key, []).append(subject)
        for key in wanted:
            if not key:
                self.known[key] = _("Fill in the village code or name.")
            else:
                self.known[key] = found.get(key) or _(
                    "No village with the code or name “%(value)s”."
                ) % {"value": key}

    def _persons(self, wanted):
        ids = [k for k in wanted if _is_id_number(k)]
        names = {cells.get("subject", "") for k, cells in wanted.items() if k not in ids}
        rows = self.base.filter(
            Q(person__id_number__in=ids) | Q(person__name__in=names - {""})
        ).values_list(*SUBJECT_FIELDS, "person__name", "person__id_number")
        found: dict[str, list[Subject]] = {}
        for subject, (name, id_number) in self._subjects(list(rows)):
            if id_number:
                found.setdefault(id_number.upper(), []).append(subject)
            for village in (subject.region.code, subject.region.name):
                found.setdefault(f"{name}\x1f{village}", []).append(subject)
        for key, cells in wanted.items():
            value, village = cells.get("subject", ""), cells.get("village", "")
            if not value:
                self.known[key] = _("Fill in the name or the ID number.")
            elif key in ids:
                self.known[key] = found.get(key) or _(
                    "Nobody with the ID number %(id)s is scored by this scheme."
                ) % {"id": mask_id_number(value)}
            elif not village:
                self.known[key] = _(
                    "Fill in the village (村社) of “%(name)s”, or put the ID number in this column."
                ) % {"name": value}
            else:
                self.known[key] = found.get(key) or _(
                    "Nobody called “%(name)s” in %(village)s is scored by this scheme."
                ) % {"name": value, "village": village}

    def _ambiguous(self, cells) -> str:
        value = cells.get("subject", "")
        if self.kind in PERSON_KINDS:
            return _(
                "Several people called “%(name)s” in %(village)s; put the ID number instead."
            ) % {"name": value, "village": cells.get("village", "")}
        return _("Several villages are called “%(value)s”; use the 12-digit village code.") % {
            "value": value
        }


def _is_id_number(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] in "xX")


@dataclass
class Row:
    """One data row after checking: its entry draft, or what is wrong with it."""

    number: int
    draft: EntryDraft | None = None
    problems: list[dict] = field(default_factory=list)


class FileCheck:
    """Reads a job's file and turns its rows into entry drafts, CHUNK rows at a time.

    `chunks()` raises ImportFailed for a problem with the file as a whole (not a spreadsheet,
    a column missing, too many rows); row problems are on each Row.
    """

    def __init__(self, job: ImportJob, recorder: Recorder, data: bytes):
        self.job, self.recorder, self.data = job, recorder, data
        self.items = ItemNames(recorder)
        self.subjects = Subjects(job.scheme, recorder.acting_user or job.uploaded_by)
        self.header: Header | None = None

    def problem(self, number: int, key: str, message: str) -> dict:
        return row_problem(number, self.header.label(key), message, self.header.cell(key, number))

    def chunks(self) -> Iterator[list[Row]]:
        rows = sheet_rows(self.data, self.job.filename, SHEET)
        for number, cells in rows:
            self.header = _header(number, cells, self.job.scheme)
            break
        if self.header is None:
            raise ImportFailed([RowError(1, "", _("The file is empty."))])
        positions = self.header.positions.items()
        batch: list[tuple[int, dict[str, str]]] = []
        for seen, (number, cells) in enumerate(rows, start=1):
            if seen > MAX_ROWS:
                message = _("The file has more than %(max)d rows; split it into smaller files.")
                raise ImportFailed([RowError(number, "", message % {"max": MAX_ROWS})])
            width = len(cells)
            batch.append((number, {key: cells[i] if i < width else "" for key, i in positions}))
            if len(batch) >= CHUNK:
                yield self.check(batch)
                batch = []
        if batch:
            yield self.check(batch)

    def check(self, rows: list[tuple[int, dict[str, str]]]) -> list[Row]:
        # Control characters first: a NUL would even fail PostgreSQL's lookup of the subject.
        refused = {number: self._control_characters(number, cells) for number, cells in rows}
        subjects = self.subjects.resolve([(n, c) for n, c in rows if not refused[n]])
        checked = []
        for number, cells in rows:
            if refused[number]:
                row = Row(number, problems=refused[number])
            else:
                row = self._check_row(number, cells, subjects[number])
            if row.problems:
                order = self.header.positions
                keys = {self.header.label(key): key for key in COLUMNS}
                row.problems.sort(key=lambda p: order.get(keys.get(p["column"]), 99))
            checked.append(row)
        return checked

    def _control_characters(self, number: int, cells: dict[str, str]) -> list[dict]:
        """A NUL is stored on SQLite and fails PostgreSQL: no control character in any cell."""
        # A printable cell has no control character (they are all non-printable): the common
        # case is answered without walking the text.
        bad = [
            (k, p)
            for k, v in cells.items()
            if not v.isprintable() and (p := text_problem(v, multiline=(k == "note")))
        ]
        if not bad:
            return []
        message = _("This cell %(problem)s; retype it.")
        return [self.problem(number, k, message % {"problem": p}) for k, p in bad]

    def _check_row(self, number: int, cells: dict[str, str], subject: Subject | str) -> Row:
        row = Row(number)
        if isinstance(subject, str):
            row.problems.append(self.problem(number, "subject", subject))
            subject = None
        code, why = self.items.resolve(cells.get("item", ""), subject)
        if code is None:
            row.problems.append(self.problem(number, "item", why))
        day = parse_date(cells.get("date", ""))
        if day is None:
            message = (
                _("“%(value)s” is not a date; write it like 2026-03-05 or 2026/3/5.")
                % {"value": cells["date"]}
                if cells.get("date")
                else _("Fill in the date, e.g. 2026-03-05.")
            )
            row.problems.append(self.problem(number, "date", message))
        adjusting = code == ADJUST_CODE
        raw_quantity = cells.get("quantity", "") or ("" if adjusting else "1")
        quantity = _quantity(raw_quantity.replace("−", "-")) if raw_quantity else None
        if adjusting and not raw_quantity:
            message = _("Fill in the points of the adjustment, e.g. 2 or -3.")
            row.problems.append(self.problem(number, "quantity", message))
        elif quantity is None:
            message = _("“%(value)s” is not a number; write a quantity such as 1 or 2.5.")
            row.problems.append(self.problem(number, "quantity", message % {"value": raw_quantity}))
        cadence = _level(cells.get("level", ""))
        if cadence is None:
            message = _(
                "“%(value)s” is not an assessment level; write %(levels)s or leave it empty."
            )
            named = {*self.recorder.assessed_cadences, *self.recorder.adjust_cadences}
            levels = [OWN_PERIOD, *(cadence_label(c) for c in sorted(named))]
            row.problems.append(
                self.problem(
                    number,
                    "level",
                    message % {"value": cells["level"], "levels": "、".join(levels)},
                )
            )
        note = cells.get("note", "")
        if len(note) > NOTE_MAX:
            message = _("The note has %(n)d characters; at most %(max)d fit.")
            row.problems.append(
                self.problem(number, "note", message % {"n": len(note), "max": NOTE_MAX})
            )
        if subject is None or code is None:
            return row
        draft = EntryDraft(
            subject=subject,
            item_code=code,
            # A stand-in date lets the other columns be checked when the date is bad.
            occurred_on=day or timezone.localdate(),
            quantity=quantity if quantity is not None else Decimal(1),
            label=cells.get("label", ""),
            note=note if len(note) <= NOTE_MAX else "",  # too long: reported above
            idempotency_key=idempotency_key(self.job, number),
            cadence=cadence or "",
        )
        for name, message in self.recorder_problems(draft).items():
            # A bad date, level or quantity is reported above; the stand-in would only repeat it.
            if (
                (name != "occurred_on" or day is not None)
                and (name != "cadence" or cadence is not None)
                and (name != "quantity" or quantity is not None)
            ):
                row.problems.append(self.problem(number, FIELD_COLUMN.get(name, "item"), message))
        if not row.problems:
            row.draft = draft
        return row

    def recorder_problems(self, draft: EntryDraft) -> dict[str, str]:
        return self.recorder.problems(draft)


def idempotency_key(job: ImportJob, row: int) -> str:
    return f"import:{job.sha256}:{row}"
