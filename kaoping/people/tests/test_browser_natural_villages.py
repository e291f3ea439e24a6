"""At 360 px: the village secretary sees the village's 自然村/村民小组 with their household counts,
puts a household in one on its page, and after a close the household's ranking (the
explanation page, the public posting) shows its rank within that group (docs/schemes.md §11
“自然村、村民小组”)."""

import re
from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.conftest import browser_login, no_sideways_scroll
from kaoping.people.models import Household, Subject
from kaoping.people.natural_villages import household_natural_village_set, natural_village_save
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.periods.tests.scheme_fixture import docs_example, record
from kaoping.schemes.services import scheme_load

pytestmark = [pytest.mark.browser]

DONGLING = "330304001001"


def test_the_secretary_groups_a_household_and_its_rank_is_within_the_group(
    live_server, live_county, phone, shot
):
    county = live_county
    carol = county.users["carol"]
    groups = {
        name: natural_village_save(
            village=county.region(DONGLING), acting_user=carol, code=code, name=name, kind="group"
        )
        for code, name in (("01", "一组"), ("02", "二组"), ("03", "三组"))
    }
    wang, li, zhang, liu = (county.households[f"{DONGLING}{n:04d}"] for n in (1, 2, 3, 4))
    for household, group in ((wang, "一组"), (li, "一组"), (liu, "二组")):
        household_natural_village_set(
            household=household, natural_village=groups[group], acting_user=carol
        )
    version, _created = scheme_load(
        text=docs_example("natural-village-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme

    browser_login(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/regions/{DONGLING}/")
    link = phone.locator("#natural-villages-link")
    assert link.is_visible()
    shot(phone, "1-village")
    link.click()
    phone.wait_for_load_state()
    rows = phone.locator("#natural-villages tbody tr")
    assert rows.count() == 3
    counts = {
        row.get_attribute("data-code"): row.locator("td.num").inner_text() for row in rows.all()
    }
    assert counts == {"01": "2", "02": "1", "03": "0"}
    no_sideways_scroll(phone)
    shot(phone, "2-natural-villages")

    # 张伟's household goes into 二组 on its page.
    phone.goto(f"{live_server.url}/households/{zhang.pk}/")
    form = phone.locator("#household-natural-village")
    form.locator("select").select_option(label="二组")
    no_sideways_scroll(phone)
    shot(phone, "3-household-choose")
    form.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert Household.objects.get(pk=zhang.pk).natural_village == groups["二组"]
    assert phone.locator("#household-natural-village select").input_value() == str(
        groups["二组"].pk
    )
    shot(phone, "4-household-saved")

    subject = {
        h.pk: Subject.objects.get(kind="household", household=h) for h in (wang, li, zhang, liu)
    }
    on = date(2026, 3, 10)
    for household, cleans in ((wang, 3), (li, 1), (zhang, 1), (liu, 2)):
        record(scheme, subject[household.pk], "WS", str(cleans), on=on)
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period_post(period=period, acting_user=system_actor())
    # 张伟 110 is second in 二组 behind 刘芳 120; 王建国 130 first in 一组.
    mine = Result.objects.get(period=period, subject=subject[zhang.pk])
    assert (mine.rank, mine.rank_group) == (2, f"{DONGLING}/02")

    phone.goto(f"{live_server.url}/periods/{period.pk}/explain/{subject[zhang.pk].pk}/")
    stats = re.sub(r"\s+", " ", phone.locator(".stats").inner_text())
    assert "2 " in stats and "二组" in stats
    no_sideways_scroll(phone)
    shot(phone, "5-explain")

    phone.goto(f"{live_server.url}/p/{period.pk}/")
    table = phone.locator("#results tbody tr")
    table.first.wait_for()
    ranks = [re.sub(r"\s+", " ", row.locator("td").first.inner_text()) for row in table.all()]
    assert "2 二组" in ranks and "1 一组" in ranks and "1 二组" in ranks
    no_sideways_scroll(phone)
    shot(phone, "6-posting")
