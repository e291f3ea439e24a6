"""Pages of the points store: the household's phone page, the keeper's counter, management,
reports, and the store's public page. Each view parses input, calls one service or selector."""

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import action_submit, form_flash_errors, form_submit
from kaoping.people.models import SubjectKind
from kaoping.people.selectors import subject_list_households
from kaoping.schemes.calendar import label_for, period_dates

from . import selectors, services
from .cards import cards_pdf
from .forms import (
    AdjustForm,
    CardLookupForm,
    GoodsForm,
    QuarterlyForm,
    ReasonForm,
    RedeemForm,
    RequestForm,
    StockInForm,
    StoreForm,
    WindowForm,
)
from .models import Account, Goods, Redemption, Store

TEXT_COOKIE = "kp_text"
# The phone page shows the latest movements; the rest are a page of their own (my_history).
HISTORY_SHOWN = 20
HISTORY_PAGE_SIZE = 50


def large_text(request) -> bool:
    return request.COOKIES.get(TEXT_COOKIE) == "large"


def _back_to(request, fallback: str) -> str:
    """The page the form came from (`next`, if it is on this site), else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return target


# --- the household's phone page ------------------------------------------------------------


def _posting_link(period, village_code: str) -> str | None:
    """The public posting page of `period` for the village, if the project serves one."""
    try:
        return reverse("portal:posting", args=[period.pk]) + f"?region={village_code}"
    except NoReverseMatch:
        return None


def _first_account(accounts: list[Account], spendable: list[Account]) -> Account | None:
    """The account the household's pages show first: the first it can spend from."""
    return (spendable or accounts or [None])[0]


@login_required
def my_points(request):
    user = request.user
    if not user_can(user, "store.request"):
        raise PermissionDenied
    today = timezone.localdate()
    accounts = selectors.villager_accounts(user)
    spendable = [a for a in accounts if services.account_policy(a.scheme).spendable]
    account = _first_account(accounts, spendable)
    context = {"large": large_text(request), "account": account, "others": []}
    subject = account.subject if account else selectors.subject_household_of_user(user=user)
    context["subject"] = subject
    if account is not None:
        shelf = selectors.shelf(account, today)
        context.update(
            others=[a for a in accounts if a.pk != account.pk],
            spendable=account in spendable,
            redeemed=selectors.redeemed_total(account),
            requests=selectors.open_requests(account),
            shelf=shelf,
        )
        for goods in shelf.goods:
            goods.form_key = uuid.uuid4().hex  # one key per form: each request is its own
        context["history"], context["history_older"] = selectors.account_history(
            account, limit=HISTORY_SHOWN
        )
    if subject is not None:
        village_code = subject.region.code[: selectors.VILLAGE_CODE_LENGTH]
        scheme = account.scheme if account else selectors.scheme_default_of_households(user=user)
        if scheme is not None:
            context["rank"] = selectors.subject_rank(subject, scheme)
            context["honours"] = selectors.subject_honours(subject)
            posted = [
                (p, link)
                for p in selectors.posted_periods(scheme)
                if (link := _posting_link(p, village_code))
            ]
            context["posted"] = posted
            if not posted:
                context["ranking_period"], context["ranking"] = selectors.village_ranking(
                    scheme, village_code, own_subject_id=subject.pk
                )
        context["village"] = selectors.village_of_subject(subject=subject)
    context["can_declare"] = user_can(user, "entry.declare")
    return render(request, "store/my_points.html", context)


