"""Excel import of entries: template, preview by row and column, all-or-nothing commit."""

import io
import zipfile
from datetime import date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog
from kaoping.ledger import import_rows, imports
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.import_rows import parse_date
from kaoping.ledger.imports import import_check, import_commit, import_upload
from kaoping.ledger.models import Entry, EntrySource, EntryStatus, ImportJob, LedgerChain
from kaoping.ledger.sheets import xlsx_rows
from kaoping.ledger.tasks import import_commit_task
from kaoping.ledger.template import import_template
from kaoping.ledger.testing import (
    HOUSEHOLD_SCHEME,
    generated_rows,
    import_workbook,
    make_households,
    timed_import,
)
from kaoping.people.models import Subject
from kaoping.periods.services import period_open
from kaoping.schemes.services import scheme_load
from kaoping.testing import period_make_final

pytestmark = pytest.mark.django_db

# Households of carol's village 东岭村 (330304001001) and of oscar's 西溪村 (330304002001).
CAROL_1, CAROL_2 = "3303040010010001", "3303040010010002"
OSCAR_1 = "3303040020010007"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def load(county, text=HOUSEHOLD_SCHEME):
    version, _created = scheme_load(
        text=text,
        filename="scheme.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


@pytest.fixture
def scheme(county):
    return load(county)


def good_rows():
    return [
        (CAROL_1, "参加志愿服务活动", 1, None, date(2026, 3, 5), "扫雪"),
        (CAROL_2, "为村内公益事业捐款捐物", "2.5", None, "2026/3/6", ""),
        (CAROL_1, "HW01", None, None, "2026-03-07", ""),  # by code; no quantity counts as 1
        (CAROL_2, "文明户评议", None, "良好", date(2026, 3, 8), ""),
    ]


def upload(county, scheme, rows, user="carol", filename="entries.xlsx", **kwargs):
    data = import_workbook(rows, **kwargs) if not isinstance(rows, bytes) else rows
    return import_upload(
        scheme=scheme, data=data, filename=filename, acting_user=county.users[user]
    )


def ledger_state():
    return (
        Entry.objects.count(),
        sorted(LedgerChain.objects.values_list("region_code", "length", "last_hash")),
    )


# ─── the template ───


def test_template_has_headers_hidden_item_list_and_drop_downs(county, scheme):
    book = load_workbook(io.BytesIO(import_template(scheme, county.users["carol"])))
    assert book.sheetnames == ["记分导入", "说明", "选项"]
    sheet = book["记分导入"]
    assert [c.value for c in sheet[1]] == ["对象", "评分项", "数量", "评议等次", "日期", "备注"]
    assert sheet.max_row == 1  # no subject rows pre-filled

    lists = book["选项"]
    assert lists.sheet_state == "hidden"
    items = [c.value for c in lists["A"][1:] if c.value]
    # Items needing evidence are offered too: their rows import as awaiting evidence.
    assert items == [
        "参加志愿服务活动",
        "为村内公益事业捐款捐物",
        "见义勇为",
        "乱倒垃圾",
        "文明户评议",
    ]
    assert [c.value for c in lists["B"][1:] if c.value] == ["优秀", "良好", "一般"]

    rules = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert rules["B2"].type == "list" and rules["B2"].formula1 == "=kaoping_items"
    assert rules["D2"].type == "list" and rules["D2"].formula1 == "=kaoping_levels"
    assert rules["E2"].type == "date"
    assert book.defined_names["kaoping_items"].attr_text == "'选项'!$A$2:$A$6"
    assert book.defined_names["kaoping_levels"].attr_text == "'选项'!$B$2:$B$4"

    guide = "\n".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    assert "household number" in guide and "东岭村" in guide and "见义勇为" in guide


def test_template_for_party_members_has_a_village_column(county):
    scheme = load(county, PARTY_SCHEME)
    sheet = load_workbook(io.BytesIO(import_template(scheme, county.users["carol"])))["记分导入"]
    assert [c.value for c in sheet[1]][:3] == ["对象", "村社", "评分项"]


def test_a_filled_in_template_imports(county, scheme):
    """The template itself, filled in with openpyxl as a user would in Excel, is accepted."""
    book = load_workbook(io.BytesIO(import_template(scheme, county.users["carol"])))
    sheet = book["记分导入"]
    sheet.append([CAROL_1, "乱倒垃圾", 2, None, datetime(2026, 3, 9), "门口"])
    book.move_sheet(sheet, offset=1)  # the sheet is found by its name, wherever it is
    buffer = io.BytesIO()
    book.save(buffer)
    job = upload(county, scheme, buffer.getvalue())
    assert job.errors == [] and job.rows_total == 1


# ─── preview and commit ───


def test_good_file_previews_clean_and_commits_every_row(county, scheme):
    before = Entry.objects.count()
    job = upload(county, scheme, good_rows())
    assert (job.status, job.errors, job.rows_total) == ("previewed", [], 4)
    assert Entry.objects.count() == before  # the preview writes nothing

    job = import_commit(job, acting_user=county.users["carol"])
    assert (job.status, job.rows_done) == ("committed", 4)
    entries = list(Entry.objects.filter(import_job=job).order_by("id"))
    assert len(entries) == 4
    assert {e.source for e in entries} == {EntrySource.IMPORTED}
    # Household entries are reviewed by the review group unless the scheme approves imports.
    assert {e.status for e in entries} == {EntryStatus.SUBMITTED}
    assert [(e.item_code, e.quantity, e.label, e.occurred_on.isoformat()) for e in entries] == [
        ("GY01", 1, "", "2026-03-05"),
        ("GY02", 2.5, "", "2026-03-06"),
        ("HW01", 1, "", "2026-03-07"),
        ("PY01", 1, "良好", "2026-03-08"),
    ]
    assert entries[0].note == "扫雪"
    assert entries[0].idempotency_key == f"import:{job.sha256}:2"
    assert entries[0].created_by == county.users["carol"]
    assert list(chain_verify()) == []
    audit = AuditLog.objects.get(action="ledger.import.committed")
    assert audit.after["entries"] == 4 and audit.after["rows"] == 4
    assert audit.region_code.startswith("330304001001")


def test_entries_are_approved_when_the_scheme_approves_imports(county):
    scheme = load(
        county,
        HOUSEHOLD_SCHEME.replace("code: hh-import", "code: hh-import-auto")
        + "review:\n  auto_approve: [imported]\n",
    )
    job = import_commit(upload(county, scheme, good_rows()[:2]), acting_user=county.users["carol"])
    assert set(job.entries.values_list("status", flat=True)) == {EntryStatus.APPROVED}


def test_broken_file_lists_every_problem_by_row_and_column_and_writes_nothing(county, scheme):
    final = period_open(scheme=scheme, label="2026-02", acting_user=system_actor())
    period_make_final(final)
    before = ledger_state()
    rows = [
        (CAROL_1, "参加志愿服务活动", 1, None, date(2026, 3, 5), ""),  # row 2: fine
        ("3303049999999999", "参加志愿服务活动", 1, None, date(2026, 3, 5), ""),  # 3
        (CAROL_1, "种树", 1, None, date(2026, 3, 5), ""),  # 4
        (CAROL_1, "乱倒垃圾", 1, None, "3月5日", ""),  # 5
        (CAROL_1, "乱倒垃圾", "两次", None, date(2026, 3, 5), ""),  # 6
        (CAROL_1, "文明户评议", None, None, date(2026, 3, 5), ""),  # 7
        (OSCAR_1, "乱倒垃圾", 1, None, date(2026, 3, 5), ""),  # 8
        (CAROL_2, "乱倒垃圾", 1, None, date(2026, 2, 10), ""),  # 9
        (CAROL_2, "乱倒垃圾", -1, None, date(2026, 3, 5), ""),  # 10
        (CAROL_2, "见义勇为", 1, None, date(2026, 3, 5), ""),  # 11: fine, awaits evidence
    ]
    job = upload(county, scheme, rows)
    found = {(e["row"], e["column"], e["cell"]): e["message"] for e in job.errors}
    assert sorted(found) == [
        (3, "对象", "A3"),
        (4, "评分项", "B4"),
        (5, "日期", "E5"),
        (6, "数量", "C6"),
        (7, "评议等次", "D7"),
        (8, "对象", "A8"),
        (9, "日期", "E9"),
        (10, "数量", "C10"),
    ]
    assert "3303049999999999" in found[(3, "对象", "A3")]
    assert "种树" in found[(4, "评分项", "B4")]
    assert "3月5日" in found[(5, "日期", "E5")] and "2026-03-05" in found[(5, "日期", "E5")]
    assert "两次" in found[(6, "数量", "C6")]
    assert "优秀" in found[(7, "评议等次", "D7")]
    assert "not in your area" in found[(8, "对象", "A8")]
    assert "finalised" in found[(9, "日期", "E9")]
    assert job.rows_total == 10
    with pytest.raises(imports.KaopingError):
        import_commit(job, acting_user=county.users["carol"])
    assert ledger_state() == before


def test_file_level_problems(county, scheme):
    job = upload(county, scheme, [(CAROL_1, 1)], headers=("对象", "数量"))
    assert [(e["row"], e["column"]) for e in job.errors] == [(1, "评分项"), (1, "日期")]
    job = upload(county, scheme, b"not a spreadsheet", filename="x.xlsx")
    assert job.errors[0]["row"] == 0 and "Excel" in job.errors[0]["message"]
    job = upload(county, scheme, [])
    assert job.errors[0]["message"] == "The file has no rows below the header."


def test_too_many_problems_are_counted_not_listed(county, scheme, monkeypatch):
    monkeypatch.setattr(imports, "MAX_PROBLEMS", 3)
    job = upload(county, scheme, [("x", "乱倒垃圾", 1, None, "2026-03-05", "")] * 5)
    assert len(job.errors) == 4
    assert job.errors[-1]["message"] == "… and 2 more problems not listed."


def test_csv_is_accepted(county, scheme):
    text = f"对象,评分项,数量,评议等次,日期,备注\n{CAROL_1},乱倒垃圾,1,,2026/3/5,\n"
    job = upload(county, scheme, text.encode("gb18030"), filename="entries.csv")
    assert job.errors == [] and job.rows_total == 1


# ─── the same file again, and failures ───


def test_the_same_file_twice_changes_nothing(county, scheme):
    data = import_workbook(good_rows())
    first = import_commit(upload(county, scheme, data), acting_user=county.users["carol"])
    assert first.status == "committed"
    state = ledger_state()
    carol = county.users["carol"]
    assert import_commit(first, acting_user=carol).rows_done == 4  # idempotent per job

    again = upload(county, scheme, data, filename="entries (1).xlsx")
    assert again.errors[0]["duplicate_of"] == first.pk
    with pytest.raises(imports.KaopingError):
        import_commit(again, acting_user=county.users["carol"])
    # Even if its preview had missed it (checked before the first import finished), the
    # commit refuses the twin and writes nothing.
    ImportJob.objects.filter(pk=again.pk).update(errors=[])
    again = import_commit(again, acting_user=county.users["carol"])
    assert again.status == "failed" and again.errors[0]["duplicate_of"] == first.pk
    assert ledger_state() == state


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_middle_of_the_commit_leaves_nothing(county, scheme, monkeypatch):
    monkeypatch.setattr(import_rows, "CHUNK", 2)
    job = upload(county, scheme, good_rows())
    before = ledger_state()
    saved = []
    real_write = imports.entries_write

    def write_then_fail(*, entries, **kwargs):
        saved.append(len(entries))
        if len(saved) == 2:
            raise RuntimeError("disk full")
        return real_write(entries=entries, **kwargs)

    monkeypatch.setattr(imports, "entries_write", write_then_fail)
    with pytest.raises(RuntimeError):
        import_commit(job, acting_user=county.users["carol"])
    assert saved == [2, 2]  # the first batch was inserted, then rolled back with the rest
    assert ledger_state() == before
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" in job.errors[0]["message"]


def test_a_period_finalised_after_the_preview_stops_the_commit(county, scheme):
    job = upload(county, scheme, good_rows())
    assert job.errors == []
    march = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_make_final(march)
    before = ledger_state()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(n, "日期") for n in (2, 3, 4, 5)]
    assert ledger_state() == before


