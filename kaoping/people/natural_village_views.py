"""Pages of natural villages and villagers' groups (自然村 / 村民小组): a village's list with its
household counts and the form to add one, the rename page, and the household's choice of one."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.limits import PlainTextMixin
from kaoping.core.views import form_submit
from kaoping.regions.models import NaturalVillage, NaturalVillageKind, Region
from kaoping.regions.selectors import region_ancestors

from .models import Household
from .natural_villages import (
    household_natural_village_set,
    natural_village_list,
    natural_village_save,
    natural_villages_of_household,
)


class NaturalVillageForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=50)
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=NaturalVillageKind.choices)
    code = forms.CharField(
        label=gettext_lazy("code"),
        max_length=16,
        help_text=gettext_lazy("Letters or digits, e.g. 01; fixed once saved."),
    )


class NaturalVillageRenameForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=50)
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=NaturalVillageKind.choices)


class HouseholdNaturalVillageForm(forms.Form):
    natural_village = forms.ModelChoiceField(
        label=gettext_lazy("natural village or villagers' group"),
        queryset=NaturalVillage.objects.none(),
        required=False,
        empty_label=gettext_lazy("(none)"),
    )

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["natural_village"].queryset = natural_villages_of_household(household)


def household_natural_village_form(household: Household, data=None) -> HouseholdNaturalVillageForm:
    return HouseholdNaturalVillageForm(
        data, household=household, initial={"natural_village": household.natural_village_id}
    )


@login_required
def natural_village_list_page(request, code: str):
    user = request.user
    village = get_scoped_or_404(Region.objects, user, "people.view", code=code)
    if village.level != "village":
        raise Http404
    can_change = may(user, "people.change", village)
    form = (
        NaturalVillageForm(
            request.POST or None, initial={"kind": NaturalVillageKind.VILLAGERS_GROUP}
        )
        if can_change
        else None
    )
    if request.method == "POST" and form is not None:
        done = form_submit(
            request,
            form,
            lambda data: natural_village_save(village=village, acting_user=user, **data),
            redirect_to=reverse("people:natural_villages", args=[village.code]),
            message=_("Saved."),
        )
        if done:
            return done
    return render(
        request,
        "people/natural_villages.html",
        {
            "village": village,
            "natural_villages": natural_village_list(user=user, village=village),
            "form": form,
            "can_change": can_change,
            "ancestors": region_ancestors(user=user, region=village, include_self=True),
        },
    )


@login_required
def natural_village_edit(request, pk: int):
    user = request.user
    natural = get_scoped_or_404(
        NaturalVillage.objects.select_related("village"), user, "people.change", pk=pk
    )
    form = NaturalVillageRenameForm(
        request.POST or None, initial={"name": natural.name, "kind": natural.kind}
    )
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: natural_village_save(
                village=natural.village, natural_village=natural, acting_user=user, **data
            ),
            redirect_to=reverse("people:natural_villages", args=[natural.village.code]),
            message=_("Saved."),
        )
        if done:
            return done
    return render(request, "people/natural_village_edit.html", {"natural": natural, "form": form})


@login_required
@require_POST
def household_natural_village(request, pk: int):
    """The household page's choice of its natural village (the page shows the form)."""
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "people.change", pk=pk
    )
    form = household_natural_village_form(household, request.POST)
    done = form_submit(
        request,
        form,
        lambda data: household_natural_village_set(
            household=household, natural_village=data["natural_village"], acting_user=user
        ),
        redirect_to=reverse("people:household", args=[household.pk]),
        message=_("Saved."),
    )
    if done:
        return done
    from .views import household_page

    return household_page(request, household, natural_village_form=form)
