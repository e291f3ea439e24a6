"""One sweep over the demo county with every demo login: the access matrix and the crawl.

Both run over the demo county with its scored year, in one test: the fixture `demo_year`
(kaoping/conftest.py), built once for this file and test_demo_scoring.py.

- The matrix (matrix.py): every URL pattern × every persona × an object in and out of the
  persona's area, GET and POST, and every pattern anonymously: out of scope is refused (403 or
  404, never a page), a refused write changes nothing, nothing answers 500.
- The crawl (crawl.py): every persona follows every link from its home: no server error, no link
  to a page it cannot open, no English left on a Chinese page, no raw code where a name belongs;
  then each kind of page, opened in Chromium at 360 px, must fit the phone's width. The crawl
  runs in the SQLite pass only (SECOND_ENGINE below).
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from kaoping.api.models import ApiToken
from kaoping.conftest import SECOND_ENGINE, browser_login
from kaoping.demo.generator import DEMO_LOGINS, DEMO_PASSWORD
from kaoping.regions.models import Region

from .crawl import catalog_words, crawl
from .matrix import ROUTES, fingerprint, patterns, rows_in_and_out, writes_seen

PERSONAS = DEMO_LOGINS
PHONE_WIDTH = 360
# Open to anyone: signing in, the public postings and stores, the API's own entry points.
PUBLIC = {"login", "portal:index", "api:api-root", "api:openapi-json", "api:openapi-view"}
REFUSED = (403, 404, 405)  # 405: a page that only takes POST tells nothing either
# What the crawl finds (English left on a page, raw codes, links to refused pages, a page wider
# than the phone) is the templates' and the links', the same on both engines: the PostgreSQL
# pass of `make test` runs the access matrix alone, as kaoping/conftest.py leaves the tests that
# cannot reach the database to the SQLite pass (SECOND_ENGINE).


def persona_client(username: str) -> Client:
    user = get_user_model().objects.get(username=username)
    _token, key = ApiToken.issue(user=user, name="matrix")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.force_login(user)
    return client


def scheme_kwargs(route: str, code: str) -> dict:
    """Arguments for a pattern whose only argument is a scheme's code (schemes are county-wide)."""
    return {name: code for name in re.findall(r"<slug:(\w+)>", route)}


def _url(name, kwargs=None) -> str:
    return reverse(name, kwargs=kwargs)


def test_every_route_is_in_the_matrix():
    unmapped = [name for name, route in patterns().items() if "<" in route and name not in ROUTES]
    assert not unmapped, f"say in matrix.ROUTES how to find the object of: {unmapped}"


def access_problems() -> list[str]:
    problems = []
    routes = patterns()
    scheme_code = "liubi-liuzheng"

    anonymous = Client()
    for name, route in routes.items():
        target = ROUTES.get(name)
        if name in PUBLIC or (target and target.public) or name == "logout":
            continue
        if "<" in route and target is None:
            kwargs = scheme_kwargs(route, scheme_code)
        elif "<" in route:
            row = rows_in_and_out(target, get_user_model().objects.get(username="root"))[0]
            if row is None:
                continue
            kwargs = target.kwargs(row)
        else:
            kwargs = None
        response = anonymous.get(_url(name, kwargs))
        if response.status_code not in (302, 401, *REFUSED):
            problems.append(f"anonymous GET {name}: {response.status_code}")

    for persona in PERSONAS:
        client = persona_client(persona)
        user = get_user_model().objects.get(username=persona)
        for name, route in routes.items():
            if name == "logout":
                continue
            target = ROUTES.get(name)
            if "<" not in route or target is None:
                kwargs = scheme_kwargs(route, scheme_code) if "<" in route else None
                response = client.get(_url(name, kwargs))
                if response.status_code >= 500:
                    problems.append(f"{persona} GET {name}: {response.status_code}")
                continue
            inside, outside = rows_in_and_out(target, user)
            if inside is not None and not route.endswith(".pdf"):
                response = client.get(_url(name, target.kwargs(inside)))
                if response.status_code >= 500:
                    problems.append(f"{persona} GET {name} in scope: {response.status_code}")
            if outside is None or user.is_superuser:  # the superuser has no outside
                continue
            url = _url(name, target.kwargs(outside))
            response = client.get(url)
            if target.public:
                if response.status_code >= 500:
                    problems.append(f"{persona} GET {url} (public): {response.status_code}")
                continue
            if response.status_code not in REFUSED:
                problems.append(f"{persona} GET {url} out of scope: {response.status_code}")
            if name.startswith("api:"):
                continue
            before, writes = fingerprint(outside), []
            with writes_seen(writes):
                response = client.post(url, {})
            if response.status_code not in REFUSED:
                problems.append(f"{persona} POST {url} out of scope: {response.status_code}")
            if fingerprint(outside) != before or writes:
                problems.append(f"{persona} POST {url} out of scope changed data: {writes}")

        # The Django admin is the system superuser's alone.
        response = client.get("/admin/")
        if persona != "root" and response.status_code == 200:
            problems.append(f"{persona} opened the Django admin")
    return problems


