"""Sign-in, the password page everyone has, and the logins pages of the login managers."""

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.core.views import action_submit, form_submit

from .forms import LoginCreateForm, LoginImportForm, ThrottledAuthenticationForm
from .middleware import password_changed
from .permissions import grantable_roles, scopes_for, user_can
from .selectors import login_rows, logins_for
from .services import (
    login_create,
    login_password_reset,
    login_set_active,
    logins_import,
    password_change,
)
from .workbook import logins_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Temporary passwords wait in the (server-side) session for the one page that shows them, which
# takes them out: a reload shows nothing.
ISSUED_KEY = "kaoping_issued_passwords"


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def password_change_page(request):
    user = request.user
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":

        def change(data):
            password_change(
                user=user,
                old_password=data["old_password"],
                new_password=data["new_password1"],
                acting_user=user,
            )
            update_session_auth_hash(request, user)  # stay signed in here, out elsewhere
            password_changed(request)

        done = form_submit(
            request,
            form,
            change,
            redirect_to=reverse("console:home"),
            message=_("Your password has been changed."),
            fields={"new_password": "new_password2"},
        )
        if done:
            return done
    return render(request, "accounts/password_change.html", {"form": form})


def _require(user, action: str) -> None:
    if not user_can(user, action):
        raise PermissionDenied


def _issue(request, issued: list[tuple[object, str]]) -> None:
    request.session[ISSUED_KEY] = [
        {"username": user.username, "name": user.first_name, "password": password}
        for user, password in issued
    ]


@login_required
def login_list(request):
    user = request.user
    _require(user, "login.view")
    logins = logins_for(user).order_by("username")
    q = request.GET.get("q", "").strip()
    if q:
        logins = logins.filter(Q(username__icontains=q) | Q(first_name__icontains=q))
    page = Paginator(logins, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/login_list.html",
        {
            "page": page,
            "rows": login_rows(user, page.object_list),
            "q": q,
            "can_manage": user_can(user, "login.manage"),
        },
    )


@login_required
def login_new(request):
    user = request.user
    _require(user, "login.manage")
    form = LoginCreateForm(request.POST or None, roles=grantable_roles(user))
    if request.method == "POST":

        def create(data):
            created = login_create(acting_user=user, **data)
            _issue(request, [created])

        done = form_submit(request, form, create, redirect_to=reverse("accounts:issued"))
        if done:
            return done
    # The area by name: a bare region code means nothing to the person filling the form.
    names = {
        a.region.code: a.region.name
        for a in user.role_assignments.select_related("region")
        if a.region_id
    }
    areas = [names.get(s.prefix, s.prefix) for s in scopes_for(user, "login.manage")]
    return render(request, "accounts/login_new.html", {"form": form, "areas": areas})


@login_required
def login_import(request):
    user = request.user
    _require(user, "login.manage")
    form = LoginImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":

        def upload(data):
            _issue(
                request,
                logins_import(
                    data=data["file"].read(), filename=data["file"].name, acting_user=user
                ),
            )

        done = form_submit(request, form, upload, redirect_to=reverse("accounts:issued"))
        if done:
            return done
    return render(
        request,
        "accounts/login_import.html",
        {"form": form, "errors": getattr(form, "row_errors", None)},
    )


@login_required
def login_import_template(request):
    user = request.user
    _require(user, "login.manage")
    response = HttpResponse(logins_template(user), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_('login import')}.xlsx"
    )
    return response


@login_required
def login_issued(request):
    _require(request.user, "login.manage")
    issued = request.session.pop(ISSUED_KEY, None)
    if not issued:
        return redirect("accounts:list")
    response = render(request, "accounts/login_issued.html", {"issued": issued})
    response["Cache-Control"] = "no-store"  # the passwords are shown once, never from a cache
    return response


def _managed_or_404(user, pk: int):
    try:
        return logins_for(user, "login.manage").get(pk=pk)
    except logins_for(user).model.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def login_active(request, pk: int):
    user = request.user
    _require(user, "login.manage")
    target = _managed_or_404(user, pk)
    active = request.POST.get("active") == "1"
    return action_submit(
        request,
        lambda: login_set_active(user=target, active=active, acting_user=user),
        redirect_to=reverse("accounts:list"),
        success=(_("%(u)s can sign in again.") if active else _("%(u)s can no longer sign in."))
        % {"u": target.first_name or target.username},
    )


@login_required
@require_POST
def login_reset(request, pk: int):
    user = request.user
    _require(user, "login.manage")
    target = _managed_or_404(user, pk)

    def reset():
        _issue(request, [(target, login_password_reset(user=target, acting_user=user))])

    return action_submit(
        request,
        reset,
        redirect_to=reverse("accounts:issued"),
        failed_to=reverse("accounts:list"),
    )
