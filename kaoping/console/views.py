"""Console pages. Each view parses input, asks a selector or a service, and renders."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.accounts.permissions import scopes_for, user_can
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.fields import subtree_q
from kaoping.core.models import AuditLog
from kaoping.core.scoping import get_scoped_or_404
from kaoping.people.models import Cadre, GridPost, Household, PartyMember, Person, Subject
from kaoping.people.services import person_update
from kaoping.regions.models import Level, Region
from kaoping.regions.services import regions_import_file
from kaoping.schemes.models import Scheme

from . import selectors

PAGE_SIZE = 50


@login_required
def home(request):
    user = request.user
    return render(
        request,
        "console/home.html",
        {
            "roots": selectors.scope_roots(user),
            "counts": selectors.scope_counts(user),
            "assignments": selectors.assignments_of(user),
        },
    )


@login_required
def region_detail(request, code: str):
    user = request.user
    region = get_scoped_or_404(Region.objects, user, "region.view", code=code)
    context = {
        "region": region,
        "ancestors": selectors.ancestors_in_scope(user, region),
        "children": selectors.children_with_counts(user, region),
    }
    if (
        region.level == Level.GRID
        and Region.objects.for_user(user, "entry.record").filter(pk=region.pk).exists()
    ):
        context["grid_schemes"] = Scheme.objects.for_user(user, "scheme.view").filter(
            subject_kind="household"
        )
    if region.level in (Level.VILLAGE, Level.GRID):
        households = (
            Household.objects.for_user(user, "people.view")
            .filter(subtree_q("region__code", region.code))
            .select_related("head", "region")
            .annotate(member_count=Count("members"))
            .order_by("number")
        )
        context["households"] = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    if region.level == Level.VILLAGE:
        context["subjects"] = (
            Subject.objects.for_user(user, "entry.view")
            .filter(region=region)
            .order_by("kind", "track", "name")
        )
        context["cadres"] = (
            Cadre.objects.for_user(user, "people.view")
            .filter(region=region)
            .select_related("person")
        )
        context["party_members"] = (
            PartyMember.objects.for_user(user, "people.view")
            .filter(region=region)
            .select_related("person", "person__household")
        )
        context["grid_posts"] = (
            GridPost.objects.for_user(user, "people.view")
            .filter(subtree_q("region__code", region.code))
            .select_related("region", "person")
        )
    return render(request, "console/region.html", context)


@login_required
def household_detail(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"), user, "people.view", pk=pk
    )
    sensitive = Household.objects.for_user(user, "people.view_sensitive").filter(pk=pk).exists()
    can_edit = Household.objects.for_user(user, "people.change").filter(pk=pk).exists()
    members = household.members.order_by("id")
    subject = (
        Subject.objects.for_user(user, "entry.view")
        .filter(kind="household", household=household)
        .first()
    )
    region = household.region
    return render(
        request,
        "console/household.html",
        {
            "household": household,
            "members": members,
            "subject": subject,
            "sensitive": sensitive,
            "can_edit": can_edit,
            "ancestors": selectors.ancestors_in_scope(user, region)
            + ([region] if selectors.in_scope(user, region) else []),
        },
    )


class PersonForm(forms.Form):
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


@login_required
def person_edit(request, pk: int):
    user = request.user
    person = get_scoped_or_404(
        Person.objects.select_related("household", "region"), user, "people.change", pk=pk
    )
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            try:
                person_update(person=person, acting_user=user, **form.cleaned_data)
            except KaopingError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Saved."))
                target = (
                    reverse("console:household", args=[person.household_id])
                    if person.household_id
                    else reverse("console:home")
                )
                return HttpResponseRedirect(target)
    else:
        form = PersonForm(
            initial={"name": person.name, "phone": person.phone, "relation": person.relation}
        )
    return render(request, "console/person_edit.html", {"person": person, "form": form})


@login_required
def search(request):
    user = request.user
    query = request.GET.get("q", "").strip()
    results = selectors.search(user, query) if query else None
    return render(request, "console/search.html", {"query": query, "results": results})


@login_required
def audit_log(request):
    user = request.user
    if not user_can(user, "audit.view"):
        raise PermissionDenied
    rows = AuditLog.objects.for_user(user, "audit.view").select_related("actor")
    region = request.GET.get("region", "").strip()
    actor = request.GET.get("actor", "").strip()
    action = request.GET.get("action", "").strip()
    if region:
        rows = rows.filter(subtree_q("region_code", region))
    if actor:
        rows = rows.filter(actor__username=actor)
    if action:
        rows = rows.filter(action__startswith=action)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/audit.html",
        {"page": page, "filters": {"region": region, "actor": actor, "action": action}},
    )


class RegionImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Division list (CSV or Excel)"))


@login_required
def region_import(request):
    user = request.user
    if not user_can(user, "region.change"):
        raise PermissionDenied
    errors = None
    if request.method == "POST":
        form = RegionImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                counts = regions_import_file(
                    data=upload.read(), filename=upload.name, acting_user=user
                )
            except ImportFailed as exc:
                errors = exc.errors
            else:
                messages.success(
                    request,
                    _("Imported: %(created)d new, %(renamed)d renamed, %(unchanged)d unchanged.")
                    % counts,
                )
                return HttpResponseRedirect(reverse("console:region_import"))
    else:
        form = RegionImportForm()
    return render(
        request,
        "console/region_import.html",
        {"form": form, "errors": errors, "scopes": scopes_for(user, "region.change")},
    )
