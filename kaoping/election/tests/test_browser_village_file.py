"""Issue acceptance on a 360-px phone: bob (township staff of 东岭街道) opens 东岭村's file from the
list, records talks until the talk rule is met category by category, records the next stage,
and adds and clears an issue."""

import pytest

from kaoping.conftest import browser_login
from kaoping.election.models import IssueStatus, StageReached, Talk, VillageIssue
from kaoping.election.testing import election_world

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def rule(page, category):
    return page.locator(f'#talks .rule[data-category="{category}"]')


def is_met(page, category) -> bool:
    return "is-met" in (rule(page, category).get_attribute("class") or "")


def record_talk(page, category, name):
    page.select_option("#talk-form select[name=category]", category)
    page.fill("#talk-form input[name=person_name]", name)
    page.click("#talk-form button[type=submit]")
    page.wait_for_load_state()


def test_bob_brings_dongling_to_the_talk_rule(live_server, live_county, phone, shot):
    ew = election_world(live_county)
    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/election/files/")
    assert phone.locator("#files .file-row").count() == 2  # his township's villages
    no_sideways_scroll(phone)
    shot(phone, "1-files")
    phone.locator('#files .file-row[data-village="330304001001"] a').click()
    phone.wait_for_url(f"**/election/files/{ew.file.pk}/")
    assert phone.locator("h1").inner_text().startswith("东岭村")
    assert phone.locator("#key-badge").count() == 1
    no_sideways_scroll(phone)

    # 1 party member (talked with), 5 representatives (60 %: 3 needed), 2 key persons.
    assert is_met(phone, "party_member")
    assert not is_met(phone, "representative") and not is_met(phone, "key_person")
    assert "status-posted" in phone.locator("#talks-badge").get_attribute("class")
    shot(phone, "2-rule-not-met")

    for n, name in enumerate(["张一", "张二", "张三"], start=1):
        record_talk(phone, "representative", name)
        assert is_met(phone, "representative") == (n == 3), n
    assert not is_met(phone, "key_person")
    shot(phone, "3-representatives-met")
    record_talk(phone, "key_person", "李老")
    record_talk(phone, "key_person", "赵老")
    assert is_met(phone, "key_person")
    assert "status-final" in phone.locator("#talks-badge").get_attribute("class")
    # The same representative twice is refused on the form, naming him.
    phone.locator("#talks details.act summary").first.click()
    record_talk(phone, "representative", "张一")
    assert "张一" in phone.locator("#talk-form .error").inner_text()
    assert Talk.objects.filter(file=ew.file).count() == 6
    no_sideways_scroll(phone)
    shot(phone, "4-rule-met")

    # The next stage: 班子分析.
    phone.goto(f"{live_server.url}/election/files/{ew.file.pk}/")
    phone.locator("#stages details.act summary").click()
    assert phone.locator("#stage-form select[name=stage]").input_value() == "analysis"
    phone.fill("#stage-form input[name=note]", "班子分析会已开")
    phone.click("#stage-form button[type=submit]")
    phone.wait_for_load_state()
    assert "is-reached" in phone.locator('#stages li[data-stage="analysis"]').get_attribute("class")
    assert StageReached.objects.filter(file=ew.file, stage="analysis").exists()
    shot(phone, "5-stage")

    # An issue on the 清底 list, then cleared.
    phone.locator("#issues details.act summary").click()
    phone.select_option("#issue-form select[name=kind]", "qingdi")
    phone.fill("#issue-form input[name=title]", "宅基地纠纷未化解")
    phone.fill("#issue-form input[name=owner]", "王建国")
    phone.fill("#issue-form input[name=deadline]", "2026-12-31")
    phone.click("#issue-form button[type=submit]")
    phone.wait_for_load_state()
    issue = VillageIssue.objects.get(title="宅基地纠纷未化解")
    row = phone.locator(f'#issues li[data-issue="{issue.pk}"]')
    assert row.count() == 1
    no_sideways_scroll(phone)
    shot(phone, "6-issue")
    row.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert "is-done" in phone.locator(f'#issues li[data-issue="{issue.pk}"]').get_attribute("class")
    issue.refresh_from_db()
    assert issue.status == IssueStatus.DONE
    shot(phone, "7-issue-cleared")
