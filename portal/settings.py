"""Settings, read from environment variables only.

Every variable is parsed strictly: a value that cannot be parsed stops the process at start
with a message that names the variable, instead of silently falling back to a default.
The defaults are the embedded ones (`make run`): SQLite, in-process tasks, emails to var/mail/.
"""

from __future__ import annotations

import importlib.util
import os
import re
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {value}")
    return value


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: set[str]) -> str:
    raw = env_str(name, default)
    if not raw:
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name}: scheme must be one of {allowed}, got {raw!r}")
    return raw


def env_hostname(name: str, default: str) -> str:
    value = env_str(name, default).lower().rstrip(".")
    labels = value.split(".")
    if len(labels) < 2 or not all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
    ):
        raise ImproperlyConfigured(
            f"{name}: expected a domain name like example.com, got {value!r}"
        )
    return value


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name}: one of {', '.join(sorted(choices))}, got {value!r}")


def env_admins(name: str) -> list[tuple[str, str]]:
    """`Name <address>` or plain addresses, comma-separated."""
    admins = []
    for item in env_list(name, []):
        display_name, address = parseaddr(item)
        try:
            validate_email(address)
        except ValidationError:
            raise ImproperlyConfigured(f"{name}: not an email address: {item!r}") from None
        admins.append((display_name or address, address))
    return admins


def env_nameservers(name: str) -> list[str]:
    """`host` or `host:port` entries; empty means the system resolver."""
    servers = env_list(name, [])
    for server in servers:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        if port and not port.isdigit():
            raise ImproperlyConfigured(f"{name}: bad port in {server!r}")
        if not (host or server):
            raise ImproperlyConfigured(f"{name}: empty entry")
    return servers


DEBUG = env_bool("DEBUG", False)
# SECRET_KEY signs sessions and the invitation, provisioning and password reset links. The
# embedded key is public, so with DEBUG off the process refuses to start on it: it serves
# DEBUG=1 and test runs only (pytest exports PYTEST_VERSION to the processes it starts).
# `make run` passes a demo key of its own.
EMBEDDED_SECRET_KEY = "django-insecure-embedded-default-change-me"
SECRET_KEY = env_str("SECRET_KEY", "")
if SECRET_KEY in {"", EMBEDDED_SECRET_KEY}:
    if not DEBUG and "PYTEST_VERSION" not in os.environ:
        raise ImproperlyConfigured(
            "SECRET_KEY: must be set to a long random value when DEBUG=0 "
            "(the embedded key is for DEBUG=1 and tests only)"
        )
    SECRET_KEY = EMBEDDED_SECRET_KEY  # check --deploy flags it