@login_required
def my_history(request):
    """Every movement of one of the household's accounts, newest first, a page at a time."""
    user = request.user
    if not user_can(user, "store.request"):
        raise PermissionDenied
    accounts = selectors.villager_accounts(user)
    wanted = request.GET.get("account", "")
    if wanted:  # one of the household's own accounts, named by the phone page's link
        account = next((a for a in accounts if str(a.pk) == wanted), None)
    else:
        spendable = [a for a in accounts if services.account_policy(a.scheme).spendable]
        account = _first_account(accounts, spendable)
    if account is None:
        raise Http404
    page = Paginator(selectors.account_movements(account), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    selectors.movements_named(page)
    return render(
        request,
        "store/my_history.html",
        {"large": large_text(request), "account": account, "page": page, "history": page},
    )


@login_required
@require_POST
def my_request(request):
    user = request.user
    account = get_scoped_or_404(
        Account.objects.select_related("scheme", "subject__region"),
        user,
        "store.request",
        pk=request.POST.get("account") or 0,
    )
    store = services.store_for_account(account)
    if store is None:
        raise Http404
    form = RequestForm(request.POST, store=store)
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(reverse("store:my_points"))
    goods = form.cleaned_data["goods"]
    return action_submit(
        request,
        lambda: services.redemption_make(
            account=account,
            goods=goods,
            quantity=1,
            acting_user=user,
            idempotency_key=form.key_for(user),
        ),
        redirect_to=reverse("store:my_points") + "#requests",
        success=lambda made: (
            _("Requested: %(goods)s. Show your points card at the store to collect it.")
            % {"goods": goods.name}
            if made[1]
            else (messages.INFO, _("This request was already sent."))
        ),
    )


@login_required
@require_POST
def my_request_cancel(request, pk: int):
    redemption = get_scoped_or_404(
        Redemption.objects.select_related("account__subject__region", "goods"),
        request.user,
        "store.request",
        pk=pk,
    )
    return action_submit(
        request,
        lambda: services.redemption_cancel(
            redemption=redemption, acting_user=request.user, reason=_("withdrawn by the household")
        ),
        redirect_to=reverse("store:my_points") + "#requests",
        success=lambda cancelled: (
            _("Request withdrawn; the points are back.") if cancelled else None
        ),
    )


@require_POST
def text_size(request):
    """Switch the large-text mode for older users; remembered by the browser for a year."""
    response = HttpResponseRedirect(_back_to(request, reverse("store:my_points")))
    if request.POST.get("size") == "large":
        response.set_cookie(TEXT_COOKIE, "large", max_age=365 * 86400, samesite="Lax")
    else:
        response.delete_cookie(TEXT_COOKIE, samesite="Lax")
    return response


@login_required
def account_card(request, pk: int):
    """One household's points card as a PDF (the household itself, its keeper, the staff)."""
    account = get_scoped_or_404(
        Account.objects.select_related("scheme", "subject__region", "subject__household__head"),
        request.user,
        "store.view",
        pk=pk,
    )
    pdf = cards_pdf(request, selectors.cards_of([account]))
    return _pdf(pdf, f"card-{account.card_number}.pdf")


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the keeper's counter ------------------------------------------------------------------


def _keeper_required(user) -> None:
    if not user_can(user, "store.redeem"):
        raise PermissionDenied


@login_required
def keeper_home(request):
    user = request.user
    _keeper_required(user)
    form = CardLookupForm(request.GET or None)
    if form.is_valid():
        account = selectors.find_account(user, form.cleaned_data["number"])
        if account is not None:
            return HttpResponseRedirect(reverse("store:keeper_card", args=[account.card_number]))
        form.add_error("number", _("No household of your store has this card number."))
    stores = selectors.store_list(user=user, action="store.redeem")
    for store in stores:
        store.pending = selectors.pending_requests(store)
        store.window = services.open_window(store, timezone.localdate())
    return render(
        request,
        "store/keeper_home.html",
        {"form": form, "stores": stores, "large": large_text(request)},
    )


@login_required
def keeper_card(request, number: str):
    """What the keeper sees after scanning a card: the household, its requests, the counter."""
    user = request.user
    _keeper_required(user)
    account = selectors.find_account(user, number)
    if account is None:
        raise Http404
    store = services.store_for_account(account)
    if store is None or not may(user, "store.redeem", store):
        raise Http404
    today = timezone.localdate()
    form = RedeemForm(store=store)
    return render(
        request,
        "store/keeper_card.html",
        {
            "account": account,
            "store": store,
            "form": form,
            "window": services.open_window(store, today),
            "upcoming": services.next_window(store, today),
            "requests": selectors.open_requests(account),
            "recent": selectors.recent_redemptions(account),
            "honours": selectors.subject_honours(account.subject),
            "household": account.subject.household,
            "large": large_text(request),
        },
    )


@login_required
@require_POST
def keeper_redeem(request, number: str):
    user = request.user
    _keeper_required(user)
    account = selectors.find_account(user, number)
    if account is None:
        raise Http404
    store = services.store_for_account(account)
    if store is None:
        raise Http404
    form = RedeemForm(request.POST, store=store)
    back = reverse("store:keeper_card", args=[account.card_number])
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(back)
    goods, quantity = form.cleaned_data["goods"], form.cleaned_data["quantity"]
    return action_submit(
        request,
        lambda: services.redemption_make(
            account=account,
            goods=goods,
            quantity=quantity,
            acting_user=user,
            idempotency_key=form.key_for(user),
            hand_over=True,
        ),
        redirect_to=back,
        success=lambda made: (
            _("Handed over: %(goods)s × %(n)s.") % {"goods": goods.name, "n": quantity}
            if made[1]
            else (messages.INFO, _("This redemption was already recorded."))
        ),
    )


@login_required
@require_POST
def redemption_complete(request, pk: int):
    redemption = get_scoped_or_404(
        Redemption.objects.select_related("account__subject__region", "goods"),
        request.user,
        "store.redeem",
        pk=pk,
    )
    return action_submit(
        request,
        lambda: services.redemption_complete(redemption=redemption, acting_user=request.user),
        redirect_to=_back_to(
            request, reverse("store:keeper_card", args=[redemption.account.card_number])
        ),
        success=lambda completed: (
            _("Handed over: %(goods)s × %(n)s.")
            % {"goods": redemption.goods.name, "n": redemption.quantity}
            if completed
            else (messages.INFO, _("This request was already handed over or cancelled."))
        ),
    )


@login_required
@require_POST
def redemption_cancel(request, pk: int):
    redemption = get_scoped_or_404(
        Redemption.objects.select_related("account__subject__region", "goods"),
        request.user,
        "store.redeem",
        pk=pk,
    )
    reason = ReasonForm(request.POST).data.get("reason", "")
    return action_submit(
        request,
        lambda: services.redemption_cancel(
            redemption=redemption, acting_user=request.user, reason=reason
        ),
        redirect_to=_back_to(
            request, reverse("store:keeper_card", args=[redemption.account.card_number])
        ),
        success=lambda cancelled: (
            _("Cancelled; points and goods are back.")
            if cancelled
            else (messages.INFO, _("This redemption was already cancelled."))
        ),
    )


# --- management ----------------------------------------------------------------------------


def _staff_required(user) -> None:
    if not (user_can(user, "store.report") or user_can(user, "store.manage")):
        raise PermissionDenied


@login_required
def store_list(request):
    user = request.user
    _staff_required(user)
    stores = selectors.store_list(user=user)
    form = None
    if user_can(user, "store.manage"):
        form = StoreForm(villages=selectors.village_list_without_store(user=user))
    return render(request, "store/store_list.html", {"stores": stores, "form": form})


@login_required
@require_POST
def store_new(request):
    user = request.user
    if not user_can(user, "store.manage"):
        raise PermissionDenied
    region = selectors.village_managed(user=user, code=request.POST.get("village", ""))
    form = StoreForm(request.POST, villages=[region] if region else [])
    if not form.is_valid():
        messages.error(request, _("Check the form: every store needs a village and a name."))
        return HttpResponseRedirect(reverse("store:stores"))
    data = form.cleaned_data
    return action_submit(
        request,
        lambda: services.store_save(
            region=region,
            name=data["name"],
            address=data["address"],
            hours=data["hours"],
            acting_user=user,
        ),
        redirect_to=lambda store: reverse("store:store", args=[store.pk]),
        failed_to=reverse("store:stores"),
    )


@login_required
def store_detail(request, pk: int):
    user = request.user
    _staff_required(user)
    store = get_scoped_or_404(Store.objects.select_related("region"), user, "store.view", pk=pk)
    can_manage = may(user, "store.manage", store)
    can_stock = may(user, "store.stock", store)
    today = timezone.localdate()
    return render(
        request,
        "store/store_detail.html",
        {
            "store": store,
            "goods": selectors.goods_list_of_store(user=user, store=store),
            "windows": selectors.window_list_of_store(user=user, store=store),
            "window": services.open_window(store, today),
            "can_manage": can_manage,
            "can_stock": can_stock,
            "stock_form": StockInForm(),
            "adjust_form": AdjustForm(),
            "goods_form": GoodsForm() if can_manage else None,
            "window_form": WindowForm() if can_manage else None,
            "quarterly_form": QuarterlyForm(initial={"year": today.year, "days": 7})
            if can_manage
            else None,
            "pending": selectors.pending_requests(store),
            "moves": selectors.stock_move_list_of_store(user=user, store=store),
        },
    )


@login_required
def goods_edit(request, store_pk: int, pk: int | None = None):
    user = request.user
    store = get_scoped_or_404(
        Store.objects.select_related("region"), user, "store.manage", pk=store_pk
    )
    goods = get_object_or_404(Goods, pk=pk, store=store) if pk else None
    if request.method == "POST":
        form = GoodsForm(request.POST, request.FILES)

        def save(cleaned):
            data = dict(cleaned)
            photo = data.pop("photo")
            data.pop("idempotency_key")
            return services.goods_save(
                store=store,
                goods=goods,
                photo=photo,
                acting_user=user,
                idempotency_key=form.key_for(user) if goods is None else None,
                **data,
            )

        done = form_submit(
            request,
            form,
            save,
            redirect_to=reverse("store:store", args=[store.pk]),
            message=lambda saved: _("Saved: %(goods)s.") % {"goods": saved.name},
        )
        if done:
            return done
    else:
        initial = {}
        if goods is not None:
            initial = {
                f: getattr(goods, f)
                for f in ("name", "unit", "price", "limit_per_household", "description")
            }
            initial.update(position=goods.position, active=goods.active)
        form = GoodsForm(initial=initial)
    return render(request, "store/goods_edit.html", {"store": store, "goods": goods, "form": form})


@login_required
@require_POST
def goods_stock(request, pk: int):
    user = request.user
    goods = get_scoped_or_404(
        Goods.objects.select_related("store__region"), user, "store.stock", pk=pk
    )
    adjusting = request.POST.get("action") == "adjust"
    form = AdjustForm(request.POST) if adjusting else StockInForm(request.POST)
    back = reverse("store:store", args=[goods.store_id])
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(back)
    data = form.cleaned_data

    def change():
        if adjusting:
            return services.stock_adjust(
                goods=goods,
                quantity=data["quantity"],
                note=data["note"],
                acting_user=user,
                idempotency_key=form.key_for(user),
            )
        return services.stock_in(
            goods=goods,
            quantity=data["quantity"],
            kind=data["kind"],
            donor=data["donor"],
            thank_publicly=data["thank_publicly"],
            unit_cost=data["unit_cost"],
            note=data["note"],
            acting_user=user,
            idempotency_key=form.key_for(user),
        )

    return action_submit(
        request,
        change,
        redirect_to=back,
        success=lambda made: (
            _("Stock of %(goods)s updated.") % {"goods": goods.name}
            if made[1]
            else (messages.INFO, _("This stock change was already recorded."))
        ),
    )


@login_required
@require_POST
def store_windows(request, pk: int):
    user = request.user
    store = get_scoped_or_404(Store.objects.select_related("region"), user, "store.manage", pk=pk)
    quarterly = request.POST.get("action") == "quarterly"
    form = QuarterlyForm(request.POST) if quarterly else WindowForm(request.POST)
    back = reverse("store:store", args=[store.pk])
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    if quarterly:
        return action_submit(
            request,
            lambda: services.windows_quarterly(
                store=store, year=data["year"], days=data["days"], acting_user=user
            ),
            redirect_to=back,
            success=lambda added: _("%(n)s redemption windows added.") % {"n": added},
        )
    return action_submit(
        request,
        lambda: services.window_add(store=store, acting_user=user, **data),
        redirect_to=back,
        success=_("Redemption window added."),
    )


@login_required
@require_POST
def store_cards(request, pk: int):
    """The points cards of every household the store serves (or of one grid), to print."""
    user = request.user
    _staff_required(user)
    store = get_scoped_or_404(Store.objects.select_related("region"), user, "store.view", pk=pk)
    prefix = request.POST.get("grid") or store.region.code
    if not prefix.startswith(store.region.code):
        raise Http404
    for scheme, policy in services.account_schemes().values():
        if policy.spendable and scheme.subject_kind == SubjectKind.HOUSEHOLD:
            services.accounts_open(
                scheme=scheme,
                subject_ids=subject_list_households(
                    user=user, action="store.report", region_code=prefix
                ).values("pk"),
                acting_user=user,
            )
    accounts = selectors.account_list_of_households(user=user, region_code=prefix)
    pdf = cards_pdf(request, selectors.cards_of(accounts))
    return _pdf(pdf, f"cards-{prefix}.pdf")


# --- reports -------------------------------------------------------------------------------


def _report_range(label: str, today: date) -> tuple[str, date, date]:
    for cadence in ("quarter", "year", "month"):
        try:
            start, end = period_dates(cadence, label)
        except ValueError:
            continue
        return label, start, end
    label = label_for("quarter", today)
    start, end = period_dates("quarter", label)
    return label, start, end


@login_required
def reports(request):
    user = request.user
    if not user_can(user, "store.report"):
        raise PermissionDenied
    today = timezone.localdate()
    label, start, end = _report_range(request.GET.get("period", ""), today)
    liability = selectors.liability_by_village(user)
    return render(
        request,
        "store/reports.html",
        {
            "label": label,
            "start": start,
            "end": end,
            "liability": liability,
            "liability_total": sum((r["balance"] for r in liability), 0),
            "stock": selectors.stock_turnover(user, start, end),
            "redemptions": selectors.redemptions_by_month(user, start, end),
            "participation": selectors.participation(user, start, end),
        },
    )


# --- public --------------------------------------------------------------------------------


def public_store(request, pk: int):
    """The store's public page: what it offers, who donated (thanked by name), honours."""
    store = selectors.store_public_or_404(pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "store/public.html",
        {
            "store": store,
            "goods": selectors.goods_list_on_offer(store=store),
            "window": services.open_window(store, today),
            "upcoming": services.next_window(store, today),
            "thanks": selectors.store_thanks(store, today),
            "honours": selectors.region_honours(store.region.code),
            "large": large_text(request),
        },
    )


def goods_photo(request, pk: int):
    """A goods photo (not personal data: goods are on the public page)."""
    goods = get_object_or_404(Goods, pk=pk)
    if not goods.photo:
        raise Http404
    name = goods.photo
    if request.GET.get("thumb"):
        thumb = name.rsplit(".", 1)[0] + ".thumb.jpg"
        if default_storage.exists(thumb):
            name = thumb
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    # Stored by content hash: a new photo gets a new name, so the old bytes may be cached long.
    response["Cache-Control"] = "public, max-age=604800"
    return response
