"""Excel import of entries: a template per scheme, a preview of every problem, then all or nothing.

A file is uploaded (`import_upload`) and checked (`import_check`): every row is parsed and
validated through the same `Recorder` as the console form, and up to MAX_PROBLEMS problems are
stored on the job by row and column. Nothing is written to the ledger until `import_commit`,
which makes two passes and never holds more than one chunk of rows in memory:

1. *checking*, outside any transaction: the rows the preview checked and kept beside the file
   (`checked_rows_save`, when the file had no problem) are read back, and their subjects
   checked again in bulk (one may have left the uploader's area since); a job checked under
   another version of the scheme, or before the rows were kept, has its file streamed and every
   row validated again instead, written to a temporary file in the same format. `rows_done` is
   saved after each chunk in its own short transaction, so the status page shows real progress;
2. *writing*, one transaction: what the integrity flags count is read for the whole file
   before the first insert (`Recorder.tally_read`), then the checked rows are read back chunk by
   chunk, each checked once more by a fresh Recorder where anything its rules read has changed
   since (a period finalised, the uploader's departments, the subject's variant), and inserted
   (flags, hash chain, bulk insert), and the job is marked imported. Progress written inside
   that transaction would be invisible to the status page until it commits, so the page says
   "writing" without a count and the entries appear all at once: the honest picture of an
   all-or-nothing write. Doing the parsing and lookups in the first pass keeps this
   transaction (and SQLite's write lock) as short as it can be.

Each entry carries the idempotency key `import:<file sha256>:<row>`, and a file whose sha256 was
already imported is refused as a duplicate, so uploading the same file again changes nothing.
"""

import hashlib
import json
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.bulk import collector_paused, page_cache
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.fields import subtree_q
from kaoping.core.leases import lease_is_stale, lease_release, lease_renew, lease_take_over
from kaoping.core.limits import text_problem
from kaoping.core.privacy import mask_id_number
from kaoping.core.statistics import tables_analyze
from kaoping.people.models import Subject, SubjectKind
from kaoping.regions.models import Region
from kaoping.schemes.labels import CADENCE_LABELS, cadence_label
from kaoping.schemes.models import Scheme

from .adjustments import ADJUST_CODE
from .links import links_carry_from
from .models import Entry, EntrySource, EntryStatus, ImportJob, ImportStatus
from .services import AUDIT_BY_CALLER, EntryDraft, Recorder, entries_write
from .sheets import sheet_rows

CHUNK = 5000  # rows validated and inserted at a time: bounds memory and query size
MAX_PROBLEMS = 500  # problems kept on a job; the rest are counted
MAX_ROWS = 200_000
# An import of this many rows refreshes the ledger's planner statistics (kaoping.core.statistics):
# enough pending entries to change the plan of a review queue; a smaller one changes nothing.
STATISTICS_ROWS = 10_000
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


# ──────────────────────────────── parsing rows ────────────────────────────────


def _row_error(row: int, column: str, message: str, cell: str = "") -> dict:
    return {"row": row, "column": column, "cell": cell, "message": message}


def _from_row_errors(errors: Iterable[RowError]) -> list[dict]:
    return [_row_error(e.row, e.field, e.message) for e in errors]


