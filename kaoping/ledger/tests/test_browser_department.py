"""The department scorer's main job on a 360-px phone: from its home to one of its villages,
record its department's deduction with the photo it needs, and find it under 我的记录; the
village's committee member then sees it on the village's record page."""

import io

import pytest
from PIL import Image

from kaoping.conftest import browser_login
from kaoping.ledger.models import Entry
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync

from .test_scope_slips import VILLAGE_SCHEME, load

pytestmark = [pytest.mark.browser]

# The same scheme with the deduction needing a photo, as 六比六争's deductions do.
SCHEME = VILLAGE_SCHEME.replace(
    "{code: PA1, name: 发生刑事案件, rule: count, points: -5}",
    "{code: PA1, name: 发生刑事案件, rule: count, points: -5, evidence_required: true}",
)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_grace_records_her_departments_deduction_with_a_photo(
    live_server, live_county, phone, shot, tmp_path
):
    county = live_county
    county.department.code = "political_legal"
    county.department.save(update_fields=["code"])
    subjects_sync(kind="village")
    scheme = load(county, SCHEME, "duties.yaml")
    photo = tmp_path / "案发现场.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 140)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    browser_login(phone, live_server, "grace")
    shot(phone, "1-home")
    phone.get_by_role("link", name="南山社区").first.click()
    phone.wait_for_url("**/regions/330304001002/")
    phone.get_by_role("link", name="南山社区").last.click()  # the village as a scored subject
    phone.wait_for_url("**/subjects/**")
    phone.locator("p.actions a", has_text=scheme.name).click()
    phone.wait_for_url("**/record/duties/")
    options = phone.locator("select[name=item_code] option").all_inner_texts()
    # Only what her department scores (and what nobody in particular owns) is offered.
    assert any("发生刑事案件" in o for o in options)
    assert not any("班子成员缺席会议" in o or "镇街平安评议" in o for o in options)
    phone.select_option("select[name=item_code]", label=next(o for o in options if "刑事" in o))
    phone.fill("input[name=note]", "辖区内发生盗窃案件一起")
    phone.set_input_files("input[name=evidence]", photo)
    assert fits(phone)
    shot(phone, "2-form")
    phone.click("main button[type=submit]")
    phone.wait_for_load_state()
    entry = Entry.objects.get()
    assert (entry.item_code, entry.subject.name, entry.created_by.username) == (
        "PA1",
        "南山社区",
        "grace",
    )
    assert entry.evidence.count() == 1

    phone.goto(f"{live_server.url}/entries/mine/")
    assert "发生刑事案件" in phone.locator("main").inner_text()
    assert fits(phone)
    shot(phone, "3-my-entries")


def test_clara_reads_her_villages_standing_and_records(live_server, live_county, phone, shot):
    county = live_county
    subjects_sync(kind="village")
    load(county, VILLAGE_SCHEME, "duties.yaml")
    browser_login(phone, live_server, "clara")
    shot(phone, "1-home")
    phone.get_by_role("link", name="东岭村").first.click()
    phone.wait_for_url("**/regions/330304001001/")
    text = phone.locator("main").inner_text()
    assert "东岭村第1网格" in text and "西溪村" not in text
    assert fits(phone)
    shot(phone, "2-village")
    village = Subject.objects.get(kind="village", region__code="330304001001")
    phone.goto(f"{live_server.url}/subjects/{village.pk}/")
    assert "东岭村" in phone.locator("h1").inner_text()
    assert fits(phone)
    shot(phone, "3-standing")
    # Another village's page is not hers.
    other = Subject.objects.get(kind="village", region__code="330304002001")
    response = phone.goto(f"{live_server.url}/subjects/{other.pk}/")
    assert response.status == 404
    assert "找不到这个页面" in phone.locator("main").inner_text()
    shot(phone, "4-not-hers")
