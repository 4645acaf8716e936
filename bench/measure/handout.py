"""The handout: the portal's PDF of a company's consumers beside bare WeasyPrint rendering the
same HTML in one process (the floor), and the export as partners get it, rendered in parts by
real Celery worker processes (1, 2 and 4) and merged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.config import BENCH_BROKER_URL, HANDOUT_WORKERS, ROOT
from bench.harness import stats, timed, timed_together

# The target is at this many worker processes (the machine's cores); the others show scaling.
TARGET_WORKERS = 2

# How long an export may take before the bench gives up on it (a worker that died).
EXPORT_TIMEOUT = 15 * 60


def measure_handout(seeded: dict[str, object], results: dict[str, object]) -> None:
    """The floor taken in turns with what it is compared with (the machine's speed drifts over
    the minutes these take): once with the portal's whole render in one process, then twice
    with the export in parts on 2 worker processes (the target); 1 and 4 workers once each."""
    from weasyprint import HTML

    from consumers.models import Consumer
    from handouts import services as handouts
    from handouts.services import HandoutOptions

    big = seeded["big"]
    html = handouts.handout_render_html(company=big)

    def floor() -> None:
        HTML(string=html, base_url=str(ROOT)).write_pdf()

    whole = timed_together(
        {"portal": lambda: handouts.handout_render_pdf(company=big), "floor": floor}, 1
    )
    parallel: dict[str, object] = {}
    floors = [whole["floor"]["median"]]
    for workers in HANDOUT_WORKERS:
        with celery_worker(workers):
            export(seeded, HandoutOptions(sections=("team_vmrs",)))  # warm-up, in parts too
            parts: list[int] = []

            def in_parts(parts: list[int] = parts) -> None:
                parts.append(export(seeded, HandoutOptions())[1])

            if workers == TARGET_WORKERS:
                turns = timed_together({"floor": floor, "parts": in_parts}, 2)
                floors += [turns["floor"]["min"], turns["floor"]["max"]]  # its two runs
                parallel[str(workers)] = {**turns["parts"], "floor": turns["floor"]}
            else:
                parallel[str(workers)] = timed(in_parts, 1)
            parallel[str(workers)]["parts"] = parts[-1]
    whole["floor"] = stats(floors)
    results["handout_pdf"] = {
        **whole,
        "consumers": Consumer.objects.filter(company=big, status="active").count(),
    }
    results["handout_parallel"] = parallel


def export(seeded: dict[str, object], options: object) -> tuple[float, int]:
    """One export through the workers: its time and how many parts it was rendered in."""
    from handouts import services as handouts
    from handouts.models import HandoutExport

    started = time.perf_counter()
    job = handouts.handout_export_start(
        actor=seeded["manager"], company=seeded["big"], fmt="pdf", options=options
    )
    deadline = started + EXPORT_TIMEOUT
    while time.perf_counter() < deadline:
        job.refresh_from_db()
        if job.status in ("done", "failed"):
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if job.status != "done":
        raise RuntimeError(f"handout export ended {job.status!r}: {job.error}")
    parts = job.parts_total
    job.file.delete(save=False)
    HandoutExport.objects.filter(pk=job.pk).delete()
    return seconds, parts


@contextmanager
def celery_worker(processes: int) -> Iterator[None]:
    """A real Celery worker with `processes` prefork processes on the bench's broker, and the
    bench queueing to it, for as long as the block runs."""
    from portal.celery import app

    env = {**os.environ, "CELERY_BROKER_URL": BENCH_BROKER_URL, "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(processes),
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"bench-{processes}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # its banner; warnings and errors still show
        start_new_session=True,
    )
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, BENCH_BROKER_URL
    try:
        app.control.purge()
        for _ in range(120):
            if app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError("the bench's Celery worker did not start")
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, broker
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
