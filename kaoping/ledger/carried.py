"""How carried entries (`ledger.links`) are shown: where each came from, and how far each
source entry carried.

A carried entry reads "联系户 张* 户（FX01 乱堆乱放）扣分 → −2": the link, the source subject
(its name whole and linked to its page when the reader may see that subject, masked otherwise),
the source item and what it did. A source entry reads "已连带 2 名对象". A few grouped queries
for a page of entries, never one per row.
"""

from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kaoping.core.privacy import mask_name
from kaoping.people.models import Subject
from kaoping.schemes.links import linked_items
from kaoping.schemes.models import Scheme

from .models import Entry
from .selectors import item_names


def via_label(via: str) -> str:
    return {
        "linked_households": _("Linked household"),
        "own_household": _("Own household"),
        "village_team": _("Own village"),
    }.get(via, via)


@dataclass(frozen=True)
class CarriedSource:
    """Where a carried entry came from, as its reader may see it."""

    entry_id: int
    via: str
    name: str
    url: str | None
    item_code: str
    item_name: str
    deduction: bool


def _vias(scheme_ids: set[int]) -> dict[tuple[int, str], str]:
    """(receiving scheme id, item code) → its `via`, read from the schemes' latest versions."""
    found: dict[tuple[int, str], str] = {}
    for scheme in Scheme.objects.filter(pk__in=scheme_ids):
        version = scheme.latest_version()
        for _path, item in linked_items(version.spec()) if version else ():
            found[(scheme.pk, item.code)] = item.linked.via.value
    return found


def carried_annotate(entries, *, user) -> None:
    """Give each carried entry of `entries` a `carried_source` (CarriedSource) and each entry a
    `carried_to` (how many entries it carried)."""
    entries = list(entries)
    for entry in entries:
        entry.carried_source, entry.carried_to = None, 0
    ids = [e.pk for e in entries if e.reverses_id is None]
    counts = dict(
        Entry.objects.filter(carried_from_id__in=ids)
        .values("carried_from_id")
        .annotate(n=Count("pk"))
        .values_list("carried_from_id", "n")
    )
    for entry in entries:
        entry.carried_to = counts.get(entry.pk, 0)
    carried = [e for e in entries if e.carried_from_id is not None]
    if not carried:
        return
    sources = {
        s.pk: s
        for s in Entry.objects.filter(pk__in={e.carried_from_id for e in carried}).select_related(
            "subject", "scheme"
        )
    }
    visible = set(
        Subject.objects.for_user(user, "entry.view")
        .filter(pk__in={s.subject_id for s in sources.values()})
        .values_list("pk", flat=True)
    )
    names = item_names(list(sources.values()))
    vias = _vias({e.scheme_id for e in carried})
    for entry in carried:
        source = sources[entry.carried_from_id]
        seen = source.subject_id in visible
        name = source.subject.name if seen else mask_name(source.subject.name)
        if source.subject.kind == "household":
            name = _("%(head)s's household") % {"head": name}
        entry.carried_source = CarriedSource(
            entry_id=source.pk,
            via=via_label(vias.get((entry.scheme_id, entry.item_code), "")),
            name=name,
            url=(
                reverse("periods:subject", args=[source.subject_id])
                + "?"
                + urlencode({"scheme": source.scheme.code})
                + f"#entry-{source.pk}"
            )
            if seen
            else None,
            item_code=source.item_code,
            item_name=names.get((source.scheme_id, source.item_code), source.item_code),
            deduction=source.points < 0,
        )
