"""Reads of the region tree, through the scoped querysets."""

from django.db.models import QuerySet

from kaoping.core.fields import ancestor_codes

from .models import NaturalVillage, Region, natural_village_group


def region_ancestors(*, user, region: Region, include_self: bool = False) -> list[Region]:
    """Breadcrumb: the ancestors of `region` (and itself) the user may open, top first."""
    codes = ancestor_codes(region.code) + ([region.code] if include_self else [])
    return list(
        Region.objects.for_user(user, "region.view").filter(code__in=codes).order_by("code")
    )


def region_list(*, user, action: str, level: str, limit: int | None = None) -> QuerySet[Region]:
    """The regions of one level where `user` may do `action`, by code."""
    regions = Region.objects.for_user(user, action).filter(level=level).order_by("code")
    return regions[:limit] if limit is not None else regions


def region_children(*, user, region: Region) -> QuerySet[Region]:
    """The direct children of `region` the user may see, by code."""
    return Region.objects.for_user(user, "region.view").filter(parent=region).order_by("code")


def rank_group_labels(groups) -> dict[str, str]:
    """What to show for ranking groups: a township or village code (330304001) → its name.

    A ranking group is the code of the region the subjects are compared within, or a variant
    label (a track) that is already a name. Region names are not confidential and the caller
    shows only groups of results it may see, so the names are read without a scope.
    """
    groups = {g for g in groups if g}
    names = dict(
        Region.objects.filter(code__in=[g for g in groups if g.isdigit()]).values_list(
            "code", "name"
        )
    )
    names |= natural_village_labels(g for g in groups if "/" in g)
    return {g: names.get(g, g) for g in groups}


def natural_village_labels(groups) -> dict[str, str]:
    """`<village code>/<code>` (households ranked within their natural village) → its name."""
    wanted = {tuple(g.split("/", 1)) for g in groups}
    if not wanted:
        return {}
    rows = NaturalVillage.objects.filter(
        village__code__in={village for village, _code in wanted}
    ).values_list("village__code", "code", "name")
    return {
        natural_village_group(village, code): name
        for village, code, name in rows
        if (village, code) in wanted
    }
