"""Linked subjects (联系户扣分连带党员): an item carried from another scheme's entries.

A count item with `linked: {scheme, items, via}` is recorded by the system alone: every entry of
`items` that counts in the source scheme gives each subject linked to the entry's subject by
`via` one occurrence of the item (`ledger.links` writes them). What the file alone can get wrong
is `linked_file_problems` (run by `checks.check_scheme`); what needs the loaded schemes —
the source exists, scores the kind `via` starts from, has the items, carries nothing back — is
`links_check`, run at upload (`services.scheme_load`).
"""

from collections.abc import Iterator

from django.utils.translation import gettext as _

from .labels import subject_kind_label
from .models import Scheme
from .spec import CountItem, LinkVia, SchemeSpec

# The closed set of links: via → {receiving kind: source kind}. Every other pairing is refused.
VIA_KINDS: dict[LinkVia, dict[str, str]] = {
    LinkVia.LINKED_HOUSEHOLDS: {"party_member": "household"},
    LinkVia.OWN_HOUSEHOLD: {"party_member": "household", "cadre": "household"},
    LinkVia.VILLAGE_TEAM: {"team": "village", "village": "team"},
}

# Marks a version that carries from other schemes, so that the ledger finds the receivers of an
# entry with one query (`SchemeVersion.summary`).
SUMMARY_KEY = "linked_from"


def linked_items(spec: SchemeSpec) -> Iterator[tuple[tuple, CountItem]]:
    """(data path, item) of every item carried from another scheme's entries."""
    for path, element, _depth in spec.walk():
        if isinstance(element, CountItem) and element.linked is not None:
            yield path, element
    for i, overlay in enumerate(spec.overlays):
        for path, element, _depth in overlay.walk():
            if isinstance(element, CountItem) and element.linked is not None:
                yield ("overlays", i, *path), element


def links_summary(spec: SchemeSpec) -> dict:
    """What `scheme_load` adds to a version's summary: the schemes it carries from."""
    codes = sorted({item.linked.scheme for _path, item in linked_items(spec)})
    return {SUMMARY_KEY: codes} if codes else {}


def _kinds_text(kinds) -> str:
    return "、".join(subject_kind_label(k) for k in kinds)


def linked_file_problems(spec: SchemeSpec) -> list[tuple[tuple, str]]:
    """(data path, message) for what a `linked:` item says wrong in the file alone."""
    found: list[tuple[tuple, str]] = []
    for path, item in linked_items(spec):
        link, at = item.linked, (*path, "linked")
        if link.scheme == spec.code:
            found.append(
                (
                    (*at, "scheme"),
                    _("%(code)s is this scheme itself: an item cannot carry its own entries")
                    % {"code": link.scheme},
                )
            )
        if item.from_metric is not None:
            found.append(
                (
                    (*path, "from_metric"),
                    _("an item carried from linked subjects cannot also be computed from a metric"),
                )
            )
        if item.declarable:
            found.append(
                (
                    (*path, "declarable"),
                    _("an item carried from linked subjects is recorded by the system alone"),
                )
            )
        if item.evidence_required:
            found.append(
                (
                    (*path, "evidence_required"),
                    _("an item carried from linked subjects takes its source entry as evidence"),
                )
            )
        if isinstance(link.items, tuple) and not link.items:
            found.append(((*at, "items"), _("name at least one item, or deductions or bonuses")))
        pairs = VIA_KINDS[link.via]
        if str(spec.subject_kind) not in pairs:
            found.append(
                (
                    (*at, "via"),
                    _("via %(via)s links to %(kinds)s; this scheme scores %(kind)s")
                    % {
                        "via": link.via.value,
                        "kinds": _kinds_text(pairs),
                        "kind": subject_kind_label(spec.subject_kind),
                    },
                )
            )
    return found


def _carries_from(code: str) -> set[str]:
    scheme = Scheme.objects.filter(code=code).first()
    version = scheme.latest_version() if scheme is not None else None
    if version is None:
        return set()
    return {item.linked.scheme for _path, item in linked_items(version.spec())}


def _cycle(receiver: str, first: str) -> list[str] | None:
    """The chain first → … → receiver through the loaded schemes' carries, if any."""
    seen: set[str] = set()
    stack: list[list[str]] = [[first]]
    while stack:
        chain = stack.pop()
        code = chain[-1]
        if code == receiver:
            return chain
        if code in seen:
            continue
        seen.add(code)
        stack.extend([*chain, nxt] for nxt in sorted(_carries_from(code)))
    return None


def _source_item_codes(spec: SchemeSpec) -> list[str]:
    codes = [e.code for _p, e, _d in spec.walk() if e.is_item]
    for overlay in spec.overlays:
        codes.extend(e.code for _p, e, _d in overlay.walk() if e.is_item)
    return codes


def links_check(spec: SchemeSpec) -> list[tuple[tuple, str]]:
    """(data path, message) for every `linked:` the loaded schemes cannot satisfy."""
    found: list[tuple[tuple, str]] = []
    for path, item in linked_items(spec):
        link, at = item.linked, (*path, "linked")
        if link.scheme == spec.code:
            continue  # refused in the file already
        scheme = Scheme.objects.filter(code=link.scheme).first()
        version = scheme.latest_version() if scheme is not None else None
        if version is None:
            found.append(
                (
                    (*at, "scheme"),
                    _("there is no scheme with the code %(code)s: load it first")
                    % {"code": link.scheme},
                )
            )
            continue
        source = version.spec()
        name = f"{source.name}（{source.code}）"
        wanted = VIA_KINDS[link.via].get(str(spec.subject_kind))
        if wanted is not None and str(source.subject_kind) != wanted:
            found.append(
                (
                    (*at, "via"),
                    _("%(name)s scores %(kind)s; via %(via)s carries from %(wanted)s")
                    % {
                        "name": name,
                        "kind": subject_kind_label(source.subject_kind),
                        "via": link.via.value,
                        "wanted": subject_kind_label(wanted),
                    },
                )
            )
        if isinstance(link.items, tuple):
            known = _source_item_codes(source)
            for i, code in enumerate(link.items):
                if code not in known:
                    found.append(
                        (
                            (*at, "items", i),
                            _("%(name)s has no item %(code)s") % {"name": name, "code": code},
                        )
                    )
        chain = _cycle(spec.code, link.scheme)
        if chain is not None:
            found.append(
                (
                    (*at, "scheme"),
                    _("schemes carry entries in a circle: %(chain)s")
                    % {"chain": " → ".join([spec.code, *chain])},
                )
            )
    return found
