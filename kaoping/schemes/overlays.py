"""Overlays (本乡镇/本村增加的评分项): the checks that need the region table, and what pages show.

What the file alone can get wrong is in `checks`; that each overlay's region exists, is a
township or a village and lies inside the scheme's own region is checked here when the file is
loaded (`services.scheme_load`), reported at the overlay's line. A file is checked against the
regions as they are at upload, not at each close: a scheme is loaded for a county whose regions
are imported first, and a region code that is wrong should stop the upload, not a close weeks
later.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kaoping.regions.models import Level, Region

from .models import SchemeNode, SchemeVersion
from .spec import OVERLAY_MARK, ROOT_CODE, Overlay, SchemeSpec, number_text

OVERLAY_LEVELS = (Level.TOWNSHIP, Level.VILLAGE)


def overlay_regions_check(spec: SchemeSpec, region: Region) -> Iterator[tuple[tuple, str]]:
    """(data path, message) for every overlay whose region the scheme of `region` cannot use."""
    codes = {overlay.region for overlay in spec.overlays}
    if not codes:
        return
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    for index, overlay in enumerate(spec.overlays):
        at = ("overlays", index, "region")
        place = found.get(overlay.region)
        if place is None:
            message = _("region: there is no township or village with the code %(code)s")
            yield at, message % {"code": overlay.region}
        elif place.level not in OVERLAY_LEVELS:
            message = _("region: %(name)s (%(code)s) is not a township or a village")
            yield at, message % {"name": place.name, "code": place.code}
        elif not place.code.startswith(region.code):
            message = _("region: %(name)s (%(code)s) lies outside %(scheme_region)s")
            yield (
                at,
                message
                % {
                    "name": place.name,
                    "code": place.code,
                    "scheme_region": region.name,
                },
            )


@dataclass(frozen=True)
class OverlayView:
    """One overlay as the scheme page shows it: where, what it adds under which group (as the
    materialised rows of its region's tree), and what it changes of the county's items."""

    region_code: str
    region_name: str
    name: str
    key: str  # the tree of a subject of this region without a variant (`?variant=`)
    under: str  # the group's name ("" at the top level)
    nodes: list[SchemeNode]
    excluded: list[str]  # names of the county's items it leaves out
    changed: list[tuple[str, str]]  # (name of an item or group, what changes)


def overlays_shown(*, version: SchemeVersion) -> list[OverlayView]:
    """The overlays of `version`, in file order, with their regions' names; three queries."""
    spec = version.spec()
    if not spec.overlays:
        return []
    names = {r.code: r.name for r in Region.objects.filter(code__in=spec.overlay_regions())}
    added = {
        overlay.region: [element.code for _p, element, _d in overlay.walk()]
        for overlay in spec.overlays
    }
    rows: dict[tuple[str, str], SchemeNode] = {
        (n.variant, n.code): n
        for n in SchemeNode.objects.filter(
            version=version,
            variant__in=[OVERLAY_MARK + region for region in added],
            code__in=[code for codes in added.values() for code in codes],
        )
    }
    shown = []
    for overlay in spec.overlays:
        key = OVERLAY_MARK + overlay.region
        codes = [element.code for _p, element, _d in overlay.walk()]
        shown.append(
            OverlayView(
                region_code=overlay.region,
                region_name=names.get(overlay.region, overlay.region),
                name=overlay.name,
                key=key,
                under=_named(spec, overlay.under) if overlay.under else "",
                nodes=[rows[(key, code)] for code in codes if (key, code) in rows],
                excluded=[_named(spec, code) for code in overlay.exclude],
                changed=_changes(spec, overlay),
            )
        )
    return shown


def variant_label(*, version: SchemeVersion, key: str) -> str:
    """What a page calls the tree `key`: the variant's label and the region with overlays by
    name (D · 东岭村), never the bare key."""
    if OVERLAY_MARK not in key:
        return key
    label, region = key.split(OVERLAY_MARK, 1)
    found = Region.objects.filter(code=region).values_list("name", flat=True).first()
    return " · ".join(part for part in (label, found or region) if part)


def _named(spec: SchemeSpec, code: str) -> str:
    try:
        return spec.find(code).name
    except KeyError:
        return code


def _changes(spec: SchemeSpec, overlay: Overlay) -> list[tuple[str, str]]:
    # The keys as the scheme page names them elsewhere (docs/schemes.md §4, §5).
    labels = {
        "points": pgettext("scheme key", "points"),
        "weight": pgettext("scheme key", "weight"),
        "cap": pgettext("scheme key", "cap"),
        "max": pgettext("scheme key", "max"),
        "floor": pgettext("scheme key", "floor"),
        "base": pgettext("scheme key", "base"),
    }
    out = []
    for code, change in [*overlay.items.items(), *overlay.nodes.items()]:
        values = change.model_dump(exclude_none=True)
        what = "，".join(f"{labels[key]} {number_text(value)}" for key, value in values.items())
        out.append((_named(spec, code) if code != ROOT_CODE else spec.name, what))
    return out


def overlay_items_by_place(spec: SchemeSpec) -> list[tuple[str, list[str]]]:
    """(township or village name, names of the items its overlays add), in file order, for the
    pages that cannot offer items subject by subject (the import template's guide)."""
    names = {r.code: r.name for r in Region.objects.filter(code__in=spec.overlay_regions())}
    places: dict[str, list[str]] = {}
    for overlay in spec.overlays:
        items = [e.name for _p, e, _d in overlay.walk() if e.is_item]
        if items:
            places.setdefault(names.get(overlay.region, overlay.region), []).extend(items)
    return list(places.items())
