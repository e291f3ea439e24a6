"""Reads of inspections: who may inspect where, the sub-units of a unit, the pages' rows, and
what the close's preview is told (`close_notes`) and asks for (`sampled_metrics`)."""

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.permissions import ROLE_ACTIONS, scopes_for
from kaoping.accounts.scoping import is_unrestricted, may, restrict
from kaoping.core.errors import KaopingError
from kaoping.core.privacy import mask_name
from kaoping.ledger.duties import ROLE_PREFIX
from kaoping.people.models import Household, Subject
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Region
from kaoping.schemes.models import Scheme
from kaoping.schemes.sampling import draw_key, sampled_items
from kaoping.schemes.spec import MetricItem, SchemeSpec

from .models import Draw, DrawResult

NAMES_SHOWN = 10
VILLAGE_DIGITS = LEVEL_DIGITS["village"]


def sampled_item(spec: SchemeSpec, code: str) -> MetricItem:
    """The sampled item `code` of `spec`; a KaopingError when there is none by that code."""
    for item in sampled_items(spec):
        if item.code == code:
            return item
    raise KaopingError(_("%(code)s is not an item scored by an inspection.") % {"code": code})


def _owner_role(spec: SchemeSpec, item: MetricItem) -> str:
    owners = {row.code: row.owner or "" for row in spec.flatten()}
    owner = owners.get(item.code, "")
    return owner.removeprefix(ROLE_PREFIX) if owner.startswith(ROLE_PREFIX) else ""


def inspector_codes(user, role: str = "") -> list[str]:
    """The region codes from which `user` may inspect: where it holds a role that records
    entries (`role`, or a county admin's, when the item names a role as its owner)."""
    rows = RoleAssignment.objects.filter(user=user, region__isnull=False).values_list(
        "role", "region__code"
    )
    return [
        code
        for held, code in rows
        if "entry.record" in ROLE_ACTIONS.get(held, ())
        and (not role or held in (role, Role.COUNTY_ADMIN))
    ]


def may_inspect(user, subject: Subject, spec: SchemeSpec, item: MetricItem) -> bool:
    """An inspection is made from above the place it inspects (由乡镇抽查各村): `user` records
    entries for `subject` and holds that role over a region strictly containing the unit's own
    (a township's or the county's for a village; a village's for a grid), in the role the
    item's `owner: role:…` names when it names one (a county admin always may)."""
    if is_unrestricted(user):
        return True
    if not may(user, "entry.record", subject):
        return False
    unit = subject.region.code
    return any(
        unit.startswith(code) and len(code) < len(unit)
        for code in inspector_codes(user, _owner_role(spec, item))
    )


def sub_unit_numbers(subject: Subject, of: str) -> list[str]:
    """The numbers of `subject`'s sub-units as they stand: its households' numbers, or its grids'
    division codes, sorted (the order does not change the draw, only how it is listed)."""
    prefix = subject.region.code
    if of == "household":
        rows = Household.objects.filter(region__code__startswith=prefix).values_list(
            "number", flat=True
        )
    else:
        rows = Region.objects.filter(level="grid", code__startswith=prefix).values_list(
            "code", flat=True
        )
    return sorted(rows)


def sampled_metrics(scheme_id: int) -> set[str]:
    """`settings.FED_METRICS`: the metrics a scheme's sampled items fill, which nobody reports
    and the close's preview does not ask for."""
    scheme = Scheme.objects.filter(pk=scheme_id).first()
    version = scheme.latest_version() if scheme is not None else None
    if version is None:
        return set()
    return {item.metric for item in sampled_items(version.spec())}


def close_notes(period, spec: SchemeSpec) -> list[str]:
    """`settings.PERIOD_HOOKS["close_notes"]`: for each sampled item, the units whose draw is
    not complete (their figure counts the results recorded) and how many units have no result
    at all (no figure: the scheme's `no_data`)."""
    notes = []
    for item in sampled_items(spec):
        draws = list(
            Draw.objects.filter(
                scheme_id=period.scheme_id, period_label=period.label, item_code=item.code
            )
            .select_related("subject")
            .order_by("subject__region__code")
        )
        counts = dict(
            DrawResult.objects.filter(draw__in=draws)
            .values_list("draw_id")
            .annotate(n=_count())
            .values_list("draw_id", "n")
        )
        short = [d for d in draws if counts.get(d.pk, 0) < d.size]
        if short:
            shown = "、".join(
                f"{d.subject.name} {counts.get(d.pk, 0)}/{d.size}" for d in short[:NAMES_SHOWN]
            )
            notes.append(
                _(
                    "%(item)s: %(n)d draws are not complete (%(shown)s); their units are scored "
                    "on the results recorded"
                )
                % {"item": item.name, "n": len(short), "shown": shown}
            )
        units = Subject.objects.filter(
            kind=period.scheme.subject_kind,
            active=True,
            region__code__startswith=period.scheme.region.code,
        )
        with_results = {d.subject_id for d in draws if counts.get(d.pk, 0)}
        if with_results:
            # The preview's “without data” reads the figures stored now; these come at the close.
            filled = [d.subject.name for d in draws if counts.get(d.pk, 0)]
            notes.append(
                _(
                    "%(item)s: the close fills the figure of %(n)d units from their results (%(names)s)"
                )
                % {"item": item.name, "n": len(filled), "names": "、".join(filled[:NAMES_SHOWN])}
            )
        without = units.exclude(pk__in=with_results).order_by("region__code")
        missing = without.count()
        if missing:
            names = "、".join(without.values_list("name", flat=True)[:NAMES_SHOWN])
            notes.append(
                _(
                    "%(item)s: %(n)d units have no inspection result (%(names)s); they have no "
                    "figure for this item"
                )
                % {"item": item.name, "n": missing, "names": names}
            )
    return notes


