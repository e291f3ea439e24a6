"""一人一表 on a 360-px phone: bob (township staff of 东岭街道) opens the sheets, opens 王建国's,
sees the qualification check marked 不宜 with the department and condition that decided it and
every department's answer, and exports the list with a stated reason."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login
from kaoping.core.models import AuditLog
from kaoping.election.findings import qualification_refresh
from kaoping.election.models import Finding, PersonSheet
from kaoping.election.testing import election_world

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_bob_reads_a_sheet_and_exports_with_a_reason(live_server, live_county, phone, shot):
    ew = election_world(live_county)
    Finding.objects.create(
        round=ew.round,
        sheet=ew.sheet,
        department=ew.petitions_department,
        condition="petition_agitation",
        hit=True,
        summary="2025年两次组织群体上访",
        found_on=date(2026, 9, 12),
        document="瓯信〔2026〕3号",
        recorded_by=system_actor(),
    )
    qualification_refresh(PersonSheet.objects.filter(pk=ew.sheet.pk))
    wang = live_county.persons["王建国"]

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/election/sheets/")
    rows = phone.locator("#sheets tbody tr")
    assert rows.count() == 1  # 东岭街道's sheets only: 赵强 of 西溪村 is not there
    assert "王建国" in rows.first.inner_text()
    assert wang.masked_id_number in rows.first.inner_text()
    assert "不宜" in phone.locator("#counts").inner_text()
    # A compact card: the masked ID and the tags are on screen, not cut off to the right.
    card = rows.first.bounding_box()
    assert card["height"] < 110 and card["x"] + card["width"] <= 360
    for cell in ("td.idno", "td.qual-cell", "td.tags"):
        box = rows.first.locator(cell).bounding_box()
        assert box["x"] + box["width"] <= 360, cell
    no_sideways_scroll(phone)
    shot(phone, "1-list")

    phone.get_by_role("link", name="王建国").click()
    phone.wait_for_url("**/election/sheets/*/")
    assert phone.locator("#qualification").inner_text() == "不宜"
    conditions = phone.locator("#conditions").inner_text()
    for text in (
        "受过刑事处罚",
        "区委政法委",
        "瓯政法〔2026〕12号",
        "煽动组织群体上访",
        "区信访局",
    ):
        assert text in conditions, text
    assert "瓯信〔2026〕3号" in phone.locator("#condition-petition_agitation").inner_text()
    assert wang.id_number not in phone.content()
    no_sideways_scroll(phone)
    shot(phone, "2-sheet")
    assert AuditLog.objects.filter(action="election.sheet.viewed").count() == 1

    phone.goto(f"{live_server.url}/election/sheets/")
    phone.click("#export-link")
    phone.wait_for_url("**/election/sheets/export/**")
    no_sideways_scroll(phone)
    phone.click("#export-form button[type=submit]")  # no reason: the browser keeps it back
    assert not AuditLog.objects.filter(action="election.sheets.exported").exists()
    phone.fill("input[name=reason]", "资格联审会议材料")
    shot(phone, "3-export")
    with phone.expect_download() as download:
        phone.click("#export-form button[type=submit]")
    data = download.value.path().read_bytes()
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["王建国"]
    assert rows[1][3] == wang.masked_id_number
    row = AuditLog.objects.get(action="election.sheets.exported")
    assert row.actor.username == "bob" and row.after["reason"] == "资格联审会议材料"


def test_bob_adds_a_candidate_and_marks_the_intention(live_server, live_county, phone, shot):
    election_world(live_county)
    zhang = live_county.persons["张伟"]  # 东岭村, no sheet yet

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/election/sheets/")
    phone.click("#add-candidate")
    phone.wait_for_url("**/election/sheets/add/**")
    phone.fill("input[name=id_number]", zhang.id_number[:17] + "0")  # a wrong check digit
    phone.click("#candidate-form button[type=submit]")
    assert "GB 11643" in phone.locator("#field-id_number .error").inner_text()
    assert phone.input_value("input[name=id_number]") == ""  # never echoed into the page
    no_sideways_scroll(phone)
    shot(phone, "1-bad-number")
    phone.fill("input[name=id_number]", zhang.id_number)
    phone.click("#candidate-form button[type=submit]")
    phone.wait_for_url("**/election/sheets/*/")
    assert "已将张伟列为拟推人选" in phone.content()
    assert phone.locator("#qualification").inner_text() == "待核"
    sheet = PersonSheet.objects.get(person=zhang)
    assert sheet.is_candidate and sheet.village.code == "330304001001"

    phone.click("#edit-intention")
    phone.wait_for_url("**/edit/")
    phone.check("input[name=intended]")
    phone.fill("input[name=intended_post]", "书记、主任")
    phone.check("input[name=one_shoulder_intended]")
    no_sideways_scroll(phone)
    shot(phone, "2-intention")
    phone.click("#intention-form button[type=submit]")
    phone.wait_for_url("**/election/sheets/*/")
    assert "组织意图已保存" in phone.content()
    assert "书记、主任" in phone.locator("#intention").inner_text()
    shot(phone, "3-saved")
    sheet.refresh_from_db()
    assert sheet.intended and sheet.one_shoulder_intended and sheet.intended_post == "书记、主任"
    assert AuditLog.objects.filter(action="election.sheet.updated").count() == 1
