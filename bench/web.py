"""`kaoping bench web`: public pages under a bounded load, beside a bare Django view.

The bench database's household month is closed and posted (公示) and one household gets a
villager login. gunicorn serves config.bench_settings (the project's URLs plus `/bench/bare/`)
on 127.0.0.1 with a fixed number of sync workers, in a child process; a second process loads
one page at a time: `wrk` when it is installed (fixed connections and duration), otherwise a
Python client with a fixed number of requests over a fixed number of threads. Only 127.0.0.1 is
ever contacted, and every load is bounded in count or time.

Pages: the bare view (no database, no template), the public posting of one village (what a
villager opens from the notice board's QR code), the province-wide first page of the same
posting, the village's posting once more as a signed-in reader gets it (rendered for each
request: anonymous readers are served from kaoping.core.pagecache); the console's shell, a
second yardstick (the search page with no query as the county admin gets it: session, login,
roles, menu and base template, nothing of its own; no target); the household's phone page
(store `my_points`); the period page of the household month as the county admin opens it,
the household's subject page as its grid member opens it, and the review queue as the village's
review member opens it (a page of entries recorded for that village's households and awaiting
review); then the county dashboard (`/dashboard/`, on the village scheme's closed quarter and on
the household month) and the home page (`/`) of every role, each as a login of that role in the
same county, village or household gets it. Each page's database
queries are counted once, in the setup step (a warm request through Django's test client), and
reported beside its rate.
"""

import http.client
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .data import Shape
from .report import Out, write_report
from .runner import child_env, engine_name, prepare, run_step

WORKERS = 2
TARGET_SHARE = 0.5
TARGET_P99_MS = 50
REVIEW_ROWS = 50  # one page of the review queue
TARGET_SIGNED_IN_P50_MS = 8


# --- the child step: a posted period and a villager ----------------------------------------


def _session_cookie(user) -> str:
    """A signed-in session of `user`, as the cookie a browser would send."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE)
    session = store.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _role_logins(subject) -> dict[str, object]:
    """One login per role, anchored where the bench household lives (its county, township,
    village and grid; a department covering its village)."""
    from django.contrib.auth import get_user_model

    from kaoping.accounts.models import Role, RoleAssignment
    from kaoping.regions.codes import LEVEL_DIGITS
    from kaoping.regions.models import Department, Region

    grid = subject.region
    village = Region.objects.get(code=grid.code[: LEVEL_DIGITS["village"]])
    township = Region.objects.get(code=grid.code[: LEVEL_DIGITS["township"]])
    county = Region.objects.get(code=grid.code[: LEVEL_DIGITS["county"]])
    department, _created = Department.objects.get_or_create(
        county=county, code="BENCH", defaults={"name": "基准部门"}
    )
    department.villages.add(village)
    anchors = {
        Role.COUNTY_ADMIN: {"region": county},
        Role.TOWNSHIP_STAFF: {"region": township},
        Role.DEPARTMENT_SCORER: {"department": department},
        Role.VILLAGE_SECRETARY: {"region": village},
        Role.VILLAGE_COMMITTEE: {"region": village},
        Role.GRID_MEMBER: {"region": grid},
        Role.REVIEW_MEMBER: {"region": village},
        Role.STORE_KEEPER: {"region": village},
        Role.VILLAGER: {"region": grid, "household": subject.household},
    }
    User = get_user_model()
    logins = {}
    for role, anchor in anchors.items():
        suffix = subject.pk if role == Role.VILLAGER else grid.code
        user, created = User.objects.get_or_create(username=f"bench_{role}_{suffix}")
        if created:
            user.set_password("bench")
            user.save()
            RoleAssignment.objects.create(user=user, role=role, **anchor)
        logins[role] = user
    return logins


def _entries_to_review(*, period, subject, recorder, count: int) -> int:
    """`count` entries of the household scheme recorded today for households of `subject`'s
    village by `recorder` (its secretary), awaiting review: what the review queue lists."""
    from django.utils import timezone

    from kaoping.ledger.models import Entry, EntrySource, EntryStatus
    from kaoping.ledger.services import EntryDraft, Recorder, entries_record_batch
    from kaoping.people.models import Subject
    from kaoping.regions.codes import LEVEL_DIGITS

    village = subject.region.code[: LEVEL_DIGITS["village"]]
    waiting = Entry.objects.filter(
        scheme=period.scheme,
        status=EntryStatus.SUBMITTED,
        subject__region__code__startswith=village,
    )
    if waiting.count() >= count:  # a reused bench database has them already
        return waiting.count()
    households = list(
        Subject.objects.filter(kind="household", region__code__startswith=village)
        .select_related("region")
        .order_by("pk")[:count]
    )
    scheme, today = period.scheme, timezone.localdate()
    checker = Recorder(scheme=scheme, acting_user=recorder, source=EntrySource.CONSOLE)
    # The first item a secretary may record by hand, without evidence, for this household.
    item_code = next(
        code
        for (_variant, code) in checker.items
        if not checker.problems(
            EntryDraft(subject=households[0], item_code=code, occurred_on=today)
        )
    )
    drafts = [
        EntryDraft(subject=households[n % len(households)], item_code=item_code, occurred_on=today)
        for n in range(count)
    ]
    entries_record_batch(
        scheme=scheme, drafts=drafts, acting_user=recorder, source=EntrySource.CONSOLE
    )
    return waiting.count()


def _query_counts(pages: list[dict], cookies: dict[str, str]) -> None:
    """Each page's database queries on a warm request, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for page in pages:
        client = Client(SERVER_NAME="127.0.0.1")
        cookie = cookies.get(page["login"], "")
        if cookie:
            name, value = cookie.split("=", 1)
            client.cookies[name] = value
        for _hop in range(3):  # a role whose home sends it elsewhere is measured there
            response = client.get(page["path"])  # also fills the per-process caches
            if response.status_code not in (301, 302) or not response["Location"].startswith("/"):
                break
            page["name"] += f" → {response['Location']}"
            page["path"] = response["Location"]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page["path"])
        if response.status_code != 200:
            raise RuntimeError(f"{page['name']}: {page['path']} answered {response.status_code}")
        page["queries"] = len(queries.captured_queries)


