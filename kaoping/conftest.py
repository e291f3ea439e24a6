import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures
# there are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_tests(settings, tmp_path):
    # Argon2 is right for production and needlessly slow for hundreds of test logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# A transactional test (live_server, transactional_db) empties every table when it ends. On
# PostgreSQL Django does it with one TRUNCATE of all 112 tables: 0.5–0.8 s each time, as each
# table and index gets a new file, for tables that hold a few rows. The tests' flush deletes
# those rows instead (FK constraints are deferred to the commit) and truncates only the tables
# holding many (a demo's): the same empty tables, in milliseconds. Tests only: nothing else
# flushes.
_FLUSH_TRUNCATES_ABOVE = 5000


def _flush_by_delete(original):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        quoted = {table: self.quote_name(table) for table in tables}
        with self.connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s, (SELECT count(*) FROM (SELECT 1 FROM {name} "
                    f"LIMIT {_FLUSH_TRUNCATES_ABOVE + 1}) AS held)"
                    for name in quoted.values()
                ),
                list(quoted),
            )
            held = dict(cursor.fetchall())
        large = [quoted[t] for t in tables if held[t] > _FLUSH_TRUNCATES_ABOVE]
        small = [quoted[t] for t in tables if 0 < held[t] <= _FLUSH_TRUNCATES_ABOVE]
        statements = [f"TRUNCATE {', '.join(large)} CASCADE;"] if large else []
        if small:
            statements.append("SET CONSTRAINTS ALL DEFERRED;")
            statements += [f"DELETE FROM {name};" for name in small]
        return statements

    return sql_flush


@pytest.fixture(autouse=True, scope="session")
def _fast_flush():
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    DatabaseOperations.sql_flush = _flush_by_delete(original)
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _clear_throttles(request):
    # The throttles' counters live in a database table (kaoping.core.throttle) that a rollback
    # empties but a transactional test's flush does not (it is not a model's): failed logins
    # must not add up from one such test to the next.
    yield
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.core.cache import caches

        from kaoping.core.throttle import ALIAS

        with request.getfixturevalue("django_db_blocker").unblock():
            caches[ALIAS].clear()


@pytest.fixture
def county(db):
    from kaoping.testing import build_small_county

    return build_small_county()


