"""At 360 px: a subject listed again while an earlier listing is unresolved shows both on the
period page, the earlier one as “延续自 <its period>” (docs/schemes.md §11 “每次上榜各自延续”)."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def test_the_period_page_shows_each_listing_beside_the_fresh_one(
    live_server, live_county, phone, shot
):
    version, _created = scheme_load(
        text=docs_example("carryover-example"),
        filename="docs.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(live_county).values()
    for month, times in ((1, (3, 6, 8)), (2, (4, 5, 9))):
        for subject, n in zip((jia, yi, bing), times, strict=True):
            record(scheme, subject, "GZ", str(n), on=date(2026, month, 10))
        period = period_open(scheme=scheme, label=f"2026-{month:02d}", acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    chips = phone.locator(".list-black + ul li")
    chips.first.wait_for()
    texts = chips.all_inner_texts()
    assert len(texts) == 2 and all(jia.name in text for text in texts)
    assert sum("2026-01" in text for text in texts) == 1  # the carry names its period
    no_sideways_scroll(phone)
    shot(phone, "1-period")