def test_a_period_finalised_during_the_commit_undoes_it(county, scheme, monkeypatch):
    """Finalised between the check pass and the write: the write pass finds it, all undone,
    and still names every row the finalisation refuses."""
    monkeypatch.setattr(import_rows, "CHUNK", 2)
    job = upload(county, scheme, good_rows())
    march = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    real_check = imports._check_pass

    def check_then_finalise(*args):
        problems = real_check(*args)
        period_make_final(march)
        return problems

    monkeypatch.setattr(imports, "_check_pass", check_then_finalise)
    before = ledger_state()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(n, "日期") for n in (2, 3, 4, 5)]
    assert ledger_state() == before


def test_the_commit_writes_the_rows_the_preview_checked(county, scheme, monkeypatch):
    """The import does not read and check the file again: the preview kept its checked rows."""
    job = upload(county, scheme, good_rows())
    assert job.file.storage.exists(imports._checked_name(job))

    def read_again(self):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(import_rows.FileCheck, "chunks", read_again)
    job = import_commit(job, acting_user=county.users["carol"])
    assert (job.status, job.rows_done) == ("committed", 4)
    assert Entry.objects.filter(import_job=job).count() == 4
    assert not job.file.storage.exists(imports._checked_name(job))  # read once, then dropped


def test_a_subject_that_left_the_area_since_the_preview_stops_the_commit(county, scheme):
    job = upload(county, scheme, good_rows())
    Subject.objects.filter(household__number=CAROL_2).update(
        region=county.region("330304002001")  # oscar's village, not carol's
    )
    before = ledger_state()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"], e["cell"]) for e in job.errors] == [
        (3, "对象", "A3"),
        (5, "对象", "A5"),
    ]
    assert "has left your area; check the file again" in job.errors[0]["message"]
    assert ledger_state() == before
    assert not job.file.storage.exists(imports._checked_name(job))


