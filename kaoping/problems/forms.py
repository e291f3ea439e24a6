import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from kaoping.core.limits import PlainTextMixin
from kaoping.regions.models import Department

from .models import Category
from .services import TEXT_MAX, TITLE_MAX


class _Form(PlainTextMixin, forms.Form):
    """The labels are questions and prompts; a colon after them reads oddly in Chinese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RaiseForm(_Form):
    name_fields = ()
    category = forms.ChoiceField(label=_("What kind of problem"), choices=Category.choices)
    title = forms.CharField(label=_("In a few words"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean_idempotency_key(self):
        try:
            return uuid.UUID(hex=self.cleaned_data["idempotency_key"]).hex
        except ValueError:
            raise forms.ValidationError(
                _("The form is out of date; open it again."), code="key"
            ) from None


class NoteForm(_Form):
    note = forms.CharField(
        label=_("What was done"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResolveForm(_Form):
    resolution = forms.CharField(
        label=_("How it was solved"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(_Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=None
    )
    note = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            pk__in=[d.pk for d in departments]
        )
        if not departments:
            del self.fields["department"]


class CloseForm(_Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConfirmForm(_Form):
    satisfied = forms.TypedChoiceField(
        label=_("Is it solved?"),
        choices=[("yes", _("Yes, it is solved")), ("no", _("No, not solved"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