# The port `make run` serves on (PORT=8123 make run): links in emails follow it, unless
# SITE_URL names the public address itself.
PORT = env_int("PORT", 8000, minimum=1)
SITE_URL = env_url("SITE_URL", f"http://127.0.0.1:{PORT}", schemes={"http", "https"}).rstrip("/")
_site = urlsplit(SITE_URL)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [_site.hostname or "127.0.0.1", "localhost", "127.0.0.1", "testserver"]
)
for _host in ALLOWED_HOSTS:
    # Host names only: Django never matches "https://portal.example.com" or "host:8000".
    if not re.fullmatch(r"\*|\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\]", _host.lower()):
        raise ImproperlyConfigured(
            f"ALLOWED_HOSTS: host names only (no scheme, port or path), got {_host!r}"
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

# A site served over HTTPS gets the whole set of transport protections; each can be overridden.
HTTPS = _site.scheme == "https"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Health checks come over plain HTTP from inside the deployment (portal.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"  # the product's 403 page, with a way back
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_countries",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    # django-ninja: the API docs' template and its bundled Swagger UI (static, no CDN).
    "ninja",
    "portal",
    "licensing",
    "consumers",
    "domains",
    "handouts",
    "api",
    "project",
]

MIDDLEWARE = [
    # First: every response carries the request id, and every log line of the request.
    "portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # sign-in throttling first
    "portal.auth.PortalModelBackend",  # ModelBackend, with the membership loaded with the user
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
            "builtins": ["portal.templatetags.portal_tags"],
        },
    },
    {
        # Plain text (email subjects and text bodies, see portal.emails.render): never HTML
        # escaped, so that "O'Brien & Sons" reads as typed. Second, so that HTML pages and
        # Django admin keep the engine above; no context processors (no request in an email).
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "autoescape": False,
            "builtins": ["portal.templatetags.portal_tags"],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
try:
    DATABASES = {"default": env.db_url_config(env_str("DATABASE_URL", _default_db))}
except Exception as exc:  # django-environ raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL: cannot be parsed ({exc})") from exc
if DATABASES["default"]["ENGINE"] not in {
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
}:
    raise ImproperlyConfigured("DATABASE_URL: use a postgres:// or sqlite:/// URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server, worker and beat write to one file: writers wait their turn (a
    # write transaction takes the lock when it begins, so none fails half-way with "database
    # is locked"), and readers never wait for them (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails a request (and /readyz) instead of holding it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# An optional read replica of the same PostgreSQL database: list pages and exports read from it,
# everything else uses the primary (portal.db says which query goes where). Unset: no router,
# no middleware, nothing changes.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
# After a change, the client reads from the primary this long, so that it sees what it wrote.
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10, minimum=1)
if DATABASE_REPLICA_URL:
    try:
        _replica = env.db_url_config(DATABASE_REPLICA_URL)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL: cannot be parsed ({exc})") from exc
    if {_replica["ENGINE"], DATABASES["default"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL: a postgres:// URL, beside a postgres:// DATABASE_URL"
        )
    # The primary's connection settings (ages, health checks, time-outs, pool), unless the
    # replica's URL says otherwise. Its tests run on the primary's test database (a mirror).
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        _replica[_key] = DATABASES["default"][_key]
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], **_replica.get("OPTIONS", {})}
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["portal.db.ReplicaRouter"]
    MIDDLEWARE.insert(1, "portal.db.ReplicaPinMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_cache(url: str) -> dict[str, object]:
    """django-redis, degrading: a Redis that is down or hung is logged and skipped (a read
    misses, a write is lost) instead of failing the page, within a second or two."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }


REDIS_URL = env_url("REDIS_URL", "", schemes={"redis", "rediss"})
CACHES = {
    "default": (
        redis_cache(REDIS_URL)
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # each skipped cache call is logged

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Partner staff sign in with a second factor (TOTP). `make run` relaxes it for the demo.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", True)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Partner portal")
# Sign-in throttling (django-axes): after 5 failures for one username from one address, wait.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_CALLABLE = "portal.auth.axes_username"  # one bucket for every case of an address
# Behind BEHIND_PROXY's proxy, the client is the address that proxy appended to X-Forwarded-For.
# One function reads it, for the portal's rate limits and for django-axes alike.
CLIENT_IP_PROXY_COUNT = 1 if env_bool("BEHIND_PROXY", False) else 0
AXES_CLIENT_IP_CALLABLE = "portal.ratelimit.client_ip"

# Content Security Policy: no inline scripts anywhere; everything served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
LOGIN_REDIRECT_URL = "portal:company_list"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

LANGUAGE_CODE = "en-gb"
# One date and time format on every page: portal/formats (see portal.display).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG and HTTPS)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# WhiteNoise serves static files from STATIC_ROOT (collectstatic), or straight from the apps'
# and static/ folders with WHITENOISE_USE_FINDERS: `make run` does, as its demo runs with DEBUG
# off (the product's error pages, not Django's debug ones) and needs no collectstatic.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
WHITENOISE_AUTOREFRESH = env_bool("WHITENOISE_AUTOREFRESH", DEBUG)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Handout files are written by the worker and served by the web: MEDIA_ROOT must be one
# directory both see (docker-compose.yml's `media` volume), or MEDIA_S3_BUCKET names an
# S3-compatible bucket, through django-storages (installed on demand: django-storages[s3]; the
# credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured('MEDIA_S3_BUCKET: needs pip install "django-storages[s3]"')
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("MEDIA_S3_REGION", "") or None,
            "location": env_str("MEDIA_S3_PREFIX", ""),
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# Email: EMAIL_URL like smtp://user:pass@host:25, consolemail://, filemail:///var/mail
try:
    _email = env.email_url_config(
        env_url(
            "EMAIL_URL",
            f"filemail://{VAR_DIR / 'mail'}",
            schemes={
                "smtp",
                "smtps",
                "smtp+tls",
                "smtp+ssl",
                "consolemail",
                "filemail",
                "memorymail",
                "dummymail",
            },
        )
    )
except ImproperlyConfigured:
    raise
except Exception as exc:
    raise ImproperlyConfigured(f"EMAIL_URL: cannot be parsed ({exc})") from exc
if _email.get("EMAIL_FILE_PATH") is not None:
    # filemail:///abs/path: django-environ drops the leading slash of the absolute path.
    _email["EMAIL_FILE_PATH"] = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Video Service <no-reply@onpexip.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Sent emails stay in the outbox (portal.outbox) this long, for support questions; then deleted.
OUTBOX_KEEP_SENT_DAYS = env_int("OUTBOX_KEEP_SENT_DAYS", 14, minimum=1)

# Celery: with no broker, tasks run in-process (the embedded default).
# filesystem://localhost/ is the demo's embedded broker (`make run`): kombu's filesystem
# transport, in var/broker/ (filesystem://localhost/some/dir: there); one machine only.
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "", schemes={"redis", "rediss", "memory", "filesystem"}
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "portal")
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task (OOM, kill -9 of a child) gives the message back instead of acking it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Time limits (seconds): the soft one raises in the task, which stops with its work stamped so
# far (the long jobs resume from there: portal.jobs); the hard one kills the process.
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_TASK_TIME_LIMIT = 11 * 60
CELERY_TASK_ANNOTATIONS = {
    "consumers.tasks.batch_run": {"soft_time_limit": 30 * 60, "time_limit": 31 * 60},
    "handouts.tasks.handout_export_run": {"soft_time_limit": 20 * 60, "time_limit": 21 * 60},
    "handouts.tasks.handout_part_run": {"soft_time_limit": 20 * 60, "time_limit": 21 * 60},
    "consumers.tasks.call_history_retention_run": {
        "soft_time_limit": 60 * 60,
        "time_limit": 61 * 60,
    },
    "consumers.tasks.batches_recover": {"soft_time_limit": 60, "time_limit": 90},
    "handouts.tasks.handout_exports_recover": {"soft_time_limit": 60, "time_limit": 90},
    "portal.health.heartbeat": {"soft_time_limit": 30, "time_limit": 45},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest hard time limit: a message still running is never handed out twice.
    "visibility_timeout": 2 * 60 * 60,
    # A broker that is down or hung fails a publish in seconds (the web request goes on, and a
    # recovery job queues the work later) instead of holding the request.
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
if CELERY_BROKER_URL.startswith("filesystem:"):
    BROKER_DIR = Path(urlsplit(CELERY_BROKER_URL).path.rstrip("/") or VAR_DIR / "broker")
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
    }
# Every periodic job every this many seconds, and once when beat starts, instead of the
# production schedule (portal.celery.PERIODIC_JOBS): `make run` sets 60, so that the demo shows
# re-sends, purges and checks happening. 0: the production schedule.
PERIODIC_JOBS_EVERY = env_int("PERIODIC_JOBS_EVERY", 0, minimum=0)
CELERY_IMPORTS = ("portal.health",)  # the heartbeat task, beside /readyz that reads it
CELERY_TIMEZONE = TIME_ZONE

# Product settings
SERVICE_DOMAIN = env_hostname("SERVICE_DOMAIN", "onpexip.com")
DNS_NAMESERVERS = env_nameservers("DNS_NAMESERVERS")
DNS_LIFETIME = env_int("DNS_LIFETIME", 5, minimum=1)
DOMAIN_VERIFICATION_PREFIX = env_str("DOMAIN_VERIFICATION_PREFIX", "pexip-verification")
# Where the SRV records of a hosted calling domain point (SIP, SIP over TLS, H.323).
SIP_SERVICE_HOST = env_hostname("SIP_SERVICE_HOST", f"sip.{SERVICE_DOMAIN}")
H323_SERVICE_HOST = env_hostname("H323_SERVICE_HOST", f"h323.{SERVICE_DOMAIN}")
PAGE_SIZE = env_int("PAGE_SIZE", 25, minimum=5)
# A new company starts in trial mode: Evaluation Mode open for this many days (0: closed).
NEW_COMPANY_EVALUATION_DAYS = env_int("NEW_COMPANY_EVALUATION_DAYS", 30)
# A PDF handout of more rows than this is rendered in parts of about this many rows, by as many
# worker processes as are free at once (a Celery task per part), then merged: the 25,000-consumer
# handout in about half the time with two workers (README, Benchmarks). A room (with its phone
# line) or a QR code counts as three rows (handouts.parts.ROW_WEIGHTS). Smaller parts balance the
# workers better; each costs a fresh WeasyPrint document and a half-empty last page.
HANDOUT_PART_ROWS = env_int("HANDOUT_PART_ROWS", 4500, minimum=10)
# The font of the running page numbers a merged handout is stamped with (the handout's own).
HANDOUT_FOOTER_FONT = env_str(
    "HANDOUT_FOOTER_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
)

# Endpoints: the join link a QR code encodes ({address} is replaced), the token the call
# platform sends with call records (empty: ingest disabled), provisioning rate limit.
ENDPOINT_QR_URL_TEMPLATE = env_str(
    "ENDPOINT_QR_URL_TEMPLATE", f"https://join.{SERVICE_DOMAIN}/?to={{address}}"
)
if "{address}" not in ENDPOINT_QR_URL_TEMPLATE or not ENDPOINT_QR_URL_TEMPLATE.startswith(
    ("https://", "http://", "sip:")
):
    raise ImproperlyConfigured(
        "ENDPOINT_QR_URL_TEMPLATE: must be an https://, http:// or sip: URL containing {address}"
    )
CALL_RECORDS_INGEST_TOKEN = env_str("CALL_RECORDS_INGEST_TOKEN", "")
PROVISIONING_RATE_LIMIT = env_int("PROVISIONING_RATE_LIMIT", 30, minimum=1)  # per minute
INVITATION_RATE_LIMIT = env_int("INVITATION_RATE_LIMIT", 30, minimum=1)  # per minute and IP
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600, minimum=1)  # requests per minute and API token
# Webhooks may be sent to loopback, private and link-local addresses (never in production: the
# worker would be a way into the service's own network). Tests turn it on for their receiver.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# Days a webhook delivery stays in its endpoint's log.
WEBHOOK_KEEP_DELIVERIES_DAYS = env_int("WEBHOOK_KEEP_DELIVERIES_DAYS", 30, minimum=1)
# Password reset emails per hour: per address asked for, and per client (whether or not an
# account has the address).
PASSWORD_RESET_RATE_LIMIT = env_int("PASSWORD_RESET_RATE_LIMIT", 3, minimum=1)
PASSWORD_RESET_IP_RATE_LIMIT = env_int("PASSWORD_RESET_IP_RATE_LIMIT", 20, minimum=1)
SIP_TRANSPORT_PORT = env_int("SIP_TRANSPORT_PORT", 5061, minimum=1)

# Errors: to Sentry when SENTRY_DSN is set (nothing is initialised or sent otherwise; no
# personal data, see portal.observability), else by mail to ADMINS, the fallback.
SENTRY_DSN = env_url("SENTRY_DSN", "", schemes={"https", "http"})
ADMINS = env_admins("ADMINS")
if SENTRY_DSN:
    from portal.observability import sentry_init

    try:
        sentry_init(dsn=SENTRY_DSN)
    except Exception as exc:  # sentry_sdk's BadDsn, or anything else it refuses
        raise ImproperlyConfigured(f"SENTRY_DSN: refused by Sentry ({exc})") from exc

# Logs: one JSON object per line on stderr (LOG_FORMAT=console: for a person), with the request
# id, user id and partner id, never an email address (portal.observability).
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOG_FORMAT = env_choice("LOG_FORMAT", "json", {"json", "console"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {
        "json": {"()": "portal.observability.json_formatter"},
        "console": {"()": "portal.observability.console_formatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": LOG_FORMAT,
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {
        "handlers": ["stderr"] if SENTRY_DSN else ["stderr", "mail_admins"],
        "level": LOG_LEVEL,
    },
    "loggers": {
        # Django's own handlers (plain text) give way to the root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}