@pytest.fixture
def client_for(client):
    """Log the test client in as one of the personas (or stay anonymous with None)."""

    def login(county, username):
        client.logout()
        if username is not None:
            client.force_login(county.users[username])
        return client

    return login


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's Chromium where it is installed (make test installs it as root); else the
        # one `playwright install chromium` brought (tools/system-packages.sh does that).
        debian = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        chromium = playwright.chromium.launch(
            executable_path=debian if os.path.exists(debian) else None,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A page the size of a cheap phone (360 px wide)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", device_scale_factor=2
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_county(transactional_db):
    from kaoping.testing import build_small_county

    return build_small_county()


# Screenshots of every browser test's main steps, kept as artifacts of the run to look at.
SCREENSHOTS = Path(
    os.environ.get("KAOPING_SCREENSHOTS") or Path(__file__).parent.parent / "var/screenshots"
)


@pytest.fixture
def shot(request):
    """`shot(page, "2-review")` saves the whole page as var/screenshots/<test>/2-review.png."""
    folder = SCREENSHOTS / request.node.name.replace("/", "_")

    def save(page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / f"{name}.png", full_page=True)

    return save


def browser_login(page, live_server, username, password="pw"):
    page.context.clear_cookies()  # whoever was signed in before is signed out
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def no_sideways_scroll(page, width: int = 360) -> None:
    """The page fits the phone: nothing scrolls sideways (a table may scroll inside its card)."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide} px wide on a {width}-px phone"


# ─── the second database ───
# `make test` runs the suite on SQLite, then again on PostgreSQL. A test that cannot reach the
# database (pytest-django blocks it unless the test asks for it) gives the same answer on both,
# so the PostgreSQL pass leaves it to the SQLite pass. A test that reaches the database another
# way — a subprocess or a connection of its own, given the run's DATABASE_URL — says so with
# `@pytest.mark.database_url` and runs in both passes.
_DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}

# The PostgreSQL pass (the second engine): a test whose answer does not depend on the engine may
# leave part of its work to the SQLite pass, saying so where it does (the sweep's crawl, the
# demo generator's determinism).
SECOND_ENGINE = os.environ.get("DATABASE_URL", "").startswith("postgres")


def _reaches_the_database(item) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("database_url"):
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    _long_first(items)
    if not SECOND_ENGINE:
        return
    kept, left = [], []
    for item in items:
        (kept if _reaches_the_database(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


# ─── the order of the work ───
# pytest-xdist (`--dist loadfile`) hands files to the workers in the order they were collected
# (`make test` passes `--no-loadscope-reorder`: xdist's own order, by number of tests, would put
# a file of one long test last); a file that runs for minutes handed out last keeps one worker
# busy while the other waits. The longest files (`--durations`, both engines) go first, so the
# workers end together; the others follow by their number of tests.
LONG_FILES = (
    "kaoping/demo/tests/test_demo_scoring.py",
    "kaoping/console/tests/test_sweep.py",
    "kaoping/accounts/tests/test_service_permissions.py",
    "kaoping/periods/tests/test_close_properties.py",
    "kaoping/demo/tests/test_demo.py",
    "kaoping/periods/tests/test_faults.py",
    "kaoping/demo/tests/test_bench_smoke.py",
    "kaoping/ledger/tests/test_every_item_recordable.py",
    "kaoping/periods/tests/test_rollups.py",
    "kaoping/demo/tests/test_demo_election.py",
    "kaoping/demo/tests/test_bench_visits.py",
    "kaoping/core/tests/test_limits_two_workers.py",
    "kaoping/core/tests/test_sqlite_url_concurrency.py",
)


# Files that share one costly build are one unit of work: xdist hands them to one worker, one
# after the other in the order given here, so the build is made once for all of them (the
# demo's scored year, `demo_year` below, takes minutes on either engine).
SHARED_UNITS = {
    "demo-year": (
        "kaoping/demo/tests/test_demo_scoring.py",
        # Last: its transactional flush ends the unit (the build is wiped anyway, below).
        "kaoping/console/tests/test_sweep.py",
    ),
}
_UNIT_OF_FILE = {path: unit for unit, paths in SHARED_UNITS.items() for path in paths}


def unit_of(nodeid: str) -> str:
    """The unit of work of a test: its file, or the shared unit its file belongs to."""
    path = nodeid.split("::")[0]
    return _UNIT_OF_FILE.get(path, path)


def _long_first(items) -> None:
    rank = {path: n for n, path in enumerate(LONG_FILES)}
    within = {path: n for paths in SHARED_UNITS.values() for n, path in enumerate(paths)}
    units: dict[str, dict[str, list]] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        units.setdefault(unit_of(path), {}).setdefault(path, []).append(item)

    def unit_rank(unit: str) -> tuple[int, int]:
        files = units[unit]
        return (
            min(rank.get(path, len(LONG_FILES)) for path in files),
            -sum(len(tests) for tests in files.values()),
        )

    items[:] = [
        item
        for unit in sorted(units, key=unit_rank)
        for path in sorted(units[unit], key=lambda path: within.get(path, 0))
        for item in units[unit][path]
    ]


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the files of a shared unit as one unit."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedUnitScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return SharedUnitScheduling(config, log)


# ─── the demo's scored year, built once for the unit "demo-year" ───
DEMO_YEAR_HOUSEHOLDS = 1500
_demo_year_state = {"built": False, "wiped": False}


@dataclass
class DemoYear:
    output: str  # what the last build printed
    # Per build: (the first results of each scheme, the number of entries). The SQLite pass
    # builds twice with the same seed, to compare; the PostgreSQL pass once (the generator's
    # determinism is Python's, the same on both engines).
    runs: list
    media: Path  # its MEDIA_ROOT, which the tests read too


@pytest.fixture(scope="session")
def _demo_year_build(django_db_setup, django_db_blocker, tmp_path_factory) -> DemoYear:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from kaoping.demo.testing import first_totals
    from kaoping.ledger.models import Entry

    media = tmp_path_factory.mktemp("demo-year") / "media"  # its reports' PDFs, its evidence
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        runs = []
        for _ in range(1 if SECOND_ENGINE else 2):
            out = StringIO()
            households = str(DEMO_YEAR_HOUSEHOLDS)
            call_command("demo", "--households", households, "--rebuild", stdout=out)
            runs.append((first_totals(), Entry.objects.count()))
    _demo_year_state["built"] = True
    return DemoYear(output=out.getvalue(), runs=runs, media=media)


@pytest.fixture
def demo_year(_demo_year_build, settings) -> DemoYear:
    """The demo county (`kaoping demo --households 1500`) with its year of scoring, committed
    before the first test of the unit "demo-year" and wiped after its last. A test that writes
    to it runs in a transaction rolled back after it, or is the unit's last (a flush)."""
    assert not _demo_year_state["wiped"], "demo_year is for the files of SHARED_UNITS['demo-year']"
    settings.MEDIA_ROOT = _demo_year_build.media
    return _demo_year_build


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # the test's own fixtures are torn down first (a transactional test's flush)
    # Without a next test every fixture has been torn down, the test database too (it is
    # made again, empty, if more tests come): nothing to wipe, and no database to wipe it in.
    ends_unit = nextitem is not None and unit_of(nextitem.nodeid) != unit_of(item.nodeid)
    if _demo_year_state["built"] and not _demo_year_state["wiped"] and ends_unit:
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        from kaoping.demo.reset import wipe_all

        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        with item.config.stash[blocking_manager_key].unblock():
            wipe_all()
    if nextitem is None or ends_unit:
        _demo_year_state["wiped"] = _demo_year_state["built"]
