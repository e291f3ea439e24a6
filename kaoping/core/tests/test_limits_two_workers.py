"""The limits suite: lockouts and objection limits hold with two web worker processes.

Two gunicorn servers (one worker process each, so the test chooses which process answers) run
against one database built for the test (a temporary SQLite file, or on PostgreSQL a database
created and dropped here) and the production cache, Redis (a private redis-server on a free
port, so no other run's counters and no flush of a shared Redis). Requests alternate between the
two processes, as a load balancer would send them; the limits must hold at exactly their value.
"""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kaoping.testing import require_tool

# The test database must exist (pytest-django makes it only for tests marked so): it is copied.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
LOGIN_LIMIT, ADDRESS_LIMIT, OBJECTION_LIMIT = 5, 10, 5
WRONG = "用户名或密码错误"
LOCKED = "失败次数过多，请稍等"
ADDRESS_LOCKED = "此网络登录失败次数过多"

SEED = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)  # a copy of the test database: nothing left to apply
from kaoping.testing import build_small_county
from kaoping.publishing.tests.fixtures import posted_quarter
print(posted_quarter(build_small_county()).period.pk)
"""

BUMPS = """
import sys
import django
django.setup()
from kaoping.core import throttle
sys.stdin.readline()  # both processes are ready: count at the same time
for _ in range(40):
    throttle.bump("kaoping:test:both", 600)
