"""At 360 px: a period whose red list a small township could not fill says so on its page
(docs/schemes.md §11 “名额凑不够”, `ranking.shortfall: warn`)."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def test_the_period_page_names_the_lists_a_group_could_not_fill(
    live_server, live_county, phone, shot
):
    version, _created = scheme_load(
        text=docs_example("shortfall-example"),
        filename="docs.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(live_county).values()
    for subject, n in ((jia, 9), (yi, 6), (bing, 8)):
        record(scheme, subject, "GZ", str(n), on=date(2026, 3, 10))
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    warning = phone.locator("#list-shortfalls")
    warning.wait_for()
    lines = warning.locator("li").all_inner_texts()
    assert len(lines) == 2
    assert "红榜" in lines[0] and "东岭街道" in lines[0] and "1" in lines[0]
    assert "红榜" in lines[1] and "西溪镇" in lines[1] and "0" in lines[1]
    no_sideways_scroll(phone)
    shot(phone, "1-period")
