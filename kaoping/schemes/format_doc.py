"""The format documentation (docs/schemes.md, and any other file under docs/ such as
docs/election.md) as a page of the product.

A county reading an error about its scheme or round file needs the format at hand, not a path in
a repository it has never seen: the same file the developers keep is rendered here, with the
heading anchors its table of contents links to.
"""

import re
from functools import cache
from pathlib import Path

from django.conf import settings
from markdown_it import MarkdownIt

FORMAT_DOC = Path(settings.BASE_DIR) / "docs" / "schemes.md"

_NOT_IN_SLUG = re.compile(r"[^\w\- ]")
# The section on checks and error messages, which a refused upload links to.
ERRORS_SECTION = "13-检查与报错"


def heading_slug(text: str) -> str:
    """The anchor GitHub gives a heading: "1. 先看一个例子" → "1-先看一个例子"."""
    return _NOT_IN_SLUG.sub("", text.strip().lower()).replace(" ", "-")


@cache
def _rendered(path: Path, mtime_ns: int) -> str:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(path.read_text(encoding="utf-8"))
    for n, token in enumerate(tokens):
        if token.type == "heading_open" and n + 1 < len(tokens):
            token.attrSet("id", heading_slug(tokens[n + 1].content))
    return md.renderer.render(tokens, md.options, {})


def format_doc_html(path: Path = FORMAT_DOC) -> str | None:
    """A Markdown document (docs/schemes.md unless told) as HTML, raw HTML in it escaped, or
    None when it is not installed."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _rendered(path, mtime)
