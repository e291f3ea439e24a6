"""At 360 px: a scheme reading another's results (docs/schemes.md 读取其他方案的结果). The close
page lists the source periods it reads and holds the close while one is open; the explanation
of a result shows, under the item, where its figure came from, linked to the source result."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.people.models import Subject
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def _load(county, code: str):
    version, _created = scheme_load(
        text=docs_example(code),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def _close(scheme, label: str):
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def test_the_close_page_and_the_explanation_name_the_source(live_server, live_county, phone, shot):
    biwu = _load(live_county, "crossscheme-biwu-example")
    jia, yi, bing = village_subjects(live_county).values()
    for month, counts in ((1, (9, 6, 5)), (2, (9, 8, 5)), (3, (7, 9, 5))):
        for subject, n in zip((jia, yi, bing), counts, strict=True):
            record(biwu, subject, "GZ", str(n), on=date(2026, month, 10))
        _close(biwu, f"2026-{month:02d}")
    biwu_quarter = period_open(scheme=biwu, label="2026-Q1", acting_user=system_actor())
    reader = _load(live_county, "crossscheme-example")
    quarter = period_open(scheme=reader, label="2026-Q1", acting_user=system_actor())

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{quarter.pk}/close/")
    sources = phone.locator("#sources")
    sources.wait_for()
    lines = sources.locator("li").all_inner_texts()
    assert len(lines) == 3
    assert "擂台比武季度等次" in lines[2] and "2026-Q1" in lines[2]
    assert phone.locator("form[action$='/close/'] button").count() == 0  # held: Q1 still open
    no_sideways_scroll(phone)
    shot(phone, "1-close-waits")

    period_close(period=biwu_quarter, acting_user=system_actor())
    period_close(period=quarter, acting_user=system_actor())
    team = Subject.objects.get(kind="team", region=jia.region)
    phone.goto(f"{live_server.url}/periods/{quarter.pk}/explain/{team.pk}/")
    read = phone.locator("#source-HB")
    read.wait_for()
    text = read.inner_text()
    assert "擂台比武(来源示例)" in text and "红榜" in text
    assert "2026-01 在榜" in text and "2026-03 不在榜" in text
    assert "2026-Q1 优秀 → 10" in phone.locator("#source-DC").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "2-explain")
    read.get_by_role("link", name="2026-01 在榜").click()
    phone.wait_for_url(f"**/explain/{jia.pk}/")
    assert "擂台比武(来源示例)" in phone.content()
