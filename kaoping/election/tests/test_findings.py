"""Departments' findings: the import all or nothing with every bad row named, the checks of a row,
the qualification check's 通过 / 不宜 / 待核 with its reason, and each department seeing its own
findings only (the issue's acceptance: 300 findings, three bad ID numbers, then the whole file)."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.core.privacy import mask_id_number
from kaoping.election.findings import (
    finding_withdraw,
    findings_import,
    findings_submit,
    findings_template,
    qualification_refresh,
)
from kaoping.election.models import (
    Finding,
    FindingSource,
    PersonSheet,
    Qualification,
    RoundStatus,
)
from kaoping.election.testing import election_world
from kaoping.testing import make_id_number

from .findings_helpers import (
    FOUND_ON,
    HEADER,
    finding_row,
    persons_with_sheets,
    petitions_login,
    workbook,
)


@pytest.fixture
def ew(county):
    return election_world(county)


def submit(ew, county, rows, user="grace", department=None):
    return findings_submit(
        round=ew.round,
        department=department or county.department,
        rows=rows,
        source=FindingSource.FORM,
        acting_user=county.users[user] if isinstance(user, str) else user,
    )


def row_of(person, **changes):
    values = dict(
        zip(
            ["id_number", "name", "condition", "hit", "summary", "found_on", "document"],
            finding_row(person, **changes),
            strict=True,
        )
    )
    return values


def test_300_findings_three_bad_id_numbers_nothing_written_then_the_whole_file(
    county, ew, django_assert_max_num_queries
):
    persons = persons_with_sheets(county, ew, 300)
    good = [finding_row(p) for p in persons]
    bad = [list(r) for r in good]
    right = persons[9].id_number
    bad[9][0] = right[:17] + ("0" if right[17] != "0" else "1")  # wrong check digit
    bad[99][0] = persons[99].id_number[:17]  # 17 characters
    bad[199][0] = "33030419700303ABCD"  # letters
    before = Finding.objects.count()

    with pytest.raises(ImportFailed) as failed:
        findings_import(
            round=ew.round,
            department=county.department,
            data=workbook(bad),
            filename="政法委查核.xlsx",
            acting_user=county.users["grace"],
        )
    errors = failed.value.errors
    # Excel rows as the user sees them: the header is row 1, the tenth person row 11.
    assert [(e.row, e.field) for e in errors] == [
        (11, "身份证号"),
        (101, "身份证号"),
        (201, "身份证号"),
    ]
    assert "check digit" in errors[0].message or "校验" in errors[0].message
    assert Finding.objects.count() == before
    assert not AuditLog.objects.filter(action="election.findings.submitted").exists()

    with django_assert_max_num_queries(40):
        found = findings_import(
            round=ew.round,
            department=county.department,
            data=workbook(good),
            filename="政法委查核.xlsx",
            acting_user=county.users["grace"],
        )
    assert len(found) == 300
    assert Finding.objects.count() == before + 300
    assert {f.source for f in Finding.objects.filter(sheet__person__in=persons)} == {"excel"}
    audit = AuditLog.objects.get(action="election.findings.submitted")
    assert audit.after["count"] == 300 and audit.after["department"] == county.department.name
    # D02 has not answered yet: every sheet touched is 待核, naming what is missing and by whom.
    sheets = PersonSheet.objects.filter(person__in=persons)
    assert set(sheets.values_list("qualification", flat=True)) == {Qualification.PENDING}
    reason = sheets.first().qualification_reason
    assert "煽动组织群体上访" in reason and "区信访局" in reason and "受过刑事处罚" not in reason

    # The same file again is the same findings, not 600.
    findings_import(
        round=ew.round,
        department=county.department,
        data=workbook(good),
        filename="again.xlsx",
        acting_user=county.users["grace"],
    )
    assert Finding.objects.count() == before + 300


def test_a_csv_file_and_the_condition_by_its_name(county, ew):
    person = county.persons["赵强"]
    text = ",".join(HEADER) + "\n" + ",".join(finding_row(person, condition="受过刑事处罚")) + "\n"
    found = findings_import(
        round=ew.round,
        department=county.department,
        data=text.encode("utf-8-sig"),
        filename="查核.csv",
        acting_user=county.users["grace"],
    )
    assert [(f.sheet, f.condition) for f in found] == [(ew.other_sheet, "criminal")]


def test_a_missing_column_is_named(county, ew):
    with pytest.raises(ImportFailed) as failed:
        findings_import(
            round=ew.round,
            department=county.department,
            data=workbook([], header=HEADER[:-1]),
            filename="x.xlsx",
            acting_user=county.users["grace"],
        )
    assert failed.value.errors[0].row == 1 and "文号" in failed.value.errors[0].message


def test_every_problem_of_a_row_is_reported_by_field(county, ew):
    wang = county.persons["王建国"]
    tomorrow = timezone.localdate() + timedelta(days=1)
    rows = [
        row_of(wang, name="李四"),  # name mismatch
        row_of(wang, condition="petition_agitation"),  # D02's condition
        row_of(wang, condition="no_such"),
        row_of(wang, hit="也许"),
        row_of(wang, found_on=tomorrow),
        {**row_of(wang), "id_number": make_id_number(777, "19600101")},  # nobody
        row_of(county.persons["李秀英"]),  # a resident without a sheet in the round
        row_of(wang, condition="", hit="是"),
    ]
    with pytest.raises(ImportFailed) as failed:
        submit(ew, county, rows)
    got = {(e.row, e.field): e.message for e in failed.value.errors}
    assert set(got) == {
        (1, "姓名"),
        (2, "条件"),
        (3, "条件"),
        (4, "是否存在"),
        (5, "查核日期"),
        (6, "身份证号"),
        (7, "身份证号"),
        (8, "是否存在"),
    }
    assert "D02" in got[(2, "条件")] or "区信访局" in got[(2, "条件")]
    assert "受过刑事处罚" in got[(3, "条件")]  # says what this department answers
    assert got[(6, "身份证号")] != got[(7, "身份证号")]  # unknown vs. not on a sheet
    assert Finding.objects.count() == 1  # the world's alone


def test_the_same_finding_twice_is_one_updated_and_a_repeat_in_one_batch_is_refused(county, ew):
    zhao = county.persons["赵强"]
    submit(ew, county, [row_of(zhao)])
    submit(ew, county, [row_of(zhao, summary="复核：无记录")])
    found = Finding.objects.get(sheet=ew.other_sheet)
    assert found.summary == "复核：无记录"
    with pytest.raises(ImportFailed) as failed:
        submit(ew, county, [row_of(zhao), row_of(zhao)])
    assert [e.row for e in failed.value.errors] == [2]


def test_qualification_unfit_names_condition_department_date_and_document(county, ew):
    submit(
        ew,
        county,
        [row_of(county.persons["王建国"], hit="是", summary="2015年受过刑事处罚", document="X号")],
    )
    sheet = PersonSheet.objects.get(pk=ew.sheet.pk)
    assert sheet.qualification == Qualification.UNFIT
    reason = sheet.qualification_reason
    assert "受过刑事处罚" in reason and "区委政法委" in reason
    assert FOUND_ON.isoformat() in reason and "X号" in reason


def test_qualification_pending_then_pass_when_every_department_answered(county, ew):
    qualification_refresh([ew.other_sheet])
    other = PersonSheet.objects.get(pk=ew.other_sheet.pk)
    assert other.qualification == Qualification.PENDING
    reason = other.qualification_reason
    assert "受过刑事处罚" in reason and "区委政法委" in reason
    assert "煽动组织群体上访" in reason and "区信访局" in reason

    henry = petitions_login(ew)
    submit(
        ew,
        county,
        [
            row_of(
                county.persons["王建国"], condition="petition_agitation", document="信访〔2026〕3号"
            )
        ],
        user=henry,
        department=ew.petitions_department,
    )
    sheet = PersonSheet.objects.get(pk=ew.sheet.pk)
    assert sheet.qualification == Qualification.PASS  # D01 said no in the world, D02 now
    # A later clearing finding stands over an earlier one that applied.
    submit(ew, county, [row_of(county.persons["王建国"], hit="是", found_on=date(2026, 9, 1))])
    assert PersonSheet.objects.get(pk=ew.sheet.pk).qualification == Qualification.PASS


def test_a_note_without_condition_does_not_answer_anything(county, ew):
    submit(ew, county, [row_of(county.persons["赵强"], condition="", summary="群众反映较好")])
    other = PersonSheet.objects.get(pk=ew.other_sheet.pk)
    assert other.qualification == Qualification.PENDING
    assert "受过刑事处罚" in other.qualification_reason


def test_refreshing_two_thousand_sheets_takes_a_handful_of_queries(
    county, ew, django_assert_max_num_queries
):
    persons_with_sheets(county, ew, 2000)
    sheets = list(PersonSheet.objects.filter(round=ew.round))
    with django_assert_max_num_queries(15):
        qualification_refresh(sheets)


@pytest.mark.parametrize("username", ["bob", "alice", "oscar", "erin"])
def test_only_the_department_submits(county, ew, username):
    with pytest.raises(Refused):
        submit(ew, county, [row_of(county.persons["赵强"])], user=username)
    with pytest.raises(Refused):
        submit(ew, county, [row_of(county.persons["赵强"])], user=None)
    assert Finding.objects.count() == 1


def test_grace_cannot_submit_for_another_department(county, ew):
    with pytest.raises(Refused):
        submit(
            ew,
            county,
            [row_of(county.persons["赵强"], condition="petition_agitation")],
            department=ew.petitions_department,
        )


def test_a_closed_round_takes_no_findings(county, ew):
    ew.round.status = RoundStatus.CLOSED
    ew.round.save()
    with pytest.raises(KaopingError) as refused:
        submit(ew, county, [row_of(county.persons["赵强"])])
    assert "round" in refused.value.message_dict


def test_withdraw_own_finding_refreshes_and_audits(county, ew):
    submit(ew, county, [row_of(county.persons["王建国"], hit="是")])
    hit = Finding.objects.get(hit=True)
    assert PersonSheet.objects.get(pk=ew.sheet.pk).qualification == Qualification.UNFIT
    with pytest.raises(Refused):
        finding_withdraw(finding=hit, acting_user=county.users["bob"])
    finding_withdraw(finding=hit, acting_user=county.users["grace"])
    assert not Finding.objects.filter(pk=hit.pk).exists()
    assert PersonSheet.objects.get(pk=ew.sheet.pk).qualification == Qualification.PENDING
    assert AuditLog.objects.filter(action="election.finding.withdrawn").count() == 1


def test_the_template_lists_this_departments_conditions_and_imports_back(county, ew):
    data = findings_template(round=ew.round, department=county.department)
    book = load_workbook(io.BytesIO(data))
    first, conditions = book.worksheets
    assert [c.value for c in first[1]] == HEADER
    codes = [row[0] for row in conditions.iter_rows(min_row=2, values_only=True) if row[0]]
    assert "criminal" in codes and "petition_agitation" not in codes
    first.cell(row=2, column=1).value = county.persons["赵强"].id_number
    first.cell(row=2, column=2).value = "赵强"
    first.cell(row=2, column=6).value = FOUND_ON.isoformat()
    buffer = io.BytesIO()
    book.save(buffer)
    found = findings_import(
        round=ew.round,
        department=county.department,
        data=buffer.getvalue(),
        filename="t.xlsx",
        acting_user=county.users["grace"],
    )
    assert found[0].sheet == ew.other_sheet and found[0].condition == "criminal"


# ─── the page ───


def test_the_page_shows_the_departments_own_findings_masked(client_for, county, ew):
    henry = petitions_login(ew)
    submit(
        ew,
        county,
        [row_of(county.persons["王建国"], condition="petition_agitation", summary="信访局的秘密")],
        user=henry,
        department=ew.petitions_department,
    )
    client = client_for(county, "grace")
    page = client.get("/election/findings/").content.decode()
    wang = county.persons["王建国"]
    assert "经查无刑事处罚记录" in page  # D01's own finding
    assert "信访局的秘密" not in page
    assert mask_id_number(wang.id_number) in page and wang.id_number not in page
    assert "受过刑事处罚" in page and "煽动组织群体上访" not in page


def test_the_page_import_shows_rows_then_takes_the_corrected_file(client_for, county, ew):
    persons = persons_with_sheets(county, ew, 3)
    good = [finding_row(p) for p in persons]
    bad = [list(r) for r in good]
    bad[1][0] = bad[1][0][:17]
    client = client_for(county, "grace")
    url = f"/election/findings/?department={county.department.pk}&round={ew.round.pk}"
    response = client.post(url, {"form": "import", "file": _upload(workbook(bad))}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "身份证号" in page
    assert "<td>3</td>" in page  # the second person's row in Excel
    assert Finding.objects.count() == 1
    response = client.post(url, {"form": "import", "file": _upload(workbook(good))})
    assert response.status_code == 302
    assert Finding.objects.count() == 4


def test_the_page_form_enters_one_and_withdraws_it(client_for, county, ew):
    client = client_for(county, "grace")
    url = f"/election/findings/?department={county.department.pk}&round={ew.round.pk}"
    zhao = county.persons["赵强"]
    response = client.post(
        url,
        {
            "form": "add",
            "id_number": zhao.id_number,
            "name": "赵强",
            "condition": "criminal",
            "hit": "是",
            "summary": "有刑事处罚",
            "found_on": "2026-09-20",
            "document": "",
        },
    )
    assert response.status_code == 302
    found = Finding.objects.get(sheet=ew.other_sheet)
    assert found.source == "form" and found.hit
    assert client.post("/election/findings/withdraw/", {"finding": found.pk}).status_code == 302
    assert not Finding.objects.filter(pk=found.pk).exists()


def test_the_page_form_shows_a_row_error(client_for, county, ew):
    client = client_for(county, "grace")
    url = f"/election/findings/?department={county.department.pk}&round={ew.round.pk}"
    response = client.post(
        url,
        {
            "form": "add",
            "id_number": county.persons["赵强"].id_number,
            "name": "别人",
            "condition": "criminal",
            "hit": "否",
            "found_on": "2026-09-20",
        },
    )
    assert response.status_code == 200
    form = response.context["add_form"]
    assert form.errors["name"] == [_("The name does not match the person with this ID number.")]
    assert response.context["errors"] is None  # not the import's error box with its row number
    assert Finding.objects.count() == 1


def test_the_page_form_shows_a_bad_id_number_on_its_field(client_for, county, ew):
    client = client_for(county, "grace")
    url = f"/election/findings/?department={county.department.pk}&round={ew.round.pk}"
    wrong = county.persons["赵强"].id_number[:17] + "0"
    if wrong == county.persons["赵强"].id_number:
        wrong = wrong[:17] + "1"
    data = {"form": "add", "id_number": wrong, "condition": "criminal", "hit": "否"}
    response = client.post(url, {**data, "found_on": "2026-09-20"})
    page = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["add_form"].errors) == ["id_number"]
    assert "id_id_number_error" in page and "未导入任何数据" not in page
    assert Finding.objects.count() == 1


def test_the_page_form_takes_its_own_date(client_for, county, ew):
    """<input type=date> shows and posts ISO dates: the pre-filled day is one it can show."""
    client = client_for(county, "grace")
    page = client.get("/election/findings/").content.decode()
    today = timezone.localdate().isoformat()
    assert f'type="date" name="found_on" value="{today}"' in page
    assert "criminal</span>" not in page  # conditions by their names only


def test_another_departments_finding_cannot_be_withdrawn_from_the_page(client_for, county, ew):
    henry = petitions_login(ew)
    submit(
        ew,
        county,
        [row_of(county.persons["赵强"], condition="petition_agitation")],
        user=henry,
        department=ew.petitions_department,
    )
    theirs = Finding.objects.get(department=ew.petitions_department)
    client = client_for(county, "grace")
    assert client.post("/election/findings/withdraw/", {"finding": theirs.pk}).status_code == 404
    assert Finding.objects.filter(pk=theirs.pk).exists()


def test_county_admin_is_told_departments_enter_findings_and_a_villager_is_refused(
    client_for, county, ew
):
    response = client_for(county, "alice").get("/election/findings/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="findings-none"' in page and "经查无刑事处罚记录" not in page
    assert (
        client_for(county, "alice")
        .post("/election/findings/withdraw/", {"finding": ew.finding.pk})
        .status_code
        == 403
    )
    assert client_for(county, "erin").get("/election/findings/").status_code == 403


def test_the_template_download(client_for, county, ew):
    response = client_for(county, "grace").get(
        f"/election/findings/template/?department={county.department.pk}&round={ew.round.pk}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client_for(county, "bob").get("/election/findings/template/").status_code == 403


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("查核.xlsx", data)


def test_the_page_queries_do_not_grow_with_the_findings(
    client_for, county, ew, django_assert_max_num_queries
):
    persons = persons_with_sheets(county, ew, 40)
    client = client_for(county, "grace")
    client.get("/election/findings/")  # warm the session and the caches
    with django_assert_max_num_queries(25) as few:
        client.get("/election/findings/")
    submit(ew, county, [row_of(p) for p in persons])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/election/findings/").content.decode()
    assert persons[-1].name in page
