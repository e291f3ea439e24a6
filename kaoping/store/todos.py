"""The points store's to-dos for the home page (kaoping.core.todos), for whoever serves at the
counter: requests waiting to be handed over, the redemption window, goods running out."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.todos import Todo

from .models import Goods, Redemption, RedemptionStatus, RedemptionWindow, Store

LOW_STOCK = 3  # at most this many left: time to restock
WINDOW_AHEAD_DAYS = 14


def home_todos(user) -> list[Todo]:
    if not user_can(user, "store.redeem"):
        return []
    today = timezone.localdate()
    stores = Store.objects.for_user(user, "store.redeem").filter(active=True)
    keeper = reverse("store:keeper")
    todos = []
    pending = Redemption.objects.filter(
        goods__store__in=stores, status=RedemptionStatus.REQUESTED
    ).count()
    if pending:
        todos.append(
            Todo(
                title=_("%(n)d redemption requests to hand over") % {"n": pending},
                url=keeper,
                count=pending,
                order=10,
            )
        )
    windows = RedemptionWindow.objects.filter(store__in=stores, ends_on__gte=today)
    current = windows.filter(starts_on__lte=today).order_by("ends_on", "pk").first()
    if current is not None:
        todos.append(
            Todo(
                title=_("Redemption window open until %(end)s")
                % {"end": date_format(current.ends_on, "MONTH_DAY_FORMAT")},
                url=keeper,
                detail=current.name,
                order=12,
            )
        )
    else:
        upcoming = (
            windows.filter(starts_on__lte=today + timedelta(days=WINDOW_AHEAD_DAYS))
            .select_related("store")
            .order_by("starts_on", "pk")
            .first()
        )
        if upcoming is not None:
            todos.append(
                Todo(
                    title=_("Next redemption window opens %(start)s")
                    % {"start": date_format(upcoming.starts_on, "MONTH_DAY_FORMAT")},
                    url=reverse("store:windows", kwargs={"pk": upcoming.store_id}),
                    detail=upcoming.name,
                    order=40,
                )
            )
    if user_can(user, "store.stock"):
        low = Goods.objects.for_user(user, "store.stock").filter(
            store__in=stores, active=True, stock__lte=LOW_STOCK
        )
        n = low.count()
        if n:
            store_ids = set(low.values_list("store_id", flat=True)[:2])
            todos.append(
                Todo(
                    title=_("%(n)d goods running low") % {"n": n},
                    url=(
                        reverse("store:store", kwargs={"pk": store_ids.pop()})
                        if len(store_ids) == 1
                        else reverse("store:stores")
                    ),
                    count=n,
                    detail=_("%(n)d or fewer left") % {"n": LOW_STOCK},
                    order=20,
                )
            )
    return todos
