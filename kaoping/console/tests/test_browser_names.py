"""Names instead of codes, and scheme errors, as a phone (360 px) shows them; screenshots are
kept under var/screenshots/."""

import pytest

from kaoping.conftest import browser_login
from kaoping.core.audit import audit_record
from kaoping.periods.services import period_post
from kaoping.publishing.tests.fixtures import (
    Q2_POINTS,
    Q3_POINTS,
    QUARTER_SCHEME,
    score,
    village_scheme,
)

pytestmark = [pytest.mark.browser]

BROKEN = """\
code: broken
version: 1
name: 有错的方案
subject_kind: village
cadence: month
tree:
  - code: A
    name: 党建
    children:
      - {code: A1, name: 开会, rule: count, points: 5, cap: 15
      - {code: A2, name: 学习, rule: count, points: 5}
"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_scheme_upload_errors_and_the_format_page(live_server, live_county, phone, shot, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/schemes/")
    phone.set_input_files("input[type=file]", str(path))
    phone.click("form.form button[type=submit]")
    alert = phone.locator("[role=alert]")
    alert.wait_for()
    text = alert.inner_text()
    assert "broken.yaml 第 10 行" in text and "{ 没有用 } 闭合" in text, text
    assert "while parsing" not in text
    assert no_sideways_scroll(phone)
    shot(phone, "1-upload-error")
    alert.get_by_role("link", name="这些提示是什么意思、怎么改").click()
    phone.wait_for_url("**/schemes/format/#*")
    assert phone.locator('[id="13-检查与报错"]').is_visible()
    assert no_sideways_scroll(phone)
    shot(phone, "2-format")


def test_audit_log_posting_groups_and_404_fit_a_phone(live_server, live_county, phone, shot):
    county = live_county
    audit_record(
        actor=county.users["alice"],
        action="store.redemption.requested",
        region_code="330304001001",
        object_repr="兑换 #1 一袋大米（东岭村第1网格王建国户）",
        after={"quantity": 2, "points": "30", "status": "requested", "sha256": "f" * 64},
    )
    text = QUARTER_SCHEME.replace("ranking:\n  lists:", "ranking:\n  within: township\n  lists:")
    scheme, villages = village_scheme(county, text)
    score(scheme, villages, "2026-Q2", Q2_POINTS)
    period = period_post(
        period=score(scheme, villages, "2026-Q3", Q3_POINTS), acting_user=county.users["alice"]
    )

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/audit/")
    assert phone.locator("ol.audit").inner_text().count("申请兑换") == 1
    assert "store.redemption" not in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone)
    shot(phone, "1-audit")

    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    assert "东岭街道" in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone)
    shot(phone, "2-period")

    phone.goto(f"{live_server.url}/p/{period.pk}/")
    assert "东岭街道" in phone.locator("#results").inner_text()
    assert "330304001" not in phone.locator("#results").inner_text()
    assert no_sideways_scroll(phone)
    shot(phone, "3-posting")

    response = phone.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404 and "找不到这个页面" in phone.locator("main").inner_text()
    assert no_sideways_scroll(phone)
    shot(phone, "4-not-found")
