"""Loading scheme files: a new version is stored and its tree materialised for the close."""

import hashlib
import math
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.people.services import subjects_sync

from .links import links_check, links_summary
from .loader import load_scheme_text
from .models import (
    FACTOR_SCALE,
    METRIC_SCALE,
    Scheme,
    SchemeBand,
    SchemeGrade,
    SchemeGradeVariant,
    SchemeLevel,
    SchemeNode,
    SchemeVersion,
)
from .overlays import overlay_regions_check
from .scoring import clamp, item_limits, linear_reach
from .sources import sources_check
from .spec import FlatNode, SchemeSpec


def scaled(value: Decimal | None, scale: int, *, what: str) -> int | None:
    """`value` × `scale` as an exact integer; a value finer than the scale is an error."""
    if value is None:
        return None
    result = value * scale
    if result != result.to_integral_value():
        raise KaopingError(
            _("%(what)s: %(v)s has more decimal places than the scheme allows.")
            % {"what": what, "v": value}
        )
    return int(result)


def _linear_columns(row: FlatNode, scale: int, what: str) -> dict[str, int | None]:
    """The SchemeNode columns of a linear metric item (none for any other node)."""
    linear = row.linear
    if linear is None:
        return {}
    low, high = linear_reach(linear)
    return {
        "linear_base": scaled(linear.base, scale, what=what),
        "linear_step": scaled(linear.step, scale, what=what),
        "linear_target": scaled(linear.target, METRIC_SCALE, what=what),
        "linear_unit": scaled(linear.unit, METRIC_SCALE, what=what),
        "linear_floor": scaled(linear.floor, scale, what=what),
        "linear_max": scaled(linear.max, scale, what=what),
        # Rounded outwards: held a little further out, the line is still past floor or max.
        "linear_reach_lo": None if low is None else math.floor(low * METRIC_SCALE),
        "linear_reach_hi": None if high is None else math.ceil(high * METRIC_SCALE),
    }


def _node_rows(
    version: SchemeVersion, variant: str, rows: list[FlatNode]
) -> tuple[list, list, list]:
    scale = version.scale
    nodes, levels, bands = [], [], []
    by_code: dict[str, SchemeNode] = {}
    for position, row in enumerate(rows):
        what = f"{row.code} {row.name}"
        cap = scaled(row.cap, scale, what=what)
        maximum = scaled(row.max, scale, what=what)
        floor = scaled(row.floor, scale, what=what)
        lo, hi = item_limits(cap, floor, maximum)  # a group has no cap: its floor and max
        node = SchemeNode(
            version=version,
            variant=variant,
            code=row.code,
            parent_code=row.parent_code,
            depth=row.depth,
            position=position,
            name=row.name,
            description=row.description,
            is_item=row.is_item,
            section=str(row.section),
            rule=str(row.rule or ""),
            aggregate=str(row.aggregate or ""),
            base=scaled(row.base, scale, what=what),
            max=maximum,
            floor=floor,
            cap=cap,
            lo=lo,
            hi=hi,
            points=scaled(row.points, scale, what=what),
            weight=scaled(row.weight, scale, what=what),
            unit=row.unit or "",
            metric=row.metric or "",
            veto_effect=str(row.veto_effect or ""),
            veto_grade=row.veto_grade or "",
            **_linear_columns(row, scale, what),
            declarable=row.declarable,
            evidence_required=row.evidence_required,
            owner=row.owner or "",
        )
        nodes.append(node)
        by_code[row.code] = node
        for label, factor in row.levels:
            levels.append(
                SchemeLevel(
                    version=version,
                    variant=variant,
                    item_code=row.code,
                    label=label,
                    factor=scaled(factor, FACTOR_SCALE, what=what),
                )
            )
        for band in row.bands:
            bands.append(
                SchemeBand(
                    version=version,
                    variant=variant,
                    item_code=row.code,
                    lo=scaled(band.min, METRIC_SCALE, what=what),
                    lo_inclusive=bool(band.min_inclusive),
                    hi=scaled(band.max, METRIC_SCALE, what=what),
                    hi_inclusive=bool(band.max_inclusive),
                    points=scaled(band.points, scale, what=what),
                )
            )
    # Empty values bottom-up: an item is clamp(0); a group clamp(base + Σ children's empty).
    for node in sorted(nodes, key=lambda n: -n.depth):
        if node.is_item:
            node.empty_value = clamp(0, node.lo, node.hi)
        else:
            node.empty_value = clamp(node.base + node.children_empty, node.lo, node.hi)
        if node.parent_code is not None:
            by_code[node.parent_code].children_empty += node.empty_value
    return nodes, levels, bands


