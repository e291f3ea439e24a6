"""The visit form: whom the visitor met, what changed in the book, a note, photos, a place."""

import secrets

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kaoping.core.limits import validate_line, validate_text
from kaoping.people.models import Gender

from .services import IDEMPOTENCY_KEY_MAX, NOTE_MAX

# Quick actions on a current member; the values are the book's change kinds.
MEMBER_ACTIONS = [
    ("", _("no change")),
    ("moved_out", _("moved out")),
    ("away", _("left to work away")),
    ("returned", _("came back")),
    ("died", _("died")),
]
NEW_MEMBER_KINDS = [("born", _("born")), ("moved_in", _("moved in"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class VisitForm(forms.Form):
    """One visit. Member actions are fields `act_<person id>`, tags `tag_<tag id>` (checked: the
    household carries the tag after this visit)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=IDEMPOTENCY_KEY_MAX)
    phone = forms.BooleanField(label=_("Phone call (no home visit)"), required=False)
    visited_on = forms.DateField(
        label=_("visited on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    met = forms.ModelMultipleChoiceField(
        label=_("Whom did you meet?"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_name = forms.CharField(
        label=_("New member's name"), max_length=50, required=False, validators=[validate_line]
    )
    new_kind = forms.ChoiceField(label=_("how"), choices=NEW_MEMBER_KINDS, required=False)
    new_relation = forms.CharField(
        label=_("relation to head"), max_length=20, required=False, validators=[validate_line]
    )
    new_gender = forms.ChoiceField(
        label=_("gender"), choices=[("", "—"), *Gender.choices], required=False
    )
    new_id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        required=False,
        help_text=_("Required for a member who moves in."),
        validators=[validate_line],
    )
    new_head = forms.TypedChoiceField(
        label=_("New head of household"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Only when the head moves out or dies."),
    )
    note = forms.CharField(
        label=_("note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_text],
    )
    photos = MultipleFileField(label=_("Photos"), required=False)
    latitude = forms.DecimalField(
        max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, members, tags, current_tag_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.tags = list(tags)
        self.current_tag_ids = set(current_tag_ids)
        self.fields["met"].queryset = members
        self.fields["met"].label_from_instance = lambda p: f"{p.name}（{p.relation or '—'}）"
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())
            self.initial.setdefault("visited_on", timezone.localdate())
        self.fields["new_head"].choices = [("", "—")] + [(p.pk, p.name) for p in self.members]
        for person in self.members:
            self.fields[f"act_{person.pk}"] = forms.ChoiceField(
                label=person.name, choices=MEMBER_ACTIONS, required=False
            )
        for tag in self.tags:
            self.fields[f"tag_{tag.pk}"] = forms.BooleanField(
                label=tag.name, required=False, initial=tag.pk in self.current_tag_ids
            )

    def member_rows(self):
        return [(person, self[f"act_{person.pk}"]) for person in self.members]

    def tag_fields(self):
        return [self[f"tag_{tag.pk}"] for tag in self.tags]

    def clean(self):
        data = super().clean()
        if data.get("new_name") and not data.get("new_kind"):
            self.add_error("new_kind", _("Say whether the new member was born or moved in."))
        return data

    def changes(self) -> list[dict]:
        """The book changes this visit brings, in the shape the book service takes."""
        data = self.cleaned_data
        changes: list[dict] = []
        for person in self.members:
            action = data.get(f"act_{person.pk}")
            if action:
                changes.append({"kind": action, "person": person.pk})
        if data.get("new_name"):
            changes.append(
                {
                    "kind": data["new_kind"],
                    "name": data["new_name"],
                    "relation": data.get("new_relation", ""),
                    "id_number": data.get("new_id_number", ""),
                    "gender": data.get("new_gender", ""),
                }
            )
        if data.get("new_head"):
            changes.append({"kind": "edited", "fields": {"head": data["new_head"]}})
        for tag in self.tags:
            checked = bool(data.get(f"tag_{tag.pk}"))
            if checked and tag.pk not in self.current_tag_ids:
                changes.append({"kind": "tag_added", "tag": tag.pk})
            elif not checked and tag.pk in self.current_tag_ids:
                changes.append({"kind": "tag_removed", "tag": tag.pk})
        return changes
