"""The payout sheet's page and downloads by persona: who sees which lines, whose names are
masked, what the Excel and the PDF hold, and a query count that does not grow with the lines.

The world is the worked example of docs/schemes.md §17 (2026 closed): 东岭村 and 南山社区 are in
bob's township (东岭街道), 西溪村 is not; carol is 东岭村's secretary.
"""

import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Cadre, Person
from kaoping.periods.services import period_close

from .test_payouts import docs_world

pytestmark = pytest.mark.django_db


def _page(client, period):
    return client.get(reverse("outcomes:payouts", args=[period.pk]))


def test_the_county_sees_every_line_and_the_rule(county, client_for):
    period = docs_world(county)
    response = _page(client_for(county, "alice"), period)
    assert response.status_code == 200
    page = response.content.decode()
    for name, amount in [("王建国", "873.50"), ("张伟", "393.08"), ("赵强", "666.70")]:
        assert name in page and amount in page
    assert "3816.64" in page
    assert "87.35%" in page and "100.00%" in page
    # The rule it paid by: the denominator, the cap, the base of each post.
    assert "100" in page and "党组织书记" in page and "1000.00" in page


def test_a_township_sees_its_villages_and_the_period_page_links_the_sheet(county, client_for):
    period = docs_world(county)
    client = client_for(county, "bob")
    page = _page(client, period).content.decode()
    assert "王建国" in page and "陈明" in page and "赵强" not in page
    assert "2716.58" in page  # 873.50 + 393.08 + 800 + 650: bob's lines only
    overview = client.get(reverse("outcomes:period", args=[period.pk])).content.decode()
    assert reverse("outcomes:payouts", args=[period.pk]) in overview


def test_a_name_is_masked_for_whoever_may_not_see_the_person(county, client_for):
    period = docs_world(county)
    # 东岭村's new committee member is registered in 西溪村: carol (东岭村) sees the line, since it
    # is her village's pay, but not the person in the register.
    outsider = Person.objects.create(region=county.region("330304002001"), name="欧阳小明")
    Cadre.objects.create(person=outsider, region=county.region("330304001001"), post="chair")
    period_close(period=period, acting_user=system_actor())
    carol = _page(client_for(county, "carol"), period).content.decode()
    assert "欧**明" in carol and "欧阳小明" not in carol
    assert "王建国" in carol and "陈明" not in carol  # her village only
    alice = _page(client_for(county, "alice"), period).content.decode()
    assert "欧阳小明" in alice


def test_who_may_not_read_consequences_is_refused(county, client_for):
    period = docs_world(county)
    for name in ("outcomes:payouts", "outcomes:payouts_xlsx", "outcomes:payouts_pdf"):
        url = reverse(name, args=[period.pk])
        assert client_for(county, "grace").get(url).status_code == 403  # a department scorer
        assert client_for(county, "erin").get(url).status_code == 403  # a villager
        assert client_for(county, None).get(url).status_code == 302  # to the login
        assert client_for(county, "alice").post(url).status_code == 405


def test_the_excel_holds_the_lines_as_numbers(county, client_for):
    period = docs_world(county)
    response = client_for(county, "alice").get(reverse("outcomes:payouts_xlsx", args=[period.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[2] == "姓名")
    lines = {row[2]: row for row in rows[header + 1 : -1]}
    assert set(lines) == {"王建国", "张伟", "陈明", "杨丽", "赵强", "黄敏"}
    assert lines["张伟"][3:8] == ["村委委员", 87.35, 87.35, 450, 393.08]
    assert rows[-1][7] == 3816.64


def test_the_pdf_is_a_pdf(county, client_for):
    period = docs_world(county)
    response = client_for(county, "bob").get(reverse("outcomes:payouts_pdf", args=[period.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_the_page_costs_the_same_queries_for_more_lines(county, client_for):
    period = docs_world(county)
    client = client_for(county, "alice")
    with CaptureQueriesContext(connection) as few:
        _page(client, period)
    for n in range(6):
        person = Person.objects.create(region=county.region("330304002001"), name=f"新人{n}")
        Cadre.objects.create(
            person=person,
            region=county.region("330304002001"),
            post="committee_member",
            since=date(2026, 1, 1),
        )
    period_close(period=period, acting_user=system_actor())
    with CaptureQueriesContext(connection) as more:
        page = _page(client, period).content.decode()
    assert "新人5" in page
    assert len(more.captured_queries) == len(few.captured_queries)


def test_a_long_sheet_comes_a_page_at_a_time_with_the_total_of_every_line(
    county, client_for, monkeypatch
):
    from kaoping.outcomes import views

    monkeypatch.setattr(views, "PAYOUT_PAGE_SIZE", 4)
    period = docs_world(county)
    client = client_for(county, "alice")
    first = _page(client, period)
    assert len(first.context["rows"]) == 4 and first.context["lines"] == 6
    second = client.get(reverse("outcomes:payouts", args=[period.pk]) + "?page=2")
    assert len(second.context["rows"]) == 2
    for response in (first, second):  # every page states the sheet's whole total
        assert "3816.64" in response.content.decode()
        assert "6 人次" in response.content.decode()
    names = {r.name for r in first.context["rows"]} | {r.name for r in second.context["rows"]}
    assert len(names) == 6
