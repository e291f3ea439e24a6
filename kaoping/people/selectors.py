"""Reads of households, persons and subjects, through the scoped querysets."""

from django.db.models import Count, QuerySet

from kaoping.core.fields import subtree_q
from kaoping.regions.models import Region

from .models import Cadre, GridPost, Household, PartyMember, Person, Subject, SubjectKind


def household_list(*, user, region_code: str) -> QuerySet[Household]:
    """The households under `region_code` the user may see, each with its member count."""
    return (
        Household.objects.for_user(user, "people.view")
        .filter(subtree_q("region__code", region_code))
        .select_related("head", "region")
        .annotate(member_count=Count("members"))
        .order_by("number")
    )


def household_members(*, household: Household) -> QuerySet[Person]:
    return household.members.order_by("id")


def subject_of_household(*, user, household: Household) -> Subject | None:
    """The household's subject (the thing its points are scored on), if the user may see it."""
    return (
        Subject.objects.for_user(user, "entry.view")
        .filter(kind=SubjectKind.HOUSEHOLD, household=household)
        .first()
    )


def subject_list_of_region(*, user, region: Region) -> QuerySet[Subject]:
    """The subjects placed at `region` itself (a village, its team and cadres)."""
    return (
        Subject.objects.for_user(user, "entry.view")
        .filter(region=region)
        .order_by("kind", "track", "name")
    )


def subject_list_households(*, user, action: str, region_code: str) -> QuerySet[Subject]:
    """The active household subjects under `region_code` where `user` may do `action`."""
    return (
        Subject.objects.for_user(user, action)
        .filter(kind=SubjectKind.HOUSEHOLD, active=True)
        .filter(subtree_q("region__code", region_code))
        .select_related("household")
        .order_by("household__number")
    )


def cadre_list(*, user, region: Region) -> QuerySet[Cadre]:
    return (
        Cadre.objects.for_user(user, "people.view").filter(region=region).select_related("person")
    )


def party_member_list(*, user, region: Region) -> QuerySet[PartyMember]:
    return (
        PartyMember.objects.for_user(user, "people.view")
        .filter(region=region)
        .select_related("person", "person__household")
    )


def grid_post_list(*, user, region_code: str) -> QuerySet[GridPost]:
    return (
        GridPost.objects.for_user(user, "people.view")
        .filter(subtree_q("region__code", region_code))
        .select_related("region", "person")
    )
