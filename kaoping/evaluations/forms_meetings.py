"""The meetings' forms: opening a meeting, a member signing in on their phone, 补签."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .meetings import BranchChoice, ItemChoice


def with_prompt(choices: list) -> list:
    """A select's choices starting with 请选择, so nothing is picked for the user; the one choice
    there is when there is only one (and none when there is none)."""
    if len(choices) <= 1:
        return choices
    return [("", pgettext_lazy("select", "Choose…")), *choices]


class MeetingOpenForm(forms.Form):
    """Open a meeting of one of the user's branches, recorded as one of the scheme's count items.

    A branch is chosen as "<village id>|<branch>" and an item as "<scheme id>|<item code>", so
    one select serves a secretary (one village) and township staff (several) alike."""

    branch = forms.ChoiceField(label=gettext_lazy("Party branch"))
    item = forms.ChoiceField(label=gettext_lazy("Counted as"))
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. 三月主题党日")}),
    )
    held_on = forms.DateField(
        label=pgettext_lazy("meeting", "Held on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, branches: list[BranchChoice], items: list[ItemChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = timezone.localdate()
        several = len({b.village.pk for b in branches}) > 1
        self.branches = {f"{b.village.pk}|{b.branch}": b for b in branches}
        self.fields["branch"].choices = with_prompt(
            [
                (key, f"{b.village.name} · {b.branch}" if several else b.branch)
                for key, b in self.branches.items()
            ]
        )
        schemes = len({i.scheme.pk for i in items}) > 1
        self.items = {f"{i.scheme.pk}|{i.code}": i for i in items}
        self.fields["item"].choices = with_prompt(
            [
                (key, f"{i.scheme.name} · {i.name}" if schemes else i.name)
                for key, i in self.items.items()
            ]
        )

    def clean(self):
        data = super().clean()
        if "branch" in data:
            data["branch_choice"] = self.branches[data["branch"]]
        if "item" in data:
            data["item_choice"] = self.items[data["item"]]
        return data


class SignInForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Your full name"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    phone_tail = forms.CharField(
        label=gettext_lazy("Last four digits of your mobile phone"),
        max_length=4,
        min_length=4,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "pattern": "[0-9]{4}",
                "autocomplete": "off",
                "size": 6,
            }
        ),
    )

    def clean_phone_tail(self):
        tail = self.cleaned_data["phone_tail"].strip()
        if not tail.isdigit():
            raise forms.ValidationError(_("Give the last four digits of your mobile phone number."))
        return tail


class SignInForForm(forms.Form):
    """补签: the secretary signs in a member of the branch who has not signed in."""

    member = forms.TypedChoiceField(label=gettext_lazy("Member"), coerce=int)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        self.fields["member"].choices = with_prompt([(m.pk, m.person.name) for m in members])

    def clean(self):
        data = super().clean()
        if "member" in data:
            data["member_obj"] = self.members[data["member"]]
        return data
