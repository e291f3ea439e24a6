"""Loading an evaluation plan on a 360-px phone: alice uploads the plan with a mistake, sees the
line it is on, pastes the corrected text and lands on the plan's page with its campaigns."""

import pytest
from django.urls import reverse

from kaoping.conftest import browser_login
from kaoping.evaluations.models import Plan
from kaoping.evaluations.testing import PLAN_YAML, evaluation_world

pytestmark = [pytest.mark.browser]

NEW = PLAN_YAML.replace("code: test-sanping", "code: dongling-2026").replace(
    "name: 瓯海区党员“三评”", "name: 东岭街道党员“三评”"
)


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_alice_loads_a_plan_after_fixing_the_line_shown(live_server, live_county, phone, shot):
    evaluation_world(live_county)
    mistaken = NEW.replace("item: PY02", "item: HD01")  # a count item cannot take a result
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{reverse('evaluations:plans')}")
    assert phone.locator("#plans tbody tr").count() == 1  # the world's plan
    no_sideways_scroll(phone)
    shot(phone, "1-plans")

    phone.select_option("#load-plan select", label="东岭街道")
    phone.set_input_files(
        "#load-plan input[type=file]",
        files=[
            {"name": "dongling.yaml", "mimeType": "application/yaml", "buffer": mistaken.encode()}
        ],
    )
    phone.click("#load-plan button[type=submit]")
    phone.wait_for_selector("#plan-problems")
    problem = phone.locator("#plan-problems li").inner_text()
    assert "dongling.yaml" in problem and "第 17 行" in problem and "HD01" in problem
    assert not Plan.objects.filter(code="dongling-2026").exists()
    no_sideways_scroll(phone)
    shot(phone, "2-line-shown")

    phone.select_option("#load-plan select", label="东岭街道")
    phone.fill("#load-plan textarea", NEW)
    phone.click("#load-plan button[type=submit]")
    phone.wait_for_selector("#campaigns")
    plan = Plan.objects.get(code="dongling-2026")
    assert plan.region.code == "330304001"
    assert phone.url.endswith(reverse("evaluations:plan", args=[plan.pk]))
    assert plan.name in phone.locator("h1").inner_text()
    assert phone.locator("#campaigns tbody").count() == 4
    campaigns = phone.locator("#campaigns").inner_text()
    # The item's name, never its code.
    assert "群众测评" in campaigns and "PY02" not in campaigns
    assert phone.locator("#versions li").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "3-plan")

    phone.click("#versions a")
    assert "dongling-2026" in phone.locator("#version-text").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "4-version")

    phone.go_back()
    phone.click("#format")
    phone.wait_for_selector("#format-doc")
    assert phone.locator("#format-doc h2").count() >= 10
    no_sideways_scroll(phone)
    shot(phone, "5-format")
