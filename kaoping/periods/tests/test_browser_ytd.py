"""At 360 px: a scheme whose lists use the year-to-date total (docs/schemes.md “按累计排名”)
shows it beside the total on the period page, the explanation of a result and the subject's
page, and its warning list names who is on it."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def test_the_pages_show_the_year_to_date_beside_the_total(live_server, live_county, phone, shot):
    version, _created = scheme_load(
        text=docs_example("ytd-example"),
        filename="docs.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(live_county).values()
    # 甲 60 in Q1 and 10 in Q2 (year to date 70); 乙 30 + 80; 丙 50 + 0 (the docs' example).
    times = {jia: [3, 2, 1, 0, 0, 1], yi: [1, 1, 1, 3, 3, 2], bing: [2, 2, 1, 0, 0, 0]}
    for subject, counts in times.items():
        for month, n in enumerate(counts, start=1):
            if n:
                record(scheme, subject, "GZ", str(n), on=date(2026, month, 10))
    for label in ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-Q2"]:
        period = period_open(scheme=scheme, label=label, acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    rows = phone.locator("table.list tbody tr")
    rows.first.wait_for()
    texts = rows.all_inner_texts()
    # Ranked by the quarter's own total: 乙 80, 甲 10, 丙 0; each with its year to date.
    assert ["80" in texts[0], "10" in texts[1], "0" in texts[2]] == [True] * 3
    assert [r.locator(".ytd").inner_text().split()[-1] for r in rows.all()] == ["110", "70", "50"]
    lists = phone.locator(".chips").all_inner_texts()
    assert any(bing.name in text and jia.name not in text for text in lists), lists
    no_sideways_scroll(phone)
    shot(phone, "1-period")

    phone.goto(f"{live_server.url}/periods/{period.pk}/explain/{jia.pk}/")
    assert phone.locator("#ytd b").inner_text() == "70"
    no_sideways_scroll(phone)
    shot(phone, "2-explain")

    phone.goto(f"{live_server.url}/subjects/{jia.pk}/")
    ytd = phone.locator("td .ytd").all_inner_texts()
    # Newest first or not, every closed period of 甲 shows its year to date: 30 50 60 60 60 70, 70.
    assert sorted(text.split()[-1] for text in ytd) == sorted(
        ["30", "50", "60", "60", "60", "70", "70"]
    )
    no_sideways_scroll(phone)
    shot(phone, "3-subject")
