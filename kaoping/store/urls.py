from django.urls import path

from . import views

app_name = "store"

urlpatterns = [
    # The household's own pages (phone first).
    path("my/points/", views.my_points, name="my_points"),
    path("my/points/history/", views.my_history, name="my_history"),
    path("my/points/request/", views.my_request, name="my_request"),
    path("my/points/requests/<int:pk>/cancel/", views.my_request_cancel, name="my_request_cancel"),
    path("my/text-size/", views.text_size, name="text_size"),
    # The keeper's counter: a card's QR code opens keeper/card/<number>/.
    path("store/keeper/", views.keeper_home, name="keeper"),
    path("store/keeper/card/<str:number>/", views.keeper_card, name="keeper_card"),
    path("store/keeper/card/<str:number>/redeem/", views.keeper_redeem, name="keeper_redeem"),
    path("store/redemptions/<int:pk>/complete/", views.redemption_complete, name="complete"),
    path("store/redemptions/<int:pk>/cancel/", views.redemption_cancel, name="cancel"),
    # Management and reports.
    path("store/", views.store_list, name="stores"),
    path("store/new/", views.store_new, name="store_new"),
    path("store/reports/", views.reports, name="reports"),
    path("store/<int:pk>/", views.store_detail, name="store"),
    path("store/<int:pk>/windows/", views.store_windows, name="windows"),
    path("store/<int:pk>/cards.pdf", views.store_cards, name="cards"),
    path("store/<int:store_pk>/goods/new/", views.goods_edit, name="goods_new"),
    path("store/<int:store_pk>/goods/<int:pk>/", views.goods_edit, name="goods_edit"),
    path("store/goods/<int:pk>/stock/", views.goods_stock, name="goods_stock"),
    path("store/accounts/<int:pk>/card.pdf", views.account_card, name="account_card"),
    # Public: no login.
    path("s/<int:pk>/", views.public_store, name="public"),
    path("s/goods/<int:pk>/photo/", views.goods_photo, name="goods_photo"),
]