def test_a_new_version_of_the_scheme_since_the_preview_checks_the_file_again(
    county, scheme, monkeypatch
):
    """Rows checked under the old version are not trusted: its items may have changed."""
    job = upload(county, scheme, good_rows())
    load(county, HOUSEHOLD_SCHEME.replace("version: 1", "version: 2", 1))
    reads = []
    real_chunks = import_rows.FileCheck.chunks

    def chunks(self):
        reads.append(self.job.pk)
        return real_chunks(self)

    monkeypatch.setattr(import_rows.FileCheck, "chunks", chunks)
    job = import_commit(job, acting_user=county.users["carol"])
    assert reads == [job.pk]
    assert (job.status, job.rows_done) == ("committed", 4)


def test_rows_checked_under_the_same_rules_are_not_checked_again(county, scheme, monkeypatch):
    """The write pass checks a row again only where something the Recorder's rules read has
    changed since the preview; here nothing has."""
    job = upload(county, scheme, good_rows())
    checked = []
    real_problems = imports.Recorder.problems

    def problems(self, draft):
        checked.append(draft.item_code)
        return real_problems(self, draft)

    monkeypatch.setattr(imports.Recorder, "problems", problems)
    job = import_commit(job, acting_user=county.users["carol"])
    assert (job.status, checked) == ("committed", [])


