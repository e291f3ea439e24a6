"""The form that opens a round of a plan's campaign."""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.people.models import Subject
from kaoping.schemes.calendar import label_for
from kaoping.schemes.labels import cadence_label

from .labels import pool_label
from .pools import campaign_subjects
from .round_selectors import judge_candidates, user_label
from .spec import RaterPool, spec_of

CONTESTANTS_LISTED = 200


def _judge_label(obj) -> str:
    """A candidate judge: its name and where it works (`judge_candidates`' annotations), so
    that two 王伟 or a login named after an office are told apart."""
    place = getattr(obj, "place_name", None) or getattr(obj, "department_name", None)
    return f"{user_label(obj)} · {place}" if place else user_label(obj)


class _Login(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _judge_label(obj)


class _Logins(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _judge_label(obj)


class _Subjects(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RoundOpenForm(forms.Form):
    """Opening a round is two steps: the campaign is chosen first (`campaign`, from the page's
    `?campaign=` or the posted value), and a panel campaign's form alone has its judges, chair
    and contestants."""

    campaign = forms.ChoiceField(label=gettext_lazy("Campaign"))
    period_label = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=12,
        required=False,
    )
    opens_on = forms.DateField(label=gettext_lazy("Opens on"), required=False, widget=_date())
    closes_on = forms.DateField(
        label=gettext_lazy("Last day for ballots"), required=False, widget=_date()
    )

    def __init__(self, plan, *args, campaign: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        spec = spec_of(plan.spec)
        today = timezone.localdate()
        codes = [c.code for c in spec.campaigns]
        if self.is_bound:
            campaign = self.data.get("campaign") or campaign
        if campaign not in codes:
            campaign = codes[0] if codes else None
        self.chosen = next((c for c in spec.campaigns if c.code == campaign), None)
        self.fields["campaign"].initial = campaign
        self.fields["campaign"].choices = [
            (
                c.code,
                f"{c.name} · {cadence_label(c.cadence)} · {pool_label(c.raters)}",
            )
            for c in spec.campaigns
        ]
        shown = [self.chosen] if self.chosen is not None else spec.campaigns
        self.fields["period_label"].help_text = _(
            "Leave empty for the current period: %(periods)s."
        ) % {"periods": "; ".join(f"{c.name} {label_for(str(c.cadence), today)}" for c in shown)}
        self.fields["opens_on"].initial = today
        self.fields["closes_on"].help_text = _(
            "Leave empty to close after the campaign's window: %(windows)s."
        ) % {
            "windows": "; ".join(
                _("%(name)s %(days)d days") % {"name": c.name, "days": c.window_days} for c in shown
            )
        }
        panels = [c for c in spec.campaigns if c is self.chosen and c.raters is RaterPool.PANEL]
        self.has_panel = bool(panels)
        if panels:
            candidates = judge_candidates(plan)
            self.fields["judges"] = _Logins(
                label=gettext_lazy("Judges"),
                queryset=candidates,
                required=False,
                help_text=gettext_lazy("The logins who score on their phones."),
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields["chair"] = _Login(
                label=gettext_lazy("Chair"),
                queryset=candidates,
                required=False,
                empty_label=_("me"),
                help_text=gettext_lazy("Sees who has scored and closes the session."),
            )
            among = Q(pk__in=[])
            for campaign in panels:
                among |= Q(pk__in=campaign_subjects(plan, campaign).values("pk"))
            contestants = Subject.objects.filter(among).order_by("region__code", "name", "id")
            # A county's thousands of members are no list to tick on a phone: then a panel
            # rates them all, and naming its contestants is for the API.
            if contestants.count() <= CONTESTANTS_LISTED:
                self.fields["contestants"] = _Subjects(
                    label=gettext_lazy("Contestants"),
                    queryset=contestants,
                    required=False,
                    help_text=gettext_lazy("Leave empty for every subject."),
                    widget=forms.CheckboxSelectMultiple,
                )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "campaign": data["campaign"],
            "period_label": data.get("period_label") or None,
            "opens_on": data.get("opens_on"),
            "closes_on": data.get("closes_on"),
        }
        campaign = spec_of(self.plan.spec).campaign(data["campaign"])
        if campaign.raters is RaterPool.PANEL:
            kwargs["judges"] = list(data.get("judges") or ())
            kwargs["chair"] = data.get("chair")
            contestants = list(data.get("contestants") or ())
            kwargs["subjects"] = contestants or None
        return kwargs
