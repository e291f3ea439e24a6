"""`build_natural_villages`: the demo grid member's village keeps three 村民小组 and its
households are split among them (by household number, in three runs), through the service for the
groups and one UPDATE per group for the households. Keyed: a second build adds nothing."""

from typing import TYPE_CHECKING

from kaoping.accounts.models import RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.fields import subtree_q
from kaoping.people.models import Household
from kaoping.people.natural_villages import natural_village_save
from kaoping.regions.models import NaturalVillage

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

GROUPS = (("01", "一组"), ("02", "二组"), ("03", "三组"))


def build_natural_villages(build: "Build") -> None:
    anchor = RoleAssignment.objects.filter(user__username="grid").select_related("region").first()
    if anchor is None:
        return
    village = anchor.region if anchor.region.level == "village" else anchor.region.parent
    if NaturalVillage.objects.filter(village=village).exists():
        return
    system = system_actor()
    groups = [
        natural_village_save(
            village=village, acting_user=system, code=code, name=name, kind="group"
        )
        for code, name in GROUPS
    ]
    pks = list(
        Household.objects.filter(subtree_q("region__code", village.code))
        .order_by("number")
        .values_list("pk", flat=True)
    )
    size = -(-len(pks) // len(groups))
    for index, group in enumerate(groups):
        Household.objects.filter(pk__in=pks[index * size : (index + 1) * size]).update(
            natural_village=group
        )
    build.out(f"  natural villages: {len(groups)} in {village.name}")
