from django import forms
from django.utils.translation import gettext_lazy as _

from kaoping.core.limits import PlainTextMixin


class ObjectionForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=50)
    contact = forms.CharField(
        label=_("Telephone or address"),
        max_length=60,
        help_text=_("Only the people who decide objections see it."),
    )
    reason = forms.CharField(
        label=_("What is wrong"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class DecisionForm(PlainTextMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold: the posting is corrected")), ("dismiss", _("Dismiss"))],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Decision text (shown on the public page)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reverse = forms.MultipleChoiceField(
        label=_("Reverse these entries"), required=False, widget=forms.CheckboxSelectMultiple
    )
    item_code = forms.ChoiceField(label=_("Record a correcting entry: item"), required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), required=False, min_value=0, decimal_places=3, max_digits=12
    )
    label = forms.ChoiceField(label=_("Rating"), required=False)
    occurred_on = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, entries, items, labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reverse"].choices = entries
        self.fields["item_code"].choices = [("", "—"), *items]
        self.fields["label"].choices = [("", "—"), *labels]
