"""`build_household_book`: the county's household tags, a history in the books (一户一册) of the
demo grid member's village, and its 三长 posts — through the services, as the system actor.
Keyed: a second build adds nothing."""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from kaoping.accounts.models import RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.fields import subtree_q
from kaoping.people.models import Household, HouseholdPost, HouseholdTag
from kaoping.people.services import book_changes_apply, household_post_save, household_tag_create
from kaoping.regions.models import Region

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

TAGS = [
    ("低保", "dibao"),
    ("脱贫户", "tuopin"),
    ("监测户", "jiance"),
    ("独居老人", "alone"),
    ("残疾人户", "canji"),
]
BOOKS = 40  # households of the village whose book gets a history
POST_HOUSEHOLDS = 12  # households a 组长 looks after


def build_household_book(build: "Build") -> None:
    system = system_actor()
    from kaoping.demo.generator import COUNTY_CODE

    county = Region.objects.get(code=COUNTY_CODE)
    if HouseholdTag.objects.filter(region=county).exists():
        return
    tags = [
        household_tag_create(county=county, name=name, code=code, acting_user=system)
        for name, code in TAGS
    ]
    grid_login = RoleAssignment.objects.filter(user__username="grid").select_related("region")
    anchor = grid_login.first()
    if anchor is None:
        return
    village = anchor.region if anchor.region.level == "village" else anchor.region.parent
    households = list(
        Household.objects.filter(subtree_q("region__code", village.code))
        .select_related("region", "head")
        .order_by("number")[:BOOKS]
    )
    rng = build.rng("household_book", village.code)
    today = timezone.localdate()
    for index, household in enumerate(households):
        changes = [{"kind": "tag_added", "tag": rng.choice(tags)}]
        others = [p for p in household.members.all() if p.pk != household.head_id]
        if others and index % 3 == 0:
            changes.append({"kind": "away", "person": others[0], "note": "外出务工"})
        book_changes_apply(
            household=household,
            changes=changes,
            acting_user=system,
            on_date=today - timedelta(days=rng.randint(5, 300)),
        )
    if HouseholdPost.objects.filter(region=village).exists():
        return
    # One 组长 per grid, over the first households of it (the village itself when it has none).
    areas = list(Region.objects.filter(parent=village, level="grid").order_by("code")) or [village]
    for grid in areas:
        mine = list(
            Household.objects.filter(subtree_q("region__code", grid.code))
            .select_related("head")
            .order_by("number")
        )
        heads = [h.head for h in mine if h.head is not None]
        if not heads:
            continue
        household_post_save(
            village=village,
            person=heads[0],
            post="group",
            label=grid.name,
            households=mine[:POST_HOUSEHOLDS],
            acting_user=system,
        )
