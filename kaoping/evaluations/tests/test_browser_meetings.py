"""A 主题党日 on 360-px phones: carol opens the meeting and its page shows the QR code; 张伟 signs
in on his own phone without an account (a wrong tail first); carol's page counts him within
the 5-second poll; she closes sign-in and sees who was absent and the entry written."""

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.evaluations.models import Attendance, Meeting
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import Entry, EntryStatus

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_a_member_signs_in_by_qr_and_carol_closes_the_meeting(
    live_server, live_county, browser, phone, shot
):
    evaluation_world(live_county)
    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}{reverse('evaluations:meetings')}")
    assert phone.locator("#meetings tbody tr").count() == 1  # the world's open meeting
    no_sideways_scroll(phone)
    shot(phone, "1-meetings")

    phone.fill("#open-meeting input[name=title]", "三月主题党日")
    phone.click("#open-meeting button[type=submit]")
    phone.wait_for_selector("#qr svg")
    meeting = Meeting.objects.get(title="三月主题党日")
    assert phone.url.endswith(reverse("evaluations:meeting", args=[meeting.pk]))
    assert phone.locator("#signed-in-count").inner_text() == "0"
    assert phone.locator("#expected-count").inner_text() == "4"
    qr = phone.locator("#qr svg").bounding_box()
    assert qr["width"] >= 250, "the QR code is too small to scan from the room"
    link = phone.locator("#sign-in-url").inner_text()
    assert link.endswith(f"/m/{meeting.code}/")
    no_sideways_scroll(phone)
    shot(phone, "2-meeting-open")
    # The same page on the projector's laptop: the code as big as the screen's height allows.
    phone.set_viewport_size({"width": 1280, "height": 800})
    assert phone.locator("#qr svg").bounding_box()["width"] >= 450
    shot(phone, "2b-projected")
    phone.set_viewport_size({"width": 360, "height": 740})

    # 张伟's own phone: no login, from the QR code's link.
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", device_scale_factor=2
    )
    member = context.new_page()
    try:
        member.goto(link)
        assert member.locator("#sign-in").count() == 1
        assert member.locator(".menu").count() == 0  # nobody is logged in here
        no_sideways_scroll(member)
        shot(member, "3-sign-in")
        member.fill("#sign-in input[name=name]", "张伟")
        member.fill("#sign-in input[name=phone_tail]", "0004")  # 刘芳's
        member.click("#sign-in button[type=submit]")
        member.wait_for_selector("#sign-in-problems")
        assert not Attendance.objects.exists()
        shot(member, "4-wrong-tail")
        member.fill("#sign-in input[name=name]", "张伟")
        member.fill("#sign-in input[name=phone_tail]", "0003")
        member.click("#sign-in button[type=submit]")
        member.wait_for_selector("#signed-in-done")
        assert "张*" in member.locator("#signed-in-done h1").inner_text()
        assert "张伟" not in member.content()
        no_sideways_scroll(member)
        shot(member, "5-signed-in")
    finally:
        context.close()

    # carol's page counts him at its next poll, without reloading.
    phone.wait_for_selector("#signed-in li", timeout=8000)
    assert phone.locator("#signed-in-count").inner_text() == "1"
    assert phone.locator("#signed-in li").all_inner_texts() == ["张*"]
    shot(phone, "6-one-signed-in")

    phone.click("#close-meeting button[type=submit]")
    phone.wait_for_selector("#absent")
    assert sorted(phone.locator("#absent li").all_inner_texts()) == sorted(
        ["王*国", "李*英", "刘*"]
    )
    assert phone.locator("#entries tbody tr").count() == 1
    assert phone.locator("#entries tbody tr td.num").inner_text() == "2"
    assert phone.locator("#qr").count() == 0
    entry = Entry.objects.get(item_code="HD01")
    assert entry.status == EntryStatus.APPROVED and entry.subject.person.name == "张伟"
    no_sideways_scroll(phone)
    shot(phone, "7-closed")
