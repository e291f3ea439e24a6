"""Issue 16 acceptance: on a 360-px phone a grid member records a deduction that needs
evidence, with a photo, and the reviewer sees it with its photo in the review queue."""

import io

import pytest
from PIL import Image

from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry
from kaoping.people.models import Subject

from .ledger_fixture import GRID, add_reviewer
from .test_staff_evidence import load

pytestmark = [pytest.mark.browser]


def photo_file(tmp_path):
    path = tmp_path / "暗访现场.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 140, 90)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_grid_member_records_a_deduction_with_a_photo_and_the_reviewer_sees_it(
    live_server, live_county, phone, shot, tmp_path
):
    county = live_county
    scheme = load(county)
    add_reviewer(county)
    home = Subject.objects.filter(kind="household", region__code=GRID).order_by("pk").first()

    browser_login(phone, live_server, "dave")
    phone.goto(f"{live_server.url}/grids/{GRID}/record/{scheme.code}/")
    item = phone.locator(f"select[name=item_{home.pk}]")
    item.select_option("DIRTY")
    assert "需附照片" in item.locator("option:checked").inner_text()
    files = phone.locator(f"input[name=evidence_{home.pk}]")
    assert files.get_attribute("accept") == "image/*,application/pdf"
    assert files.get_attribute("multiple") is not None

    # Without the photo: refused, in Chinese, on the household's row, and nothing written.
    phone.click("main button[type=submit]")
    phone.wait_for_load_state()
    row = phone.locator("fieldset.household-row.error-box")
    assert "佐证" in row.inner_text()
    assert Entry.objects.count() == 0
    shot(phone, "1-refused-without-photo")

    phone.locator(f"select[name=item_{home.pk}]").select_option("DIRTY")
    phone.locator(f"input[name=evidence_{home.pk}]").set_input_files(photo_file(tmp_path))
    assert fits(phone)
    shot(phone, "2-photo-chosen")
    phone.click("main button[type=submit]")
    phone.wait_for_url("**/entries/mine/")
    entry = Entry.objects.get()
    assert (entry.item_code, entry.status) == ("DIRTY", "submitted")
    assert entry.evidence.get().original_name == "暗访现场.jpg"

    browser_login(phone, live_server, "rita")
    phone.goto(f"{live_server.url}/review/")
    row = phone.locator("#review-form tbody tr").filter(has_text="暗访发现脏乱差")
    assert row.count() == 1
    thumbnail = row.locator("ul.evidence img")
    # The thumbnail is lazy: bring it into view, then wait until it has really loaded through
    # the checked evidence view (a broken image never gets a natural width, so this times out).
    thumbnail.scroll_into_view_if_needed()
    phone.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=thumbnail.element_handle(),
        timeout=10_000,
    )
    assert fits(phone)
    shot(phone, "3-review-queue")


def test_a_clerk_imports_a_deduction_and_adds_its_photo_afterwards(
    live_server, live_county, phone, shot, tmp_path
):
    from datetime import timedelta

    from django.utils import timezone

    from kaoping.ledger.testing import import_workbook

    county = live_county
    scheme = load(county)
    homes = list(Subject.objects.filter(kind="household", region__code=GRID).order_by("pk"))
    day = timezone.localdate() - timedelta(days=1)
    sheet = tmp_path / "暗访扣分.xlsx"
    sheet.write_bytes(
        import_workbook(
            [
                (homes[0].household.number, "庭院整洁", 1, None, day, ""),
                (homes[1].household.number, "暗访发现脏乱差", 1, None, day, "3号暗访"),
            ]
        )
    )

    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/imports/")
    phone.select_option("select[name=scheme]", str(scheme.pk))
    phone.set_input_files("input[type=file]", str(sheet))
    phone.click("form.form button[type=submit]")
    phone.wait_for_url("**/imports/*/")
    phone.locator("#import-status").get_by_role("button", name="导入 2 行").click()
    waiting = phone.locator("#awaiting-evidence")
    waiting.wait_for()
    assert "1 条记录待补佐证" in waiting.inner_text() and "暗访发现脏乱差" in waiting.inner_text()
    assert fits(phone)
    shot(phone, "1-import-awaiting")
    job_url = phone.url

    waiting.get_by_role("link", name="补充佐证").click()
    phone.wait_for_url("**/entries/*/evidence/**")
    phone.set_input_files("input[name=evidence]", photo_file(tmp_path))
    assert fits(phone)
    shot(phone, "2-add-evidence")
    phone.click("#evidence-form button[type=submit]")
    phone.wait_for_url(job_url)
    assert phone.locator("#awaiting-evidence").count() == 0
    entry = Entry.objects.get(item_code="DIRTY")
    assert entry.status == "submitted" and entry.evidence.count() == 1
