from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import is_unrestricted, restrict
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, RowError
from kaoping.core.pinyin import initials
from kaoping.core.tabular import rows_with_header

from .codes import LEVEL_DIGITS, LEVEL_ORDER, ParsedCode, official_code, parse_official_code
from .models import Level, Region

REGION_COLUMNS = {
    "code": {"code", "代码", "区划代码", "统计用区划代码"},
    "name": {"name", "名称", "区划名称"},
}


def region_kind(level: str, name: str) -> str:
    """How the place calls itself, read off its name (街道/镇/乡, 社区/村)."""
    if level == Level.TOWNSHIP:
        return next((k for k in ("街道", "镇", "乡") if name.endswith(k)), "")
    if level == Level.VILLAGE:
        return "社区" if name.endswith("社区") else "村"
    if level == Level.GRID:
        return "网格"
    return ""


def regions_import_file(*, data: bytes, filename: str, acting_user) -> dict:
    rows = [
        (number, row["code"], row["name"])
        for number, row in rows_with_header(data, filename, REGION_COLUMNS)
    ]
    return regions_import(rows=rows, acting_user=acting_user)


def regions_import(*, rows: list[tuple[int, str, str]], acting_user) -> dict:
    """Import (row, code, name) rows of the official division list: all rows or none.

    Existing codes are renamed when the name changed, so importing the same file twice changes
    nothing. Returns counts {"created", "renamed", "unchanged"}. Raises ImportFailed naming every
    bad row and field, among them every row outside the actor's area; nothing is written then.
    """
    errors: list[RowError] = []
    parsed: dict[str, tuple[int, ParsedCode, str]] = {}  # significant code → (row, code, name)
    for number, raw_code, raw_name in rows:
        name = raw_name.strip()
        try:
            code = parse_official_code(raw_code)
        except ValueError as exc:
            errors.append(RowError(number, _("code"), str(exc)))
            continue
        if not name:
            errors.append(RowError(number, _("name"), _("The name is empty.")))
        if code.code in parsed:
            first_row = parsed[code.code][0]
            message = _("Code %(c)s already appears in row %(r)d.") % {
                "c": raw_code,
                "r": first_row,
            }
            errors.append(RowError(number, _("code"), message))
            continue
        parsed[code.code] = (number, code, name)
    errors += _outside_area(parsed, acting_user)

    parent_codes = {code.parent_code for _n, code, _m in parsed.values() if code.parent_code}
    known = set(
        Region.objects.filter(code__in=parent_codes | set(parsed)).values_list("code", flat=True)
    )
    for number, code, _name in parsed.values():
        below_county = LEVEL_ORDER.index(code.level) > LEVEL_ORDER.index(Level.COUNTY)
        if below_county and code.parent_code not in parsed and code.parent_code not in known:
            message = _("Its parent region %(p)s is neither in the file nor in the system.") % {
                "p": official_code(code.parent_code)
            }
            errors.append(RowError(number, _("code"), message))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))

    counts = {"created": 0, "renamed": 0, "unchanged": 0}
    # Parents before children, so every parent row exists when its child is written.
    ordered = sorted(
        parsed.values(), key=lambda item: (LEVEL_ORDER.index(item[1].level), item[1].code)
    )
    with transaction.atomic():
        regions = {r.code: r for r in Region.objects.filter(code__in=parent_codes | set(parsed))}
        for _number, code, name in ordered:
            region = regions.get(code.code)
            if region is None:
                region = Region.objects.create(
                    code=code.code,
                    name=name,
                    level=code.level,
                    kind=region_kind(code.level, name),
                    parent=regions.get(code.parent_code) if code.parent_code else None,
                    initials=initials(name),
                )
                regions[code.code] = region
                counts["created"] += 1
            elif region.name != name:
                before = {"name": region.name}
                region.name, region.initials = name, initials(name)
                region.kind = region_kind(code.level, name)
                region.save(update_fields=["name", "initials", "kind"])
                audit_record(
                    actor=acting_user,
                    action="regions.region.renamed",
                    obj=region,
                    region_code=region.code,
                    before=before,
                    after={"name": name},
                )
                counts["renamed"] += 1
            else:
                counts["unchanged"] += 1
        top = min((code.code for _n, code, _m in parsed.values()), key=len, default="")
        audit_record(
            actor=acting_user,
            action="regions.imported",
            region_code=top,
            after=counts,
            object_repr=_("division list import"),
        )
    return counts


def _outside_area(parsed: dict[str, tuple[int, ParsedCode, str]], acting_user) -> list[RowError]:
    """A row error for every row the actor may not change (region.change, through `restrict`).

    A row lies in the region it names when that exists, else in its nearest existing ancestor:
    a new village under a township of the actor's is theirs to add. A row above every existing
    region lies in nobody's area (see `is_unrestricted`).
    """
    prefixes = {
        code.code: [code.code[:n] for n in sorted(LEVEL_DIGITS.values()) if n <= len(code.code)]
        for _n, code, _m in parsed.values()
    }
    existing = Region.objects.filter(code__in={p for chain in prefixes.values() for p in chain})
    known = set(existing.values_list("code", flat=True))
    allowed = set(restrict(existing, acting_user, "region.change").values_list("code", flat=True))
    errors = []
    for number, code, _name in parsed.values():
        within = next((p for p in reversed(prefixes[code.code]) if p in known), None)
        if within in allowed or (within is None and is_unrestricted(acting_user)):
            continue
        message = _("%(c)s lies outside your area; you may not change it.") % {
            "c": official_code(code.code)
        }
        errors.append(RowError(number, _("code"), message))
    return errors