def web_setup(*, echo: Out, period_id: int, village_period_id: int | None = None) -> dict:
    """Close (if the close benchmark has not) and post the month, close the village quarter; a
    login of every role near the middle household, their sessions and each page's queries."""
    from django.db import connection
    from django.urls import reverse

    from kaoping.accounts.models import Role
    from kaoping.accounts.scoping import system_actor
    from kaoping.ledger.models import Entry
    from kaoping.people.models import Subject
    from kaoping.periods.models import Period, PeriodStatus
    from kaoping.periods.services import period_close, period_post
    from kaoping.regions.codes import LEVEL_DIGITS
    from kaoping.store.services import accounts_credit

    period = Period.objects.select_related("scheme__region", "version").get(pk=period_id)
    if period.status == PeriodStatus.OPEN:
        echo("  closing the month first (the close benchmark has not run on this data) …")
        period_close(period=period, acting_user=system_actor())
        period.refresh_from_db()
    if period.status == PeriodStatus.CLOSED:
        period = period_post(period=period, acting_user=system_actor())
    village_period = None
    if village_period_id is not None:
        # The dashboard compares villages: their quarter closed gives it lists and scores.
        village_period = Period.objects.select_related("scheme").get(pk=village_period_id)
        if village_period.status == PeriodStatus.OPEN:
            echo("  closing the village quarter for the dashboard …")
            period_close(period=village_period, acting_user=system_actor())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum's job after a close writes a million rows
    # The household in the middle of the province: its village is neither the first nor the
    # last in any order a page may read the results in.
    households = Subject.objects.filter(kind="household")
    subject = households.select_related("region", "household").order_by("pk")[
        households.count() // 2
    ]
    village = subject.region.code[: LEVEL_DIGITS["village"]]
    logins = _role_logins(subject)
    ids = Entry.objects.filter(subject=subject, status="approved").values_list("pk", flat=True)
    accounts_credit(entry_ids=list(ids), acting_user=system_actor())
    cookies = {role: _session_cookie(user) for role, user in logins.items()}
    waiting = _entries_to_review(
        period=period, subject=subject, recorder=logins[Role.VILLAGE_SECRETARY], count=REVIEW_ROWS
    )
    echo(f"  {waiting} entries awaiting review in the household's village")
    posting = reverse("portal:posting", args=[period.pk])
    dashboard = reverse("console:dashboard")
    pages = [
        {"name": "bare Django view", "path": "/bench/bare/", "login": ""},
        {
            "name": "public posting, one village",
            "path": f"{posting}?region={village}",
            "login": "",
        },
        {"name": "public posting, province page 1", "path": posting, "login": ""},
        # A signed-in reader never gets the page cache's copy: the page rendered each time.
        {
            "name": "public posting, one village, rendered (signed in)",
            "path": f"{posting}?region={village}",
            "login": Role.VILLAGER,
        },
        # The floor of every console page: the session, the login, its roles, the menu and the
        # base template, with nothing of its own (a yardstick beside the bare view, no target).
        {
            "name": "console shell: the search page, no query (county)",
            "path": reverse("console:search"),
            "login": Role.COUNTY_ADMIN,
            "yardstick": True,
        },
        {
            "name": "household phone page (store:my_points)",
            "path": reverse("store:my_points"),
            "login": Role.VILLAGER,
        },
        {
            "name": "period page, household month (county)",
            "path": reverse("periods:detail", args=[period.pk]),
            "login": Role.COUNTY_ADMIN,
        },
        {
            "name": "subject page, the household (grid member)",
            "path": reverse("periods:subject", args=[subject.pk]),
            "login": Role.GRID_MEMBER,
        },
        {
            "name": "review queue, the village (review member)",
            "path": reverse("ledger:review"),
            "login": Role.REVIEW_MEMBER,
        },
    ]
    if village_period is not None:
        quarter = f"?scheme={village_period.scheme.code}&period={village_period.label}"
        pages += [
            {
                "name": "dashboard, county, village quarter",
                "path": dashboard + quarter,
                "login": Role.COUNTY_ADMIN,
            },
            {
                "name": "dashboard, township, village quarter",
                "path": dashboard + quarter,
                "login": Role.TOWNSHIP_STAFF,
            },
        ]
    pages.append(
        {
            "name": "dashboard, county, household month",
            "path": f"{dashboard}?scheme={period.scheme.code}&period={period.label}",
            "login": Role.COUNTY_ADMIN,
        }
    )
    pages += [
        {"name": f"home, {role.value}", "path": reverse("console:home"), "login": role.value}
        for role in Role
    ]
    echo("  counting each page's queries …")
    _query_counts(pages, cookies)
    return {
        "cookies": cookies,
        "pages": pages,
        "results": period.results.count(),
    }


