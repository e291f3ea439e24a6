from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kaoping.core.http import client_address

from .services import login_failure_record, login_failures_clear, login_is_blocked


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
        "throttled": _("Too many failed attempts. Please wait a few minutes and try again."),
    }

    def _address(self) -> str:
        return client_address(self.request) if self.request else ""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if login_is_blocked(username=username, address=self._address()):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failure_record(username=username, address=self._address())
            raise
        login_failures_clear(username=username, address=self._address())
        return cleaned
