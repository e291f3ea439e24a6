from django import forms
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.models import Role

from .models import ReportKind, ScheduleWhen
from .services import SCHEDULE_ROLES

# What a person asks for or schedules here; the election weekly report is the round's job.
SCHEME_KINDS = [(k, label) for k, label in ReportKind.choices if k != ReportKind.ELECTION_WEEKLY]


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if obj.level == "village" and obj.parent_id:
            return f"{obj.parent.name} · {obj.name}"
        return obj.name


class PeriodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.scheme.name} · {obj.label}"


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of report"), choices=SCHEME_KINDS)
    scheme = forms.ModelChoiceField(label=_("Scheme"), queryset=None)
    period = PeriodChoiceField(
        label=_("Period"),
        queryset=None,
        required=False,
        help_text=_("For a bulletin or the red and black lists."),
    )
    year = forms.RegexField(
        label=_("Year"),
        regex=r"^\d{4}$",
        required=False,
        max_length=4,
        help_text=_("For a village's annual report, e.g. 2026."),
    )
    region = RegionChoiceField(label=_("Region"), queryset=None)

    def __init__(self, *args, schemes, periods, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes
        self.fields["period"].queryset = periods
        self.fields["region"].queryset = regions


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of report"), choices=SCHEME_KINDS)
    scheme = forms.ModelChoiceField(label=_("Scheme"), queryset=None)
    region = RegionChoiceField(label=_("Region"), queryset=None)
    recipients = forms.MultipleChoiceField(
        label=_("Sent to"),
        choices=[(role, Role(role).label) for role in SCHEDULE_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Everyone holding the role in the region or above it; "
            "the staff of a township receive their township's part."
        ),
    )
    when = forms.ChoiceField(label=_("When"), choices=ScheduleWhen.choices)

    def __init__(self, *args, schemes, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes
        self.fields["region"].queryset = regions
