"""Issue acceptance on a 360-px phone: grace (区委政法委) uploads a file with a bad ID number, sees
the row named and nothing imported, uploads the corrected file and sees her findings, masked."""

import pytest
from django.utils import timezone

from kaoping.conftest import browser_login
from kaoping.core.privacy import mask_id_number
from kaoping.election.models import Finding
from kaoping.election.testing import election_world

from .findings_helpers import finding_row, persons_with_sheets, workbook

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_grace_imports_a_bad_file_then_the_corrected_one(
    live_server, live_county, phone, shot, tmp_path
):
    ew = election_world(live_county)
    persons = persons_with_sheets(live_county, ew, 4)
    good = [finding_row(p) for p in persons]
    bad = [list(r) for r in good]
    bad[2][0] = bad[2][0][:17]  # 17 characters: Excel row 4
    (tmp_path / "bad.xlsx").write_bytes(workbook(bad))
    (tmp_path / "good.xlsx").write_bytes(workbook(good))

    browser_login(phone, live_server, "grace")
    phone.goto(f"{live_server.url}/election/findings/")
    assert "受过刑事处罚" in phone.locator("#conditions").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "1-findings")

    phone.set_input_files("#import input[type=file]", str(tmp_path / "bad.xlsx"))
    phone.click("#import button[type=submit]")
    phone.wait_for_load_state()
    problems = phone.locator(".error-box")
    assert problems.is_visible()
    cells = problems.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["4", "身份证号"]
    assert Finding.objects.count() == 1  # the world's alone
    no_sideways_scroll(phone)
    shot(phone, "2-bad-rows")

    phone.set_input_files("#import input[type=file]", str(tmp_path / "good.xlsx"))
    phone.click("#import button[type=submit]")
    phone.wait_for_load_state()
    assert Finding.objects.count() == 5
    listed = phone.locator("#findings").inner_text()
    assert persons[2].name in listed and mask_id_number(persons[2].id_number) in listed
    assert persons[2].id_number not in listed
    assert phone.locator(".error-box").count() == 0
    no_sideways_scroll(phone)
    shot(phone, "3-imported")


def test_grace_enters_one_finding_and_a_bad_id_number_is_shown_on_its_field(
    live_server, live_county, phone, shot
):
    ew = election_world(live_county)
    zhao = live_county.persons["赵强"]
    browser_login(phone, live_server, "grace")
    phone.goto(f"{live_server.url}/election/findings/")
    assert "criminal" not in phone.locator("#conditions").inner_text()
    phone.click("#add summary")
    # The date is pre-filled with today, in the form the date input shows.
    assert phone.input_value("#add #id_found_on") == timezone.localdate().isoformat()
    phone.fill("#add #id_id_number", zhao.id_number[:17])
    phone.select_option("#add #id_condition", "criminal")
    phone.select_option("#add #id_hit", "是")
    phone.fill("#add #id_summary", "有刑事处罚")
    phone.click("#add button[type=submit]")
    phone.wait_for_load_state()
    assert phone.locator(".error-box").count() == 0  # not the import's box with a row number
    error = phone.locator("#add #id_id_number_error").inner_text()
    assert error and "行" not in error
    assert phone.input_value("#add #id_found_on") == timezone.localdate().isoformat()
    assert Finding.objects.count() == 1
    no_sideways_scroll(phone)
    shot(phone, "4-form-error")

    phone.fill("#add #id_id_number", zhao.id_number)
    phone.click("#add button[type=submit]")
    phone.wait_for_load_state()
    assert Finding.objects.filter(sheet=ew.other_sheet, hit=True).count() == 1
    assert zhao.name in phone.locator("#findings").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "5-form-saved")
