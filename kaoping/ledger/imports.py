"""Excel import of entries: a template per scheme, a preview of every problem, then all or nothing.

A file is uploaded (`import_upload`) and checked (`import_check`): every row is parsed and
validated through the same `Recorder` as the console form (`ledger.import_rows`, which reads
and checks the rows; this module runs the job around it), and up to MAX_PROBLEMS problems are
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
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.bulk import collector_paused, page_cache
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.leases import lease_is_stale, lease_release, lease_renew, lease_take_over
from kaoping.core.statistics import tables_analyze
from kaoping.people.models import Subject
from kaoping.schemes.models import Scheme

from .import_rows import (
    FIELD_COLUMN,
    FileCheck,
    Header,
    Row,
    idempotency_key,
    row_problem,
)
from .links import links_carry_from
from .models import Entry, EntrySource, EntryStatus, ImportJob, ImportStatus
from .services import AUDIT_BY_CALLER, EntryDraft, Recorder, entries_write

MAX_PROBLEMS = 500  # problems kept on a job; the rest are counted
# An import of this many rows refreshes the ledger's planner statistics (kaoping.core.statistics):
# enough pending entries to change the plan of a review queue; a smaller one changes nothing.
STATISTICS_ROWS = 10_000
WRITE_CACHE_MIB = 64  # SQLite's page cache while the write pass inserts (`core.bulk.page_cache`)


def _from_row_errors(errors: Iterable[RowError]) -> list[dict]:
    return [row_problem(e.row, e.field, e.message) for e in errors]


class _Changed(Exception):
    """Rows that passed the check failed when written: something changed in between."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__(problems)


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
        return [*self.kept, row_problem(0, "", tail)]


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
    return {**row_problem(0, "", message), "duplicate_of": twin.pk}


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
            problems.add([row_problem(0, "", _("The file has no rows below the header."))])
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
            _fail(job, [row_problem(0, "", _("The import stopped and nothing was written."))])
            raise
        return _fail(job, [_duplicate_problem(twin)])
    except Exception as exc:
        message = _("The import stopped and nothing was written: %(error)s")
        _fail(job, [row_problem(0, "", message % {"error": type(exc).__name__})])
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
    their area, or deleted) since the preview: one query for the chunk, and one more to tell
    the two apart when some are gone."""
    # Read into the reading's subjects, where the write pass finds them.
    mine = reading.subjects.mine_by_ids({row[1] for row in rows})
    gone = [row for row in rows if row[1] not in mine]
    if not gone:
        return []
    existing = set(
        Subject.objects.filter(pk__in={row[1] for row in gone}).values_list("pk", flat=True)
    )
    return [_subject_gone(reading, row[0], deleted=row[1] not in existing) for row in gone]


def _subject_gone(reading: FileCheck, number: int, *, deleted: bool) -> dict:
    if deleted:
        message = _(
            "Since the file was checked, this subject has been deleted; check the file again."
        )
    else:
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
                    changed.add([_subject_gone(reading, number, deleted=True)])
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
