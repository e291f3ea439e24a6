"""At 360 px: township staff open a pending decision from the home page's to-do, choose an
option, write the reason and save; the subject's page then shows the decision (docs/schemes.md
§17 `decisions`)."""

import pytest

from kaoping.conftest import browser_login, no_sideways_scroll

from ..models import Decision
from .test_classes import close_example

pytestmark = [pytest.mark.browser]


def test_township_staff_record_a_decision_and_the_subject_page_shows_it(
    live_server, live_county, phone, shot
):
    period, subjects = close_example(live_county)
    decision = Decision.objects.get(period=period)
    browser_login(phone, live_server, "bob")
    todo = phone.locator(f"a[href='/outcomes/decisions/{decision.pk}/']").first
    todo.wait_for()
    no_sideways_scroll(phone)
    shot(phone, "1-home")
    todo.click()
    phone.locator("#decision-form").wait_for()
    assert phone.locator(".decision-pending").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "2-pending")
    phone.get_by_label("延长预备期").check()
    phone.fill("#id_reason", "支部大会决议:延长预备期一年")
    phone.click("#decision-form button[type=submit]")
    phone.locator(".decision-option").wait_for()
    assert phone.locator(".decision-option").inner_text() == "延长预备期"
    no_sideways_scroll(phone)
    shot(phone, "3-recorded")
    phone.click(f"h1 a[href='/subjects/{subjects['张伟'].pk}/']")
    shown = phone.locator("#subject-decisions .subject-decision")
    shown.wait_for()
    text = shown.inner_text()
    assert "延长预备期" in text and "支部大会决议:延长预备期一年" in text and "bob" in text
    no_sideways_scroll(phone)
    shot(phone, "4-subject")
    recorded = Decision.objects.get(pk=decision.pk)
    assert (recorded.option, recorded.decided_by.username) == ("extend", "bob")
