"""kaoping settings: every knob comes from the environment, with defaults that work on a laptop.

Each variable is listed in `.env.example`.
"""

import contextlib
import os
from pathlib import Path

import dj_database_url

from config.secret import secret_key_from

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
# From the environment, else DATA_DIR/secret_key (the quick start stores one), else random for
# this process alone, on which the WSGI/ASGI entry points refuse to serve unless DEBUG is on.
SECRET_KEY, SECRET_KEY_SOURCE = secret_key_from(os.environ, DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = os.environ.get("SITE_NAME", "考评")

INSTALLED_APPS = [
    # The admin with a superuser-only, audited, throttled site (kaoping/accounts/admin_site.py).
    "kaoping.accounts.admin_apps.KaopingAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    # Serves the API explorer's scripts from here, not from a CDN the CSP would refuse.
    "ninja",
    "kaoping.core",
    "kaoping.regions",
    "kaoping.people",
    "kaoping.accounts",
    "kaoping.inbox",
    "kaoping.schemes",
    "kaoping.ledger",
    "kaoping.grid",
    "kaoping.problems",
    "kaoping.evaluations",
    "kaoping.inspections",
    "kaoping.periods",
    "kaoping.outcomes",
    "kaoping.publishing",
    "kaoping.store",
    "kaoping.election",
    "kaoping.console",
    "kaoping.reports",
    "kaoping.api",
    "kaoping.demo",
]

# What a period's lifecycle sets off in the modules that read results, in order. The close runs
# "after_close" inside its transaction once results and lists are written (each reads results
# and lists and writes its own tables, never results); "finalise_blockers" return a message that
# keeps a posted period from being finalised, or None. Listed here because `periods` sits below
# these modules and may not import them.
PERIOD_HOOKS = {
    "after_close": [
        "kaoping.outcomes.services.consequences_apply",
        "kaoping.publishing.services.objections_mark_applied",
    ],
    "finalise_blockers": ["kaoping.publishing.services.objections_block_finalise"],
    # Reopening voids what the close created: results and lists (periods), then these.
    "after_reopen": ["kaoping.outcomes.services.consequences_void"],
    # Feeders push the metric values of the period being closed (e.g. grid visit coverage),
    # before the close reads them: `hook(period, spec, acting_user)`, inside its transaction.
    "before_close": [
        "kaoping.grid.coverage.coverage_push",
        "kaoping.problems.services.problems_metrics_push",
        "kaoping.evaluations.linking.link_coverage_push",
        "kaoping.inspections.services.inspections_push",
    ],
    # What feeders want said on the close page before it is confirmed (an inspection with
    # results still missing): `note(period, spec) -> list[str]`, read by the close's preview.
    "close_notes": ["kaoping.inspections.selectors.close_notes"],
}

# Metric names the system writes itself (name → the app): computed by the close, or pushed by a
# `before_close` hook. The close's preview does not ask for them, a department cannot report them
# and an evaluation plan cannot feed them (periods.metrics.system_metrics).
PUSHED_METRICS: dict[str, str] = {
    "household_points_share": "periods",
    "visit_coverage": "grid",
    "grid_visit_coverage": "grid",
    "grid_problems_on_time_rate": "problems",
    "grid_problem_satisfaction": "problems",
    "problems_on_time_rate": "problems",
    "problem_satisfaction": "problems",
    "member_household_coverage": "evaluations",
}

# The metrics a feeder fills for one scheme only, named by the scheme's own items:
# `function(scheme_id) -> set of names` (an evaluation plan's metric items, fed by its rounds).
FED_METRICS: list[str] = [
    "kaoping.evaluations.plans.fed_metrics",
    "kaoping.periods.crossscheme.source_metrics",  # another scheme's result (`source:`)
    "kaoping.inspections.selectors.sampled_metrics",  # a random inspection's (`sample:`)
]

# The to-dos each module contributes to the role homes: `provider(user) -> list[Todo]`
# (kaoping.core.todos). A new module adds its provider here; the home does not know them.
HOME_TODOS: list[str] = [
    "kaoping.inbox.todos.home_todos",
    "kaoping.periods.todos.home_todos",
    "kaoping.ledger.todos.home_todos",
    "kaoping.outcomes.todos.home_todos",
    "kaoping.store.todos.home_todos",
    "kaoping.problems.todos.home_todos",
    "kaoping.grid.todos.home_todos",
    "kaoping.election.todos.home_todos",
    "kaoping.evaluations.todos.home_todos",
]

# The one periodic runner (kaoping.core.periodic): what runs when. `kaoping tick` runs whatever
# is due once (a cron line or systemd timer in production); the embedded server runs it in a
# background thread. Each job runs at most once per slot, however often the runner is called.
# A job: {"name", "call": "dotted.path" taking (*, now) and returning a one-line summary, "every":
# minute|hour|day|week|month, "at": "HH:MM" local (day/week/month), "atomic": False if it commits
# in chunks itself}. Checked at startup (kaoping.E101). One line per job, so a module adds one.
# fmt: off
PERIODIC_JOBS: list[dict] = [
    # Evaluation rounds past their last day are closed (their results written) before finalise_due.
    {"name": "evaluation_rounds_close", "call": "kaoping.evaluations.rounds.rounds_close_due_job", "every": "day", "at": "00:20"},
    {"name": "finalise_due", "call": "kaoping.periods.jobs.finalise_due_job", "every": "day", "at": "00:30"},
    {"name": "store_daily", "call": "kaoping.store.jobs.store_daily_job", "every": "day", "at": "01:00", "atomic": False},
    {"name": "outcomes_alerts", "call": "kaoping.outcomes.jobs.outcomes_alerts_job", "every": "day", "at": "07:00"},
    {"name": "grid_overdue_reminders", "call": "kaoping.grid.coverage.overdue_remind", "every": "day", "at": "08:00"},
    {"name": "problems_escalate", "call": "kaoping.problems.services.problems_escalate_due", "every": "hour"},
    # Builds reports (each in its own transactions), so it manages them itself.
    {"name": "reports_due", "call": "kaoping.reports.services.reports_due", "every": "hour", "atomic": False},
    # The election round's weekly analysis report (换届工作周报), per township and paired department.
    {"name": "election_weekly", "call": "kaoping.reports.election.election_weekly_job", "every": "week", "at": "07:30", "atomic": False},
]
# fmt: on

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A login signed in with a temporary password may only change it (accounts.middleware).
    "kaoping.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kaoping.core.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kaoping.console.context.navigation",
                "kaoping.core.csp.csp_nonce",
            ],
        },
    }
]