def _materialise(version: SchemeVersion, spec: SchemeSpec) -> None:
    # Every tree a subject can be scored with: the default, each variant, each with overlays.
    for variant in spec.variant_keys():
        nodes, levels, bands = _node_rows(version, variant, spec.flatten(variant or None))
        SchemeNode.objects.bulk_create(nodes)
        SchemeLevel.objects.bulk_create(levels)
        SchemeBand.objects.bulk_create(bands)
    scale = version.scale
    SchemeGrade.objects.bulk_create(
        SchemeGrade(
            version=version,
            position=position,
            code=grade.code,
            name=grade.name,
            lo=scaled(grade.min, scale, what=grade.code),
            lo_inclusive=bool(grade.min_inclusive),
            hi=scaled(grade.max, scale, what=grade.code),
            hi_inclusive=bool(grade.max_inclusive),
            honour=grade.honour,
            cadences=",".join(str(c) for c in grade.cadences or ()),
        )
        for position, grade in enumerate(spec.grades)
    )
    # A grade limited to some variants lists the trees (keys) of those variants' subjects.
    limited = [(p, g) for p, g in enumerate(spec.grades) if g.variants is not None]
    if limited:
        ids = dict(SchemeGrade.objects.filter(version=version).values_list("position", "pk"))
        SchemeGradeVariant.objects.bulk_create(
            SchemeGradeVariant(grade_id=ids[position], variant=key)
            for position, grade in limited
            for key in spec.variant_keys()
            if grade.given_to(key)
        )


def scheme_load(*, text: str, filename: str, region, acting_user) -> tuple[SchemeVersion, bool]:
    """Store a scheme file as a new version. Returns (version, created).

    Loading the same file again is a no-op; a changed file must carry a higher version number,
    so that periods scored with an older version keep meaning what they meant. The actor manages
    schemes of `region` (and, for a new version, of the region the scheme was loaded for).
    """
    ensure(acting_user, "scheme.manage", region)
    # Raises SchemeError naming file and line; `sources_check`: the schemes it reads exist;
    # `overlay_regions_check`: the townships and villages its overlays name do.
    spec = load_scheme_text(
        text,
        filename=filename,
        checks=lambda s: [
            *sources_check(s),
            *links_check(s),
            *overlay_regions_check(s, region),
        ],
    )
    digest = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().filter(code=spec.code).first()
        if scheme is not None:
            ensure(acting_user, "scheme.manage", scheme.region)
        if scheme is None:
            scheme = Scheme.objects.create(
                code=spec.code,
                name=spec.name,
                subject_kind=str(spec.subject_kind),
                cadence=str(spec.cadence),
                region=region,
            )
        elif scheme.subject_kind != str(spec.subject_kind) or scheme.cadence != str(spec.cadence):
            raise KaopingError(
                _(
                    "%(file)s: scheme %(code)s scores %(kind)s per %(cadence)s; a new version cannot change that."
                )
                % {
                    "file": filename,
                    "code": spec.code,
                    "kind": scheme.subject_kind,
                    "cadence": scheme.cadence,
                }
            )
        existing = scheme.versions.filter(number=spec.version).first()
        if existing is not None:
            if existing.sha256 == digest:
                return existing, False
            raise KaopingError(
                _(
                    "%(file)s: version %(n)d of %(code)s is already loaded with other content; raise `version`."
                )
                % {"file": filename, "n": spec.version, "code": spec.code}
            )
        latest = scheme.latest_version()
        if latest is not None and latest.number > spec.version:
            raise KaopingError(
                _(
                    "%(file)s: version %(n)d is older than the loaded version %(latest)d of %(code)s."
                )
                % {"file": filename, "n": spec.version, "latest": latest.number, "code": spec.code}
            )
        summary = spec.summary()
        summary["max_total"] = None if summary["max_total"] is None else str(summary["max_total"])
        summary.update(links_summary(spec))
        version = SchemeVersion.objects.create(
            scheme=scheme,
            number=spec.version,
            name=spec.name,
            filename=Path(filename).name,
            source=text,
            sha256=digest,
            decimals=spec.decimals,
            summary=summary,
            loaded_by=acting_user,
        )
        _materialise(version, spec)
        # Everything the scheme scores gets a subject now, so entries can be recorded at once.
        subjects_sync(kind=str(spec.subject_kind))
        if scheme.name != spec.name:
            scheme.name = spec.name
            scheme.save(update_fields=["name"])
        audit_record(
            actor=acting_user,
            action="schemes.version.loaded",
            obj=version,
            region_code=scheme.region.code,
            after={"code": spec.code, "version": spec.version, "sha256": digest},
        )
    return version, True
