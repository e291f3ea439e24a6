"""The same entry shows the same date, labelled, on the household's phone page and on the
subject's page; a reversal says what it reverses; the running total is one scheme's."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.services import entry_record, entry_reverse
from kaoping.schemes.services import scheme_load
from kaoping.store import services

from .fixture import earn, erin_subject, load_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def reversed_fight(county):
    scheme = load_scheme(county)
    subject = erin_subject(county)
    day = timezone.localdate() - timedelta(days=2)
    earn(scheme, subject, "BIG", day=day)  # 50, so that the deduction is taken from points
    (fight,) = earn(scheme, subject, "FIGHT", day=day)  # −5
    reversal = entry_reverse(entry=fight, reason="认定有误", acting_user=county.users["alice"])
    services.accounts_credit(entry_ids=[reversal.pk], acting_user=system_actor())
    return scheme, subject, day


def test_phone_page_and_subject_page_show_the_day_it_happened(reversed_fight, client_for, county):
    _scheme, subject, day = reversed_fight
    when = day.strftime("%Y-%m-%d")
    mine = client_for(county, "erin").get("/my/points/").content.decode()
    assert f"发生日期 {when}" in mine
    page = client_for(county, "alice").get(reverse("periods:subject", args=[subject.pk]))
    html = page.content.decode()
    assert "<th>发生日期</th>" in html and when in html
    for text in (mine, html):
        assert f"撤销 {when} 的“打架斗殴”记录" in text
    assert "+5" in mine and "+5" in html  # the reversal of a −5, with its sign


def test_subject_records_show_one_scheme_at_a_time(reversed_fight, client_for, county):
    scheme, subject, day = reversed_fight
    text = (Path(__file__).resolve().parents[3] / "schemes/household-points.yaml").read_text(
        encoding="utf-8"
    )
    other, _created = scheme_load(
        text=text,
        filename="household-points.yaml",
        region=county.region("330304"),
        acting_user=county.users["alice"],
    )
    item = other.nodes.filter(is_item=True, rule="count", points__gt=0, evidence_required=False)
    entry_record(
        scheme=other.scheme,
        subject=subject,
        item_code=item.order_by("position").first().code,
        occurred_on=day,
        acting_user=system_actor(),
        source="department",
    )
    client = client_for(county, "alice")
    url = reverse("periods:subject", args=[subject.pk])
    first = client.get(url)
    assert [s.code for s in first.context["record_tabs"]] == sorted(
        [scheme.code, other.scheme.code]
    )
    shown = first.context["record_scheme"]
    assert {e.scheme_id for e in first.context["page"]} == {shown.pk}
    second = next(s for s in first.context["record_tabs"] if s != shown)
    again = client.get(url, {"scheme": second.code})
    assert {e.scheme_id for e in again.context["page"]} == {second.pk}
    assert f'href="?scheme={shown.code}"' in again.content.decode()
