"""At 360 px: township staff approve a household's deduction on the review page; the village's
secretary then sees, on the linked party member's page, the entry it carried, with its source
linked, and the household's page says how far it carried (docs/schemes.md 连带记分)."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entry_record
from kaoping.people.models import PartyMember, Subject
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.schemes.services import scheme_load

pytestmark = [pytest.mark.browser]


def test_an_approved_deduction_shows_on_the_linked_members_page(
    live_server, live_county, phone, shot
):
    county = live_county
    for code in ("linked-source-example", "linked-example"):
        if code == "linked-example":
            PartyMember.objects.create(
                person=county.persons["李秀英"],
                region=county.region("330304001001"),
                branch="东岭村党支部",
                member_class="B",
            )
        version, _created = scheme_load(
            text=docs_example(code),
            filename="docs.yaml",
            region=county.region("330304"),
            acting_user=system_actor(),
        )
        if code == "linked-source-example":
            source = version.scheme
    zhang = county.persons["张伟"].household
    for name in ("王建国", "李秀英"):
        county.persons[name].party_member.linked_households.add(zhang)
    entry, _created = entry_record(
        scheme=source,
        subject=Subject.objects.get(kind="household", household=zhang),
        item_code="FX01",
        occurred_on=date(2026, 3, 5),
        acting_user=county.users["carol"],
    )

    browser_login(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/review/")
    phone.locator(f"input[name=entry][value='{entry.pk}']").check()
    shot(phone, "1-review")
    phone.click("button[value=approve]")
    phone.wait_for_load_state()
    carried = Entry.objects.filter(carried_from=entry)
    assert carried.count() == 2

    browser_login(phone, live_server, "carol")
    wang = Subject.objects.get(kind="party_member", person=county.persons["王建国"])
    phone.goto(f"{live_server.url}/subjects/{wang.pk}/")
    line = phone.locator(f".carried[data-source='{entry.pk}']")
    line.wait_for()
    text = line.inner_text()
    assert "张伟" in text and "FX01" in text and "乱堆乱放" in text and "-2" in text
    row = phone.locator(f"#entry-{carried.get(subject=wang).pk}")
    assert row.locator("form").count() == 0  # corrected through its source only
    no_sideways_scroll(phone)
    shot(phone, "2-member")

    line.locator("a", has_text="张伟").click()
    phone.wait_for_url(f"**/subjects/*/?scheme={source.code}#entry-{entry.pk}")
    assert phone.locator(f"#entry-{entry.pk} .carried-to").get_attribute("data-count") == "2"
    no_sideways_scroll(phone)
    shot(phone, "3-household")
