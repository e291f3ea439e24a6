"""Store pages by persona: in scope, read-only, out of scope, anonymous."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.tests.declare_fixture import image_bytes
from kaoping.periods.models import Period, PeriodStatus
from kaoping.periods.services import period_close, period_open
from kaoping.store import services
from kaoping.store.models import Account, Goods, Redemption, RedemptionStatus, StockMove, Store

from .fixture import (
    VILLAGE,
    account_of,
    add_keepers,
    earn,
    erin_subject,
    household_subjects,
    load_scheme,
    open_store,
)

pytestmark = pytest.mark.django_db

MY = "/my/points/"


@pytest.fixture
def shop(county):
    add_keepers(county)
    scheme = load_scheme(county)
    store, rice, oil = open_store(county)
    subject = erin_subject(county)
    earn(scheme, subject, "BIG")  # 50
    earn(scheme, subject, "HELP")  # 2
    return scheme, store, rice, oil, account_of(scheme, subject)


def key():
    return uuid.uuid4().hex


def test_the_household_sees_balance_history_and_what_it_can_buy(
    shop, client_for, county, django_assert_max_num_queries
):
    _scheme, _store, rice, oil, account = shop
    client = client_for(county, "erin")
    with django_assert_max_num_queries(40):
        response = client.get(MY)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="balance-amount">52<' in html
    assert "见义勇为" in html and "邻里互助" in html  # history with reasons
    assert f'data-goods="{rice.pk}"' in html and f'data-goods="{oil.pk}"' in html
    assert html.count('class="request-form"') == 2  # 52 points buy rice (10) and oil (25)
    assert reverse("ledger:declare") in html
    assert reverse("store:account_card", args=[account.pk]) in html


def test_the_phone_page_does_not_grow_queries_with_history(shop, client_for, county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scheme, _store, _rice, _oil, account = shop
    client = client_for(county, "erin")
    with CaptureQueriesContext(connection) as before:
        client.get(MY)
    earn(scheme, account.subject, "CLEAN", times=5)
    with CaptureQueriesContext(connection) as after:
        client.get(MY)
    assert len(after) == len(before)


def test_only_households_have_a_points_page(shop, client_for, county):
    for username in ("alice", "dave", "kim", "grace"):
        assert client_for(county, username).get(MY).status_code == 403
    response = client_for(county, None).get(MY)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_household_requests_goods_once_per_form(shop, client_for, county):
    _scheme, _store, rice, _oil, account = shop
    client = client_for(county, "erin")
    data = {"account": account.pk, "goods": rice.pk, "idempotency_key": key()}
    client.post(reverse("store:my_request"), data)
    client.post(reverse("store:my_request"), data)  # a double tap
    redemption = Redemption.objects.get()
    assert redemption.status == RedemptionStatus.REQUESTED
    account.refresh_from_db()
    rice.refresh_from_db()
    assert (account.balance, rice.stock) == (Decimal(42), 9)
    html = client.get(MY).content.decode()
    assert reverse("store:my_request_cancel", args=[redemption.pk]) in html
    client.post(reverse("store:my_request_cancel", args=[redemption.pk]))
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED


def test_nobody_requests_on_another_households_account(shop, client_for, county):
    _scheme, _store, rice, _oil, account = shop
    other = household_subjects(VILLAGE).exclude(pk=account.subject_id).first()
    earn(shop[0], other, "BIG")
    theirs = Account.objects.get(subject=other)
    response = client_for(county, "erin").post(
        reverse("store:my_request"),
        {"account": theirs.pk, "goods": rice.pk, "idempotency_key": key()},
    )
    assert response.status_code == 404
    assert not Redemption.objects.exists()
    for username in ("kim", "alice"):  # only households request; keepers redeem at the counter
        response = client_for(county, username).post(
            reverse("store:my_request"),
            {"account": account.pk, "goods": rice.pk, "idempotency_key": key()},
        )
        assert response.status_code in (403, 404)
    assert not Redemption.objects.exists()


def test_the_keeper_finds_a_household_by_card_or_household_number(shop, client_for, county):
    _scheme, _store, _rice, _oil, account = shop
    client = client_for(county, "kim")
    card = reverse("store:keeper_card", args=[account.card_number])
    response = client.get(reverse("store:keeper"), {"number": account.card_display})
    assert response["Location"] == card
    number = account.subject.household.number
    assert client.get(reverse("store:keeper"), {"number": number})["Location"] == card
    html = client.get(card).content.decode()
    assert 'id="balance-amount">52<' in html
    # A mistyped card number (the check digit catches it) finds nobody.
    wrong = account.card_number[:-1] + str((int(account.card_number[-1]) + 1) % 10)
    response = client.get(reverse("store:keeper"), {"number": wrong})
    assert response.status_code == 200 and "error" in response.content.decode()


def test_a_keeper_of_another_village_cannot_see_the_card(shop, client_for, county):
    _scheme, _store, _rice, _oil, account = shop
    card = reverse("store:keeper_card", args=[account.card_number])
    assert client_for(county, "ken").get(card).status_code == 404
    assert client_for(county, "erin").get(card).status_code == 403
    assert client_for(county, "carol").get(card).status_code == 403
    assert client_for(county, None).get(card).status_code == 302


def test_the_keeper_hands_over_a_request_and_redeems_at_the_counter(shop, client_for, county):
    _scheme, _store, rice, oil, account = shop
    redemption, _ = services.redemption_make(
        account=account, goods=rice, acting_user=county.users["erin"]
    )
    client = client_for(county, "kim")
    # Someone out of scope changes nothing.
    assert (
        client_for(county, "ken").post(reverse("store:complete", args=[redemption.pk])).status_code
        == 404
    )
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REQUESTED
    client = client_for(county, "kim")
    client.post(reverse("store:complete", args=[redemption.pk]))
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.COMPLETED
    data = {"goods": oil.pk, "quantity": 1, "idempotency_key": key()}
    url = reverse("store:keeper_redeem", args=[account.card_number])
    client.post(url, data)
    client.post(url, data)
    account.refresh_from_db()
    oil.refresh_from_db()
    assert (account.balance, oil.stock) == (Decimal(17), 9)
    counter = Redemption.objects.get(goods=oil)
    client.post(reverse("store:cancel", args=[counter.pk]), {"reason": "拿错了"})
    account.refresh_from_db()
    assert account.balance == Decimal(42)


def test_text_size_is_remembered(client_for, county):
    client = client_for(county, "erin")
    response = client.post(reverse("store:text_size"), {"size": "large", "next": "/s/1/"})
    assert response["Location"] == "/s/1/" and response.cookies["kp_text"].value == "large"
    response = client.post(
        reverse("store:text_size"), {"size": "large", "next": "https://evil.example/"}
    )
    assert response["Location"] == MY


def test_large_text_mode_marks_the_page(shop, client_for, county):
    client = client_for(county, "erin")
    client.cookies["kp_text"] = "large"
    assert 'class="kp-phone kp-large"' in client.get(MY).content.decode()


def test_the_card_pdf_has_the_qr_code(shop, client_for, county):
    _scheme, _store, _rice, _oil, account = shop
    url = reverse("store:account_card", args=[account.pk])
    response = client_for(county, "erin").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client_for(county, "kim").get(url).status_code == 200
    assert client_for(county, "ken").get(url).status_code == 404
    assert client_for(county, "oscar").get(url).status_code == 404


def test_a_village_prints_all_its_cards(shop, client_for, county):
    _scheme, store, _rice, _oil, _account = shop
    response = client_for(county, "kim").post(reverse("store:cards", args=[store.pk]))
    assert response.content.startswith(b"%PDF")
    # Every household of the village has an account (and so a card number) now.
    assert Account.objects.filter(subject__region__code__startswith=VILLAGE).count() == 4
    assert (
        client_for(county, "ken").post(reverse("store:cards", args=[store.pk])).status_code == 404
    )


def test_qr_code_opens_the_keepers_page():
    from kaoping.core.qr import qr_svg

    svg = qr_svg("http://testserver/store/keeper/card/0000000018/")
    assert svg.startswith("<svg") and "path" in svg


def test_the_public_page_thanks_donors_who_agreed(shop, client, county):
    _scheme, store, rice, _oil, _account = shop
    kim = county.users["kim"]
    services.stock_in(
        goods=rice,
        quantity=20,
        kind="donation",
        donor="瓯海农商银行",
        thank_publicly=True,
        acting_user=kim,
    )
    services.stock_in(goods=rice, quantity=5, kind="donation", donor="王某某", acting_user=kim)
    html = client.get(reverse("store:public", args=[store.pk])).content.decode()
    assert "瓯海农商银行" in html and "王某某" not in html
    assert '<html lang="zh-CN">' in html and "大米" in html


def test_honours_are_public_with_masked_names_and_on_the_card_data(shop, county):
    scheme, store, _rice, _oil, account = shop
    earn(scheme, account.subject, "BIG")  # 100 + 102 ≥ 150: 星级文明户 (a monthly honour here)
    from django.utils import timezone

    from kaoping.schemes.calendar import label_for

    period = period_open(
        scheme=scheme, label=label_for("month", timezone.localdate()), acting_user=system_actor()
    )
    period_close(period=period, acting_user=system_actor())
    from kaoping.store import selectors

    assert selectors.region_honours(VILLAGE) == []  # closed is not yet posted
    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.POSTED)
    honours = selectors.region_honours(VILLAGE)
    assert [(h.name, h.grade) for h in honours] == [("王*国", "星级文明户")]
    assert selectors.subject_honours(account.subject) == [("星级文明户", period.label)]
    card = selectors.cards_of([account])[0]
    assert card["honours"] == [("星级文明户", period.label)]


def test_the_village_ranking_is_shown_masked_when_there_is_no_posting_page(
    shop, client_for, county
):
    scheme, _store, _rice, _oil, _account = shop
    from django.utils import timezone

    from kaoping.schemes.calendar import label_for

    period = period_open(
        scheme=scheme, label=label_for("month", timezone.localdate()), acting_user=system_actor()
    )
    period_close(period=period, acting_user=system_actor())
    html = client_for(county, "erin").get(MY).content.decode()
    assert (
        'class="ranking"' in html and "王*" in html and "王建国" not in html.split('id="lists"')[1]
    )
    assert 'id="rank"' in html


def test_the_ranking_shows_its_first_rows_and_the_household_s_own_below_them(shop, county):
    scheme, _store, _rice, _oil, account = shop  # erin's household has 52 points
    from django.utils import timezone

    from kaoping.schemes.calendar import label_for
    from kaoping.store import selectors

    village = list(household_subjects())
    last = next(s for s in reversed(village) if s != account.subject)
    for subject in village:
        if subject not in (account.subject, last):
            earn(scheme, subject, "HELP")  # 2 points: between erin's 52 and nothing
    period = period_open(
        scheme=scheme, label=label_for("month", timezone.localdate()), acting_user=system_actor()
    )
    period_close(period=period, acting_user=system_actor())

    _period, rows = selectors.village_ranking(scheme, VILLAGE, own_subject_id=last.pk, limit=1)
    assert [(row.rank, row.own) for row in rows] == [(1, False), (len(village), True)]
    _period, rows = selectors.village_ranking(
        scheme, VILLAGE, own_subject_id=account.subject_id, limit=1
    )
    assert [(row.rank, row.own) for row in rows] == [(1, True)]
    _period, rows = selectors.village_ranking(scheme, VILLAGE, limit=1000)
    assert len(rows) == len(village)  # the other village's households are not in it


def test_managers_add_goods_with_a_photo_and_stock_in(shop, client_for, county):
    _scheme, store, _rice, _oil, _account = shop
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("soap.jpg", image_bytes((800, 600)), content_type="image/jpeg")
    client = client_for(county, "bob")
    form = {
        "name": "洗衣皂",
        "unit": "块",
        "price": "3",
        "position": 3,
        "active": "on",
        "idempotency_key": key(),
    }
    response = client.post(reverse("store:goods_new", args=[store.pk]), {**form, "photo": photo})
    assert response.status_code == 302
    client.post(reverse("store:goods_new", args=[store.pk]), form)  # sent twice: made once
    soap = Goods.objects.get(name="洗衣皂")
    assert soap.photo.startswith("goods/")
    photo_response = client_for(county, None).get(reverse("store:goods_photo", args=[soap.pk]))
    assert photo_response.status_code == 200
    client_for(county, "bob").post(
        reverse("store:goods_stock", args=[soap.pk]),
        {"kind": "donation", "quantity": 50, "donor": "爱心超市", "idempotency_key": key()},
    )
    soap.refresh_from_db()
    assert soap.stock == 50
    # Read-only and out-of-scope users change nothing.
    for username in ("carol", "oscar", "erin"):
        client_for(county, username).post(
            reverse("store:goods_stock", args=[soap.pk]),
            {"kind": "purchase", "quantity": 5, "idempotency_key": key()},
        )
        response = client_for(county, username).post(
            reverse("store:goods_new", args=[store.pk]),
            {"name": "x", "unit": "个", "price": "1", "position": 0},
        )
        assert response.status_code in (403, 404)
    soap.refresh_from_db()
    assert soap.stock == 50 and Goods.objects.count() == 3
    assert StockMove.objects.filter(goods=soap).count() == 1


def test_county_admin_opens_a_store_and_sets_quarterly_windows(county, client_for):
    client = client_for(county, "alice")
    client.post(reverse("store:store_new"), {"village": "330304002001", "name": "西溪村积分超市"})
    store = Store.objects.get(region__code="330304002001")
    client.post(
        reverse("store:windows", args=[store.pk]), {"action": "quarterly", "year": 2027, "days": 7}
    )
    assert store.windows.count() == 4
    assert str(store.windows.order_by("starts_on").first().starts_on) == "2027-01-01"
    assert (
        client_for(county, "oscar")
        .post(reverse("store:store_new"), {"village": "330304002001", "name": "x"})
        .status_code
        == 403
    )
    assert (
        client_for(county, "bob")
        .post(reverse("store:store_new"), {"village": "330304002001", "name": "x"})
        .status_code
        == 302
    )
    assert Store.objects.get(region__code="330304002001").name == "西溪村积分超市"


def test_reports_by_scope(shop, client_for, county, django_assert_max_num_queries):
    _scheme, store, rice, _oil, account = shop
    services.redemption_make(
        account=account, goods=rice, quantity=2, acting_user=county.users["kim"], hand_over=True
    )
    client = client_for(county, "alice")
    with django_assert_max_num_queries(25):
        html = client.get(reverse("store:reports")).content.decode()
    assert "东岭村" in html and 'id="participation"' in html
    from kaoping.store import selectors

    (row,) = selectors.liability_by_village(county.users["alice"])
    assert (row["village"], row["balance"]) == (VILLAGE, Decimal(32))
    (goods,) = [
        g for g in selectors.stock_turnover(county.users["kim"], *_quarter()) if g.pk == rice.pk
    ]
    assert (goods.opening, goods.purchased, goods.out, goods.closing) == (0, 10, 2, 8)
    (participation,) = selectors.participation(county.users["kim"], *_quarter())
    assert (participation["households"], participation["earners"]) == (4, 1)
    assert participation["share"] == Decimal("25.0")
    (month,) = selectors.redemptions_by_month(county.users["kim"], *_quarter())
    assert (month["count"], month["points"]) == (1, Decimal(20))
    assert selectors.liability_by_village(county.users["oscar"]) == []
    assert client_for(county, "erin").get(reverse("store:reports")).status_code == 403
    assert client_for(county, "dave").get(reverse("store:reports")).status_code == 403


def _quarter():
    from django.utils import timezone

    from kaoping.schemes.calendar import label_for, period_dates

    return period_dates("quarter", label_for("quarter", timezone.localdate()))


def test_goods_at_the_households_limit_are_not_offered_again(shop, client_for, county):
    _scheme, _store, _rice, oil, account = shop
    services.redemption_make(account=account, goods=oil, acting_user=county.users["erin"])
    html = client_for(county, "erin").get(MY).content.decode()
    oil_item = html.split(f'data-goods="{oil.pk}"')[1].split("</li>")[0]
    assert "request-form" not in oil_item


def test_posted_periods_link_to_the_public_posting(shop, client_for, county):
    scheme, _store, _rice, _oil, _account = shop
    from django.utils import timezone

    from kaoping.schemes.calendar import label_for

    period = period_open(
        scheme=scheme, label=label_for("month", timezone.localdate()), acting_user=system_actor()
    )
    period_close(period=period, acting_user=system_actor())
    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.POSTED)
    html = client_for(county, "erin").get(MY).content.decode()
    try:
        link = reverse("portal:posting", args=[period.pk])
    except Exception:  # noqa: BLE001 - without the posting pages the ranking is shown instead
        assert 'class="ranking"' in html
    else:
        assert f'href="{link}?region={VILLAGE}"' in html


def test_store_list_query_count_does_not_grow_with_stores(county, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(county, "alice")
    counts = []
    for codes in (["330304001001"], ["330304001002", "330304002001"]):
        for code in codes:
            services.store_save(
                region=county.region(code), name=f"积分超市{code}", acting_user=system_actor()
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("store:stores"))
        counts.append(len(queries))
    assert len(response.context["stores"]) == 3
    assert counts[0] == counts[1]


def _queries_of(client, method: str, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    assert response.status_code == 200
    return len(queries)


def test_store_page_query_count_does_not_grow_with_goods_and_stock_moves(shop, client_for, county):
    _scheme, store, _rice, _oil, _account = shop
    client = client_for(county, "alice")  # manages and stocks: every row has its forms
    url = reverse("store:store", args=[store.pk])
    client.get(url)  # warm the session
    counts = []
    for goods in (2, 6):  # 4 goods then 12, each with a purchase and a donation
        for n in range(goods):
            item = services.goods_save(
                store=store,
                acting_user=system_actor(),
                name=f"毛巾{len(counts)}{n}",
                unit="条",
                price=Decimal("5"),
                position=10 + n,
            )
            services.stock_in(goods=item, quantity=5, kind="purchase", acting_user=system_actor())
            services.stock_in(
                goods=item,
                quantity=1,
                kind="donation",
                donor="爱心人士",
                acting_user=system_actor(),
            )
        counts.append(_queries_of(client, "get", url))
    response = client.get(url)
    assert len(response.context["goods"]) == 2 + 2 + 6
    assert len(response.context["moves"]) == 2 + 2 * (2 + 6)
    assert counts[0] == counts[1]


def test_the_cards_of_a_store_query_count_does_not_grow_with_households(shop, client_for, county):
    from kaoping.ledger.tests.ledger_fixture import fill_grid
    from kaoping.people.services import subjects_sync

    _scheme, store, _rice, _oil, _account = shop
    client = client_for(county, "kim")
    url = reverse("store:cards", args=[store.pk])
    counts = []
    for households in (4, 12):  # the grid's two, then more: 6 accounts in the village, then 14
        fill_grid(county, households=households)
        subjects_sync(kind="household")
        client.post(url)  # opens the accounts of the new households
        counts.append(_queries_of(client, "post", url))
    assert Account.objects.filter(subject__region__code__startswith=VILLAGE).count() == 14
    assert counts[0] == counts[1]


HISTORY = reverse("store:my_history")


def test_the_phone_page_shows_the_latest_movements_and_the_rest_a_page_at_a_time(
    shop, client_for, county, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kaoping.store import views
    from kaoping.store.models import Movement

    scheme, _store, _rice, _oil, account = shop
    earn(scheme, account.subject, "CLEAN", times=25)
    newest_first = list(
        Movement.objects.filter(account=account)
        .order_by("-effective_on", "-id")
        .values_list("pk", flat=True)
    )
    assert len(newest_first) > views.HISTORY_SHOWN
    client = client_for(county, "erin")

    phone = client.get(MY)
    assert [m.pk for m in phone.context["history"]] == newest_first[: views.HISTORY_SHOWN]
    assert f'href="{HISTORY}?account={account.pk}"' in phone.content.decode()

    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 10)
    seen, counts = [], []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(HISTORY, {"account": account.pk, "page": number})
        assert page.status_code == 200
        counts.append(len(queries))
        seen += [m.pk for m in page.context["page"]]
        assert all(m.entry.item_name != m.entry.item_code for m in page.context["page"] if m.entry)
    assert seen == newest_first  # every movement once, newest first
    assert counts[0] == counts[1]  # a page costs the same queries however far back
    html = client.get(HISTORY, {"account": account.pk, "page": 2}).content.decode()
    assert "第 2 / 3 页" in html and "庭院整洁" in html
    # Without an account named, the one the phone page shows first.
    assert client.get(HISTORY).context["account"] == account


def test_the_history_is_the_households_own(shop, client_for, county):
    scheme, _store, _rice, _oil, account = shop
    other = next(s for s in household_subjects() if s.pk != account.subject_id)
    earn(scheme, other, "CLEAN")
    theirs = account_of(scheme, other)
    erin = client_for(county, "erin")
    assert erin.get(HISTORY, {"account": theirs.pk}).status_code == 404
    assert erin.get(HISTORY, {"account": "x"}).status_code == 404
    assert client_for(county, "alice").get(HISTORY).status_code == 403
    assert client_for(county, None).get(HISTORY).status_code == 302
