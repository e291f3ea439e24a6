"""One scheme's result as another's input: the checks of a `source:` that need the database.

A metric item may read a subject's result in another scheme (`spec.SchemeSource`): its total,
rank, grade or a list it is on, filled by the close of the reading period
(`periods.crossscheme`). What the file alone can get wrong is in `checks`; what needs the loaded
schemes is here, run at upload (`services.scheme_load`) and reported at the file's lines: the
source scheme exists, scores subjects the reader can map to, has the periods, the list and the
grades read, and does not read the reader back (no cycle).
"""

from collections.abc import Iterator

from django.utils.translation import gettext as _

from .labels import cadence_label, subject_kind_label
from .models import Scheme
from .scoring import assessed_cadences
from .spec import MetricItem, SchemeSpec, SourceTake

_LIST_SEP = "、"  # the enumeration comma Chinese lists use; codes and labels, never words

# Subject kinds whose results map onto each other one to one: the same subject, or a village and
# its own two-committee team (both keyed by the village's region). Every other pair is refused.
MAPPED_KINDS = {("village", "team"), ("team", "village")}


def kinds_map(reader: str, source: str) -> bool:
    """Whether a scheme scoring `reader` subjects may read results of `source` subjects."""
    return reader == source or (reader, source) in MAPPED_KINDS


def source_items(spec: SchemeSpec) -> Iterator[tuple[tuple, MetricItem]]:
    """(data path, item) of every metric item that reads another scheme's result."""
    for path, element, _depth in spec.walk():
        if isinstance(element, MetricItem) and element.source is not None:
            yield path, element


def item_levels(spec: SchemeSpec, item: MetricItem) -> list[str]:
    """The cadences a metric item is scored at: the scheme's own and the roll-ups assessed in
    their own right, as far as the item's `cadences` allow."""
    levels = [str(spec.cadence), *assessed_cadences(spec)]
    if item.cadences is None:
        return levels
    return [c for c in levels if c in {str(x) for x in item.cadences}]


def source_cadence(item: MetricItem, level: str) -> str:
    """The cadence of the source periods read when the reader closes a period of `level`."""
    return str(item.source.cadence) if item.source.cadence is not None else level


def _cadences_of(spec: SchemeSpec) -> list[str]:
    return [str(spec.cadence), *(str(r.cadence) for r in spec.rollups)]


def _reads(spec: SchemeSpec) -> set[str]:
    return {item.source.scheme for _path, item in source_items(spec)}


def _cycle(reader: str, first: str) -> list[str] | None:
    """The chain first → … → reader through the loaded schemes' latest versions, if any."""
    seen: set[str] = set()
    stack: list[list[str]] = [[first]]
    while stack:
        chain = stack.pop()
        code = chain[-1]
        if code == reader:
            return chain
        if code in seen:
            continue
        seen.add(code)
        scheme = Scheme.objects.filter(code=code).first()
        version = scheme.latest_version() if scheme is not None else None
        if version is None:
            continue
        for read in sorted(_reads(version.spec())):
            stack.append([*chain, read])
    return None


def sources_check(spec: SchemeSpec) -> list[tuple[tuple, str]]:
    """(data path, message) for every `source:` the loaded schemes cannot satisfy."""
    found: list[tuple[tuple, str]] = []
    for path, item in source_items(spec):
        source, at = item.source, (*path, "source")
        if source.scheme == spec.code:
            continue  # `checks` refuses it already
        scheme = Scheme.objects.filter(code=source.scheme).first()
        version = scheme.latest_version() if scheme is not None else None
        if version is None:
            found.append(
                (
                    (*at, "scheme"),
                    _(
                        "there is no scheme with code %(code)s: upload the source scheme first, "
                        "then the scheme that reads it"
                    )
                    % {"code": source.scheme},
                )
            )
            continue
        read = version.spec()
        name = _("%(name)s (%(code)s)") % {"name": read.name, "code": read.code}
        if not kinds_map(str(spec.subject_kind), str(read.subject_kind)):
            found.append(
                (
                    (*at, "scheme"),
                    _(
                        "%(name)s assesses %(theirs)s and this scheme assesses %(ours)s: a "
                        "scheme reads the results of the same kind of subject, or a village's "
                        "and its own two-committee team's"
                    )
                    % {
                        "name": name,
                        "theirs": subject_kind_label(read.subject_kind),
                        "ours": subject_kind_label(spec.subject_kind),
                    },
                )
            )
        available = _cadences_of(read)
        for level in item_levels(spec, item):
            cadence = source_cadence(item, level)
            if cadence not in available:
                found.append(
                    (
                        (*at, "cadence") if source.cadence is not None else at,
                        _("%(name)s has no %(cadence)s results (it has: %(known)s)")
                        % {
                            "name": name,
                            "cadence": cadence_label(cadence),
                            "known": _LIST_SEP.join(cadence_label(c) for c in available),
                        },
                    )
                )
                break
        if source.take is SourceTake.LIST:
            codes = [rule.code for rule in read.ranking.lists]
            if source.list not in codes:
                known = _LIST_SEP.join(codes) or _("none")
                found.append(
                    (
                        (*at, "list"),
                        _("%(name)s has no list with code %(code)s (it has: %(known)s)")
                        % {"name": name, "code": source.list, "known": known},
                    )
                )
        if source.take is SourceTake.GRADE:
            codes = [grade.code for grade in read.grades]
            if not codes:
                message = _("%(name)s gives no grades, so its grade cannot be read")
                found.append(((*at, "take"), message % {"name": name}))
            else:
                given = set(source.grades or {})
                missing = [c for c in codes if c not in given]
                unknown = [c for c in (source.grades or {}) if c not in codes]
                if missing:
                    found.append(
                        (
                            (*at, "grades"),
                            _("say what %(name)s's grades %(codes)s count as")
                            % {"name": name, "codes": _LIST_SEP.join(missing)},
                        )
                    )
                for code in unknown:
                    found.append(
                        (
                            (*at, "grades", code),
                            _("%(name)s has no grade %(code)s (it has: %(known)s)")
                            % {"name": name, "code": code, "known": _LIST_SEP.join(codes)},
                        )
                    )
        chain = _cycle(spec.code, source.scheme)
        if chain is not None:
            found.append(
                (
                    (*at, "scheme"),
                    _("schemes read each other in a circle: %(chain)s; they cannot")
                    % {"chain": " → ".join([spec.code, *chain])},
                )
            )
    return found
