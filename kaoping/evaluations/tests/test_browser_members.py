"""一联二亮 on a 360-px phone: carol records that 王建国 served 张伟's household and adds his
pledge; then anyone reads his card, name masked, on the posted month's public breakdown."""

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login
from kaoping.evaluations.models import LinkService, MemberPledge
from kaoping.evaluations.testing import evaluation_world
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.schemes.calendar import label_for

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_carol_records_a_service_and_a_pledge_shown_on_the_posting(
    live_server, live_county, phone, shot
):
    world = evaluation_world(live_county)
    label = label_for("month", timezone.localdate())
    period = period_open(scheme=world.scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period = period_post(period=period, acting_user=system_actor())
    zhang = live_county.persons["张伟"].household

    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}{reverse('evaluations:services')}")
    assert phone.locator("#member-coverage tbody tr").count() == 4  # 东岭村's four members
    no_sideways_scroll(phone)
    shot(phone, "1-services")

    # Choosing the member reloads the form with the households he links.
    phone.select_option("#id_choose_member", str(world.member.pk))
    phone.wait_for_selector("#service-form")
    options = phone.locator("#id_household option").all_inner_texts()
    # The prompt, then each household by its head (masked) and address.
    assert len(options) == 3 and any(o.startswith("张*") and zhang.address in o for o in options)
    phone.select_option("#id_household", str(zhang.pk))
    phone.fill("#id_note", "帮助申请临时救助")
    no_sideways_scroll(phone)
    shot(phone, "2-record")
    phone.click("#service-form button[type=submit]")
    phone.wait_for_selector(".messages")
    assert LinkService.objects.filter(member=world.member, household=zhang).count() == 1
    row = phone.locator(f"#member-coverage tr[data-member='{world.member.pk}']").inner_text()
    assert "1/2" in row and "50.00%" in row
    assert "帮助申请临时救助" in phone.locator("#recent-services").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "3-recorded")

    phone.click("#to-pledges")
    phone.wait_for_selector("#pledge-form")
    phone.select_option("#id_pledge-member", str(world.member.pk))
    phone.fill("#id_pledge-text", "帮助两户销售茶叶")
    phone.click("#pledge-form button[type=submit]")
    phone.wait_for_selector(".messages")
    pledge = MemberPledge.objects.get(member=world.member)
    assert phone.locator(f"#pledge-{pledge.pk}").count() == 1
    no_sideways_scroll(phone)
    shot(phone, "4-pledge")

    # Anyone, without a login, opens 王建国's line of the posted month.
    phone.context.clear_cookies()
    phone.goto(
        f"{live_server.url}{reverse('portal:breakdown', args=[period.pk, world.subject.pk])}"
    )
    card = phone.locator("#member-card").inner_text()
    assert "王*国" in card and "东岭村党支部" in card and "帮助两户销售茶叶" in card
    assert "王建国" not in phone.content()
    assert "0" in phone.locator("#pledges-kept").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "5-public-card")
