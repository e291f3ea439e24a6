from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kaoping.core.http import client_address
from kaoping.core.limits import PlainTextMixin

from .models import Role
from .services import BLOCKED_ADDRESS, login_attempt_begin, login_attempt_succeeded


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
        "throttled": _("Too many failed attempts. Please wait a few minutes and try again."),
        "throttled_address": _(
            "Too many failed sign-ins from this network. Please wait a quarter of an hour and "
            "try again, or ask your administrator to reset your password."
        ),
    }

    def _address(self) -> str:
        return client_address(self.request) if self.request else ""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # nothing is checked, so nothing is counted or cleared
        blocked = login_attempt_begin(username=username, address=self._address())
        if blocked == BLOCKED_ADDRESS:
            raise forms.ValidationError(
                self.error_messages["throttled_address"], code="throttled_address"
            )
        if blocked is not None:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        cleaned = super().clean()  # a wrong password raises; its attempt stays counted
        if self.get_user() is not None:
            login_attempt_succeeded(username=username, address=self._address())
        return cleaned


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The Django admin's sign-in: the same lockout as /login/ (one counter for both), and only
    the system superuser gets in (the console manages everything else)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class LoginCreateForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=30)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=11,
        help_text=_("It is the username of the login."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"))
    scope = forms.CharField(
        label=_("Scope"),
        max_length=40,
        help_text=_(
            "The division code (or exact name) of the county, township, village or grid; a "
            "department's code for a department scorer; a household number for a villager."
        ),
    )

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class LoginImportForm(forms.Form):
    file = forms.FileField(label=_("Login list (Excel or CSV)"))
