"""The forms of a village's file page (一村一档); the services check everything again."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kaoping.core.limits import PlainTextMixin

from .models import TalkCategory
from .spec import RoundSpec


def _date(label):
    return forms.DateField(
        label=label,
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class _OwnIds:
    """The file page holds many forms, several with the same field names (`note`, `done_on`):
    each form's ids start with its own `ids` so that every id on the page is unique and each
    label points at its own field. Only ids change; the posted names stay the fields' names."""

    ids = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.ids}-%s")
        super().__init__(*args, **kwargs)


class StageForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "stage"
    stage = forms.ChoiceField(label=_("stage"))
    reached_on = _date(_("reached on"))
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, spec: RoundSpec, next_stage: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s.code, s.name) for s in spec.stages]
        if next_stage:
            self.fields["stage"].initial = next_stage


class TalkForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "talk"
    name_fields = ("person_name",)
    category = forms.ChoiceField(label=_("category"), choices=TalkCategory.choices)
    person_name = forms.CharField(label=_("talked with"), max_length=50)
    held_on = _date(_("held on"))
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class IssueForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "issue"
    name_fields = ("owner",)
    kind = forms.ChoiceField(label=_("list"))
    title = forms.CharField(label=_("issue"), max_length=200)
    owner = forms.CharField(label=_("owner"), max_length=50)
    deadline = forms.DateField(
        label=_("deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, spec: RoundSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(spec.list_names().items())


class IssueClearForm(forms.Form):
    """Shown once per open issue: the page gives each its own `auto_id` (the issue's pk). Its
    date has no visible label beside the button; `aria-label` names it."""

    done_on = _date(_("cleared on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].widget.attrs["aria-label"] = self.fields["done_on"].label


class TeamMemberForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "team"
    role = forms.ChoiceField(label=_("role"))
    name = forms.CharField(label=_("full name"), max_length=50)
    unit = forms.CharField(label=_("work unit"), max_length=100, required=False)
    phone = forms.RegexField(
        label=_("phone"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("A mobile number has 11 digits starting with 1.")},
    )

    def __init__(self, *args, spec: RoundSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.code, r.name) for r in spec.team_roles]


class HelpVisitForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "visit"
    visited_on = _date(_("visited on"))
    note = forms.CharField(label=_("what was done"), max_length=2000, widget=forms.Textarea)


class FileForm(_OwnIds, PlainTextMixin, forms.Form):
    ids = "file"
    party_members_total = forms.IntegerField(label=_("party members"), min_value=0)
    representatives_total = forms.IntegerField(label=_("villager representatives"), min_value=0)
    key_persons_total = forms.IntegerField(label=_("key persons"), min_value=0)
    one_shoulder_intended = forms.BooleanField(label=_("一肩挑 intended"), required=False)
    help_plan = forms.CharField(
        label=_("help plan"), max_length=2000, required=False, widget=forms.Textarea
    )


class KeyVillageForm(_OwnIds, forms.Form):
    ids = "key"
    is_key = forms.BooleanField(label=_("key village"), required=False)
    paired_department = forms.ModelChoiceField(
        label=_("paired department"), queryset=None, required=False
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paired_department"].queryset = departments


class ResultForm(_OwnIds, forms.Form):
    ids = "result"
    elected_on = forms.DateField(
        label=_("election day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    first_time_success = forms.BooleanField(label=_("elected at the first vote"), required=False)
    intent_realised = forms.BooleanField(
        label=_("organisation's intention realised"), required=False
    )
    one_shoulder_done = forms.BooleanField(label=_("一肩挑 achieved"), required=False)


class FileFilterForm(forms.Form):
    township = forms.ChoiceField(label=_("township"), required=False)
    key = forms.BooleanField(label=_("key villages only"), required=False)
    stage = forms.ChoiceField(label=_("stage"), required=False)

    def __init__(self, *args, townships, spec: RoundSpec | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = [("", _("all townships"))] + [
            (t.code, t.name) for t in townships
        ]
        stages = [(s.code, s.name) for s in spec.stages] if spec else []
        self.fields["stage"].choices = [("", _("any stage")), ("-", _("not started"))] + stages
