"""The jobs: call history retention, the invitation jobs and the batch delete, each beside its
SQL floor where it has one. Every run is rolled back, so each run sees the same data."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bench.config import SLOW_RUNS
from bench.harness import (
    CountedInRollback,
    rolled_back,
    run_in_rollback,
    stats,
    timed,
    timed_together,
)
from bench.job_floors import delete_floor, preview_floor, purge_floor, retention_floor


def measure_retention(seeded: dict[str, object], results: dict[str, object]) -> None:
    from django.utils import timezone

    from consumers.services import retention

    now = timezone.now()
    results["retention"] = timed_together(
        {
            "portal": run_in_rollback(lambda: retention.call_history_retention_run(now=now)),
            "floor": run_in_rollback(lambda: retention_floor(now)),
        },
        SLOW_RUNS,
    )
    with rolled_back():
        run = retention.call_history_retention_run(now=now)
    results["retention"]["rows"] = {"anonymized": run.anonymized, "deleted": run.deleted}


def measure_invitations(seeded: dict[str, object], results: dict[str, object]) -> None:
    from django.utils import timezone

    now = timezone.now()
    results["invitation_resend"] = {
        "full": resend_stats(now),
        "smaller": resend_stats(now - timedelta(days=45)),
    }
    results["invitation_purge"] = {
        "full": purge_stats(now),
        "smaller": purge_stats(now - timedelta(days=20)),
    }


def resend_stats(at: datetime) -> dict[str, object]:
    from consumers.services import invitations

    resend = CountedInRollback(lambda: invitations.invitation_reminders_send(now=at))
    timing = timed(resend, SLOW_RUNS)
    sent = resend.result.sent + resend.result.initial
    return {
        "time": timing,
        "invitations": sent,
        "queries_per_invitation": resend.queries / max(sent, 1),
    }


def purge_stats(at: datetime) -> dict[str, object]:
    from consumers.models import INVITE_PURGE_AFTER
    from consumers.services import invitations

    purge = CountedInRollback(lambda: invitations.invitations_purge(now=at))
    timings = timed_together(
        {
            "portal": purge,
            "floor": run_in_rollback(lambda: purge_floor(at - INVITE_PURGE_AFTER)),
        },
        SLOW_RUNS,
    )
    purged = purge.result
    return {
        "time": timings["portal"],
        "floor": timings["floor"],
        "invitations": purged,
        "queries_per_invitation": purge.queries / max(purged, 1),
    }


def measure_batch_delete(seeded: dict[str, object], results: dict[str, object]) -> None:
    big = seeded["big"]
    victims = batch_victims(big)
    preview = batch_preview_of(seeded["manager"], big, victims)
    previews = timed_together(
        {
            "portal": run_in_rollback(preview),
            "floor": run_in_rollback(lambda: preview_floor(big.pk, [p for _pk, p in victims])),
        },
        SLOW_RUNS,
    )
    run_time, floor = time_batch_runs(preview, victims)
    results["batch_delete"] = {"portal": run_time, "floor": floor, "items": len(victims)}
    results["batch_preview"] = {**previews, "items": len(victims)}


def batch_victims(big) -> list[tuple[int, object]]:  # type: ignore[no-untyped-def]
    from consumers.models import Consumer

    return list(
        Consumer.objects.filter(company=big, kind="user", status="active")
        .order_by("pk")
        .values_list("pk", "public_id")[:10_000]
    )


def batch_preview_of(
    actor,  # type: ignore[no-untyped-def]
    big,
    victims: list[tuple[int, object]],
) -> Callable[[], object]:
    from consumers.services import batch as batches

    def preview() -> object:
        return batches.batch_preview(
            actor=actor,
            company=big,
            kind="user",
            action="delete",
            consumer_ids=[str(p) for _pk, p in victims],
        )

    return preview


def time_batch_runs(
    preview: Callable[[], object], victims: list[tuple[int, object]]
) -> tuple[dict[str, float], dict[str, float]]:
    """The confirmed run's times beside the floor's. The run's own time is taken inside run()
    (the preview it needs is not part of it)."""
    run_samples: list[float] = []
    run = confirmed_batch_run(preview, victims, run_samples)
    deletes = timed_together(
        {"run": run, "floor": run_in_rollback(lambda: delete_floor([pk for pk, _p in victims]))},
        SLOW_RUNS,
    )
    return stats(run_samples), deletes["floor"]


def confirmed_batch_run(
    preview: Callable[[], object], victims: list[tuple[int, object]], samples: list[float]
) -> Callable[[], int]:
    """The batch the preview plans, confirmed and run, rolled back: each call appends the run's
    own time to `samples` (the preview it needs is not part of it) and returns the consumers
    it deleted."""
    from consumers.services import batch as batches

    def run() -> int:
        with rolled_back():
            job = preview()
            type(job).objects.filter(pk=job.pk).update(status="queued")
            start = time.perf_counter()
            done = batches.batch_run(batch_id=job.pk)
            samples.append(time.perf_counter() - start)
            assert done.succeeded == len(victims), done.succeeded
        return done.succeeded

    return run
