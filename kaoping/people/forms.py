"""Forms of the people's pages."""

from django import forms
from django.utils.translation import gettext_lazy

from kaoping.core.limits import PlainTextMixin


class PersonForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("full name"), max_length=50)
    phone = forms.RegexField(
        label=gettext_lazy("phone"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": gettext_lazy("A mobile number has 11 digits starting with 1.")},
    )
    relation = forms.CharField(
        label=gettext_lazy("relation to head"), max_length=20, required=False
    )
