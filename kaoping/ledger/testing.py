"""Import files for tests and benchmarks: a small household scheme and generated spreadsheets.

`import_workbook` streams rows into an .xlsx with openpyxl's write-only mode, so a 100,000-row
file is built without holding it in memory; `generated_rows` makes those rows, `make_households`
the subjects they name, and `timed_import` previews and imports a file, timing both.
"""

import io
import itertools
import resource
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta

from openpyxl import Workbook

from .import_rows import COLUMNS, SHEET

HOUSEHOLD_SCHEME = """\
code: hh-import
version: 1
name: 农户积分(导入)
subject_kind: household
cadence: month
decimals: 0
base: 100
floor: 0
tree:
  - code: ZM
    name: 正面清单
    section: bonus
    children:
      - {code: GY01, name: 参加志愿服务活动, rule: count, points: 1, cap: 5}
      - {code: GY02, name: 为村内公益事业捐款捐物, rule: quantity, unit: 百元, points: 1}
      - {code: GY03, name: 见义勇为, rule: count, points: 10, evidence_required: true}
  - code: FM
    name: 负面清单
    section: deduction
    children:
      - {code: HW01, name: 乱倒垃圾, rule: count, points: -2}
  - code: PY
    name: 群众评议
    children:
      - {code: PY01, name: 文明户评议, rule: rating, weight: 10, levels: {优秀: 1, 良好: 0.8, 一般: 0.6}}
"""

HEADERS = tuple(COLUMNS[k][0] for k in ("subject", "item", "quantity", "label", "date", "note"))


def import_workbook(rows: Iterable[Sequence], *, headers: Sequence[str] = HEADERS) -> bytes:
    """An .xlsx whose first sheet has `headers` and then `rows` (dates may be `date` objects)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def generated_rows(
    subjects: Sequence[str],
    *,
    count: int,
    start: date,
    days: int = 28,
    items: Sequence[tuple[str, str, str]] = (
        ("参加志愿服务活动", "1", ""),
        ("为村内公益事业捐款捐物", "2.5", ""),
        ("乱倒垃圾", "1", ""),
        ("文明户评议", "", "良好"),
    ),
) -> Iterator[tuple]:
    """`count` rows (subject, item, quantity, rating, date, note) cycling through the inputs.

    Dates run over `days` days from `start`, as Excel date cells.
    """
    cycle = itertools.cycle(items)
    for index in range(count):
        item, quantity, label = next(cycle)
        yield (
            subjects[index % len(subjects)],
            item,
            quantity,
            label,
            start + timedelta(days=index % days),
            f"第{index + 1}条",
        )


def make_households(region, count: int, *, prefix: str | None = None) -> list[str]:
    """Create `count` households (and their subjects) in `region`; returns their numbers."""
    from kaoping.people.models import Household
    from kaoping.people.services import subjects_sync

    prefix = prefix or region.code
    numbers = [f"{prefix}{9000000 + n:07d}" for n in range(count)]
    Household.objects.bulk_create(
        [Household(region=region, number=number) for number in numbers], batch_size=5000
    )
    subjects_sync(kind="household")
    return numbers


def timed_import(*, scheme, data: bytes, filename: str, user) -> dict:
    """Upload (preview) and commit one file; seconds per step and the process's peak RSS in MB.

    Peak RSS is the high-water mark of the whole process, so run one import per process to
    read it as the import's.
    """
    from .imports import import_commit, import_upload

    started = time.perf_counter()
    job = import_upload(scheme=scheme, data=data, filename=filename, acting_user=user)
    checked = time.perf_counter()
    if not job.errors:
        job = import_commit(job, acting_user=user)
    done = time.perf_counter()
    return {
        "job": job.pk,
        "status": str(job.status),
        "rows": job.rows_total,
        "problems": len(job.errors),
        "preview_s": round(checked - started, 2),
        "commit_s": round(done - checked, 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def png_upload(name: str = "现场.png", colour: tuple[int, int, int] = (200, 60, 40)):
    """A small photo as a browser uploads it (a different `colour` gives a different file)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
