"""Notice-board posters (公示榜单) of a posted period as PDF, A4 or A3, rendered by WeasyPrint."""

from django.template.loader import render_to_string
from django.utils import timezone

from kaoping.regions.models import Level

from .selectors import (
    POSTER_KINDS,
    grade_names,
    period_label,
    place_of,
    public_lists,
    public_name,
    public_results,
)

# Type sizes grow with the paper so an A3 sheet reads from as far as its size suggests.
PAPER = {
    "a4": {"size": "A4", "title": 30, "heading": 21, "row": 17, "small": 11},
    "a3": {"size": "A3", "title": 42, "heading": 30, "row": 24, "small": 15},
}


def poster_pdf(*, period, region=None, size: str = "a4", public_url: str = "") -> bytes:
    """The red, black and progress lists of `period` (names masked), for a village board."""
    from weasyprint import HTML

    paper = PAPER.get(size, PAPER["a4"])
    results = []
    if region is not None and region.level == Level.VILLAGE:
        # A village's own board also carries every result of the village (its households, its
        # members), not only the few of them on the county's lists.
        grades = grade_names(period)
        results = [
            {
                "rank": r.rank,
                "name": public_name(r.subject),
                "place": place_of(r.subject),
                "total": period.version.to_points(r.total),
                "grade": grades.get(r.grade_code, ""),
            }
            for r in public_results(period, region=region)
        ]
    html = render_to_string(
        "publishing/poster.html",
        {
            "period": period,
            "period_label": period_label(period),
            "region": region,
            "lists": public_lists(period, region=region, kinds=POSTER_KINDS, limit=None),
            "paper": paper,
            "results": results,
            "public_url": public_url,
            "today": timezone.localdate(),
        },
    )
    return HTML(string=html).write_pdf()