def _sweeps():
    catalog = Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po"
    words = catalog_words(catalog)
    region_names = dict(Region.objects.values_list("code", "name"))
    region_names |= {r.official_code: r.name for r in Region.objects.all()}
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    sweeps = []
    for persona in PERSONAS:
        client = Client()
        client.force_login(get_user_model().objects.get(username=persona))
        sweeps.append(
            crawl(
                client,
                persona,
                home="/",
                one_word_msgids=words,
                region_names=region_names,
                allowed=usernames,
            )
        )
    return sweeps


def _too_wide(browser, live_server, sweeps) -> list[str]:
    """Each route's first page, as the first persona that reached it, at 360 px."""
    opened = set()
    problems = []
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        for sweep in sweeps:
            routes = {
                route: url
                for route, url in sweep.first_url_per_route().items()
                if route not in opened and not url.endswith((".pdf", ".xlsx", ".docx"))
            }
            if not routes:
                continue
            browser_login(page, live_server, sweep.persona, DEMO_PASSWORD)
            for route, url in routes.items():
                opened.add(route)
                page.goto(live_server.url + url)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE_WIDTH:
                    problems.append(f"{sweep.persona} {url}: {width} px wide")
    finally:
        context.close()
    return problems


@pytest.mark.browser
def test_the_sweep(demo_year, browser, live_server):
    problems = access_problems()
    if SECOND_ENGINE:
        assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
        return
    sweeps = _sweeps()
    for sweep in sweeps:
        # A home that leads nowhere would make the sweep pass without looking at anything.
        assert len(sweep.pages) >= 5, f"{sweep.persona} reached only {list(sweep.pages)}"
    problems += [f"{s.persona}: {p}" for s in sweeps for p in s.problems]
    problems += _too_wide(browser, live_server, sweeps)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_page_checks_find_what_they_look_for():
    from .crawl import text_problems

    names = {"330304001": "东岭街道"}
    found = text_problems(
        [
            "village",
            "half_year",
            "330304001",
            "指标 member_household_coverage 分档计分",
            "Save changes",
            "Save",
        ],
        {"Save"},
        set(),
        names,
    )
    assert found == [
        "raw code 'village'",
        "raw code 'half_year'",
        "bare region code '330304001'",
        "key 'member_household_coverage' in '指标 member_household_coverage 分档计分'",
        "English 'Save changes' in 'Save changes'",
        "English 'Save'",
    ]
    # A code beside its name is an attribute; usernames and product words are allowed.
    assert (
        text_problems(["东岭街道", "330304001", "PDF", "county"], {"Save"}, {"county"}, names) == []
    )


@pytest.mark.django_db
def test_writes_seen_names_each_write_to_a_kaoping_table():
    from django.contrib.sessions.backends.db import SessionStore

    found = []
    with writes_seen(found):
        region = Region.objects.create(code="990001", name="试验区", level="county")
        Region.objects.filter(pk=region.pk).update(name="试验区二")
        Region.objects.filter(pk=region.pk).delete()
        SessionStore().create()  # not a kaoping table: a refused request may keep its session
        Region.objects.count()
    assert found[:2] == ["INSERT INTO regions_region", "UPDATE regions_region"]
    assert "DELETE FROM regions_region" in found  # after the rows that point at it
    assert not [write for write in found if "session" in write]
