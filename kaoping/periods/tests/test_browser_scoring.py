"""Issue acceptance in a real browser: write a scheme, load it, record, close, read the explanation."""

import pytest

from kaoping.conftest import browser_login

pytestmark = [pytest.mark.browser]

NEW_SCHEME = """\
code: clean-village
version: 1
name: 清洁村庄月评
subject_kind: village
cadence: month
tree:
  - code: ENV
    name: 人居环境
    base: 20
    floor: 0
    max: 20
    children:
      - {code: LITTER, name: 垃圾乱堆乱放, rule: count, points: -2, cap: 10}
  - code: BONUS
    name: 加分
    section: bonus
    max: 5
    children:
      - {code: AWARD, name: 获评美丽庭院, rule: count, points: 1}
review:
  auto_approve: [console]   # what the county types in itself needs no second review
grades:
  - {code: good, name: 优秀, min: 18, min_inclusive: true}
  - {code: ok, name: 合格, max: 18, max_inclusive: false}
"""


def test_write_load_record_close_explain(live_server, live_county, phone, shot, tmp_path):
    scheme_file = tmp_path / "clean-village.yaml"
    scheme_file.write_text(NEW_SCHEME, encoding="utf-8")
    browser_login(phone, live_server, "alice")

    phone.goto(f"{live_server.url}/schemes/")
    phone.set_input_files("input[type=file]", str(scheme_file))
    phone.click("form.form button[type=submit]")
    phone.wait_for_url("**/schemes/clean-village/")
    assert "清洁村庄月评" in phone.locator("h1").inner_text()

    # Record from the village page: 东岭村 litters 7 times (−14, capped at −10) and wins 1 award.
    phone.goto(f"{live_server.url}/regions/330304001001/")
    phone.get_by_role("link", name="东岭村", exact=True).last.click()
    phone.wait_for_url("**/subjects/**")
    phone.get_by_role("link", name="记录：清洁村庄月评").click()
    phone.select_option("select[name=item_code]", "LITTER")
    phone.fill("input[name=quantity]", "7")
    phone.fill("input[name=occurred_on]", "2026-03-05")
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/subjects/**")
    phone.get_by_role("link", name="记录：清洁村庄月评").click()
    phone.select_option("select[name=item_code]", "AWARD")
    phone.fill("input[name=occurred_on]", "2026-03-20")
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/subjects/**")

    phone.goto(f"{live_server.url}/schemes/clean-village/")
    phone.fill("input[name=label]", "2026-03")
    phone.click("form.filters button[type=submit]")
    phone.wait_for_url("**/periods/**")
    phone.click("text=关闭本期")
    phone.wait_for_url("**/close/")  # the close asks first
    phone.click("button:has-text('确认关闭')")
    phone.wait_for_url("**/progress/*/")  # the close's progress, done (no worker: in-request)
    phone.get_by_role("link", name="查看结果").click()
    phone.wait_for_url("**/periods/*/")
    phone.get_by_role("link", name="东岭村").click()
    phone.wait_for_url("**/explain/**")

    # 20 − 10 (the deduction capped) = 10, + 1 bonus = 11 → 合格.
    assert phone.locator(".stats div").first.locator("b").inner_text() == "11"
    assert "合格" in phone.locator(".stats").inner_text()
    assert "-14→-10" in phone.locator("#node-LITTER").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-explained")


def test_close_asks_first_then_reopen_voids(live_server, live_county, phone, shot):
    """At 360 px: the preview names what is missing, the close needs the confirmation, and a
    reopening (with its reason) leaves no stale interview behind."""
    from kaoping.accounts.scoping import system_actor
    from kaoping.core.models import AuditLog
    from kaoping.outcomes.models import Interview
    from kaoping.periods.models import Period, Result
    from kaoping.schemes.services import scheme_load

    version, _ = scheme_load(
        text=NEW_SCHEME.replace(
            "grades:",
            "ranking:\n  lists:\n    - {code: last, name: 末位, kind: black, pick: bottom, count: 1}\n"
            "consequences:\n  interviews:\n    list: last\n    levels:\n"
            "      - {code: talk, name: 副书记约谈, cadences: [month]}\ngrades:",
        ),
        filename="clean-village.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/schemes/clean-village/")
    phone.fill("input[name=label]", "2026-03")
    phone.click("form.filters button[type=submit]")
    phone.wait_for_url("**/periods/**")
    period = Period.objects.get(scheme=version.scheme, label="2026-03")

    phone.click("text=关闭本期")
    phone.wait_for_url("**/close/")
    preview = phone.locator("#without-data").inner_text()
    assert "东岭村" in preview and "西溪村" in preview  # nothing recorded for anybody
    assert "(3 / 3)" in preview.replace("（", "(").replace("）", ")")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-preview")
    assert not Result.objects.filter(period=period).exists()  # asking wrote nothing

    phone.click("button:has-text('确认关闭')")
    phone.wait_for_url("**/progress/*/")
    assert phone.locator("#progress").get_attribute("data-status") == "done"
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "2-progress")
    # A reload shows the same finished close; it does not close again.
    phone.reload()
    assert phone.locator("#progress").get_attribute("data-status") == "done"
    assert AuditLog.objects.filter(action="periods.period.closed").count() == 1
    phone.get_by_role("link", name="查看结果").click()
    phone.wait_for_url(f"**/periods/{period.pk}/")
    shot(phone, "2-closed")
    assert Result.objects.filter(period=period).count() == 3
    assert Interview.objects.filter(period=period).count() == 3  # all tied at 20: all last

    phone.click("summary:has-text('重新开启')")
    phone.fill("input[name=reason]", "数据没录完就关闭了")
    phone.click("form:has(input[name=reason]) button[type=submit]")
    phone.wait_for_url(f"**/periods/{period.pk}/")
    shot(phone, "3-reopened")
    assert Period.objects.get(pk=period.pk).status == "open"
    assert not Interview.objects.filter(period=period).exists()
    assert not Result.objects.filter(period=period).exists()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
