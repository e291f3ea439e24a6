"""At 360 px: the township inspector draws a village, sees the drawn households, records what was
found, and the period's close gives the village its points (docs/schemes.md §5 “随机抽查”)."""

from decimal import Decimal

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.inspections.models import Draw, DrawResult
from kaoping.periods.models import Result
from kaoping.periods.services import period_open

from .helpers import grow_villages, sampling_scheme

pytestmark = [pytest.mark.browser]


def test_the_inspector_draws_records_and_the_close_scores(live_server, live_county, phone, shot):
    scheme = sampling_scheme(live_county)
    # 东岭村 12 households: 10% is 1.2 → 2, at least 5 → 5 drawn.
    dongling = grow_villages(live_county, {"330304001001": 12})["330304001001"]
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())

    browser_login(phone, live_server, "bob")
    phone.locator(".menu summary").click()
    phone.locator(".menu nav a[href='/inspections/']").click()
    phone.goto(f"{live_server.url}/inspections/?scheme={scheme.code}&item=RJ&label=2026-03")
    unit = phone.locator(f"#unit-{dongling.pk}")
    unit.wait_for()
    no_sideways_scroll(phone)
    shot(phone, "1-units")
    unit.locator("button[type=submit]").click()
    members = phone.locator(".member")
    members.first.wait_for()
    drawn = Draw.objects.get(subject=dongling)
    assert members.count() == 5 == drawn.size
    assert [m.get_attribute("data-number") for m in members.all()] == drawn.members
    assert phone.locator("#draw-seed").inner_text() == drawn.seed
    # The township's staff may see 东岭村's households whole: heads' names, not masked.
    texts = " ".join(members.all_inner_texts())
    assert "*" not in texts
    no_sideways_scroll(phone)
    shot(phone, "2-drawn")

    for number in drawn.members[:4]:
        phone.locator(f"input[name='m_{number}'][value='合格']").check()
    last = drawn.members[4]
    phone.locator(f"input[name='m_{last}'][value='不合格']").check()
    phone.locator(f"input[name='n_{last}']").fill("门前堆放杂物")
    phone.locator("#save").click()
    phone.locator("#figure").wait_for()
    phone.wait_for_load_state()
    assert phone.locator("#figure").inner_text() == "80"
    assert DrawResult.objects.filter(draw=drawn).count() == 5
    no_sideways_scroll(phone)
    shot(phone, "3-recorded")

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{period.pk}/close/")
    notes = phone.locator("#close-notes li")
    notes.first.wait_for()
    said = notes.all_inner_texts()
    assert "东岭村" in said[0]  # its figure comes at the close, from its results
    assert "南山社区" in said[1]  # no result: no figure for this item
    no_sideways_scroll(phone)
    shot(phone, "4-close")
    phone.locator("form[action$='/close/'] button").click()
    phone.wait_for_load_state()
    shot(phone, "5-closed")
    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    row = phone.locator("tr", has_text="东岭村").first
    row.wait_for()
    assert "5" in row.inner_text()
    no_sideways_scroll(phone)
    shot(phone, "6-results")
    version = scheme.latest_version()
    total = Result.objects.get(period=period, subject=dongling).total
    # 4 of 5 passed: 80 % → 10 − 0.5 × 10 = 5.
    assert version.to_points(total) == Decimal(5)
