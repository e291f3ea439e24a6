"""Hostile input at the ledger's edges: zip and pixel bombs, huge numbers, control characters,
ancient dates, over-long notes, huge review batches, and imports whose process died."""

import io
import time
import zipfile
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import Lease
from kaoping.core.tabular import iter_rows
from kaoping.ledger.evidence import evidence_prepare
from kaoping.ledger.imports import import_commit, import_is_stalled, import_queue, import_upload
from kaoping.ledger.models import Entry, EntrySource, ImportJob, ImportStatus
from kaoping.ledger.services import EntryDraft, Recorder, entries_review
from kaoping.ledger.testing import HEADERS, HOUSEHOLD_SCHEME, import_workbook
from kaoping.schemes.services import scheme_load

from .declare_fixture import upload
from .test_imports import CAROL_1, good_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def scheme(county):
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="scheme.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def import_file(county, scheme, rows):
    return import_upload(
        scheme=scheme,
        data=import_workbook(rows) if not isinstance(rows, bytes) else rows,
        filename="entries.xlsx",
        acting_user=county.users["carol"],
    )


# ─── zip bombs ───


def bombed_workbook(part: str = "xl/workbook.xml", size: int = 21 * 1024 * 1024) -> bytes:
    """A real template whose `part` is replaced by `size` bytes of blanks (tiny compressed)."""
    source = zipfile.ZipFile(io.BytesIO(import_workbook(good_rows())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                data = data + b" " * size
            bomb.writestr(info.filename, data)
    return buffer.getvalue()


def test_a_workbook_part_that_unpacks_too_far_is_refused_before_parsing(county, scheme):
    data = bombed_workbook()
    assert len(data) < 200_000
    job = import_file(county, scheme, data)
    assert job.status == ImportStatus.PREVIEWED and len(job.errors) == 1
    assert "xl/workbook.xml" in job.errors[0]["message"]
    assert "20 MB" in job.errors[0]["message"]


def test_the_openpyxl_reader_refuses_the_same_bomb():
    with pytest.raises(ImportFailed) as caught:
        list(iter_rows(bombed_workbook(), "regions.xlsx"))
    assert "xl/workbook.xml" in str(caught.value)


def test_an_unusual_compression_is_refused(county, scheme):
    source = zipfile.ZipFile(io.BytesIO(import_workbook(good_rows())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as odd:
        for info in source.infolist():
            odd.writestr(info.filename, source.read(info.filename))
    job = import_file(county, scheme, buffer.getvalue())
    assert "unusual" in job.errors[0]["message"]


# ─── pixel bombs ───


def test_a_9400_pixel_square_png_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (9400, 9400)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 300_000
    started = time.monotonic()
    with pytest.raises(KaopingError) as caught:
        evidence_prepare(upload(buffer.getvalue(), "bomb.png", "image/png"))
    assert time.monotonic() - started < 1
    assert "9400 × 9400" in caught.value.messages[0] and "25 megapixels" in caught.value.messages[0]


def test_a_big_jpeg_from_a_48_megapixel_camera_is_accepted(settings):
    settings.EVIDENCE_MAX_SOURCE_PIXELS = 50_000_000
    buffer = io.BytesIO()
    Image.new("RGB", (8000, 6000), (90, 120, 60)).save(buffer, "JPEG", quality=50)
    prepared = evidence_prepare(upload(buffer.getvalue(), "field.jpg"))
    assert max(Image.open(io.BytesIO(prepared.data)).size) == settings.EVIDENCE_MAX_PIXELS


# ─── numbers, text and dates in import rows ───


@pytest.mark.parametrize("quantity", ["1e308", "1e20", "1000001"])
def test_import_rows_with_huge_quantities_fail_the_preview_with_row_and_column(
    county, scheme, quantity
):
    rows = [(CAROL_1, "为村内公益事业捐款捐物", quantity, None, date(2026, 3, 5), "")]
    job = import_file(county, scheme, rows)
    assert [(e["row"], e["cell"]) for e in job.errors] == [(2, "C2")], job.errors
    assert "at most" in job.errors[0]["message"] or "too many" in job.errors[0]["message"]


def test_a_quantity_times_points_beyond_the_points_column_is_refused(county):
    text = HOUSEHOLD_SCHEME.replace("code: hh-import", "code: hh-big").replace(
        "rule: quantity, unit: 百元, points: 1}", "rule: quantity, unit: 百元, points: 100000000}"
    )
    version, _created = scheme_load(
        text=text, filename="s.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    rows = [(CAROL_1, "为村内公益事业捐款捐物", "1000", None, date(2026, 3, 5), "")]
    job = import_file(county, version.scheme, rows)
    assert [e["cell"] for e in job.errors] == ["C2"]
    assert "too many points" in job.errors[0]["message"]


@pytest.mark.parametrize(
    ("cells", "cell"),
    [
        ((CAROL_1 + "\x00", "参加志愿服务活动", 1, None, "2026-03-05", ""), "A2"),
        ((CAROL_1, "参加志愿服务活动", 1, None, "2026-03-05", "扫\x00雪"), "F2"),
        ((CAROL_1, "参加志愿\x1b服务活动", 1, None, "2026-03-05", ""), "B2"),
    ],
)
def test_control_characters_in_import_cells_fail_the_preview(county, scheme, cells, cell):
    # openpyxl cannot write them; a CSV (or a hand-made sheet) can.
    lines = [",".join(HEADERS), ",".join("" if c is None else str(c) for c in cells)]
    job = import_upload(
        scheme=scheme,
        data="\n".join(lines).encode(),
        filename="entries.csv",
        acting_user=county.users["carol"],
    )
    assert [e["cell"] for e in job.errors] == [cell], job.errors
    assert "character" in job.errors[0]["message"]


def test_a_csv_cell_with_a_nul_is_refused_by_the_shared_reader():
    data = "代码,名称\n330304001001,东\x00岭村\n".encode()
    from kaoping.core.tabular import rows_with_header

    with pytest.raises(ImportFailed) as caught:
        list(rows_with_header(data, "r.csv", {"code": {"代码"}, "name": {"名称"}}))
    assert caught.value.errors[0].row == 2 and caught.value.errors[0].field == "name"


def test_over_long_note_is_one_problem_in_an_import(county, scheme):
    rows = [(CAROL_1, "参加志愿服务活动", 1, None, "2026-03-05", "备" * 501)]
    job = import_file(county, scheme, rows)
    assert [e["cell"] for e in job.errors] == ["F2"]


def recorder(county, scheme):
    return Recorder(scheme=scheme, acting_user=county.users["carol"], source=EntrySource.COLLECTED)


def draft(county, **changes):
    from kaoping.people.models import Subject

    subject = Subject.objects.get(household__number=CAROL_1)
    values = {"subject": subject, "item_code": "GY02", "occurred_on": date(2026, 3, 5)}
    return EntryDraft(**{**values, **changes})


def test_recorder_refuses_ancient_and_future_dates_and_long_notes(county, scheme):
    checks = recorder(county, scheme)
    earliest = date(timezone.localdate().year - 2, 1, 1)
    assert "earliest" in checks.problems(draft(county, occurred_on=date(1, 1, 1)))["occurred_on"]
    assert checks.problems(draft(county, occurred_on=earliest)) == {}
    assert "occurred_on" in checks.problems(draft(county, occurred_on=earliest - timedelta(1)))
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert "future" in checks.problems(draft(county, occurred_on=tomorrow))["occurred_on"]
    assert "500" in checks.problems(draft(county, note="x" * 100_000))["note"]
    assert "NUL" in checks.problems(draft(county, note="a\x00b"))["note"]


# ─── review batches ───


def test_reviewing_too_many_ids_at_once_is_refused_quickly(county, scheme):
    started = time.monotonic()
    with pytest.raises(KaopingError) as caught:
        entries_review(
            entry_ids=list(range(1, 100_001)), decision="approve", acting_user=county.users["bob"]
        )
    assert time.monotonic() - started < 2
    assert "1000" in caught.value.messages[0]


def test_review_reason_over_the_column_is_refused_not_cut(county, scheme):
    with pytest.raises(KaopingError) as caught:
        entries_review(
            entry_ids=[1], decision="reject", reason="x" * 501, acting_user=county.users["bob"]
        )
    assert "500" in str(caught.value)


# ─── imports whose process died ───


def stuck_job(county, scheme, *, lease_age: int | None):
    """A clean job left `committing` by a killed process, its lease renewed `lease_age` s ago."""
    job = import_file(county, scheme, good_rows())
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMMITTING, rows_done=2)
    if lease_age is not None:
        Lease.objects.create(
            key=f"ledger.import:{job.pk}", renewed_at=timezone.now() - timedelta(seconds=lease_age)
        )
    job.refresh_from_db()
    return job


def test_a_running_import_is_not_taken_over(county, scheme):
    job = stuck_job(county, scheme, lease_age=10)
    assert not import_is_stalled(job)
    assert not import_queue(job=job, acting_user=county.users["carol"])


@pytest.mark.parametrize("lease_age", [None, 3600])
def test_a_stalled_import_can_be_started_again_and_imports_once(county, scheme, lease_age):
    job = stuck_job(county, scheme, lease_age=lease_age)
    assert import_is_stalled(job)
    assert import_queue(job=job, acting_user=county.users["carol"])
    assert not import_is_stalled(ImportJob.objects.get(pk=job.pk))  # claimed: a fresh lease
    assert not import_queue(job=job, acting_user=county.users["carol"])  # a second click
    job = import_commit(job, acting_user=county.users["carol"])
    assert (job.status, job.rows_done) == (ImportStatus.COMMITTED, 4)
    assert Entry.objects.filter(import_job=job).count() == 4
    assert not Lease.objects.exists()


def test_the_status_page_says_a_stalled_import_stopped_and_offers_to_restart(
    county, scheme, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    job = stuck_job(county, scheme, lease_age=3600)
    client = client_for(county, "carol")
    page = client.get(reverse("ledger:import_status", args=[job.pk])).content.decode()
    assert "The import stopped" in page and "hx-trigger" not in page
    assert reverse("ledger:import_commit", args=[job.pk]) in page
    client.post(reverse("ledger:import_commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.COMMITTED and Entry.objects.count() == 4
    running = stuck_job(county, scheme, lease_age=5)
    page = client.get(reverse("ledger:import_status", args=[running.pk])).content.decode()
    assert "hx-trigger" in page and "The import stopped" not in page
