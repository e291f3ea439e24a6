"""The board on a 360-px phone: alice drills county → 东岭街道 → 东岭村; the charts are drawn,
the colours carry a symbol, and the page never scrolls sideways."""

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.election.testing import election_world

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def chart_drawn(page, selector):
    """The chart's canvas exists and has something painted on it."""
    page.wait_for_selector(f"{selector} canvas")
    painted = page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel + " canvas");
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { n++; } }
            return n;
        }""",
        selector,
    )
    assert painted > 100, f"{selector} is blank"


def test_alice_drills_down_on_a_phone(live_server, live_county, phone, shot):
    ew = election_world(live_county)
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('election:board')}")
    assert "瓯海区" in phone.locator("h1").inner_text()
    assert phone.locator("#tiles li").count() == 7
    assert (
        phone.locator("#tiles li[data-indicator=talk_coverage] .rag").inner_text().startswith("✕")
    )
    rows = phone.locator(".board-table tbody tr[data-region]")
    assert rows.count() == 2
    chart_drawn(phone, "#chart-rag")
    chart_drawn(phone, "#chart-progress")
    no_sideways_scroll(phone)
    shot(phone, "1-county")

    phone.locator(".board-table").get_by_role("link", name="东岭街道").click()
    phone.wait_for_url("**region=330304001")
    assert "东岭街道" in phone.locator("h1").inner_text()
    names = phone.locator(".board-table tbody tr[data-region] td:first-child").all_inner_texts()
    assert set(names) == {"东岭村", "南山社区"}
    chart_drawn(phone, "#chart-rag")
    no_sideways_scroll(phone)
    shot(phone, "2-township")

    phone.locator(".board-table").get_by_role("link", name="东岭村").click()
    phone.wait_for_url("**region=330304001001")
    assert "东岭村" in phone.locator("h1").inner_text()
    assert phone.locator("nav.crumbs").inner_text().startswith("瓯海区 › 东岭街道")
    link = phone.locator("#open-file")
    assert link.get_attribute("href") == reverse("election:file", args=[ew.file.pk])
    chart_drawn(phone, "#chart-progress")
    assert "王建国" not in phone.content()
    no_sideways_scroll(phone)
    shot(phone, "3-village")