def _count():
    return Count("id")


# -- the pages ------------------------------------------------------------------------------------


@dataclass
class UnitRow:
    """One unit on the inspector's list: its draw, if any, and how far its results are."""

    subject: Subject
    draw: Draw | None
    recorded: int


def sampled_schemes(user) -> list[tuple[Scheme, list[MetricItem]]]:
    """The schemes `user` sees that have sampled items, with those items."""
    found = []
    for scheme in restrict(Scheme.objects.all(), user, "scheme.view").order_by("code"):
        version = scheme.latest_version()
        items = sampled_items(version.spec()) if version is not None else []
        if items:
            found.append((scheme, items))
    return found


def unit_rows(
    user, scheme: Scheme, spec: SchemeSpec, item: MetricItem, label: str
) -> list[UnitRow]:
    """The units of `scheme` that `user` may inspect for `item`, with their draws in `label`.
    A few queries whatever the number of units."""
    codes = inspector_codes(user, _owner_role(spec, item))
    units = restrict(
        Subject.objects.filter(
            kind=scheme.subject_kind, active=True, region__code__startswith=scheme.region.code
        ),
        user,
        "entry.record",
    ).select_related("region")
    if not is_unrestricted(user):
        units = [
            u
            for u in units
            if any(u.region.code.startswith(c) and len(c) < len(u.region.code) for c in codes)
        ]
    draws = {
        d.subject_id: d
        for d in Draw.objects.filter(scheme=scheme, period_label=label, item_code=item.code)
    }
    counts = dict(
        DrawResult.objects.filter(draw__in=list(draws.values()))
        .values_list("draw_id")
        .annotate(n=_count())
        .values_list("draw_id", "n")
    )
    return [
        UnitRow(u, draws.get(u.pk), counts.get(draws[u.pk].pk, 0) if u.pk in draws else 0)
        for u in sorted(units, key=lambda u: u.region.code)
    ]


@dataclass
class MemberRow:
    """One drawn sub-unit on the draw's page."""

    position: int
    number: str
    name: str  # the head's name (masked unless the user may see the household) or the grid's
    address: str
    key: str  # the draw key, so the order can be checked by eye
    level: str
    note: str


def member_rows(user, draw: Draw) -> list[MemberRow]:
    """The drawn sub-units of `draw` in the order drawn, with what was recorded."""
    results = {r.member: r for r in DrawResult.objects.filter(draw=draw)}
    names: dict[str, tuple[str, str]] = {}
    if draw.of == "household":
        households = Household.objects.filter(number__in=draw.members).select_related("head")
        seen = set(
            restrict(
                Household.objects.filter(number__in=draw.members), user, "people.view"
            ).values_list("number", flat=True)
        )
        for h in households:
            head = h.head.name if h.head_id else ""
            names[h.number] = (head if h.number in seen else mask_name(head), h.address)
    else:
        for code, name in Region.objects.filter(code__in=draw.members).values_list("code", "name"):
            names[code] = (name, "")
    rows = []
    for position, number in enumerate(draw.members, start=1):
        name, address = names.get(number, ("", ""))
        result = results.get(number)
        rows.append(
            MemberRow(
                position,
                number,
                name,
                address,
                draw_key(draw.seed, number),
                result.level if result else "",
                result.note if result else "",
            )
        )
    return rows


def draw_for(user, pk: int) -> Draw:
    """The draw `pk` if `user` may see its unit's entries (404 outside the area)."""
    draw = (
        restrict(Draw.objects.all(), user, "entry.view")
        .select_related("scheme__region", "subject__region")
        .filter(pk=pk)
        .first()
    )
    if draw is None:
        raise Http404
    return draw


def user_may_inspect(user) -> bool:
    """Whether the menu offers inspections: `user` records entries from a township or the county
    (or everywhere), where a village's inspection is made from."""
    if is_unrestricted(user):
        return True
    return any(
        scope.household_id is None and len(scope.prefix) < VILLAGE_DIGITS
        for scope in scopes_for(user, "entry.record")
    )
