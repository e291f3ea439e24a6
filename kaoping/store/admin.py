"""Read-only views for auditors: every change goes through the services (and their audit rows)."""

from django.contrib import admin

from .models import Account, Goods, Movement, Redemption, RedemptionWindow, StockMove, Store


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(ReadOnly):
    list_display = ["name", "region", "active"]
    list_select_related = ["region"]


@admin.register(RedemptionWindow)
class WindowAdmin(ReadOnly):
    list_display = ["store", "name", "starts_on", "ends_on"]


@admin.register(Goods)
class GoodsAdmin(ReadOnly):
    list_display = ["name", "store", "price", "stock", "active"]
    list_select_related = ["store"]


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ["subject", "scheme", "balance", "debt", "earned"]
    list_select_related = ["subject", "scheme"]
    raw_id_fields = ["subject"]


@admin.register(Movement)
class MovementAdmin(ReadOnly):
    list_display = ["account", "kind", "amount", "effective_on", "entry", "redemption"]
    list_filter = ["kind"]
    raw_id_fields = ["account", "entry", "redemption"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnly):
    list_display = ["account", "goods", "quantity", "points", "status", "requested_on"]
    list_filter = ["status"]
    raw_id_fields = ["account", "goods"]


@admin.register(StockMove)
class StockMoveAdmin(ReadOnly):
    list_display = ["goods", "kind", "quantity", "donor", "created_on"]
    list_filter = ["kind"]
    raw_id_fields = ["goods", "redemption"]
