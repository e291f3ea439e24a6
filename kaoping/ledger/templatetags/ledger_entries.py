"""How an entry's integrity flags read in lists (the review queue, one's own entries).

Rendered here rather than by an included template: a page of the review queue shows fifty
entries, nearly all of them flagged in a busy month, and the include with its chain of
`{% if %}` and `{% translate %}` per flag was a third of the page's rendering.
"""

from django import template
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from ..evidence import FLAG_PHOTO_REUSED

register = template.Library()

FLAG_LABELS = {
    "own_household": _("own household"),
    "relatives": _("a close relative's household"),
    "own_village": _("rates their own village"),
    "self": _("scores themselves"),
    "burst": _("many entries at once"),
    "over_cap": _("beyond the item's cap"),
    FLAG_PHOTO_REUSED: _("photo used before"),
}


@register.simple_tag
def entry_flags(entry) -> str:
    """One warning tag per flag of `entry`, each titled “check before approving”."""
    if not entry.flags:
        return ""
    title = _("Check before approving")
    return format_html_join(
        "",
        '<span class="tag warn" title="{}">{}</span> ',
        ((title, FLAG_LABELS.get(flag, flag)) for flag in entry.flags),
    )
