"""The steady state and growth: the nightly retention run on one day of newly aged records once
the backlog is done, and the list pages and the jobs at 1, 2 and 4 times the tenant.

Both change the tenant for good (the backlog anonymised and committed, copies of the tenant
added: bench/seed.py), so bench/run.py runs them after every other measurement, and a reused
database that went through them is seeded again.

What grows: the partner's companies (500 per copy), its consumers and call records (a copy of
Bigco with each 500 companies). The per-company pages are Bigco's, the same company at every
scale: what they show does not change, only the tables around it. The jobs change the same rows
at every scale (the retention run: the day's newly aged records, which the copies leave alone;
the batch delete: 10,000 of Bigco's users) or rows that grow with the tenant (the invitation
jobs: every company's pending invitations).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bench.config import RUNS, SLOW_RUNS
from bench.harness import CountedInRollback, stats, timed, timed_together
from bench.measure.jobs import batch_preview_of, batch_victims, confirmed_batch_run
from bench.measure.pages import warm_up

SCALES = (1, 2, 4)
# Medians of a page taken a few minutes apart, at each scale: fewer runs than the pages' own
# rows (100), each page timed in turns with the others.
GROWTH_PAGE_RUNS = RUNS * 6
# The scales are measured minutes apart, and a shared machine's speed drifts by more than a
# flat page grows. A fixed piece of work that reads none of the data is timed in turns with the
# pages and with the jobs: the exponents are read net of its drift (bench/report.py).
REFERENCE_ROWS = 100_000
# A job of a second or less varies by 15 % from one run to the next on a shared machine, as much
# as it may grow from 1x to 4x: it is timed more often than the jobs of many seconds.
QUICK_JOB_RUNS = RUNS * 2


def measure_retention_steady(seeded: dict[str, object], results: dict[str, object]) -> None:
    """The nightly run after one day of newly aged records, on the seeded 2M (the backlog done
    by the job itself on the night before, committed)."""
    from bench import seed

    tonight = seed.steady_night(seeded)
    setup_started = time.perf_counter()
    done = seed.steady_state(tonight)
    results["retention_steady"] = {
        **retention_tonight(tonight, RUNS),
        "night": tonight.isoformat(),
        "backlog_done": done,
        "setup_seconds": time.perf_counter() - setup_started,
    }


def retention_tonight(tonight: datetime, runs: int) -> dict[str, object]:
    from consumers.services import retention

    job = CountedInRollback(lambda: retention.call_history_retention_run(now=tonight))
    timing = timed(job, runs)
    return {
        "portal": timing,
        "rows": {"anonymized": job.result.anonymized, "deleted": job.result.deleted},
        "queries": job.queries,
        "call_records": call_records(),
    }


def measure_growth(seeded: dict[str, object], results: dict[str, object]) -> None:
    """The pages and the jobs at each scale, the tenant grown in place between them."""
    from bench import seed
    from portal.counts_cache import forget_company_counts

    started = time.perf_counter()
    tonight = seed.steady_night(seeded)
    seed.steady_state(tonight)
    pages = growth_pages(seeded)
    jobs = growth_jobs(seeded, tonight)
    points = []
    for scale in SCALES:
        grow_started = time.perf_counter()
        seed.grow(seeded, scale, tonight)
        grown = time.perf_counter() - grow_started
        # The copies' companies came by bulk_create, which sends no signal to drop the company
        # list's cached tab counts: dropped here, and counted again by the first request.
        forget_company_counts([seeded["partner"].public_id])
        for fn in pages.values():
            fn()
        point = {"scale": scale, "grow_seconds": grown, **tenant_size(seeded)}
        point["pages"] = timed_together({**pages, "reference": reference}, GROWTH_PAGE_RUNS)
        point["jobs"] = time_jobs(jobs)
        points.append(point)
        print(f"  growth {scale}x: measured ({grown:.0f} s to grow)")
    results["growth"] = {"points": points, "seconds": time.perf_counter() - started}


def reference() -> None:
    """The machine's speed: Python and PostgreSQL work (a few milliseconds of each) that reads
    no table, so it costs the same at every scale."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, %s)", [REFERENCE_ROWS])
    sum(i * i for i in range(REFERENCE_ROWS // 2))


def growth_pages(seeded: dict[str, object]) -> dict[str, Callable[[], object]]:
    """The list pages, each a request through Django's test client, signed in as the partner's
    manager (the API with a read token)."""
    from django.test import Client

    from api.services import api_token_create

    big = seeded["big"]
    client = Client()
    client.force_login(seeded["manager"])
    _token, secret = api_token_create(actor=seeded["manager"], name="growth", scopes=["read"])
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    users = f"/companies/{big.public_id}/users/"
    urls = {
        "company_list": (client, "/companies/"),
        "users_tab": (client, users),
        "users_search": (client, users + "?q=user1234"),
        "api_consumers": (api, f"/api/v1/companies/{big.public_id}/consumers"),
    }
    for who, url in urls.values():
        warm_up(who, [url])
    return {name: (lambda who=who, url=url: who.get(url)) for name, (who, url) in urls.items()}


@dataclass
class Job:
    """A job to time at each scale, each run rolled back. `rows`: the rows its last run
    changed; `own_times`: where a job that times itself puts its times (the batch delete,
    whose preview is not part of it)."""

    run: Callable[[], object]
    rows: Callable[[], int]
    own_times: list[float] | None = None
    runs: int = SLOW_RUNS


def counted(fn: Callable[[], object], rows: Callable[[object], int], runs: int = SLOW_RUNS) -> Job:
    run = CountedInRollback(fn)
    return Job(run=run, rows=lambda: rows(run.result), runs=runs)


def growth_jobs(seeded: dict[str, object], tonight: datetime) -> dict[str, Job]:
    """The nightly jobs as on `tonight` (the invitation jobs too: the copies' invitations are
    seeded relative to the same moment as the tenant's), and the batch delete of 10,000 of
    Bigco's users."""
    from consumers.services import invitations, retention

    big = seeded["big"]
    victims = batch_victims(big)
    batch_times: list[float] = []
    preview = batch_preview_of(seeded["manager"], big, victims)
    return {
        "retention_steady": counted(
            lambda: retention.call_history_retention_run(now=tonight),
            lambda run: run.anonymized + run.deleted,
            QUICK_JOB_RUNS,
        ),
        "invitation_resend": counted(
            lambda: invitations.invitation_reminders_send(now=tonight),
            lambda run: run.sent + run.initial,
        ),
        "invitation_purge": counted(
            lambda: invitations.invitations_purge(now=tonight), int, QUICK_JOB_RUNS
        ),
        "batch_delete": Job(
            run=confirmed_batch_run(preview, victims, batch_times),
            rows=lambda: len(victims),
            own_times=batch_times,
            runs=QUICK_JOB_RUNS,
        ),
    }


def time_jobs(jobs: dict[str, Job]) -> dict[str, dict[str, object]]:
    """Each job its runs (SLOW_RUNS, or QUICK_JOB_RUNS) in a row, in turns with the reference
    (ten times over, to weigh beside jobs of a second). Not in turns with the other jobs: a run
    between theirs would find PostgreSQL's buffers full of their pages (at 4x, no longer its own
    too) and be timed on the cache they left, not on its own work."""
    out: dict[str, dict[str, object]] = {}
    for name, job in jobs.items():
        if job.own_times is not None:
            job.own_times.clear()
        timings = timed_together(
            {name: job.run, "reference": lambda: [reference() for _ in range(10)]}, job.runs
        )
        out[name] = {
            "time": stats(job.own_times) if job.own_times is not None else timings[name],
            "rows": job.rows(),
            "reference": timings["reference"],
        }
    return out


def tenant_size(seeded: dict[str, object]) -> dict[str, int]:
    from consumers.models import Consumer
    from portal.models import Company

    partner = seeded["partner"]
    return {
        "companies": Company.objects.filter(partner=partner).count(),
        "consumers": Consumer.objects.filter(company__partner=partner).count(),
        "call_records": call_records(),
    }


def call_records() -> int:
    from consumers.models import CallRecord

    return CallRecord.objects.count()
