from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ExchangeKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class InterviewForm(forms.Form):
    scheduled_on = forms.DateField(label=_("Scheduled for"), required=False, widget=DateInput())
    held_on = forms.DateField(label=_("Held on"), required=False, widget=DateInput())
    interviewer = forms.CharField(
        label=_("Held by"),
        required=False,
        max_length=200,
        help_text=_("e.g. deputy party secretary of the township"),
    )
    minutes = forms.CharField(
        label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )


class PledgeItemForm(forms.Form):
    text = forms.CharField(label=_("What will be done"), max_length=500)
    owner = forms.CharField(label=_("Who answers for it"), max_length=100)
    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the deadline of the pledge list."),
    )


class ExchangeForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=ExchangeKind.choices)
    note = forms.CharField(label=_("What was done"), max_length=500)


class DesignateForm(forms.Form):
    subject = forms.ModelChoiceField(label=_("Village"), queryset=None)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    support_team = forms.CharField(
        label=_("Support team"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One member per line, e.g. 张三（镇联村干部）."),
    )
    exit_criteria = forms.CharField(
        label=_("Exit criteria"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scheme = forms.ModelChoiceField(
        label=_("Scheme whose exit rule applies"), queryset=None, required=False
    )

    def __init__(self, *args, subjects, schemes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects
        self.fields["scheme"].queryset = schemes


class KeyVillageForm(forms.Form):
    support_team = forms.CharField(
        label=_("Support team"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One member per line."),
    )
    exit_criteria = forms.CharField(
        label=_("Exit criteria"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Note for the history"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput())
    reason = forms.CharField(
        label=_("How it met the exit criteria"), widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    """The option chosen for a decision, among those the scheme lists, and why."""

    option = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required: the grounds, e.g. the branch meeting's resolution and its date."),
    )

    def __init__(self, *args, options: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(o["code"], o["name"]) for o in options]
