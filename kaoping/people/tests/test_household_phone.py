"""A household's page at 360 px: its members' ID numbers and phones fit the screen."""

import pytest

from kaoping.conftest import browser_login
from kaoping.people.models import Household

pytestmark = [pytest.mark.browser]


def test_household_page_fits_a_phone(live_server, live_county, phone, shot):
    household = Household.objects.filter(members__isnull=False).order_by("pk").first()
    browser_login(phone, live_server, "alice")  # the county admin sees ID numbers in full
    phone.goto(f"{live_server.url}/households/{household.pk}/")
    phone.wait_for_load_state()
    shot(phone, "household")
    person = household.members.exclude(id_number="").first()
    assert person.id_number in phone.locator("main").inner_text()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{phone.url} is {width} px wide"
