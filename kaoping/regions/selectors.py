"""Reads of the region tree, through the scoped querysets."""

from django.db.models import QuerySet

from .models import Region

ANCESTOR_WIDTHS = (2, 4, 6, 9, 12)  # province, city, county, township, village


def region_in_scope(*, user, region: Region, action: str = "region.view") -> bool:
    return Region.objects.for_user(user, action).filter(pk=region.pk).exists()


def region_ancestors(*, user, region: Region) -> list[Region]:
    """Breadcrumb: the ancestors of `region` the user may open, top first."""
    codes = [region.code[:n] for n in ANCESTOR_WIDTHS if n < len(region.code)]
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