def test_a_subject_moved_into_a_variant_without_the_item_stops_the_commit(county):
    """A household's class (track) changed since the preview, to a variant that excludes an item
    of its rows: only its rows are checked again, and the one the variant excludes is refused."""
    scheme = load(
        county,
        HOUSEHOLD_SCHEME + "variants:\n  外出户:\n    name: 外出户\n    exclude: [HW01]\n",
    )
    job = upload(county, scheme, good_rows())
    assert job.errors == []
    Subject.objects.filter(household__number=CAROL_1).update(track="外出户")
    before = ledger_state()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(4, "评分项")]
    assert "is not an item of this scheme for this subject" in job.errors[0]["message"]
    assert ledger_state() == before


def test_a_subject_deleted_during_the_commit_is_named_by_its_rows(county, scheme, monkeypatch):
    """Deleted between the check pass and the write: its rows are named, nothing is written."""
    job = upload(county, scheme, good_rows())
    real_check = imports._check_pass

    def check_then_delete(*args):
        checked = real_check(*args)
        Subject.objects.filter(household__number=CAROL_2).delete()
        args[1].subjects.by_pk.clear()  # as a commit that had read it long before
        return checked

    monkeypatch.setattr(imports, "_check_pass", check_then_delete)
    before = ledger_state()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"], e["cell"]) for e in job.errors] == [
        (3, "对象", "A3"),
        (5, "对象", "A5"),
    ]
    assert "has been deleted; check the file again" in job.errors[0]["message"]
    assert ledger_state() == before


