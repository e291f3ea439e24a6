"""One scheme's result as another's input: the checks of a `source:` that need the database.

A metric item may read a subject's result in another scheme (`spec.SchemeSource`): its total,
rank, grade or a list it is on, filled by the close of the reading period
(`periods.crossscheme`). What the file alone can get wrong is in `checks`; what needs the loaded
schemes is here, run at upload (`services.scheme_load`) and reported at the file's lines: the
source scheme exists, scores subjects the reader can map to, has the periods, the list and the
grades read, and does not read the reader back (no cycle).
"""

from collections.abc import Iterator

from .labels import cadence_label, subject_kind_label
from .models import Scheme
from .scoring import assessed_cadences
from .spec import MetricItem, SchemeSpec, SourceTake

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
                    f"没有代码为 {source.scheme} 的方案：先上传来源方案，再上传读取它的方案",
                )
            )
            continue
        read = version.spec()
        name = f"{read.name}（{read.code}）"
        if not kinds_map(str(spec.subject_kind), str(read.subject_kind)):
            found.append(
                (
                    (*at, "scheme"),
                    f"{name} 考核的是{subject_kind_label(read.subject_kind)}，本方案考核的是"
                    f"{subject_kind_label(spec.subject_kind)}：只能读取同类对象的结果，"
                    "或者村与本村“两委”班子之间互相读取",
                )
            )
        available = _cadences_of(read)
        for level in item_levels(spec, item):
            cadence = source_cadence(item, level)
            if cadence not in available:
                found.append(
                    (
                        (*at, "cadence") if source.cadence is not None else at,
                        f"{name} 没有{cadence_label(cadence)}结果（它有："
                        f"{'、'.join(cadence_label(c) for c in available)}）",
                    )
                )
                break
        if source.take is SourceTake.LIST:
            codes = [rule.code for rule in read.ranking.lists]
            if source.list not in codes:
                known = "、".join(codes) or "无"
                found.append(
                    ((*at, "list"), f"{name} 没有代码为 {source.list} 的榜单（它有：{known}）")
                )
        if source.take is SourceTake.GRADE:
            codes = [grade.code for grade in read.grades]
            if not codes:
                found.append(((*at, "take"), f"{name} 不评等次，不能读取它的等次"))
            else:
                given = set(source.grades or {})
                missing = [c for c in codes if c not in given]
                unknown = [c for c in (source.grades or {}) if c not in codes]
                if missing:
                    found.append(
                        (
                            (*at, "grades"),
                            f"缺少 {name} 的等次 {'、'.join(missing)} 折算成几分",
                        )
                    )
                for code in unknown:
                    found.append(
                        (
                            (*at, "grades", code),
                            f"{name} 没有等次 {code}（它有：{'、'.join(codes)}）",
                        )
                    )
        chain = _cycle(spec.code, source.scheme)
        if chain is not None:
            found.append(
                (
                    (*at, "scheme"),
                    f"循环读取：{' → '.join([spec.code, *chain])}；方案之间不能互相读取结果",
                )
            )
    return found
