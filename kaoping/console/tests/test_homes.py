"""The role homes and the to-do registry: each persona sees its own to-dos, linking to where they
are done; the villager goes to their phone page; the home's queries do not grow with data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.todos import Todo, todos_for
from kaoping.inbox.services import messages_deliver
from kaoping.ledger import services as ledger
from kaoping.outcomes.models import Interview, Pledge, PledgeItem
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.periods import services as periods
from kaoping.schemes import services as schemes
from kaoping.schemes.calendar import label_for, previous_label
from kaoping.store import services as store
from kaoping.store.models import Account

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"

HOUSEHOLD_SCHEME = """
code: home-hh
version: 1
name: 家园积分
subject_kind: household
cadence: month
decimals: 0
base: 0
review:
  by: [township_staff]
account:
  spendable: true
tree:
  - code: POS
    name: 正面清单
    section: bonus
    children:
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 10}
"""

VILLAGE_SCHEME = """
code: home-village
version: 1
name: 村社考评
subject_kind: village
cadence: month
base: 0
tree:
  - code: A
    name: 党建
    children:
      - {code: A1, name: 开会, rule: count, points: 5}
      - {code: A2, name: 平安, rule: count, points: 5, owner: dept:D01}
"""


def add_user(county, username, role, code):
    user = get_user_model().objects.create_user(username=username, password="pw")
    RoleAssignment.objects.create(user=user, role=role, region=county.region(code))
    county.users[username] = user
    return user


@pytest.fixture
def busy(county):
    return make_busy(county)


def make_busy(county) -> dict:
    """The small county with something to do for everyone."""
    system = system_actor()
    add_user(county, "kim", Role.STORE_KEEPER, DONGLING)
    add_user(county, "rita", Role.REVIEW_MEMBER, DONGLING)
    today = timezone.localdate()
    region = county.region("330304")
    hh = schemes.scheme_load(
        text=HOUSEHOLD_SCHEME, filename="hh.yaml", region=region, acting_user=system
    )[0].scheme
    village_scheme = schemes.scheme_load(
        text=VILLAGE_SCHEME, filename="v.yaml", region=region, acting_user=system
    )[0].scheme
    subjects_sync(kind="team")
    erin_household = county.users["erin"].role_assignments.get().household
    household = Subject.objects.get(kind="household", household=erin_household)
    village = Subject.objects.get(kind="village", region__code=DONGLING)
    # dave records for erin's household: bob (township) reviews it.
    ledger.entry_record(
        scheme=hh,
        subject=household,
        item_code="CLEAN",
        occurred_on=today,
        acting_user=county.users["dave"],
    )
    # Last month has ended and is still open (alice closes it); this month runs (bob follows it).
    this_month = label_for("month", today)
    ended = periods.period_open(
        scheme=village_scheme, label=previous_label("month", this_month), acting_user=system
    )
    periods.period_open(scheme=village_scheme, label=this_month, acting_user=system)
    # Two months ago was closed: its pledge list for 东岭村 has an overdue item (carol).
    closed = periods.period_open(
        scheme=village_scheme,
        label=previous_label("month", previous_label("month", this_month)),
        acting_user=system,
    )
    periods.period_close(period=closed, acting_user=system)
    pledge = Pledge.objects.create(
        period=closed,
        scheme=village_scheme,
        subject=village,
        list_code="black",
        deadline=today + timedelta(days=10),
    )
    PledgeItem.objects.create(
        pledge=pledge, text="修村道", owner="村书记", deadline=today - timedelta(days=2)
    )
    Interview.objects.create(
        period=closed, subject=village, list_code="black", level="l1", level_name="约谈"
    )
    # The store of 东岭村: rice running low, a request waiting, the window open (kim).
    shop = store.store_save(
        region=county.region(DONGLING), name="东岭村积分超市", acting_user=system
    )
    store.window_add(
        store=shop,
        name="本周",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5),
        acting_user=system,
    )
    rice = store.goods_save(
        store=shop, acting_user=system, name="大米", unit="袋", price=Decimal(10)
    )
    store.stock_in(goods=rice, quantity=3, kind="purchase", acting_user=system)
    store.accounts_open(scheme=hh, subject_ids=[household.pk], acting_user=system)
    account = Account.objects.get(scheme=hh, subject=household)
    Account.objects.filter(pk=account.pk).update(balance=Decimal(100))
    store.redemption_make(account=account, goods=rice, acting_user=system)
    messages_deliver(
        recipients=[county.users["carol"]],
        title="三月月报",
        kind="report",
        body="本月情况见附件。",
        url="/outcomes/",
        attachment=("三月月报.csv", "村社,记分\n东岭村,12\n".encode()),
        acting_user=system,
    )
    return {
        "county": county,
        "ended": ended,
        "pledge": pledge,
        "shop": shop,
        "village_scheme": village_scheme,
    }


def titles(user) -> list[str]:
    return [todo.title for todo in todos_for(user)]


def by_url(user) -> dict[str, Todo]:
    return {todo.url: todo for todo in todos_for(user)}


# ─── the registry ───


def provider_a(user):
    return [Todo(title="late", url="/a/", order=90), Todo(title="urgent", url="/u/", urgent=True)]


def provider_b(user):
    return [Todo(title="first", url="/b/", order=1)]


def test_registry_calls_each_provider_and_sorts(county, settings):
    settings.HOME_TODOS = [f"{__name__}.provider_a", f"{__name__}.provider_b"]
    assert titles(county.users["bob"]) == ["urgent", "first", "late"]


def test_registry_is_empty_for_nobody(settings):
    from django.contrib.auth.models import AnonymousUser

    settings.HOME_TODOS = [f"{__name__}.provider_a"]
    assert todos_for(AnonymousUser()) == []


# ─── the providers, persona by persona ───


def test_county_admin_closes_the_ended_period(busy):
    county = busy["county"]
    todos = by_url(county.users["alice"])
    close = todos[reverse("periods:detail", args=[busy["ended"].pk])]
    assert close.count == 1 and "关闭" in close.title
    assert any("约谈" in todo.title for todo in todos.values())
    # The township closes nothing: ranking the county stays with the county.
    assert not any("关闭" in title for title in titles(county.users["bob"]))


def test_a_long_review_queue_is_counted_up_to_a_bound(busy, monkeypatch):
    """The home says "more than N" rather than counting every waiting entry of a province."""
    from kaoping.core import todos as core_todos

    bob = busy["county"].users["bob"]
    assert by_url(bob)[reverse("ledger:review")].count == 1
    monkeypatch.setattr(core_todos, "COUNT_SHOWN", 0)
    review = by_url(bob)[reverse("ledger:review")]
    assert review.count == 0 and review.title.startswith("超过 0 条")
    monkeypatch.setattr(core_todos, "COUNT_SHOWN", 1)
    review = by_url(bob)[reverse("ledger:review")]
    assert review.count == 1 and review.title == "1 条记分待审核"


def test_township_reviews_and_follows_its_villages(busy):
    county = busy["county"]
    todos = by_url(county.users["bob"])
    assert todos[reverse("ledger:review")].count == 1
    # 东岭街道's two villages have nothing in this month's 村社考评 yet.
    running = [t for t in todos.values() if "村社考评" in t.title]
    assert [t.count for t in running] == [2]
    overdue = [t for t in todos.values() if t.urgent]
    assert overdue and overdue[0].count == 1  # the pledge item of 东岭村
    assert todos_for(county.users["bob"])[0].urgent  # urgent first


def test_secretary_sees_the_pledge_and_the_message(busy):
    county = busy["county"]
    todos = todos_for(county.users["carol"])
    pledge_url = reverse("outcomes:pledge", args=[busy["pledge"].pk])
    # The item is overdue (urgent); the list itself is due in ten days.
    assert [(t.url, t.urgent) for t in todos if t.url == pledge_url] == [
        (pledge_url, True),
        (pledge_url, False),
    ]
    assert any(t.url == reverse("inbox:list") and t.count == 1 for t in todos)
    # oscar's village has none of it (only its households to visit, as every village has).
    grid_pages = (reverse("grid:round"), reverse("grid:overdue"))
    assert [t for t in todos_for(county.users["oscar"]) if t.url not in grid_pages] == []


def test_department_scores_its_villages(busy):
    county = busy["county"]
    todos = todos_for(county.users["grace"])
    assert [(t.count, t.url) for t in todos] == [(2, reverse("ledger:imports"))]
    # Once it scores 南山社区, one is left.
    ledger.entry_record(
        scheme=busy["village_scheme"],
        subject=Subject.objects.get(kind="village", region__code="330304001002"),
        item_code="A2",
        occurred_on=timezone.localdate(),
        acting_user=county.users["grace"],
    )
    assert [t.count for t in todos_for(county.users["grace"])] == [1]


def test_store_keeper_hands_over_and_restocks(busy):
    county = busy["county"]
    todos = [(t.url, t.count) for t in todos_for(county.users["kim"])]
    assert (reverse("store:keeper"), 1) in todos  # the request waiting
    assert (reverse("store:store", args=[busy["shop"].pk]), 1) in todos  # rice: 2 left
    assert any("兑换窗口" in t.title for t in todos_for(county.users["kim"]))


def _visit_every_household_of(user, grid_code: str) -> None:
    from kaoping.grid.models import Visit
    from kaoping.people.models import Household

    for household in Household.objects.filter(region__code=grid_code).select_related("region"):
        Visit.objects.create(
            household=household,
            grid=household.region,
            visitor=user,
            visited_on=timezone.localdate(),
            idempotency_key=f"home-{household.pk}",
        )


def test_grid_member_is_sent_to_the_round_until_every_household_is_visited(busy):
    county = busy["county"]
    dave = county.users["dave"]
    todos = todos_for(dave)
    # Never visited: overdue (urgent, first) and still to visit this cycle.
    assert [(t.url, t.urgent) for t in todos] == [
        (reverse("grid:overdue"), True),
        (reverse("grid:round"), False),
    ]
    _visit_every_household_of(dave, dave.role_assignments.get().region.code)
    assert todos_for(dave) == []
    assert todos_for(county.users["erin"]) == []


# ─── the pages ───


def test_villager_goes_to_their_phone_page(county, client_for):
    response = client_for(county, "erin").get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("store:my_points")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("bob", "ledger:review"),
        ("carol", "inbox:list"),
        ("kim", "store:keeper"),
        ("grace", "ledger:imports"),
    ],
)
def test_each_home_links_its_todos(busy, client_for, persona, expected):
    response = client_for(busy["county"], persona).get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="todos"' in page
    assert f'href="{reverse(expected)}"' in page
    assert "暂无待办" not in page


def test_nothing_to_do_says_so_with_the_main_pages(county, client_for):
    dave = county.users["dave"]
    _visit_every_household_of(dave, dave.role_assignments.get().region.code)
    page = client_for(county, "dave").get("/").content.decode()
    assert "暂无待办" in page
    assert f'href="{reverse("grid:round")}"' in page
    # A grid member's tiles are its grid's people, not a count of villages.
    assert "村社</span>" not in page


def test_secretary_home_shows_the_village_standing(busy, client_for):
    county = busy["county"]
    page = client_for(county, "carol").get("/").content.decode()
    assert 'id="standing"' in page and "村社考评" in page


def test_county_home_has_the_dashboard(busy, client_for):
    page = client_for(busy["county"], "alice").get("/").content.decode()
    assert 'id="todos"' in page
    assert 'id="dashboard"' in page


def _queries(client, url="/") -> int:
    cache.clear()  # each visit cold: a closed period's dashboard figures are kept (pagecache)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "grace", "kim", "dave"])
def test_home_queries_do_not_grow_with_data(busy, client_for, persona):
    county = busy["county"]
    client = client_for(county, persona)
    before = _queries(client)
    # More of everything: entries to review, pledges, messages, redemptions.
    system = system_actor()
    hh = Subject.objects.filter(kind="household").order_by("pk")
    for subject in hh[:4]:
        for day in range(3):
            ledger.entry_record(
                scheme=busy["village_scheme"].__class__.objects.get(code="home-hh"),
                subject=subject,
                item_code="CLEAN",
                occurred_on=timezone.localdate() - timedelta(days=day),
                acting_user=county.users["dave"]
                if subject.region.code == "330304001001001"
                else system,
            )
    messages_deliver(
        recipients=list(county.users.values()), title="通知", kind="notice", acting_user=system
    )
    PledgeItem.objects.create(
        pledge=busy["pledge"],
        text="建台账",
        owner="村书记",
        deadline=timezone.localdate() - timedelta(days=5),
    )
    after = _queries(client)
    assert after == before, f"{persona}: {before} → {after} queries"
    print(persona, after)
    assert after <= 60
