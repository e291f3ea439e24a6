"""`kaoping outcomes_alerts`: overdue pledge items and pairing months short of exchanges."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kaoping.accounts.scoping import system_actor

from ..models import Pairing, Pledge
from ..services import exchange_record, pledge_item_add
from .fixtures import SPREAD, build_villages, load, score, villages

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("outcomes_alerts", *args, stdout=out)
    return out.getvalue()


def test_prints_overdue_items_and_short_months(county):
    build_villages(county)
    scheme = load(county)
    s = villages()
    jan = score(scheme, s, SPREAD, "2026-01")
    pledge = Pledge.objects.get(period=jan, subject=s[10])
    pledge_item_add(
        pledge=pledge,
        text="修缮党群服务中心",
        owner="村书记",
        deadline=date(2026, 3, 1),
        acting_user=system_actor(),
    )
    pledge_item_add(
        pledge=pledge,
        text="建立议事会",
        owner="村主任",
        deadline=date(2026, 9, 1),
        acting_user=system_actor(),
    )
    pairing = Pairing.objects.create(
        period=jan, scheme=scheme, strong=s[0], weak=s[10], start=date(2026, 2, 1)
    )
    for day in (date(2026, 2, 3), date(2026, 2, 17), date(2026, 3, 5)):
        exchange_record(
            pairing=pairing,
            on=day,
            kind="offline",
            note="交流",
            acting_user=system_actor(),
            today=date(2026, 4, 2),
        )
    text = run("--date", "2026-04-02")
    assert "Overdue pledge items as of 2026-04-02: 1" in text
    assert "修缮党群服务中心 — 村书记, due 2026-03-01 (32 days late)" in text
    assert "建立议事会" not in text
    assert "Pairing months below the minimum: 1" in text
    assert "2026-03: 1 of 2 exchanges" in text and "2026-02" not in text
    assert "Overdue pledge items as of 2026-04-02: 0" in run(
        "--date", "2026-04-02", "--region", "330304002"
    )


def test_a_bad_date_is_refused(county):
    with pytest.raises(CommandError, match="--date"):
        run("--date", "2026-13-01")
