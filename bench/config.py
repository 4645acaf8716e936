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
