"""Reads of the region tree, through the scoped querysets."""

from django.db.models import QuerySet

from kaoping.core.fields import ancestor_codes

from .models import Region


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
