"""Pages of households and persons."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.accounts.views import ISSUED_KEY
from kaoping.core.fields import subtree_q
from kaoping.core.views import form_submit
from kaoping.regions.models import Region
from kaoping.regions.selectors import region_ancestors

from .classes import member_classes_in_use, party_member_class_set
from .forms import (
    HouseholdImportForm,
    HouseholdPostForm,
    HouseholdPostLoginForm,
    HouseholdTagEditForm,
    HouseholdTagForm,
    PersonForm,
    PersonMemberForm,
)
from .household_import import households_template
from .models import CURRENT_STATUSES, Household, HouseholdPost, HouseholdTag, PartyMember, Person
from .selectors import (
    household_members,
    household_post_list,
    household_tag_list,
    subject_of_household,
)
from .services import (
    household_post_login_create,
    household_post_save,
    household_tag_create,
    household_tag_update,
    households_import,
    person_update,
)


@login_required
def household_detail(request, pk: int):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head", "natural_village"),
        user,
        "people.view",
        pk=pk,
    )
    return household_page(request, household)


def household_page(request, household: Household, natural_village_form=None):
    """The household's page; `natural_village_form` is a refused choice of its natural village."""
    from .natural_village_views import household_natural_village_form

    user = request.user
    region = household.region
    can_edit = may(user, "people.change", household)
    if can_edit and natural_village_form is None:
        natural_village_form = household_natural_village_form(household)
    if (
        natural_village_form is not None
        and not natural_village_form.fields["natural_village"].queryset.exists()
    ):
        natural_village_form = None  # the village keeps no natural villages
    return render(
        request,
        "people/household.html",
        {
            "household": household,
            "members": household_members(household=household),
            "subject": subject_of_household(user=user, household=household),
            "sensitive": may(user, "people.view_sensitive", household),
            "can_edit": can_edit,
            "natural_village_form": natural_village_form,
            # The book (一户一册) is grid's page, linked by its URL name.
            "can_book": may(user, "visit.view", household),
            "ancestors": region_ancestors(user=user, region=region, include_self=True),
        },
    )


@login_required
def person_edit(request, pk: int):
    user = request.user
    person = get_scoped_or_404(
        Person.objects.select_related("household", "region"), user, "people.change", pk=pk
    )
    member = PartyMember.objects.filter(person=person).first()
    form_class = PersonMemberForm if member is not None else PersonForm

    def save(data: dict) -> None:
        member_class = data.pop("member_class", None)
        person_update(person=person, acting_user=user, **data)
        if member is not None and member_class:
            party_member_class_set(member=member, member_class=member_class, acting_user=user)

    if request.method == "POST":
        form = form_class(request.POST)
        done = form_submit(
            request,
            form,
            save,
            redirect_to=reverse("people:household", args=[person.household_id])
            if person.household_id
            else reverse("console:home"),
            message=_("Saved."),
        )
        if done:
            return done
    else:
        initial = {"name": person.name, "phone": person.phone, "relation": person.relation}
        if member is not None:
            initial["member_class"] = member.member_class
        form = form_class(initial=initial)
    classes = member_classes_in_use(person.region.code[:6]) if member is not None else []
    return render(
        request,
        "people/person_edit.html",
        {"person": person, "form": form, "member_classes": classes},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def households_import_page(request):
    user = request.user
    if not user_can(user, "people.import"):
        raise PermissionDenied
    form = HouseholdImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: households_import(
                data=data["file"].read(), filename=data["file"].name, acting_user=user
            ),
            redirect_to=reverse("people:import"),
            message=lambda counts: (
                _("Imported %(households)d households with %(persons)d members.") % counts
            ),
        )
        if done:
            return done
    return render(
        request,
        "people/import.html",
        {"form": form, "errors": getattr(form, "row_errors", None)},
    )


@login_required
def households_import_template(request):
    if not user_can(request.user, "people.import"):
        raise PermissionDenied
    response = HttpResponse(households_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{_('households import')}.xlsx"
    )
    return response


def _county_of(user) -> Region:
    county = Region.objects.for_user(user, "people.configure").filter(level="county").first()
    if county is None:
        raise PermissionDenied
    return county


