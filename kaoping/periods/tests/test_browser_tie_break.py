"""At 360 px: a period whose lists broke ties at their cut-offs says on its page why each tied
subject is on a list or left off, and shows the lot's seed (docs/schemes.md §11 “并列时再比”)."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.people.models import Subject
from kaoping.periods.models import Period
from kaoping.periods.services import period_close, period_open
from kaoping.regions.models import Region
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = [pytest.mark.browser]


def test_the_period_page_says_why_tied_subjects_are_in_or_out(
    live_server, live_county, phone, shot
):
    version, _created = scheme_load(
        text=docs_example("tiebreak-example"),
        filename="docs.yaml",
        region=live_county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    Region.objects.create(
        code="330304002002",
        name="丁村",
        level="village",
        kind="村",
        parent=live_county.region("330304002"),
    )
    jia, yi, bing = village_subjects(live_county).values()
    ding = Subject.objects.get(kind="village", region__code="330304002002")
    months = {
        "2026-02": {jia: {"GZ": 5}, yi: {"GZ": 6}, bing: {"GZ": 7}, ding: {"GZ": 3}},
        "2026-03": {
            jia: {"GZ": 5, "HJ": 8},
            yi: {"GZ": 7, "HJ": 4},
            bing: {"GZ": 4, "HJ": 4},
            ding: {"GZ": 4, "HJ": 4},
        },
    }
    for label, entries in months.items():
        for subject, items in entries.items():
            for item, n in items.items():
                record(scheme, subject, item, str(n), on=date(2026, int(label[-2:]), 10))
        period = period_open(scheme=scheme, label=label, acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
    period = Period.objects.get(scheme=scheme, label="2026-03")

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/periods/{period.pk}/")
    notes = phone.locator(".tie-note")
    notes.first.wait_for()
    assert notes.all_inner_texts() == ["并列第1名,按环境整治上榜", "并列倒数第1名,按上期名次上榜"]
    left = phone.locator(".tied-out").all_inner_texts()
    assert len(left) == 2
    assert yi.name in left[0] and "并列第1名,按环境整治未上榜" in left[0]
    assert bing.name in left[1] and "并列倒数第1名,按上期名次未上榜" in left[1]
    seed = phone.locator("#lot-seed").inner_text()
    assert period.tie_seed in seed and "sha256" in seed
    no_sideways_scroll(phone)
    shot(phone, "1-period")
