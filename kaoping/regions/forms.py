"""Forms of the regions' pages."""

from django import forms
from django.utils.translation import gettext_lazy


class RegionImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Division list (CSV or Excel)"))
