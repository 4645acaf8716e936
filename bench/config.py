"""What the environment sets for `make bench`: the database and cache it uses, how many runs
each measurement takes, and where the results go."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SLOW_RUNS = int(os.environ.get("BENCH_SLOW_RUNS", "3"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "30"))
# The cache is Redis, as in production (docker-compose.yml): the company list keeps its tab
# counts there, and gunicorn's workers must share it.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
# The broker of the Celery workers the handout export is measured with (its own Redis db).
BENCH_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3")
# The worker processes the parallel handout is measured with: the target is at 2 (the cores).
HANDOUT_WORKERS = tuple(
    int(n) for n in os.environ.get("BENCH_HANDOUT_WORKERS", "1,2,4").split(",") if n
)
# The load test's wrk connections: the target is at 8; 32 shows a busier day.
LOAD_CONNECTIONS = (8, 32)
# PostgreSQL's planner costs as docker-compose.yml's server sets them (its `command`), set on the
# bench's database: a portal's working set is in memory or on SSD, where reading a page out of
# order costs little more than reading the next one (PostgreSQL's documentation on
# random_page_cost). Under the default (4, for spinning disks) the planner reads a whole table
# to delete a batch of 5,000 rows by id from 100,000, and such a job grows with the table.
PLANNER_SETTINGS = {"random_page_cost": "1.1"}
