import os
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


def _long_first(items) -> None:
    rank = {path: n for n, path in enumerate(LONG_FILES)}
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    order = sorted(files, key=lambda path: (rank.get(path, len(LONG_FILES)), -len(files[path])))
    items[:] = [item for path in order for item in files[path]]
