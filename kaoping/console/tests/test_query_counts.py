"""Every role's home (`/`) costs a fixed number of queries, however much there is to do: entries
to review, pledge items overdue, messages, store requests (issue 18). The villager's home is
their phone page (store/tests/test_query_counts.py)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.inbox.services import messages_deliver
from kaoping.ledger import services as ledger
from kaoping.outcomes.models import PledgeItem
from kaoping.people.models import Subject
from kaoping.periods.models import Period, PeriodStatus
from kaoping.periods.services import period_close, period_reopen
from kaoping.schemes.models import Scheme
from kaoping.store import services as store
from kaoping.store.models import Account

from .test_homes import DONGLING, make_busy

pytestmark = pytest.mark.django_db

# The home of each persona's role, its queries read once each whatever their length: the
# county admin's carries the county dashboard.
HOME_BUDGETS = {
    "alice": 49,  # county admin (one of them chooses how its review to-do finds its entries)
    "bob": 31,  # township staff (the same)
    "grace": 16,  # department scorer
    "carol": 27,  # village secretary
    "clara": 22,  # village committee member
    "dave": 18,  # grid member
    "rita": 8,  # review group member
    "kim": 11,  # store keeper
}


def home_queries(client) -> int:
    """The queries of a visit with every cache cold (a closed period's dashboard figures are
    kept until the period changes: a warm visit costs fewer)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def more_to_do(busy: dict, round_: int) -> None:
    """Entries to review in two grids, messages to everyone, a pledge item overdue, a request."""
    county, system = busy["county"], system_actor()
    hh = Scheme.objects.get(code="home-hh")
    for subject in Subject.objects.filter(kind="household").order_by("pk")[:4]:
        for day in range(3):
            ledger.entry_record(
                scheme=hh,
                subject=subject,
                item_code="CLEAN",
                occurred_on=timezone.localdate() - timedelta(days=day + 3 * round_),
                acting_user=county.users["dave"]
                if subject.region.code == f"{DONGLING}001"
                else system,
            )
    messages_deliver(
        recipients=list(county.users.values()), title="通知", kind="notice", acting_user=system
    )
    PledgeItem.objects.create(
        pledge=busy["pledge"],
        text=f"建台账{round_}",
        owner="村书记",
        deadline=timezone.localdate() - timedelta(days=5),
    )
    rice = busy["shop"].goods.get(name="大米")
    store.stock_in(goods=rice, quantity=1, kind="purchase", acting_user=system)  # still low
    account = Account.objects.get(scheme=hh, subject__household__isnull=False)
    store.redemption_make(account=account, goods=rice, acting_user=system)


@pytest.mark.parametrize("persona", list(HOME_BUDGETS))
def test_each_roles_home_costs_the_same_with_twice_as_much_to_do(county, client_for, persona):
    busy = make_busy(county)
    client = client_for(county, persona)
    more_to_do(busy, 0)
    counts = [home_queries(client)]
    more_to_do(busy, 1)
    counts.append(home_queries(client))
    assert counts[0] == counts[1], f"{persona}: {counts}"
    assert counts[1] <= HOME_BUDGETS[persona], f"{persona}: {counts}"


def test_the_county_homes_figures_of_a_closed_period_are_kept_until_it_changes(county, client_for):
    make_busy(county)
    client = client_for(county, "alice")
    cold = home_queries(client)
    with CaptureQueriesContext(connection) as warm:
        client.get("/")
    assert len(warm) < cold  # the ledger's figures of the closed month were kept
    closed = Period.objects.get(status=PeriodStatus.CLOSED)
    period_reopen(period=closed, reason="补录", acting_user=county.users["alice"])
    period_close(period=closed, acting_user=system_actor())
    with CaptureQueriesContext(connection) as after_reclose:
        client.get("/")
    assert len(after_reclose) > len(warm)  # read again: the period changed
