"""`make bench`: seed a large tenant on PostgreSQL, measure pages and jobs beside their floors,
print a table and write bench/results/latest.json.

Each measurement runs several times (median and spread). Jobs that change data run inside a
transaction that is rolled back, so every run sees the same data.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script (`python bench/run.py`, as `make bench` does): Python put bench/ itself
    # first on sys.path, where its modules (config, load, report...) would stand as top-level
    # names; the project root is what `bench.*` and the portal's packages are imported from.
    _bench = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _bench]
    sys.path.insert(0, str(_bench.parent))

from bench.config import BENCH_DATABASE_URL, BENCH_REDIS_URL
from bench.harness import configure_django, plan_as_deployed, recreate_database
from bench.load import measure_load
from bench.measure.api import measure_api
from bench.measure.growth import measure_growth, measure_retention_steady
from bench.measure.handout import measure_handout
from bench.measure.jobs import measure_batch_delete, measure_invitations, measure_retention
from bench.measure.pages import measure_pages
from bench.report import publish

MEASUREMENTS: dict[str, Callable[[dict[str, object], dict[str, object]], None]] = {
    "pages": measure_pages,
    "api": measure_api,
    "retention": measure_retention,
    "invitations": measure_invitations,
    "batch_delete": measure_batch_delete,
    "handout": measure_handout,
    "load": measure_load,
}
# These change the tenant for good (the retention backlog done and committed, then copies of the
# tenant added): they come after every other measurement, whatever is added above.
MEASUREMENTS["retention_steady"] = measure_retention_steady
MEASUREMENTS["growth"] = measure_growth


def main() -> int:
    """BENCH_ONLY=pages,batch_delete runs some of the measurements; BENCH_REUSE=1 keeps a
    database seeded by an earlier run (both are for working on one target: a full `make bench`
    always seeds afresh and measures everything)."""
    started = time.perf_counter()
    only = [m for m in os.environ.get("BENCH_ONLY", "").split(",") if m]
    unknown = set(only) - set(MEASUREMENTS)
    if unknown:
        print(f"BENCH_ONLY: unknown {sorted(unknown)}; choose from {sorted(MEASUREMENTS)}")
        return 2
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not set_up(reuse):
        return 2
    results: dict[str, object] = {}
    seeded = seeded_tenant(reuse, results)
    from bench import seed  # its models import once Django is set up

    for name, measure in MEASUREMENTS.items():
        if only and name not in only:
            continue
        # Each measurement starts on a settled database, not on what the one before left
        # (a rolled-back retention run leaves 1.2M dead row versions and their dirty pages).
        seed.vacuum_analyze()
        measure(seeded, results)
        print(f"Measured {name}")
    results["total_seconds"] = time.perf_counter() - started
    publish(results, partial=bool(only) or reuse)
    return 0


def set_up(reuse: bool) -> bool:
    """The database (afresh unless reused) and Django on it; False if Redis does not answer."""
    if not reuse:
        print(f"Bench database: {BENCH_DATABASE_URL} (dropped and created again)")
        recreate_database()
    else:
        plan_as_deployed()  # a database created before the settings were
    configure_django()

    from django.core.cache import cache

    try:
        cache.get("bench")
    except Exception as exc:  # the Redis client's own error types
        print(f"Redis at {BENCH_REDIS_URL} does not answer ({exc}): start it (see README).")
        return False
    return True


def seeded_tenant(reuse: bool, results: dict[str, object]) -> dict[str, object]:
    """The large tenant: the one seeded earlier if reused and there, else seeded now (its time
    goes in `results`)."""
    from django.core.management import call_command

    from bench import seed

    call_command("migrate", verbosity=0)
    seeded = seed.existing() if reuse else None
    if seeded is not None and not seed.pristine(seeded):
        print("The tenant went through an earlier run's steady state or growth: seeding afresh")
        from django.db import connection

        connection.close()
        recreate_database()
        call_command("migrate", verbosity=0)
        seeded = None
    if seeded is None:
        t0 = time.perf_counter()
        seeded = seed.seed()
        results["seed_seconds"] = time.perf_counter() - t0
        print(f"Seeded in {results['seed_seconds']:.1f} s")
    else:
        print(f"Reusing the tenant seeded earlier in {BENCH_DATABASE_URL}")
    return seeded


if __name__ == "__main__":
    sys.exit(main())