# SQLite is the embedded default. WAL lets readers run during a write, and IMMEDIATE takes the
# write lock at BEGIN so two writers queue instead of failing with "database is locked" mid-way.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    # A large import holds the write lock for tens of seconds; other writers wait.
    "timeout": int(os.environ.get("SQLITE_TIMEOUT", "60")),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    # A fresh clone has no var/ yet; SQLite creates the file but not its directory.
    Path(os.environ.get("SQLITE_PATH") or DATA_DIR / "kaoping.sqlite3").parent.mkdir(
        parents=True, exist_ok=True
    )
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(DATA_DIR / "kaoping.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Also for sqlite:// in DATABASE_URL: without these, concurrent writers fail mid-way.
    # Kept open between requests, as on PostgreSQL: opening one and reading the schema of a
    # hundred tables costs 1.4 ms, a sixth of a signed-in page's budget (issue 18). A restore
    # swaps the file only with the server stopped (`kaoping restore` says so).
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    _redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    # The page cache and the throttles' counters (kaoping.core.throttle) in one Redis.
    CACHES = {"default": _redis, "limits": dict(_redis)}
else:
    # The throttles' counters (kaoping.core.throttle) must be shared by every worker process:
    # without Redis they live in the database (a table `migrate` creates), which all workers
    # share, and count atomically. The page cache stays in each process's memory.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "limits": {
            "BACKEND": "kaoping.core.throttle.AtomicDatabaseCache",
            "LOCATION": "kaoping_limits_cache",
            # Culling drops live rows once past MAX_ENTRIES (expired ones go first): a limit
            # must not be forgotten early, so only a flood beyond this many counters culls.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
    }
# Public posting pages are cached whole until their period changes (kaoping.core.pagecache), and
# at most this long: the bound on how stale another worker's local cache can be. 0 turns it off.
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "60"))