STEPS = {"web_setup": web_setup}


# --- the parent: server and load ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, cookie: str = "", timeout: float = 30) -> tuple[int, int]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (127.0.0.1)
            return response.status, len(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


class Server:
    """gunicorn on 127.0.0.1 in a child process, stopped (by its own pid) when done."""

    def __init__(self, workers: int = WORKERS):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=root,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + (self.process.stderr.read() or "")[-2000:])
            try:
                if _get(self.base + "/bench/bare/", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load_wrk(url: str, *, connections: int, seconds: int, cookie: str) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout

    def latency_ms(label: str) -> float | None:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            return None
        value, unit = float(found.group(1)), found.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "client": f"wrk -t1 -c{connections} -d{seconds}s",
        "requests": requests,
        "req_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), 1),
        "p50_ms": latency_ms("50"),
        "p99_ms": latency_ms("99"),
        "errors": (int(bad.group(1)) if bad else 0)
        + (sum(int(x) for x in errors.groups()) if errors else 0),
    }


def load_python(url: str, *, connections: int, requests: int, cookie: str) -> dict:
    """`requests` GETs over `connections` threads, a new connection each (as sync gunicorn does)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    remaining = [requests]

    def worker() -> None:
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
                connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
                response = connection.getresponse()
                response.read()
                connection.close()
                ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "client": f"python, {connections} threads, {requests} requests",
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": percentile(0.99),
        "errors": errors[0],
    }


def run(
    shape: Shape,
    out_dir: Path,
    echo: Out,
    *,
    seconds: int = 15,
    connections: int = WORKERS,
    requests: int | None = None,
) -> dict:
    """Serve, load each page in turn, stop. `requests` forces the Python client."""
    built = prepare(shape, echo)
    engine = engine_name()
    setup = run_step(
        "web_setup",
        echo,
        period_id=built["household_period"],
        village_period_id=built.get("village_period"),
    )
    use_wrk = requests is None and shutil.which("wrk") is not None
    server = Server()
    measured = []
    try:
        server.wait_ready()
        for page in setup["pages"]:
            url = server.base + page["path"]
            cookie = setup["cookies"].get(page["login"], "")
            status, size = _get(url, cookie)
            if status != 200:
                raise RuntimeError(f"{page['name']}: {url} answered {status}")
            for _ in range(5):  # warm the workers' caches (templates, translations, spec)
                _get(url, cookie)
            echo(f"  {page['name']}: {url} ({size / 1024:.0f} KiB, {page['queries']} queries) …")
            if use_wrk:
                load = load_wrk(url, connections=connections, seconds=seconds, cookie=cookie)
            else:
                load = load_python(
                    url, connections=connections, requests=requests or 200, cookie=cookie
                )
            measured.append({**page, "bytes": size, **load})
            echo(f"    {load['req_per_s']} req/s, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms")
    finally:
        server.stop()
    bare = measured[0]["req_per_s"]
    for page in measured:
        page["share_of_bare"] = round(page["req_per_s"] / bare, 3) if bare else None
    public = measured[1]
    # Every page a login gets (rendered for it) against the signed-in target, at this size.
    slow = [
        p["name"]
        for p in measured
        if p["login"] and not p.get("yardstick") and (p["p50_ms"] or 1e9) > TARGET_SIGNED_IN_P50_MS
    ]
    shell = next((p for p in measured if p.get("yardstick")), None)
    result = {
        "benchmark": "web",
        "engine": engine,
        "shape": shape.key(),
        "results_posted": setup["results"],
        "server": f"gunicorn, {WORKERS} sync workers, 127.0.0.1",
        "pages": measured,
        "targets": {
            "public page >= 50 % of bare req/s": (public["share_of_bare"] or 0) >= TARGET_SHARE,
            "public page p99 <= 50 ms": (public["p99_ms"] or 1e9) <= TARGET_P99_MS,
            f"signed-in pages p50 <= {TARGET_SIGNED_IN_P50_MS} ms": not slow,
        },
        "signed_in_over_p50_target": slow,
    }
    bare_p99 = measured[0]["p99_ms"]
    header = [
        "page",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99 × bare p99",
        "× bare",
        "KiB",
        "queries",
        "errors",
    ]
    rows = [
        [
            p["name"],
            p["req_per_s"],
            p["p50_ms"],
            p["p99_ms"],
            round(p["p99_ms"] / bare_p99, 1) if bare_p99 and p["p99_ms"] else None,
            p["share_of_bare"],
            round(p["bytes"] / 1024, 1),
            p["queries"],
            p["errors"],
        ]
        for p in measured
    ]
    notes = [
        f"{engine}; {setup['results']:,} posted results ({shape.households:,} households, "
        f"{shape.total_villages:,} villages); {result['server']}; client {measured[0]['client']}, "
        "on the same 2 cores",
        f"bare view p50 {measured[0]['p50_ms']} ms, p99 {measured[0]['p99_ms']} ms"
        + (f"; console shell p50 {shell['p50_ms']} ms" if shell else "")
        + f"; signed-in pages over p50 {TARGET_SIGNED_IN_P50_MS} ms: {', '.join(slow) or 'none'}",
        *(f"{p['name']}: {p['path']}" for p in measured),
    ]
    write_report(out_dir, f"web-{engine}", result, header, rows, notes, echo)
    echo(
        f"WEB public/bare={public['share_of_bare']} public_p99_ms={public['p99_ms']} "
        f"bare_req_s={bare}"
    )
    return result
