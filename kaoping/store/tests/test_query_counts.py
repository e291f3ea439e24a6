"""The household's phone page (`/my/points/`) costs a fixed number of queries, however long its
history, its shelf and its open requests (issue 18)."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.store import services
from kaoping.store.views import HISTORY_SHOWN

from .fixture import account_of, add_keepers, earn, erin_subject, load_scheme, open_store

pytestmark = pytest.mark.django_db

MY = "/my/points/"
# Session, user, assignments; the accounts and their policy, the shelf (goods, windows, what the
# household already took), history, requests, redeemed total; rank, honours, posted periods or
# the village's ranking, the village; read once each whatever their length.
PHONE_PAGE_BUDGET = 22


def queries_for(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_the_phone_page_costs_the_same_for_3_or_9_entries_goods_and_requests(county, client_for):
    add_keepers(county)
    scheme = load_scheme(county)
    store, _rice, _oil = open_store(county)
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")  # enough points to request everything below
    account = account_of(scheme, subject)
    client = client_for(county, "erin")
    counts, shown = [], []
    for more in (3, 9):
        earn(scheme, subject, "HELP", times=more)
        for n in range(more):
            goods = services.goods_save(
                store=store,
                acting_user=system_actor(),
                name=f"毛巾{more}-{n}",
                unit="条",
                price=Decimal("1"),
                position=10 + n,
            )
            services.stock_in(goods=goods, quantity=5, kind="purchase", acting_user=system_actor())
            client.post(
                reverse("store:my_request"),
                {"account": account.pk, "goods": goods.pk, "idempotency_key": uuid.uuid4().hex},
            )
        count, response = queries_for(client, MY)
        counts.append(count)
        context = response.context
        shown.append(
            (
                (len(context["history"]), context["history_older"]),
                len(context["shelf"].goods),
                len(context["requests"]),
            )
        )
    # 7 movements, then 25: the page shows the latest HISTORY_SHOWN and links to the rest.
    assert [history for history, _goods, _requests in shown] == [(7, False), (HISTORY_SHOWN, True)]
    assert shown[1][1] > shown[0][1] and shown[1][2] == 12
    assert counts[0] == counts[1], counts
    assert counts[1] <= PHONE_PAGE_BUDGET, counts