# Background jobs: in-process unless a worker is configured (TASKS_BACKEND=db, then run
# `kaoping db_worker`).
# A running job (an import's commit) renews its lease as it goes; one not renewed for this long
# has no live process behind it (kill -9, a restart) and may be started again. Longer than the
# longest single write transaction (an import's write pass).
LEASE_STALE_SECONDS = int(os.environ.get("LEASE_STALE_SECONDS", "300"))
if os.environ.get("TASKS_BACKEND", "immediate") == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# The server process runs the periodic jobs (PERIODIC_JOBS) itself, every 60 s, in a background
# thread: on by default in the embedded default (SQLite, no cron); with PostgreSQL the default is
# a cron line or systemd timer running `kaoping tick` (README). Never in tests or commands.
PERIODIC_IN_SERVER = (
    env_bool("PERIODIC_IN_SERVER", False)
    if os.environ.get("PERIODIC_IN_SERVER", "").strip()
    else DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins per (username, address) before the door closes for LOGIN_LOCKOUT_SECONDS.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# Failed logins from one address, whatever the usernames, before that address is shut out for
# LOGIN_ADDRESS_LOCKOUT_SECONDS (guessing across many accounts). A village office behind one
# address has room for its people's typos.
LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"))
LOGIN_ADDRESS_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_ADDRESS_LOCKOUT_SECONDS", "900"))

# The interface speaks LANGUAGE_CODE whatever a phone's own language setting (no LocaleMiddleware):
# a county chooses its language once.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
# WhiteNoise warns at every start while collectstatic has not run (the quick start never runs it:
# `runserver --insecure` serves the apps' static files itself).
with contextlib.suppress(OSError):  # a read-only deployment has run collectstatic already
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Evidence (photos, PDFs behind entries): largest upload accepted, and the long side in pixels
# photos are scaled down to before they are stored. Evidence is personal data: MEDIA_ROOT is
# never served directly, only through a view that checks who may see the entry.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
EVIDENCE_MAX_PIXELS = int(os.environ.get("EVIDENCE_MAX_PIXELS", "1600"))
# The most pixels an uploaded JPEG may have before it is decoded (a 48-megapixel phone camera is
# 8000 × 6000; other formats get half); a larger one is refused, decoding it can take gigabytes.
EVIDENCE_MAX_SOURCE_PIXELS = int(os.environ.get("EVIDENCE_MAX_SOURCE_PIXELS", "50000000"))

# Production security, all behind env vars so a plain-HTTP laptop demo still works.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Trusted reverse proxies in front of the app (throttles read the client from X-Forwarded-For).
PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "1" if env_bool("BEHIND_PROXY", False) else "0"))

# Public objections (公示异议): at most this many per client address, and per posted period, in
# each window; a shared cache (CACHE_URL) makes the limits hold across web workers.
OBJECTION_MAX_PER_ADDRESS = int(os.environ.get("OBJECTION_MAX_PER_ADDRESS", "5"))
OBJECTION_MAX_PER_PERIOD = int(os.environ.get("OBJECTION_MAX_PER_PERIOD", "200"))
OBJECTION_WINDOW_SECONDS = int(os.environ.get("OBJECTION_WINDOW_SECONDS", "3600"))

# Evaluations without an account (扫码评议 /v/<code>/, 会议签到 /m/<code>/): requests per client
# address and per code or meeting in each window, and unknown codes or wrong guesses per address.
EVALUATION_CODE_WINDOW_SECONDS = int(os.environ.get("EVALUATION_CODE_WINDOW_SECONDS", "600"))
EVALUATION_CODE_MAX_PER_ADDRESS = int(os.environ.get("EVALUATION_CODE_MAX_PER_ADDRESS", "300"))
EVALUATION_CODE_MISSES_PER_ADDRESS = int(os.environ.get("EVALUATION_CODE_MISSES_PER_ADDRESS", "20"))
EVALUATION_CODE_MAX_PER_CODE = int(os.environ.get("EVALUATION_CODE_MAX_PER_CODE", "60"))
MEETING_SIGN_IN_WINDOW_SECONDS = int(os.environ.get("MEETING_SIGN_IN_WINDOW_SECONDS", "3600"))
MEETING_SIGN_IN_MAX_PER_ADDRESS = int(os.environ.get("MEETING_SIGN_IN_MAX_PER_ADDRESS", "20"))
MEETING_SIGN_IN_MAX_PER_MEETING = int(os.environ.get("MEETING_SIGN_IN_MAX_PER_MEETING", "100"))

# Outgoing mail: inbox messages are also e-mailed to logins with an address when EMAIL_HOST is
# set (empty: the inbox alone).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kaoping@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
