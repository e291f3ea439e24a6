"""Forms of the periods' pages."""

from django import forms
from django.utils.translation import gettext_lazy

from kaoping.schemes.calendar import cadence_of_label


class OpenPeriodForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=16,
        help_text=gettext_lazy("e.g. 2026-03, 2026-Q1, 2026-H1, 2026"),
    )

    def clean_label(self) -> str:
        label = self.cleaned_data["label"].strip()
        try:
            cadence_of_label(label)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return label