@login_required
def tag_list(request):
    user = request.user
    county = _county_of(user)
    form = HouseholdTagForm(request.POST or None)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: household_tag_create(county=county, acting_user=user, **data),
            redirect_to=reverse("people:tags"),
            message=_("Saved."),
        )
        if done:
            return done
    return render(
        request,
        "people/tags.html",
        {"county": county, "tags": household_tag_list(user=user, county=county), "form": form},
    )


@login_required
def tag_edit(request, pk: int):
    user = request.user
    tag = get_scoped_or_404(HouseholdTag.objects, user, "people.configure", pk=pk)
    form = HouseholdTagEditForm(
        request.POST or None, initial={"name": tag.name, "active": tag.active}
    )
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: household_tag_update(tag=tag, acting_user=user, **data),
            redirect_to=reverse("people:tags"),
            message=_("Saved."),
        )
        if done:
            return done
    return render(request, "people/tag_edit.html", {"tag": tag, "form": form})


def _post_form(request, user, village, household_post=None):
    persons = (
        Person.objects.for_user(user, "people.view")
        .filter(subtree_q("region__code", village.code), status__in=CURRENT_STATUSES)
        .order_by("initials", "id")
    )
    households = (
        Household.objects.for_user(user, "people.view")
        .filter(subtree_q("region__code", village.code))
        .select_related("head")
        .order_by("number")
    )
    initial = None
    if household_post is not None:
        initial = {
            "person": household_post.person_id,
            "post": household_post.post,
            "label": household_post.label,
            "households": list(household_post.households.values_list("pk", flat=True)),
        }
    return HouseholdPostForm(
        request.POST or None, initial=initial, persons=persons, households=households
    )


@login_required
def post_list(request, code: str):
    user = request.user
    village = get_scoped_or_404(Region.objects, user, "people.appoint", code=code)
    if village.level != "village":
        raise Http404
    form = _post_form(request, user, village)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: household_post_save(village=village, acting_user=user, **data),
            redirect_to=reverse("people:posts", args=[village.code]),
            message=_("Saved."),
        )
        if done:
            return done
    return render(
        request,
        "people/posts.html",
        {
            "village": village,
            "posts": household_post_list(user=user, village=village),
            "form": form,
            "ancestors": region_ancestors(user=user, region=village, include_self=True),
        },
    )


@login_required
def post_edit(request, pk: int):
    user = request.user
    household_post = get_scoped_or_404(
        HouseholdPost.objects.select_related("region", "person"), user, "people.appoint", pk=pk
    )
    village = household_post.region
    form = _post_form(request, user, village, household_post)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda data: household_post_save(
                village=village, household_post=household_post, acting_user=user, **data
            ),
            redirect_to=reverse("people:posts", args=[village.code]),
            message=_("Saved."),
        )
        if done:
            return done
    return render(
        request,
        "people/post_edit.html",
        {
            "village": village,
            "household_post": household_post,
            "form": form,
            "login_form": HouseholdPostLoginForm(initial={"phone": household_post.person.phone})
            if user_can(user, "login.manage")
            else None,
        },
    )


@login_required
def post_login(request, pk: int):
    """Create the login of a post's holder (township and county: they manage logins)."""
    user = request.user
    household_post = get_scoped_or_404(
        HouseholdPost.objects.select_related("region", "person"), user, "people.appoint", pk=pk
    )
    if not user_can(user, "login.manage"):
        raise PermissionDenied
    form = HouseholdPostLoginForm(request.POST or None)
    if request.method == "POST":

        def create(data):
            made, password = household_post_login_create(
                household_post=household_post, phone=data["phone"], acting_user=user
            )
            request.session[ISSUED_KEY] = [
                {"username": made.username, "name": made.first_name, "password": password}
            ]

        done = form_submit(request, form, create, redirect_to=reverse("accounts:issued"))
        if done:
            return done
    return render(
        request,
        "people/post_edit.html",
        {
            "village": household_post.region,
            "household_post": household_post,
            "form": _post_form(request, user, household_post.region, household_post),
            "login_form": form,
        },
    )
