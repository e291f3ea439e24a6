"""Forms of the persons' sheets' pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kaoping.core.limits import PlainTextMixin

from .sheet_selectors import REASON_MIN_LENGTH

POST_MAX = 50  # PersonSheet.intended_post


class _Form(PlainTextMixin, forms.Form):
    name_fields = ()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class IntentionForm(_Form):
    is_candidate = forms.BooleanField(label=_("prospective candidate"), required=False)
    intended = forms.BooleanField(label=_("organisation's intended candidate"), required=False)
    intended_post = forms.CharField(
        label=_("intended post"),
        required=False,
        max_length=POST_MAX,
        help_text=_("For example: 书记、主任 (一肩挑)"),
    )
    one_shoulder_intended = forms.BooleanField(label=_("一肩挑 intended"), required=False)


class NoEchoInput(forms.TextInput):
    """A text input that is empty again when the form comes back with an error: a full ID
    number is never written into a page, not even the one the user typed."""

    def format_value(self, value):
        return None


class CandidateForm(IntentionForm):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        min_length=18,
        widget=NoEchoInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    field_order = ["id_number", "intended", "intended_post", "one_shoulder_intended"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_candidate"]  # adding a candidate is the point


class ExportForm(_Form):
    reason = forms.CharField(
        label=_("Why do you export these sheets?"),
        min_length=REASON_MIN_LENGTH,
        max_length=200,
        help_text=_("For example: 资格联审会议材料. The reason is kept in the audit log."),
    )