def test_a_subject_deleted_since_the_preview_is_said_to_be_deleted(county, scheme):
    job = upload(county, scheme, good_rows())
    Subject.objects.filter(household__number=CAROL_2).delete()
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "对象"), (5, "对象")]
    assert "has been deleted; check the file again" in job.errors[0]["message"]


def test_a_job_whose_check_was_cut_short_is_not_imported(county, scheme):
    """The server stopped while checking the file: the job has no rows and no problems, which
    no finished check leaves. It is refused, and nothing is written."""
    job = upload(county, scheme, good_rows())
    ImportJob.objects.filter(pk=job.pk).update(rows_total=0)
    job.refresh_from_db()
    with pytest.raises(imports.KaopingError, match="did not finish"):
        import_commit(job, acting_user=county.users["carol"])
    assert Entry.objects.count() == 0


def test_only_the_uploader_commits(county, scheme):
    job = upload(county, scheme, good_rows())
    with pytest.raises(imports.KaopingError):
        import_commit(job, acting_user=county.users["bob"])
    assert Entry.objects.count() == 0


def test_the_task_takes_ids_and_may_run_twice(county, scheme):
    job = upload(county, scheme, good_rows())
    import_commit_task.enqueue(job.pk, county.users["carol"].pk)
    import_commit_task.enqueue(job.pk, county.users["carol"].pk)
    job.refresh_from_db()
    assert job.status == "committed" and Entry.objects.count() == 4


def test_recheck_of_a_stored_job(county, scheme):
    job = upload(county, scheme, good_rows())
    job.errors = ["stale"]
    job = import_check(job)
    assert job.errors == [] and job.rows_total == 4


# ─── other subject kinds ───

PARTY_SCHEME = """\
code: pm-import
version: 1
name: 党员积分(导入)
subject_kind: party_member
cadence: month
decimals: 0
base: 100
tree:
  - code: JF
    name: 加分
    section: bonus
    children:
      - {code: JF01, name: 参加主题党日, rule: count, points: 2}
"""

VILLAGE_SCHEME = """\
code: vl-import
version: 1
name: 村社考评(导入)
subject_kind: village
cadence: month
decimals: 0
base: 100
tree:
  - code: KF
    name: 扣分
    section: deduction
    children:
      - {code: KF01, name: 被通报批评, rule: count, points: -5}
"""


def test_party_members_by_name_and_village_or_id_number(county):
    scheme = load(county, PARTY_SCHEME)
    wang = county.persons["王建国"]
    headers = ("对象", "村社", "评分项", "日期")
    rows = [
        ("王建国", "330304001001", "参加主题党日", "2026-03-05"),  # row 2
        ("王建国", "东岭村", "参加主题党日", "2026-03-06"),  # 3
        (wang.id_number, "", "参加主题党日", "2026-03-07"),  # 4
        ("王建国", "", "参加主题党日", "2026-03-08"),  # 5: which village?
        ("李秀英", "东岭村", "参加主题党日", "2026-03-08"),  # 6: not a party member
        ("330304198001019990", "", "参加主题党日", "2026-03-08"),  # 7: unknown ID number
    ]
    job = upload(county, scheme, rows, headers=headers)
    problems = {e["row"]: e["message"] for e in job.errors}
    assert sorted(problems) == [5, 6, 7]
    assert "ID number" in problems[5] and "李秀英" in problems[6]
    assert "330*" in problems[7] and "330304198001019990" not in problems[7]  # masked

    job = import_commit(
        upload(county, scheme, rows[:3], headers=headers), acting_user=county.users["carol"]
    )
    assert set(job.entries.values_list("subject__person", flat=True)) == {wang.pk}


def test_villages_by_code_or_name_within_scope(county):
    scheme = load(county, VILLAGE_SCHEME)
    headers = ("对象", "评分项", "日期")
    rows = [
        ("330304001001", "被通报批评", "2026-03-05"),
        ("南山社区", "被通报批评", "2026-03-05"),
        ("西溪村", "被通报批评", "2026-03-05"),
        ("东海村", "被通报批评", "2026-03-05"),
    ]
    job = upload(county, scheme, rows, user="bob", headers=headers)
    problems = {e["row"]: e["message"] for e in job.errors}
    assert sorted(problems) == [4, 5]
    assert "not in your area" in problems[4] and "东海村" in problems[5]


