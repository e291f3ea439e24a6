"""At 360 px: the scheme page lists what a township and a village add (本乡镇/本村增加的评分项,
docs/schemes.md §10 `overlays`), and a village's explanation shows its own items among the
county's."""

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def test_the_scheme_page_and_the_explanation_show_a_villages_own_items(
    live_server, live_county, phone, shot
):
    version, _created = scheme_load(
        text=docs_example("overlay-example"),
        filename="docs.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    dongling = village_subjects(live_county)["330304001001"]
    record(scheme, dongling, "GZ1")
    record(scheme, dongling, "GZ2", "2")
    record(scheme, dongling, "DL1")
    record(scheme, dongling, "DLC1")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/schemes/{scheme.code}/")
    overlays = phone.locator("#overlays")
    overlays.wait_for()
    titles = overlays.locator("h3").all_inner_texts()
    assert titles == ["东岭街道 · 东岭街道海塘巡查", "东岭村 · 东岭村村规民约"]
    text = overlays.inner_text()
    assert "海塘巡查到位" in text and "违反村规民约" in text and "越级信访" in text
    no_sideways_scroll(phone)
    shot(phone, "1-scheme")

    phone.goto(f"{live_server.url}/periods/{period.pk}/explain/{dongling.pk}/")
    page = phone.locator("main")
    page.wait_for()
    explained = page.inner_text()
    assert "违反村规民约" in explained and "海塘巡查到位" in explained
    assert "23" in explained
    no_sideways_scroll(phone)
    shot(phone, "2-explain")