"""

COUNT = """
import django
django.setup()
from kaoping.publishing.models import Objection
print(Objection.objects.count())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, what: str, path: str | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} stopped at start: {process.stderr.read()[-2000:]}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if path is None:
                return
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{what} did not answer on port {port} within 30 s", pytrace=False)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def redis_url():
    server = require_tool("redis-server", "redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def database_env(django_db_setup, django_db_blocker, tmp_path_factory):
    """The environment that points a process at a database of its own for this module: a copy
    of the test database as migrated (migrating again would take most of the time budget)."""
    from django.db import connection

    source = str(connection.settings_dict["NAME"])
    assert source.startswith("test_") or "mode=memory" in source, f"{source}: not a test database"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        import sqlite3

        path = tmp_path_factory.mktemp("limits") / "kaoping.sqlite3"
        with django_db_blocker.unblock():
            connection.ensure_connection()
            copy = sqlite3.connect(path)
            connection.connection.backup(copy)
            copy.close()
        yield {"SQLITE_PATH": str(path), "DATABASE_URL": ""}
        return
    import psycopg

    name = f"kaoping_limits_{secrets.token_hex(4)}"
    parts = urllib.parse.urlsplit(url)
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with django_db_blocker.unblock():
        template = connection.settings_dict["NAME"]
        connection.close()  # a template database must have no one connected
    with psycopg.connect(admin_url, autocommit=True) as admin:
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        except psycopg.errors.ObjectInUse:  # someone else is connected: SEED migrates instead
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def site(redis_url, database_env, tmp_path_factory):
    """Two worker processes on two ports over one database and one Redis: (ports, env, period)."""
    data_dir = tmp_path_factory.mktemp("limits-data")
    env = {
        **os.environ,
        **database_env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        # Behind one trusted proxy: each test speaks from an address of its own.
        "PROXY_HOPS": "1",
        "LOGIN_MAX_FAILURES": str(LOGIN_LIMIT),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": str(ADDRESS_LIMIT),
        "OBJECTION_MAX_PER_ADDRESS": str(OBJECTION_LIMIT),
        # The periodic jobs stay out of it: these processes count requests, nothing else.
        "PERIODIC_IN_SERVER": "0",
    }
    # Seeded without Redis: when the copy of the test database could not be made, SEED migrates,
    # and `migrate` creates the database cache's table only when that cache is configured; the
    # last test counts in that table.
    seeded = subprocess.run(
        [sys.executable, "-c", SEED],
        cwd=ROOT,
        env={**env, "CACHE_URL": ""},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    period = int(seeded.stdout.split()[-1])
    ports, servers = [_free_port(), _free_port()], []
    try:
        for port in ports:
            server = subprocess.Popen(
                [BIN / "gunicorn", "config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            servers.append(server)
        for port, server in zip(ports, servers, strict=True):
            _wait_for(port, server, "gunicorn", "/login/")
        yield ports, env, period
    finally:
        for server in servers:
            _stop(server)


class Visitor:
    """One person's browser, speaking from `address` (X-Forwarded-For, one trusted hop)."""

    def __init__(self, address: str):
        self.address = address
        self.cookies: dict[str, str] = {}

    def send(self, port: int, method: str, path: str, form: dict | None = None):
        headers = {"X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, text

    def sign_in(self, port: int, username: str, password: str) -> tuple[int, str]:
        if "csrftoken" not in self.cookies:
            self.send(port, "GET", "/login/")
        return self.send(port, "POST", "/login/", {"username": username, "password": password})


def _address() -> str:
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def _outcome(status: int, text: str) -> str:
    if status == 302:
        return "in"
    for marker, name in ((ADDRESS_LOCKED, "address"), (LOCKED, "locked"), (WRONG, "wrong")):
        if marker in text:
            return name
    return f"{status}: {' '.join(text.split())[:300]}"


def test_the_lockout_holds_at_exactly_the_limit_across_two_workers(site):
    ports, _env, _period = site
    visitor = Visitor(_address())
    outcomes = [
        _outcome(*visitor.sign_in(ports[n % 2], "carol", "wrong")) for n in range(LOGIN_LIMIT + 3)
    ]
    assert outcomes == ["wrong"] * LOGIN_LIMIT + ["locked"] * 3
    for port in ports:  # the right password does not open a locked account on either worker
        assert _outcome(*visitor.sign_in(port, "carol", "pw")) == "locked"
    # Another address is not locked out by this one's failures.
    assert _outcome(*Visitor(_address()).sign_in(ports[1], "carol", "pw")) == "in"


def test_racing_attempts_on_both_workers_check_no_more_than_the_limit(site):
    ports, _env, _period = site
    address = _address()

    def attempt(n: int) -> str:
        return _outcome(*Visitor(address).sign_in(ports[n % 2], "dave", "wrong"))

    attempts = ADDRESS_LIMIT - 1  # under the address's limit: only the account's counts here
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(attempts)))
    assert outcomes.count("wrong") == LOGIN_LIMIT, outcomes
    assert outcomes.count("locked") == attempts - LOGIN_LIMIT, outcomes


def test_many_usernames_from_one_address_lock_the_address(site):
    ports, _env, _period = site
    visitor = Visitor(_address())
    # Two wrong passwords for each of five names: no account reaches its limit, the address does.
    outcomes = [
        _outcome(*visitor.sign_in(ports[n % 2], f"1380000{n % 5:04d}", "wrong"))
        for n in range(ADDRESS_LIMIT)
    ]
    assert outcomes == ["wrong"] * ADDRESS_LIMIT
    assert _outcome(*visitor.sign_in(ports[0], "erin", "pw")) == "address"
    assert _outcome(*visitor.sign_in(ports[1], "erin", "pw")) == "address"
    assert _outcome(*Visitor(_address()).sign_in(ports[0], "erin", "pw")) == "in"


def test_the_objection_limit_holds_across_two_workers(site):
    ports, env, period = site
    visitor = Visitor(_address())
    path = f"/p/{period}/objection/"
    visitor.send(ports[0], "GET", path)
    form = {"name": "陈小明", "contact": "13800001234", "reason": "扣分有误，请核实。"}
    statuses = [
        visitor.send(ports[n % 2], "POST", path, form)[0] for n in range(OBJECTION_LIMIT + 3)
    ]
    assert statuses == [302] * OBJECTION_LIMIT + [429] * 3
    counted = subprocess.run(
        [sys.executable, "-c", COUNT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert counted.returncode == 0, counted.stderr[-2000:]
    assert int(counted.stdout.split()[-1]) == OBJECTION_LIMIT


def test_without_redis_the_database_cache_counts_atomically_across_processes(site):
    """The embedded default (no CACHE_URL): the counters' table in the shared database."""
    _ports, env, _period = site
    env = {**env, "CACHE_URL": ""}
    counters = [
        subprocess.Popen(
            [sys.executable, "-c", BUMPS], cwd=ROOT, env=env, stdin=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    time.sleep(3)  # past django.setup() in both
    for counter in counters:
        counter.stdin.write("go\n")
        counter.stdin.flush()
    assert [counter.wait(timeout=60) for counter in counters] == [0, 0]
    read = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from kaoping.core import throttle; "
            "print(throttle.count('kaoping:test:both'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert read.stdout.split()[-1:] == ["80"], read.stderr[-2000:]
