"""Reads of households, persons and subjects, through the scoped querysets."""

from django.db.models import Count, Q, QuerySet

from kaoping.core.fields import subtree_q
from kaoping.regions.models import Region

from .models import (
    CURRENT_STATUSES,
    BookChange,
    Cadre,
    GridPost,
    Household,
    HouseholdPost,
    HouseholdTag,
    HouseholdTagSpan,
    PartyMember,
    Person,
    Subject,
    SubjectKind,
)


def household_list(*, user, region_code: str) -> QuerySet[Household]:
    """The households under `region_code` the user may see, each with its member count."""
    return (
        Household.objects.for_user(user, "people.view")
        .filter(subtree_q("region__code", region_code))
        .select_related("head", "region")
        .annotate(member_count=Count("members", filter=Q(members__status__in=CURRENT_STATUSES)))
        .order_by("number")
    )


def household_members(*, household: Household) -> QuerySet[Person]:
    """The household's members now (living here or working away); former ones are in its book."""
    return household.members.filter(status__in=CURRENT_STATUSES).order_by("id")


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


def book_of(*, user, household: Household) -> dict:
    """A household's book (一户一册) as `user` may read it, in five queries whatever its length:

    - "members": the members now (living here, working away), head first;
    - "former": the members who moved out or died;
    - "changes": every change, newest first, with its member, tag, maker (`made_by`), time
      (`made_at`), date (`on_date`) and `visit_id`;
    - "tags": the spans open now (the tags the household carries), with since and who added;
    - "tag_history": every span, newest first;
    - "posts": the 三长 posts (片长/组长/邻长) whose households include this one.
    """
    persons = list(
        Person.objects.for_user(user, "people.view").filter(household=household).order_by("id")
    )
    persons.sort(key=lambda p: (p.pk != household.head_id, p.pk))
    spans = list(
        HouseholdTagSpan.objects.for_user(user, "people.view")
        .filter(household=household)
        .select_related("tag", "added_by", "removed_by")
        .order_by("-since", "-id")
    )
    return {
        "household": household,
        "members": [p for p in persons if p.status in CURRENT_STATUSES],
        "former": [p for p in persons if p.status not in CURRENT_STATUSES],
        "changes": list(
            BookChange.objects.for_user(user, "people.view")
            .filter(household=household)
            .select_related("person", "tag", "made_by")
            .order_by("-made_at", "-id")
        ),
        "tags": [s for s in spans if s.until is None],
        "tag_history": spans,
        "posts": list(
            HouseholdPost.objects.for_user(user, "people.view")
            .filter(households=household)
            .select_related("person")
        ),
    }


def household_tag_list(*, user, county: Region) -> QuerySet[HouseholdTag]:
    """The county's household tags, in use first, each with how many households carry it now."""
    return (
        HouseholdTag.objects.for_user(user, "people.view")
        .filter(region=county)
        .annotate(carried=Count("spans", filter=Q(spans__until__isnull=True)))
        .order_by("-active", "name")
    )


def household_post_list(*, user, village: Region) -> QuerySet[HouseholdPost]:
    """The 三长 posts of a village with their holder and how many households each looks after."""
    return (
        HouseholdPost.objects.for_user(user, "people.view")
        .filter(region=village)
        .select_related("person")
        .annotate(household_count=Count("households"))
        .order_by("post", "id")
    )
