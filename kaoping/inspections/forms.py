from django import forms
from django.utils.translation import gettext_lazy as _


class DrawForm(forms.Form):
    """Draw one unit's sub-units for one sampled item and period (the list page's button)."""

    scheme = forms.SlugField(max_length=64)
    label = forms.CharField(max_length=16)
    subject = forms.IntegerField(min_value=1)
    item = forms.CharField(max_length=64)


class ResultsForm(forms.Form):
    """One choice per drawn sub-unit (`m_<number>`) and an optional note (`n_<number>`)."""

    def __init__(self, *args, members: list[str], levels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("not inspected yet")), *[(level, level) for level in levels]]
        self.members = members
        for number in members:
            self.fields[f"m_{number}"] = forms.ChoiceField(
                choices=choices, required=False, widget=forms.RadioSelect
            )
            self.fields[f"n_{number}"] = forms.CharField(
                max_length=200, required=False, label=_("note")
            )

    def results(self) -> dict[str, tuple[str, str]]:
        data = self.cleaned_data
        return {
            n: (data.get(f"m_{n}") or "", (data.get(f"n_{n}") or "").strip()) for n in self.members
        }