class _Changed(Exception):
    """Rows that passed the check failed when written: something changed in between."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__(problems)


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


WRITE_CACHE_MIB = 64  # SQLite's page cache while the write pass inserts (`core.bulk.page_cache`)
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
        return _row_error(number, self.header.label(key), message, self.header.cell(key, number))

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


def _file_data(job: ImportJob) -> bytes:
    with job.file.open("rb") as stream:
        return stream.read()


def _recorder(job: ImportJob, acting_user=None) -> Recorder:
    # A spreadsheet cannot carry photos: rows of items that need evidence are imported as
    # `awaiting` and counted only once their evidence is attached (`entry_evidence_attach`).
    return Recorder(
        scheme=job.scheme,
        acting_user=acting_user or job.uploaded_by,
        source=EntrySource.IMPORTED,
        evidence_later=True,
    )


class _Problems:
    """The first MAX_PROBLEMS problems, and how many more there were."""

    def __init__(self):
        self.kept: list[dict] = []
        self.more = 0

    def add(self, problems: Iterable[dict]) -> None:
        for problem in problems:
            if len(self.kept) < MAX_PROBLEMS:
                self.kept.append(problem)
            else:
                self.more += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def as_list(self) -> list[dict]:
        if not self.more:
            return self.kept
        tail = _("… and %(n)d more problems not listed.") % {"n": self.more}
        return [*self.kept, _row_error(0, "", tail)]


# ──────────────────────────────── services ────────────────────────────────


def _common_prefix(codes: Iterable[str]) -> str:
    codes = list(codes)
    prefix = min(codes, default="")
    for code in codes:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _twin(job: ImportJob) -> ImportJob | None:
    """An earlier import of the very same file (by sha256), if there was one.

    Any scheme counts: the rows' idempotency keys hold the file's sha256, so a second import of
    one file could not be written anyway.
    """
    return (
        ImportJob.objects.filter(sha256=job.sha256, status=ImportStatus.COMMITTED)
        .exclude(pk=job.pk)
        .order_by("finished_at")
        .first()
    )


def _duplicate_problem(twin: ImportJob) -> dict:
    message = _(
        "This file was already imported (import %(job)d of %(day)s, %(n)d rows); importing it again would change nothing."
    ) % {
        "job": twin.pk,
        "day": timezone.localtime(twin.finished_at).date().isoformat() if twin.finished_at else "",
        "n": twin.rows_done,
    }
    return {**_row_error(0, "", message), "duplicate_of": twin.pk}


def import_upload(*, scheme: Scheme, data: bytes, filename: str, acting_user) -> ImportJob:
    """Store an uploaded file as an import job and check it (nothing is written to the ledger).

    Rows for subjects outside the actor's area are problems of the file (see `Subjects`).
    """
    ensure(acting_user, "entry.record", scheme)
    sha256 = hashlib.sha256(data).hexdigest()
    if acting_user.is_superuser:
        area = scheme.region.code
    else:
        area = _common_prefix(s.prefix for s in scopes_for(acting_user, "entry.record"))
    job = ImportJob(
        scheme=scheme,
        filename=Path(filename).name[:200],
        sha256=sha256,
        uploaded_by=acting_user,
        region_code=area,
    )
    job.file.save(f"{sha256}{Path(filename).suffix.lower()[:8]}", ContentFile(data), save=False)
    job.save()
    return import_check(job, data=data)


@collector_paused()
def import_check(job: ImportJob, *, data: bytes | None = None) -> ImportJob:
    """Parse and validate every row of `job`'s file; store the row count and the problems.

    The job stays `previewed`; it may be imported only when `errors` is empty.
    """
    twin = _twin(job)
    if twin is not None:
        job.errors, job.rows_total = [_duplicate_problem(twin)], twin.rows_total
        job.save(update_fields=["errors", "rows_total"])
        return job
    problems, total = _Problems(), 0
    reading = FileCheck(job, _recorder(job), data if data is not None else _file_data(job))
    with tempfile.TemporaryFile() as kept:
        try:
            for chunk in reading.chunks():
                total += len(chunk)
                for row in chunk:
                    problems.add(row.problems)
                if not problems:
                    checked_rows_write(kept, reading, _checked(chunk, reading.recorder))
        except ImportFailed as exc:
            problems.add(_from_row_errors(exc.errors))
        if total == 0 and not problems:
            problems.add([_row_error(0, "", _("The file has no rows below the header."))])
        job.errors, job.rows_total, job.rows_done = problems.as_list(), total, 0
        checked_rows_save(job, None if problems else kept)
    job.save(update_fields=["errors", "rows_total", "rows_done"])
    return job


def import_queue(*, job: ImportJob, acting_user) -> bool:
    """Claim a checked, clean job for importing (previewed → committing); False if not possible.

    The conditional update makes a double click or two tabs queue one import, not two.
    """
    ensure(acting_user, "entry.record", job)
    if job.errors or job.uploaded_by_id != acting_user.pk:
        return False
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.COMMITTING, rows_done=0
    )
    if claimed:
        lease_renew(_lease(job))  # queued: a worker has LEASE_STALE_SECONDS to pick it up
    elif job.status == ImportStatus.COMMITTING and lease_take_over(_lease(job)):
        # Its process died (kill -9, a restart). The write pass is one transaction, so nothing
        # of it was written: starting again from the first row is safe.
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.COMMITTING).update(
            rows_done=0
        )
    return bool(claimed)


def _lease(job: ImportJob) -> str:
    return f"ledger.import:{job.pk}"


def import_is_stalled(job: ImportJob) -> bool:
    """Is `job` importing with no live process behind it (its lease not renewed for a while)?"""
    return job.status == ImportStatus.COMMITTING and lease_is_stale(_lease(job))


def _fail(job: ImportJob, errors: list[dict]) -> ImportJob:
    checked_rows_drop(job)
    ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.PREVIEWED, ImportStatus.COMMITTING]
    ).update(status=ImportStatus.FAILED, errors=errors, finished_at=timezone.now())
    job.refresh_from_db()
    return job


@collector_paused()
def import_commit(job: ImportJob, *, acting_user) -> ImportJob:
    """Import every row of a checked job, or none (see the module docstring for the two passes).

    Idempotent: an imported or failed job is returned as it is, and a file already imported by
    another job fails as a duplicate without writing anything. It commits as it goes (the check
    pass's progress, then the write pass in one transaction), so callers do not wrap it in one.
    """
    ensure(acting_user, "entry.record", job)
    job.refresh_from_db()
    if job.status in (ImportStatus.COMMITTED, ImportStatus.FAILED):
        return job
    if job.uploaded_by_id != acting_user.pk:
        raise KaopingError(_("Only the person who uploaded the file may import it."))
    if job.errors:
        raise KaopingError(_("Fix the problems in the file and upload it again."))
    if not job.rows_total:  # a checked file has rows or a problem: its check was cut short
        raise KaopingError(_("The check of this file did not finish; upload it again."))
    twin = _twin(job)
    if twin is not None:
        return _fail(job, [_duplicate_problem(twin)])
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.COMMITTING, rows_done=0
    )
    lease_renew(_lease(job))
    reading = FileCheck(job, _recorder(job, acting_user), _file_data(job))
    try:
        with ExitStack() as files:
            problems, checked = _check_pass(job, reading, files)
            if problems:
                return _fail(job, problems.as_list())
            lease_renew(_lease(job))  # the write pass cannot renew from inside its transaction
            return _write_pass(job, reading, checked)
    except ImportFailed as exc:
        return _fail(job, _from_row_errors(exc.errors[:MAX_PROBLEMS]))
    except _Changed as exc:
        return _fail(job, exc.problems)
    except IntegrityError:
        twin = _twin(job)
        if twin is None:
            _fail(job, [_row_error(0, "", _("The import stopped and nothing was written."))])
            raise
        return _fail(job, [_duplicate_problem(twin)])
    except Exception as exc:
        message = _("The import stopped and nothing was written: %(error)s")
        _fail(job, [_row_error(0, "", message % {"error": type(exc).__name__})])
        raise
    finally:
        lease_release(_lease(job))


# A checked row, as kept between the preview and the commit: (row, subject id, item, date,
# quantity, label, note, cadence, variant, region), the last two the subject's rules as the
# check read them (`Recorder.subject_rules`).
_Checked = tuple[int, int, str, date, str, str, str, str, str, str]


def _checked(rows: list[Row], recorder: Recorder) -> list[_Checked]:
    return [
        (
            row.number,
            row.draft.subject.pk,
            row.draft.item_code,
            row.draft.occurred_on,
            str(row.draft.quantity),
            row.draft.label,
            row.draft.note,
            row.draft.cadence,
            *recorder.subject_rules(row.draft.subject),
        )
        for row in rows
    ]


def _checked_name(job: ImportJob) -> str:
    # Beside the uploaded file, whose name the storage keeps unique per job.
    return f"{job.file.name}.checked"


# Checked rows are kept as frames, each a 4-byte length and zlib-compressed JSON: first the
# state of the rules they were checked under (`Recorder.rules_state`) and where the file's
# columns are (the import's messages name them), then one frame per chunk of rows. Written and
# read a chunk at a time. The preview keeps a clean file's rows beside it; a commit that checks
# the file again writes them to a temporary file; the write pass reads either.


def _frame(value) -> bytes:
    data = zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)
    return len(data).to_bytes(4, "big") + data


def _frames(stream) -> Iterator:
    stream.seek(0)
    while head := stream.read(4):
        yield json.loads(zlib.decompress(stream.read(int.from_bytes(head, "big"))))


def checked_rows_write(kept, reading: FileCheck, rows: list[_Checked]) -> None:
    """Add a chunk of checked rows to the temporary file `kept` (its header first)."""
    if not kept.tell():
        header = reading.header
        state = reading.recorder.rules_state()
        kept.write(_frame([state, header.row, header.positions, header.labels]))
    kept.write(_frame([[*row[:3], row[3].isoformat(), *row[4:]] for row in rows]))


def _checked_state(stream) -> list:
    """The rules state the rows of `stream` were checked under."""
    return next(_frames(stream))[0]


def _checked_chunks(stream) -> Iterator[list[_Checked]]:
    frames = _frames(stream)
    next(frames)  # the header
    for rows in frames:
        yield [
            (n, subject, code, date.fromisoformat(day), *rest)
            for n, subject, code, day, *rest in rows
        ]


def checked_rows_save(job: ImportJob, kept) -> None:
    """Keep the checked rows of a clean file (`kept`, as `checked_rows_write` wrote them)
    beside it; with `kept` None (the file has problems) drop any kept before."""
    storage, name = job.file.storage, _checked_name(job)
    storage.delete(name)
    if kept is not None:
        kept.seek(0)
        storage.save(name, File(kept))


def checked_rows_drop(job: ImportJob) -> None:
    """The kept rows are read by one import only: dropped once it has committed or failed."""
    job.file.storage.delete(_checked_name(job))


def checked_rows_open(job: ImportJob, reading: FileCheck):
    """The rows the preview kept, as an open stream; None when there are none or they were
    checked under another version of the scheme (its items may differ: the file is checked
    again). Sets the reading's header, which the write pass's messages name columns by."""
    storage, name = job.file.storage, _checked_name(job)
    if not storage.exists(name):
        return None
    stream = storage.open(name, "rb")
    state, row, positions, labels = next(_frames(stream))
    # A list since the rules state was kept (a bare version id before).
    if not isinstance(state, list) or state[0] != reading.recorder.version.pk:
        stream.close()
        return None
    reading.header = Header(row, positions, labels)
    return stream


def _check_pass(job: ImportJob, reading: FileCheck, files: ExitStack) -> tuple[_Problems, object]:
    """The checked rows of a clean file, as a stream in the kept format: those the preview kept,
    their subjects checked again, or else every row of the file validated again and written to
    a temporary file. Opened in `files`, which closes them."""
    problems, done = _Problems(), 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        # Its own short transaction, so the status page sees the count move.
        ImportJob.objects.filter(pk=job.pk).update(rows_done=done)
        lease_renew(_lease(job))

    kept = checked_rows_open(job, reading)
    if kept is not None:
        files.enter_context(kept)
        for rows in _checked_chunks(kept):
            problems.add(_subjects_gone(reading, rows))
            progress(len(rows))
        return problems, kept
    spool = files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by files)
    for chunk in reading.chunks():
        for row in chunk:
            problems.add(row.problems)
        if not problems:
            checked_rows_write(spool, reading, _checked(chunk, reading.recorder))
        progress(len(chunk))
    return problems, spool


def _subjects_gone(reading: FileCheck, rows: list[_Checked]) -> list[dict]:
    """Problems for kept rows whose subject the uploader may no longer record for (moved out of
    their area, or deleted) since the preview: one query for the chunk."""
    # Read into the reading's subjects, where the write pass finds them.
    mine = reading.subjects.mine_by_ids({row[1] for row in rows})
    return [_subject_gone(reading, row[0]) for row in rows if row[1] not in mine]


def _subject_gone(reading: FileCheck, number: int) -> dict:
    message = _(
        "Since the file was checked, this subject has left your area; check the file again."
    )
    return reading.problem(number, "subject", message)


def _write_pass(job: ImportJob, reading: FileCheck, checked) -> ImportJob:
    """Insert the checked rows in one transaction; any problem now undoes them all.

    Each row is checked again by a fresh Recorder, which reads the finalised periods and the
    uploader's departments inside the transaction, unless nothing `Recorder.problems` reads
    has changed since the row was checked: the same rules state, the subject's same rules.
    """
    recorder = _recorder(job, reading.recorder.acting_user)
    reading.recorder = recorder
    check_all = _checked_state(checked) != recorder.rules_state()
    written, flagged, awaiting, regions, changed = 0, 0, 0, set(), _Problems()
    with page_cache(WRITE_CACHE_MIB), transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportStatus.COMMITTING:
            return locked  # another worker finished (or failed) it meanwhile
        if not links_carry_from(job.scheme):
            # The flags' counts, read before the first insert (see `Recorder.tally_read`); where
            # entries are carried to linked subjects, which could be counted too, each batch
            # reads its own.
            subject_ids, days = set(), set()
            for chunk in _checked_chunks(checked):
                subject_ids.update(row[1] for row in chunk)
                days.update(row[3] for row in chunk)
            recorder.tally_read(subject_ids, days)
        for chunk in _checked_chunks(checked):
            subjects = reading.subjects.by_ids({row[1] for row in chunk})
            entries = []
            for number, subject_id, code, day, quantity, label, note, cadence, *rules in chunk:
                subject = subjects.get(subject_id)
                if subject is None:  # deleted since the check pass
                    changed.add([_subject_gone(reading, number)])
                    continue
                draft = EntryDraft(
                    subject=subject,
                    item_code=code,
                    occurred_on=day,
                    quantity=quantity,
                    label=label,
                    note=note,
                    idempotency_key=idempotency_key(job, number),
                    cadence=cadence,
                )
                if check_all or tuple(rules) != recorder.subject_rules(subject):
                    problems = recorder.problems(draft)
                    if problems:
                        # Something changed since the check (a period was finalised…): nothing
                        # more is written, but every row is still checked, so that the job
                        # lists them all.
                        changed.add(
                            reading.problem(number, FIELD_COLUMN.get(name, "item"), message)
                            for name, message in problems.items()
                        )
                        continue
                if not changed:
                    entry = recorder.build(draft)
                    entry.import_job_id = job.pk  # by id: the relation's descriptor costs per row
                    entries.append(entry)
            if changed:
                continue
            # Audited as one row for the whole import, below.
            entries_write(
                entries=entries,
                acting_user=recorder.acting_user,
                recorder=recorder,
                audit=AUDIT_BY_CALLER,
            )
            written += len(entries)
            flagged += sum(1 for e in entries if e.flags)
            awaiting += sum(1 for e in entries if e.status == EntryStatus.AWAITING)
            regions.add(_common_prefix(e.subject.region.code for e in entries))
        if changed:
            raise _Changed(changed.as_list())  # undoes what was written
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.COMMITTED, rows_done=written, finished_at=timezone.now()
        )
        audit_record(
            actor=recorder.acting_user,
            action="ledger.import.committed",
            obj=job,
            region_code=_common_prefix(regions),
            after={
                "scheme": job.scheme.code,
                "file": job.filename,
                "sha256": job.sha256,
                "rows": job.rows_total,
                "entries": written,
                "flagged": flagged,
                "awaiting_evidence": awaiting,
                "status": str(recorder.status),
            },
        )
    checked_rows_drop(job)
    if written >= STATISTICS_ROWS:
        # With statistics from before it, 100,000 pending entries read as a rare status: a
        # village's review queue would read every pending entry of the province.
        tables_analyze([Entry])
    job.refresh_from_db()
    return job
