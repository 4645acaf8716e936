"""Run the test suite on PostgreSQL + Redis when they answer, else on SQLite (and say so).

With REQUIRE_SERVICES=1 a missing service is an error, never a silent fallback.
"""

from __future__ import annotations

import os
import shutil
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal"
# Tried after the default when DATABASE_URL is not set: on a stock Debian cluster TCP asks for
# a password, and scripts/bootstrap.sh gives the postgres role this one.
PASSWORD_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/portal"
# CHROMIUM: another binary (a test points it at a missing one to see the browser tests skipped).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def postgres_answers(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not usable"
        return str(exc).strip().splitlines()[0]
    return None


def redis_answers(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:
        return str(exc)
    return None


def database_url() -> tuple[str, str | None]:
    """DATABASE_URL, or the first default that answers; and why it does not answer."""
    if url := os.environ.get("DATABASE_URL"):
        return url, postgres_answers(url)
    err = postgres_answers(DEFAULT_DATABASE_URL)
    if err and postgres_answers(PASSWORD_DATABASE_URL) is None:
        return PASSWORD_DATABASE_URL, None
    return DEFAULT_DATABASE_URL, err


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (tests/e2e/conftest.py skips or fails them)."""
    if os.path.exists(CHROMIUM):
        return None
    if os.geteuid() != 0:
        why = "not root, so scripts/bootstrap.sh could not install it"
    elif shutil.which("apt-get") is None:
        why = "no apt-get, so scripts/bootstrap.sh could not install it"
    else:
        why = "scripts/bootstrap.sh did not install it: see its output"
    return f"{CHROMIUM} is missing ({why})"


def main() -> int:
    required = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}
    db_url, db_err = database_url()
    broker_url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    problems = {}
    if db_err:
        problems["PostgreSQL"] = f"{db_url}: {db_err}"
    if err := redis_answers(broker_url):
        problems["Redis"] = f"{broker_url}: {err}"

    if problems and required:
        for name, why in problems.items():
            print(f"ERROR: {name} does not answer ({why}) and REQUIRE_SERVICES=1", file=sys.stderr)
        return 3
    if why := browser_missing():
        # The same line again in pytest's summary (tests/e2e/conftest.py).
        verdict = "an ERROR (REQUIRE_SERVICES=1)" if required else "SKIPPED"
        print(f"\n!!!! BROWSER TESTS {verdict}: {why}.\n", file=sys.stderr)

    if "PostgreSQL" in problems:
        print(f"NOTE: PostgreSQL not reachable ({problems['PostgreSQL']}); running on SQLite.")
        os.environ["DATABASE_URL"] = "sqlite:///var/test.sqlite3"
    else:
        os.environ["DATABASE_URL"] = db_url
        print(f"Tests run on PostgreSQL: {db_url}")
    if "Redis" in problems:
        print(f"NOTE: Redis not reachable ({problems['Redis']}); tests needing it are skipped.")
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ["TEST_REDIS_URL"] = ""
    else:
        os.environ["CELERY_BROKER_URL"] = broker_url
        os.environ["TEST_REDIS_URL"] = broker_url
        print(f"Tests use Redis: {broker_url}")
    os.environ.setdefault("EMAIL_URL", "memorymail://")
    args = [sys.executable, "-m", "pytest", *sys.argv[1:]]
    os.execv(sys.executable, args)


if __name__ == "__main__":
    sys.exit(main())
