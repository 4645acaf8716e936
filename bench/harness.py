"""The bench's harness: a fresh database, Django set up against it, and the timing, rolled-back
runs and query counting that every measurement uses."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bench.config import BENCH_DATABASE_URL, BENCH_REDIS_URL, PLANNER_SETTINGS, ROOT


def recreate_database() -> None:
    name = _database_name()
    with _maintenance_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    plan_as_deployed()


def plan_as_deployed() -> None:
    """The bench database's planner costs as docker-compose.yml's PostgreSQL has them (on a
    reused database too; they apply to the connections opened after)."""
    from psycopg import sql

    alter = sql.SQL("ALTER DATABASE {} SET {} = {}")
    database = sql.Identifier(_database_name())
    with _maintenance_connection() as conn:
        for setting, value in PLANNER_SETTINGS.items():
            conn.execute(alter.format(database, sql.Identifier(setting), sql.Literal(value)))


def _database_name() -> str:
    return urlsplit(BENCH_DATABASE_URL).path.lstrip("/")


def _maintenance_connection():  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(BENCH_DATABASE_URL)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def configure_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": BENCH_DATABASE_URL,
            "REDIS_URL": BENCH_REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "EMAIL_URL": "dummymail://",
            "TWO_FACTOR_REQUIRED": "0",
            "AXES_ENABLED": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.floors"  # the portal's URLs plus the floor views


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
    }


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    """One function timed on its own (for what has no floor to take turns with)."""
    return timed_together({"it": fn}, runs)["it"]


def timed_together(
    fns: dict[str, Callable[[], object]],
    runs: int,
    prepare: dict[str, Callable[[], object]] | None = None,
) -> dict[str, dict]:
    """Each function timed `runs` times, in turns (a, b, a, b, ...): a page and its floor are
    compared under the same conditions, however the machine's speed drifts during the run.
    `prepare[name]`, if given, runs before each run of that function, untimed."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            if prepare and name in prepare:
                prepare[name]()
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: stats(values) for name, values in samples.items()}


@contextmanager
def rolled_back() -> Iterator[None]:
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class QueryCounter:
    """Counts the SQL statements run while it is installed (`connection.execute_wrapper`).
    Django's CaptureQueriesContext reads a log of at most 9,000 queries: once a long bench run
    had filled it, every count read 0."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(fn: Callable[[], object]) -> int:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        fn()
    return counter.count


def run_in_rollback(fn: Callable[[], object]) -> Callable[[], object]:
    def wrapped() -> object:
        with rolled_back():
            return fn()

    return wrapped


class CountedInRollback:
    """`fn` as a callable to time: each call runs it in a transaction that is rolled back and
    keeps what the last run returned and how many SQL queries it made (the timed run is the
    counted one, so the job is not run once more just to count)."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn = fn
        self.result: object = None
        self.queries = 0

    def __call__(self) -> None:
        from django.db import connection

        counter = QueryCounter()
        with rolled_back(), connection.execute_wrapper(counter):
            self.result = self.fn()
        self.queries = counter.count
