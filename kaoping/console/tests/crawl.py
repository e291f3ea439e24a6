"""The crawl: every persona follows every link reachable from its home and reads each page.

It is a sweep, not a test: `test_crawl.py` runs it over the demo county and asserts on what it
found. Each page is checked for what a new user trips on: a server error, a link to something
the user may not open (an object out of scope, or a page refused), English left untranslated,
and a raw code where a name belongs (scheme kinds, cadences, metric keys, bare region codes).
The width of each kind of page on a 360-px phone is measured afterwards in a real browser.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from django.urls import Resolver404, resolve

from kaoping.schemes.spec import Cadence, SubjectKind

# Never followed: they sign out, belong to the system superuser's configuration, answer JSON
# for programs, or serve uploaded files (checked by the evidence tests).
SKIPPED_PREFIXES = ("/logout/", "/admin/", "/api/", "/static/", "/media/")
# Binary answers are fetched (no 500) but not read.
BINARY_TYPES = ("application/pdf", "application/vnd.", "image/", "application/zip")
PER_ROUTE = 3  # pages opened per URL pattern and persona: enough to meet each kind of object
PER_BINARY_ROUTE = 1  # PDFs and workbooks are slow to build; one each shows the route works
MAX_PAGES = 250  # per persona
# Pages whose subject is the file format itself: its keys and codes are what they explain.
# A round version shows the county's file as uploaded, whose keys are the format's.
TEXT_EXEMPT = {
    "schemes:format",
    "election:format",
    "election:round_version",
    "evaluations:plan_format",
    "evaluations:plan_version",
}

RAW_CODES = {c.value for c in Cadence} | {k.value for k in SubjectKind}
SNAKE_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
REGION_CODE = re.compile(r"^\(?(?:\d{9}|\d{12}|\d{15})\)?$")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?: +[A-Za-z][a-z]+)+\b")
# Words that are the same in a Chinese UI.
ALLOWED_WORDS = {"Excel", "PDF", "Word", "API", "ID", "HTMX", "ECharts", "OpenAPI", "kaoping"}


class _Page(HTMLParser):
    """Links, HTMX targets and the visible text nodes of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.texts: list[str] = []
        self._hidden = 0  # inside <script>, <style>, <template>

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template", "noscript"):
            self._hidden += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("hx-get"):
            self.links.append(attributes["hx-get"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "noscript") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        text = data.strip()
        if text and not self._hidden:
            self.texts.append(text)


def catalog_words(po_file: Path) -> set[str]:
    """Translated one-word msgids ("Save", "Cancel"): seen as they are, they were missed."""
    words = set()
    for match in re.finditer(r'^msgid "([A-Za-z]+)"\nmsgstr "(.+)"$', po_file.read_text(), re.M):
        if match.group(2) and match.group(1) not in ALLOWED_WORDS:
            words.add(match.group(1))
    return words


def text_problems(
    texts: list[str], one_word_msgids: set[str], allowed: set[str], region_names: dict[str, str]
) -> list[str]:
    problems = []
    for i, text in enumerate(texts):
        if text in allowed:
            continue
        if text in RAW_CODES:
            problems.append(f"raw code {text!r}")
        elif REGION_CODE.match(text):
            # A code beside its region's name is an attribute; a code alone stands for a name.
            name = region_names.get(text.strip("()"))
            if name is None or not any(name in t for t in texts[max(0, i - 2) : i + 2]):
                problems.append(f"bare region code {text!r}")
        elif text in one_word_msgids:
            problems.append(f"English {text!r}")
        else:
            for match in SNAKE_KEY.finditer(text):
                problems.append(f"key {match.group(0)!r} in {text[:60]!r}")
            for match in ENGLISH_RUN.finditer(text):
                words = set(match.group(0).replace("-", " ").split())
                if not words <= ALLOWED_WORDS:
                    problems.append(f"English {match.group(0)!r} in {text[:60]!r}")
    return problems


@dataclass
class Sweep:
    """What one persona's crawl found."""

    persona: str
    pages: dict[str, str] = field(default_factory=dict)  # url -> route name (HTML pages)
    downloads: dict[str, str] = field(default_factory=dict)  # url -> route name (files)
    problems: list[str] = field(default_factory=list)

    def first_url_per_route(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for url, route in self.pages.items():
            first.setdefault(route, url)
        return first


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def crawl(
    client,
    persona: str,
    *,
    home: str,
    one_word_msgids: set[str],
    region_names: dict[str, str],
    allowed=(),
) -> Sweep:
    """Follow every GET link from `home`, bounded per route; `client` is logged in already."""
    sweep = Sweep(persona)
    seen_per_route: dict[str, int] = defaultdict(int)
    queue = [(home, "(home)")]
    visited = set()
    while queue and len(visited) < MAX_PAGES:
        url, came_from = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        path = urlsplit(url).path
        route = route_of(path)
        if route is None:
            sweep.problems.append(f"{url}: no such page (linked from {came_from})")
            continue
        response = client.get(url, follow=True)
        where = f"{url} (from {came_from})"
        if response.status_code >= 500:
            sweep.problems.append(f"{where}: {response.status_code}")
            continue
        if response.status_code in (403, 404):
            sweep.problems.append(f"{where}: {response.status_code} on a link the page offered")
            continue
        content_type = response.get("Content-Type", "")
        if any(content_type.startswith(t) for t in BINARY_TYPES) or not content_type.startswith(
            "text/html"
        ):
            sweep.downloads.setdefault(url, route)
            continue
        final_path = response.request["PATH_INFO"]
        sweep.pages[final_path + _query(response)] = route_of(final_path) or route
        page = _Page()
        page.feed(response.content.decode())
        found = []
        if route not in TEXT_EXEMPT:
            found = text_problems(page.texts, one_word_msgids, set(allowed), region_names)
        sweep.problems.extend(f"{where}: {p}" for p in dict.fromkeys(found))
        for link in page.links:
            target, _ = urldefrag(link)
            if not target.startswith("/") or target.startswith(SKIPPED_PREFIXES):
                continue
            if target in visited:
                continue
            target_route = route_of(urlsplit(target).path)
            if target_route is None:
                sweep.problems.append(f"{target}: no such page (linked from {url})")
                continue
            limit = PER_BINARY_ROUTE if target.endswith((".pdf", ".xlsx", ".docx")) else PER_ROUTE
            if seen_per_route[target_route] >= limit:
                continue
            seen_per_route[target_route] += 1
            queue.append((target, url))
    return sweep


def _query(response) -> str:
    query = response.request.get("QUERY_STRING", "")
    return f"?{query}" if query else ""
