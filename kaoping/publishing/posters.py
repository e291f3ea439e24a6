"""Notice-board posters (公示榜单) of a posted period as PDF, A4 or A3, rendered by WeasyPrint.

A4 is a flowing document: the lists one below the other, as many pages as they take. A3 is one
sheet for the board: the lists side by side in columns, and when the sheet does not hold them at
the full type size, the type is set smaller step by step (down to half) until it fits.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from kaoping.periods.selectors import period_grades
from kaoping.regions.models import Level, Region

from .selectors import (
    POSTER_KINDS,
    list_rules,
    period_label,
    place_of,
    public_lists,
    public_name,
    public_results,
)

# Type sizes grow with the paper so an A3 sheet reads from as far as its size suggests. A list
# sets `per_row` entries side by side (A3: three columns of names on one sheet); `fit` is the
# type scales an A3 sheet may shrink to, largest first, to hold everything on one page.
PAPER = {
    "a4": {
        "size": "A4",
        "title": 30,
        "heading": 21,
        "row": 17,
        "small": 11,
        "per_row": 1,
        "fit": (1,),
        "height_mm": 297 - 30,
    },
    "a3": {
        "size": "A3",
        "title": 40,
        "heading": 24,
        "row": 17,
        "small": 12,
        "per_row": 3,
        "fit": (1, 0.85, 0.72, 0.62, 0.55, 0.5),
        "height_mm": 420 - 30,
    },
}
PT_MM = 0.3528
# A flag scheme's poster carries the ranking the flags are read from, up to this many rows
# (a county of villages); beyond that the public page has it.
RANKING_ROWS = 300


def _chunks(rows: list, size: int) -> list[list]:
    """`rows` as lines of up to `size` side by side, read down each column first."""
    if size <= 1:
        return [[row] for row in rows]
    height = -(-len(rows) // size)
    return [
        [rows[c * height + r] for c in range(size) if c * height + r < len(rows)]
        for r in range(height)
    ]


def _estimated_mm(
    paper: dict, scale: float, lines: int, headings: int, ranking_chars: int
) -> float:
    """Height of the sheet's content at `scale`: header, list headings and rows, the ranking
    (running text, about one character per `small` point of width)."""
    row = paper["row"] * scale * PT_MM * 1.3 + 2.2
    small = paper["small"] * scale * PT_MM * 1.3 + 1.2
    heading = paper["heading"] * scale * PT_MM * 1.3 + 2.4 + 5 + small
    header = (paper["title"] + paper["heading"] + paper["small"]) * scale * PT_MM * 1.3 + 10
    footer = 3 * small + 4
    width_mm = 297 - 26 if paper["size"] == "A3" else 210 - 26
    per_line = width_mm / (paper["small"] * scale * PT_MM)
    ranking_lines = ranking_chars / per_line if ranking_chars else 0
    return header + footer + headings * heading + lines * row + ranking_lines * small


def _results(period, region, grades, limit=None) -> list[dict]:
    rows = public_results(period, region=region)
    if limit is not None:
        rows = rows[:limit]
    rows = list(rows)
    # A ranking group is a region's code (a township) or a track's name: show the region's name.
    codes = {r.rank_group for r in rows if r.rank_group.isdigit()}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {
            "group": names.get(r.rank_group, r.rank_group),
            "subject_id": r.subject_id,
            "rank": r.rank,
            "name": public_name(r.subject),
            "place": place_of(r.subject),
            "total": period.version.to_points(r.total),
            "grade": grades.get(r.grade_code, ""),
        }
        for r in rows
    ]


def _scaled(paper: dict, scale: float) -> dict:
    sizes = {k: round(paper[k] * scale, 1) for k in ("title", "heading", "row", "small")}
    return {**paper, **sizes, "scale": scale}


def poster_pdf(*, period, region=None, size: str = "a4", public_url: str = "") -> bytes:
    """The lists of `period` (red, black, progress, flags; names masked) for a notice board.

    A village's board also carries every result of the village; a scheme with flags (红黄旗)
    carries its ranking, since a flag is read against it.
    """
    from weasyprint import HTML

    paper = PAPER.get(size, PAPER["a4"])
    grades, grades_shown = period_grades(
        period=period, results=public_results(period, region=region)
    )
    results, ranking, ranking_total = [], [], 0
    if region is not None and region.level == Level.VILLAGE:
        # A village's own board also carries every result of the village (its households, its
        # members), not only the few of them on the county's lists.
        results = _results(period, region, grades)
    elif any(kind == "flag" for _code, _name, kind, _rule in list_rules(period)):
        ranking_total = public_results(period, region=region).count()
        ranking = _results(period, region, grades, limit=RANKING_ROWS)
    lists = public_lists(period, region=region, kinds=POSTER_KINDS, limit=None)
    picks = {code: getattr(rule, "pick", "top") for code, _n, _k, rule in list_rules(period)}
    for posted in lists:
        # Flags from the top are red (红旗), from the bottom yellow (黄旗).
        if posted.kind == "flag":
            posted.tone = "yellow" if picks.get(posted.code) == "bottom" else "red"
        else:
            posted.tone = posted.kind
    context = {
        "period": period,
        "period_label": period_label(period),
        "region": region,
        "lists": lists,
        "results": results,
        "grades_shown": grades_shown,
        "ranking": ranking,
        "ranking_total": ranking_total,
        "public_url": public_url,
        "today": timezone.localdate(),
    }
    per_row = paper["per_row"]
    for posted in lists:
        posted.lines = _chunks(posted.rows, per_row)
    # The ranking runs as text, one paragraph per ranking group, flags marked in their colour.
    tones = {
        row.subject_id: posted.tone
        for posted in lists
        if posted.kind == "flag"
        for row in posted.rows
    }
    groups: list[tuple[str, list[dict]]] = []
    for row in ranking:
        row["tone"] = tones.get(row["subject_id"], "")
        if not groups or groups[-1][0] != row["group"]:
            groups.append((row["group"], []))
        groups[-1][1].append(row)
    context["ranking_groups"] = groups
    context["per_row"] = range(per_row)
    # Start from the largest scale the content is estimated to fit at; render again smaller
    # only if WeasyPrint still needs a second page.
    lines = sum(max(1, len(posted.lines)) for posted in lists) + len(results)
    ranking_chars = sum(len(row["name"]) + 9 for row in ranking) + 8 * len(groups)
    headings = len(lists) + bool(ranking) + bool(results)
    scales = [
        scale
        for scale in paper["fit"]
        if _estimated_mm(paper, scale, lines, headings, ranking_chars) <= paper["height_mm"]
    ] or [paper["fit"][-1]]
    scales = [s for s in paper["fit"] if s <= scales[0]]
    document = None
    for scale in scales:
        html = render_to_string(
            "publishing/poster.html", {**context, "paper": _scaled(paper, scale)}
        )
        document = HTML(string=html).render()
        if len(document.pages) == 1:
            break
    return document.write_pdf()
