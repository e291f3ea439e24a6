"""Reads of schemes and their versions."""

from django.db.models import Count, QuerySet

from .models import Scheme, SchemeGrade, SchemeNode, SchemeVersion
from .spec import OVERLAY_MARK


def scheme_list(
    *, user, action: str = "scheme.view", subject_kind: str | None = None
) -> QuerySet[Scheme]:
    """The schemes where `user` may do `action` (of one subject kind if given), by code."""
    schemes = Scheme.objects.for_user(user, action)
    if subject_kind is not None:
        schemes = schemes.filter(subject_kind=subject_kind)
    return schemes.order_by("code")


def scheme_list_with_version_counts(*, user) -> QuerySet[Scheme]:
    return scheme_list(user=user).annotate(version_count=Count("versions"))


def scheme_versions(*, scheme: Scheme) -> list[SchemeVersion]:
    """Every version of `scheme`, newest first (the model's order)."""
    return list(scheme.versions.select_related("loaded_by"))


def rating_labels(*, version: SchemeVersion, variant: str = "") -> list[str]:
    """The rating labels of a variant's items, each once, in scale order: item by item as the
    file lists them, each item's levels from the best down (好, 较好, 一般, 差; then 满意 …)."""
    positions = dict(
        SchemeNode.objects.filter(version=version, variant=variant, is_item=True).values_list(
            "code", "position"
        )
    )
    levels = sorted(
        version.levels.filter(variant=variant).values_list("item_code", "label", "factor"),
        key=lambda level: (positions.get(level[0], len(positions)), -level[2], level[1]),
    )
    return list(dict.fromkeys(label for _code, label, _factor in levels))


def scheme_nodes(*, version: SchemeVersion, variant: str = "") -> list[SchemeNode]:
    """The tree of one variant of `version`, in the file's order."""
    return list(SchemeNode.objects.filter(version=version, variant=variant).order_by("position"))


def scheme_variants(*, version: SchemeVersion) -> list[str]:
    """The named variants (per track or kind) `version` defines besides the default tree, each
    once, in the order the scheme file gives them."""
    names = set(
        SchemeNode.objects.filter(version=version)
        .exclude(variant="")
        .exclude(variant__contains=OVERLAY_MARK)  # a region's overlays: overlays_shown
        .order_by()  # the model's ordering would make DISTINCT keep one row per node
        .values_list("variant", flat=True)
        .distinct()
    )
    order = list(version.spec().variants)
    return sorted(
        names, key=lambda name: (order.index(name) if name in order else len(order), name)
    )


def scheme_grades(*, version: SchemeVersion) -> QuerySet[SchemeGrade]:
    return SchemeGrade.objects.filter(version=version).prefetch_related("variants")


def scheme_version_newer(*, version: SchemeVersion) -> SchemeVersion | None:
    """The newest version of the same scheme after `version`, if there is one."""
    return (
        SchemeVersion.objects.filter(scheme_id=version.scheme_id, number__gt=version.number)
        .order_by("-number")
        .first()
    )
