"""The forms of 一联二亮: a service to a linked household, a pledge, a pledge kept. The services
(linking.py, pledges.py) check everything again; the forms give the choices the user may make."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.core.limits import PlainTextMixin

from .forms_meetings import with_prompt
from .linking import NOTE_MAX
from .pledges import TEXT_MAX


def _date(label):
    return forms.DateField(
        label=label,
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ServiceForm(PlainTextMixin, forms.Form):
    """A service of one member: the member is chosen first (the page's `?member=`), then one of
    the households they link."""

    member = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    household = forms.TypedChoiceField(label=_("linked household"), coerce=int)
    served_on = _date(_("served on"))
    note = forms.CharField(
        label=_("what was done for the household"),
        max_length=NOTE_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. helped apply for relief")}),
    )

    def __init__(self, *args, members, households: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["household"].choices = with_prompt(households)


class PledgeForm(PlainTextMixin, forms.Form):
    member = forms.ModelChoiceField(label=_("party member"), queryset=None)
    year = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("pledge"),
        max_length=TEXT_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. help two households sell their tea")}),
    )

    def __init__(self, *args, members, **kwargs):
        kwargs.setdefault("auto_id", "id_pledge-%s")
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: m.person.name
        self.fields["member"].empty_label = pgettext_lazy("select", "Choose…")


class KeepForm(PlainTextMixin, forms.Form):
    kept_on = _date(_("kept on"))
    note = forms.CharField(label=_("how it was kept"), max_length=TEXT_MAX, required=False)