# ─── reading spreadsheets ───


def test_xlsx_rows_reads_what_excel_stores(county):
    book = Workbook()
    sheet = book.active
    sheet.append(["对象", "数量", "日期", "备注"])
    sheet.append([3303040010010001, 2.5, date(2026, 3, 5), "  前后空格  "])
    sheet.append([None, None, None, None])  # an empty row is skipped
    sheet.append(
        [
            "x",
            3.0,
            datetime(2026, 3, 5, 8, 30),
            CellRichText(["东", TextBlock(InlineFont(b=True), "岭")]),
        ]
    )
    sheet["F4"] = True
    sheet["C5"] = "=TODAY()"  # a formula without a cached value reads as empty
    buffer = io.BytesIO()
    book.save(buffer)
    assert list(xlsx_rows(buffer.getvalue())) == [
        (1, ["对象", "数量", "日期", "备注"]),
        (2, ["3303040010010001", "2.5", "2026-03-05", "前后空格"]),
        (4, ["x", "3", "2026-03-05 08:30:00", "东岭", "", "TRUE"]),
    ]


def test_xlsx_rows_handles_prefixed_tags_and_phonetic_runs():
    """A hand-made file in the shape some producers write: x: prefixes, rPh guides, no r attrs."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<x:workbook xmlns:x="{main}" xmlns:r="{rel}"><x:sheets>'
            '<x:sheet name="记分导入" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/s.xml" Type="x/worksheet"/>'
            '<Relationship Id="rId2" Target="/xl/strings.xml" Type="x/sharedStrings"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/strings.xml",
            f'<x:sst xmlns:x="{main}"><x:si><x:t>对象</x:t></x:si>'
            "<x:si><x:r><x:t>王</x:t></x:r><x:r><x:t>建国</x:t></x:r>"
            "<x:rPh><x:t>wang</x:t></x:rPh></x:si></x:sst>",
        )
        archive.writestr(
            "xl/worksheets/s.xml",
            f'<x:worksheet xmlns:x="{main}"><x:sheetData>'
            '<x:row><x:c t="s"><x:v>0</x:v></x:c></x:row>'
            '<x:row><x:c t="s"><x:v>1</x:v></x:c><x:c t="inlineStr"><x:is><x:t>&lt;a&amp;b&gt;</x:t></x:is></x:c></x:row>'
            "</x:sheetData></x:worksheet>",
        )
    assert list(xlsx_rows(buffer.getvalue())) == [(1, ["对象"]), (2, ["王建国", "<a&b>"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05", date(2026, 3, 5)),
        ("2026/3/5", date(2026, 3, 5)),
        ("2026.3.5", date(2026, 3, 5)),
        ("2026年3月5日", date(2026, 3, 5)),
        ("20260305", date(2026, 3, 5)),
        ("2026-03-05 08:30:00", date(2026, 3, 5)),
        ("46086", date(2026, 3, 5)),
        ("2026-02-30", None),
        ("3月5日", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


# ─── the benchmark helpers ───


def test_generated_file_imports_with_timings(county, scheme):
    numbers = make_households(county.region("330304001001001"), 30)
    data = import_workbook(generated_rows(numbers, count=120, start=date(2026, 3, 1)))
    result = timed_import(scheme=scheme, data=data, filename="gen.xlsx", user=county.users["carol"])
    assert (result["status"], result["rows"], result["problems"]) == ("committed", 120, 0)
    assert Entry.objects.filter(import_job=result["job"]).count() == 120
    assert list(chain_verify()) == []


# ─── the command ───


def test_command_checks_and_commits(county, scheme, tmp_path):
    path = tmp_path / "entries.xlsx"
    path.write_bytes(import_workbook(good_rows()))
    call_command("import_entries", "hh-import", str(path), "--user", "carol")
    assert Entry.objects.count() == 0
    call_command("import_entries", "hh-import", str(path), "--user", "carol", "--commit")
    assert Entry.objects.count() == 4

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(import_workbook([("nobody", "乱倒垃圾", 1, None, "2026-03-05", "")]))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_entries", "hh-import", str(bad), "--user", "carol", "--commit")
    assert Entry.objects.count() == 4
