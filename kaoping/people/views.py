"""Pages of households and persons."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import form_submit
from kaoping.regions.selectors import region_ancestors

from .forms import PersonForm
from .models import Household, Person
from .selectors import household_members, subject_of_household
from .services import person_update


@login_required
def household_detail(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "people.view", pk=pk
    )
    region = household.region
    return render(
        request,
        "people/household.html",
        {
            "household": household,
            "members": household_members(household=household),
            "subject": subject_of_household(user=user, household=household),
            "sensitive": may(user, "people.view_sensitive", household),
            "can_edit": may(user, "people.change", household),
            "ancestors": region_ancestors(user=user, region=region, include_self=True),
        },
    )


@login_required
def person_edit(request, pk: int):
    user = request.user
    person = get_scoped_or_404(
        Person.objects.select_related("household", "region"), user, "people.change", pk=pk
    )
    if request.method == "POST":
        form = PersonForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: person_update(person=person, acting_user=user, **data),
            redirect_to=reverse("people:household", args=[person.household_id])
            if person.household_id
            else reverse("console:home"),
            message=_("Saved."),
        )
        if done:
            return done
    else:
        form = PersonForm(
            initial={"name": person.name, "phone": person.phone, "relation": person.relation}
        )
    return render(request, "people/person_edit.html", {"person": person, "form": form})
