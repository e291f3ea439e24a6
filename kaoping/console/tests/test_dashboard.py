"""The county dashboard: its figures equal the period pages', its scope, its query count, phone."""

from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.outcomes.selectors import period_consequences
from kaoping.outcomes.tests.fixtures import (
    CONTEST,
    SPREAD,
    build_villages,
    load,
    score,
    villages,
)
from kaoping.periods.selectors import explain, period_lists, result_list
from kaoping.periods.services import subjects_without_data

URL = reverse("console:dashboard")


@pytest.fixture
def contest(county):
    """Eleven villages (ten in 东岭街道) scored over three closed months of the contest scheme."""
    build_villages(county)
    scheme = load(county)
    subjects = villages()
    periods = [
        score(scheme, subjects, SPREAD, "2026-01"),
        score(scheme, subjects, list(reversed(SPREAD)), "2026-02"),
        score(scheme, subjects, SPREAD, "2026-03", vetoes=(1,)),
    ]
    return scheme, periods


# The contest scheme graded only, like 红黄旗: no red/black/progress lists, no consequences.
GRADED = (
    CONTEST.split("rollups:")[0]
    .replace("code: contest", "code: graded")
    .replace("擂台测试", "分级测试")
)


def _dashboard(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response.context["dashboard"]


def _mean(totals):
    return (sum(totals) / len(totals)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_figures_match_the_period_pages(county, contest, client_for, username):
    scheme, periods = contest
    user = county.users[username]
    client = client_for(county, username)
    for period in periods:
        d = _dashboard(client, scheme=scheme.code, period=period.label)
        assert d["period"] == period
        width = 9 if username == "alice" else 12
        # Lists: what periods:detail lists, counted per area and kind.
        shown = Counter(
            (m.subject.region.code[:width], listed.kind)
            for listed in period_lists(user, period)
            if listed.kind in ("red", "black", "progress")
            for m in listed.members
        )
        for row in d["lists"]["rows"]:
            for kind in ("red", "black", "progress"):
                assert row[kind] == shown[(row["region"].code, kind)], (row["region"], kind)
        assert sum(d["lists"]["totals"].values()) == sum(shown.values()) > 0
        # Scores: the results periods:detail shows (every group), their count, mean and grades.
        results = list(result_list(user=user, period=period))
        totals = [period.version.to_points(r.total) for r in results]
        assert d["distribution"]["count"] == len(results)
        assert d["distribution"]["mean"] == _mean(totals)
        assert sum(b["count"] for b in d["distribution"]["bins"]) == len(results)
        assert {g["code"]: g["count"] for g in d["distribution"]["grades"] if g["count"]} == dict(
            Counter(r.grade_code for r in results)
        )
        assert d["trend"]["series"][-1]["label"] == period.label
        assert d["trend"]["series"][-1]["mean"] == _mean(totals)
        for row in d["trend"]["rows"]:
            mine = [
                t
                for r, t in zip(results, totals, strict=True)
                if r.subject.region.code.startswith(row["region"].code)
            ]
            assert row["means"][-1] == (_mean(mine) if mine else None)
        # The index profile: the explanation page's index values, averaged.
        codes = [n["code"] for n in d["profile"]["nodes"]]
        explained = [
            {e.node.code: e.value for e in explain(period, r)["nodes"] if e.node.code in codes}
            for r in results
        ]
        for i, code in enumerate(codes):
            assert d["profile"]["mean"][i] == _mean([e[code] for e in explained])
        # Bonus paid: what the consequences page sums for the user.
        paid = period_consequences(user, period)["payout_sum"]
        assert d["bonus"]["amount"] == Decimal(paid).scaleb(-2)
        # The page shows the same numbers without JavaScript.
        html = client.get(URL, {"scheme": scheme.code, "period": period.label}).content.decode()
        assert f'data-mean="{_mean(totals)}"' in html
        assert 'id="dashboard-data"' in html and "<script nonce" not in html


def test_completeness_names_the_villages_the_close_finds_without_data(county, contest, client_for):
    scheme, periods = contest
    period = periods[-1]  # 2026-03: the last village of the spread has nothing recorded
    d = _dashboard(client_for(county, "alice"), scheme=scheme.code, period=period.label)
    (part,) = [p for p in d["completeness"] if p["scheme"] == scheme]
    count, missing = subjects_without_data(period, period.version.spec())
    assert part["period"] == period
    assert part["subjects"] == 11
    assert part["subjects"] - part["reported"] == count == part["silent_count"] == 1
    assert [v["name"] for v in part["silent"]] == [name for _id, name in missing]
    assert part["share"] == Decimal("90.9")
    by_code = {r["region"].code: r for r in part["rows"]}
    assert by_code["330304002"]["reported"] == by_code["330304002"]["subjects"] == 1


HOUSEHOLDS = """
code: hh
version: 1
name: 户积分测试
subject_kind: household
cadence: month
tree:
  - code: A
    name: 好事
    children:
      - {code: A1, name: 做好事, rule: count, points: 2}
"""


def test_participation_liability_and_concentration(county, contest, client_for):
    from kaoping.ledger.models import Entry, EntrySource
    from kaoping.people.models import Subject
    from kaoping.people.services import subjects_sync
    from kaoping.periods.services import period_open
    from kaoping.periods.tests.scheme_fixture import record
    from kaoping.store.models import Account, Goods, Store

    scheme, periods = contest
    households = load(county, HOUSEHOLDS, "hh.yaml")
    subjects_sync(kind="household")
    period_open(scheme=households, label="2026-03", acting_user=system_actor())
    subjects = list(Subject.objects.filter(kind="household").order_by("region__code", "pk"))
    assert len(subjects) == 8
    # Three households of 东岭街道 and one of 西溪镇 earn points in March; two were declared.
    for subject, source in zip(
        [subjects[0], subjects[1], subjects[4], subjects[6]],
        [EntrySource.DECLARED, EntrySource.COLLECTED, EntrySource.DECLARED, EntrySource.COLLECTED],
        strict=True,
    ):
        entry = record(households, subject, "A1")
        Entry.objects.filter(pk=entry.pk).update(source=source, created_by=county.users["dave"])
    record(households, subjects[2], "A1", status="rejected")  # counts nowhere
    Account.objects.create(scheme=households, subject=subjects[0], balance=Decimal("30.00"))
    Account.objects.create(scheme=households, subject=subjects[7], balance=Decimal("12.50"))
    store = Store.objects.create(region=county.region("330304001001"), name="东岭村积分超市")
    Goods.objects.create(store=store, name="毛巾", price=Decimal("5.00"), stock=4)
    Goods.objects.create(store=store, name="肥皂", price=Decimal("2.50"), stock=2)

    d = _dashboard(client_for(county, "alice"), scheme=scheme.code, period="2026-03")
    part = d["participation"]
    assert part["scheme"] == households and part["period"].label == "2026-03"
    rows = {r["region"].code: r for r in part["rows"]}
    assert (rows["330304001"]["households"], rows["330304001"]["earners"]) == (6, 3)
    assert (rows["330304002"]["households"], rows["330304002"]["earners"]) == (2, 1)
    assert part["share"] == Decimal("50.0")
    assert (part["declared"], part["collected"]) == (2, 2)
    liability = d["liability"]
    rows = {r["region"].code: r for r in liability["rows"]}
    assert rows["330304001"]["balance"] == Decimal("30.00")
    assert rows["330304002"]["balance"] == Decimal("12.50")
    assert liability["balance"] == Decimal("42.50")
    assert (liability["stock"], liability["stock_value"]) == (6, Decimal("25.00"))
    # dave recorded all four household entries: in each village, one scorer made them all.
    most = {v["code"]: v for v in d["concentration"]["most"]}
    assert most["330304001001"]["share"] == Decimal("100.0")


def test_township_staff_see_their_township_only(county, contest, client_for):
    scheme, _periods = contest
    client = client_for(county, "bob")
    d = _dashboard(client)
    assert d["region"].code == "330304001"
    assert {g.code for g in d["groups"]} == {f"330304001{n:03d}" for n in range(1, 11)}
    assert d["distribution"]["count"] == 10
    village = _dashboard(client, region="330304001002")
    assert [g.code for g in village["groups"]] == ["330304001002"]
    assert village["distribution"]["count"] == 1
    assert village["drill"] is False
    for outside in ("330304", "330304002", "330304002001", "999"):
        assert client.get(URL, {"region": outside}).status_code == 404


def test_county_admin_drills_down_county_township_village(county, contest, client_for):
    client = client_for(county, "alice")
    d = _dashboard(client)
    assert d["region"].code == "330304" and d["drill"]
    assert [g.code for g in d["groups"]] == ["330304001", "330304002"]
    html = client.get(URL).content.decode()
    assert d["groups"][0].dashboard_url.replace("&", "&amp;") in html
    township = _dashboard(client, region="330304001")
    assert [c.code for c in township["crumbs"]] == ["330304"]
    village = _dashboard(client, region="330304001001")
    assert [c.code for c in village["crumbs"]] == ["330304", "330304001"]
    # A township's or village's index profile is held against the county mean.
    assert d["profile"]["reference"] is None
    for part in (township, village):
        assert part["profile"]["reference"]["region"].code == "330304"
        assert part["profile"]["reference"]["values"] == d["profile"]["mean"]


@pytest.mark.parametrize("username", ["carol", "clara", "dave", "erin", "grace", "oscar"])
def test_village_roles_have_no_dashboard(county, contest, client_for, username):
    """Decision: the dashboard compares areas; a village's people have their village's pages."""
    assert client_for(county, username).get(URL).status_code == 403


def test_anonymous_is_sent_to_log_in(county, client_for):
    response = client_for(county, None).get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_scheme_without_lists_still_charts_its_results(county, client_for):
    """红黄旗 makes no lists; its trend, distribution and profile are still drawn (the chart data
    once carried them only for schemes with lists, and dashboard.js threw on the trend)."""
    build_villages(county)
    scheme = load(county, GRADED, "graded.yaml")
    score(scheme, villages(), SPREAD, "2026-01")
    d = _dashboard(client_for(county, "alice"), scheme=scheme.code, period="2026-01")
    assert "lists" not in d and "lists" not in d["chart"]
    trend = d["chart"]["trend"]
    assert trend["periods"] == ["2026-01"]
    assert trend["mean"] == [5.0]  # (10 + 9 + … + 0) / 11
    assert sum(d["chart"]["distribution"]["counts"]) == len(SPREAD)
    assert d["chart"]["profile"]["nodes"]


def test_query_count_does_not_grow_with_villages(county, contest, client_for):
    from kaoping.regions.models import Region

    scheme, _periods = contest
    client = client_for(county, "alice")

    def queries(label, region=""):
        with CaptureQueriesContext(connection) as ctx:
            _dashboard(client, scheme=scheme.code, period=label, region=region)
        return len(ctx.captured_queries)

    before = {r: queries("2026-03", r) for r in ("", "330304001")}
    township = county.region("330304002")
    for n in range(2, 22):  # twenty more villages, all scored in April
        Region.objects.create(
            code=f"330304002{n:03d}", name=f"西{n}村", level="village", kind="村", parent=township
        )
    subjects = villages()
    assert len(subjects) == 31
    score(scheme, subjects, list(range(31)), "2026-04")
    after = {r: queries("2026-04", r) for r in ("", "330304001")}
    assert after == before
    assert max(after.values()) <= 40


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.body.scrollWidth <= window.innerWidth + 1"
        " && document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def _charts_drawn(page) -> int:
    page.wait_for_selector("[data-chart=lists] canvas")
    return page.locator("[data-chart] canvas").count()


@pytest.mark.browser
def test_dashboard_on_a_phone_drills_down(live_server, live_county, phone, shot):
    from kaoping.conftest import browser_login

    county = live_county
    build_villages(county)
    scheme = load(county)
    subjects = villages()
    for label, points in (("2026-01", SPREAD), ("2026-02", list(reversed(SPREAD)))):
        score(scheme, subjects, points, label)
    score(scheme, subjects, SPREAD, "2026-03", vetoes=(1,))

    graded = load(county, GRADED, "graded.yaml")
    score(graded, subjects, SPREAD, "2026-03")
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}{URL}")
    assert "瓯海区" in phone.locator("h1").inner_text()
    assert _charts_drawn(phone) >= 6
    assert _no_sideways_scroll(phone)
    shot(phone, "1-county")

    phone.locator("#dash-lists").get_by_role("link", name="东岭街道").click()
    phone.wait_for_url("**/dashboard/?region=330304001*")
    assert "东岭街道" in phone.locator("h1").inner_text()
    assert _charts_drawn(phone) >= 6
    assert _no_sideways_scroll(phone)
    shot(phone, "2-township")

    phone.locator("#dash-lists").get_by_role("link", name="东岭村").click()
    phone.wait_for_url("**/dashboard/?region=330304001001*")
    assert "东岭村" in phone.locator("h1").inner_text()
    assert _charts_drawn(phone) >= 4
    assert _no_sideways_scroll(phone)
    # The village has no further drill-down; the crumbs lead back up.
    assert phone.locator("#dash-lists").get_by_role("link", name="东岭村").count() == 0
    shot(phone, "3-village")
    phone.locator(".dashboard nav.crumbs").get_by_role("link", name="瓯海区").click()
    phone.wait_for_url("**/dashboard/?region=330304&*")
    assert _charts_drawn(phone) >= 6

    # A scheme that grades without lists (红黄旗): no lists chart, the rest drawn, no script error.
    phone.goto(f"{live_server.url}{URL}?scheme=graded&period=2026-03")
    phone.wait_for_selector("[data-chart=trend] canvas")
    assert phone.locator("#dash-lists").count() == 0
    assert phone.locator("[data-chart] canvas").count() >= 3
    shot(phone, "4-graded")
    assert errors == []
