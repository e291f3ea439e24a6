"""Forms of the people's pages."""

from django import forms
from django.utils.translation import gettext_lazy

from kaoping.core.limits import PlainTextMixin

from .models import HouseholdPostKind


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


class PersonMemberForm(PersonForm):
    """A party member's person: the class besides (A–F or the county's own, offered in a list)."""

    member_class = forms.CharField(
        label=gettext_lazy("party member class"),
        max_length=32,
        required=False,  # left out or empty: the class stays as it is
        help_text=gettext_lazy("A–F, or a class the county's schemes name."),
        widget=forms.TextInput(attrs={"list": "member-classes", "autocomplete": "off"}),
    )


class HouseholdImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Households and members (Excel or CSV)"))


class HouseholdTagForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=30)
    code = forms.CharField(
        label=gettext_lazy("code"),
        max_length=30,
        help_text=gettext_lazy("Letters and digits, used in Excel files (dibao)."),
    )


class HouseholdTagEditForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=30)
    active = forms.BooleanField(label=gettext_lazy("in use"), required=False)


class HouseholdPostForm(PlainTextMixin, forms.Form):
    person = forms.ModelChoiceField(label=gettext_lazy("holder"), queryset=None)
    post = forms.ChoiceField(label=gettext_lazy("post"), choices=HouseholdPostKind.choices)
    label = forms.CharField(label=gettext_lazy("name of the area"), max_length=30, required=False)
    households = forms.ModelMultipleChoiceField(
        label=gettext_lazy("households looked after"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, persons, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = persons
        self.fields["households"].queryset = households
        self.fields["households"].label_from_instance = lambda h: (
            f"{h.number} {h.head.name if h.head else ''}"
        )


class HouseholdPostLoginForm(forms.Form):
    phone = forms.RegexField(
        label=gettext_lazy("mobile number (the username)"),
        regex=r"^1\d{10}$",
        error_messages={"invalid": gettext_lazy("A mobile number has 11 digits starting with 1.")},
    )
