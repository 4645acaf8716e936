"""Queueing background tasks from services, and what keeps a long job from being stuck.

A service queues the task that will call another service back (a new calling domain queues its
DNS email, a confirmed batch queues its run). Importing the task module for that would close an
import circle (the task module imports the services), so services queue tasks by their Celery
name. The names are checked when they are queued: an unknown one raises at once, and a test
queues every task name the apps use.

The broker may be down when a request commits. The row is committed by then, so a failure to
queue is logged, never raised into the response: the page says the work will start shortly,
and a recovery job (`requeue_stalled`, one per long job) queues it again once its heartbeat
is stale.

A long job (a batch, a handout export) is a row with a status, `heartbeat_at` and `attempts`
(`LongJobQuerySet`): one run at a time takes it and stamps its heartbeat as it goes; a row whose
heartbeat is stale has no live run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .celery import app

logger = logging.getLogger(__name__)

# How often `keep_alive` stamps a heartbeat: far inside every job's stale limit (minutes).
HEARTBEAT_EVERY = 30.0
# Rows one recovery run queues again; the next run (a minute later) takes the rest.
RECOVER_LIMIT = 200


def task_by_name(name: str) -> Any:
    if name not in app.tasks:
        # Celery discovers the apps' task modules lazily (on the worker, at start); a web
        # process loads them on first use.
        app.loader.import_default_modules()
    return app.tasks[name]


def work_list_batches(ids: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """A job's work list, read once (the ids of the rows due), in batches of `size`: each batch
    is claimed by its ids (due re-checked under the lock), so it costs what its rows cost. A job
    that claimed "the first `size` still due" instead read every due row again for each batch,
    and took time in their square."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def enqueue_on_commit(name: str, *args: Any) -> None:
    """Queue the task `name` with `args` once the current transaction commits (at once outside
    one), so the worker never sees a row that is not committed yet, or one rolled back."""
    task = task_by_name(name)
    transaction.on_commit(lambda: _send(task, args))


def _send(task: Any, args: tuple[Any, ...]) -> None:
    if task.app.conf.task_always_eager:
        task.apply_async(args)  # in-process: an error is the task's own, and shows
        return
    try:
        task.apply_async(args)
    except Exception:
        # The broker is down or hung (its socket timeouts bound the wait). The row is committed:
        # the recovery job of its kind queues it again.
        logger.exception("could not queue %s%r: left for the recovery job", task.name, args)


# The statuses of a long job's row that are not finished yet (its model may have others).
QUEUED, RUNNING = "queued", "running"


class LongJobQuerySet(models.QuerySet):
    """The rows of a long job. A queued or running row whose heartbeat is older than the
    model's `STALE_AFTER` has no live run: its worker died, or it was never queued (the
    broker was down)."""

    STALE_AFTER: timedelta

    def stalled(self, now: datetime) -> LongJobQuerySet:
        return self.filter(status__in=(QUEUED, RUNNING), heartbeat_at__lt=now - self.STALE_AFTER)

    def takeable(self, now: datetime) -> LongJobQuerySet:
        """The rows a run may take: queued ones, and running ones whose run died (a live run
        keeps its row)."""
        return self.filter(
            Q(status=QUEUED) | Q(status=RUNNING, heartbeat_at__lt=now - self.STALE_AFTER)
        )

    def take(self, pk: int, **stamp: Any) -> bool:
        """Take the row `pk` for this run: a queued one, or a running one whose run died. It
        becomes running, with a fresh heartbeat, one more attempt and `stamp`. False when it is
        finished or gone, or a live run has it (a redelivered or duplicate message)."""
        now = timezone.now()
        taken = (
            self.takeable(now)
            .filter(pk=pk)
            .update(status=RUNNING, heartbeat_at=now, attempts=F("attempts") + 1, **stamp)
        )
        return bool(taken)


def requeue_stalled(rows: LongJobQuerySet, task_name: str) -> int:
    """A recovery job: claim the stalled rows with SKIP LOCKED, mark them queued with a fresh
    heartbeat, and queue `task_name(pk)` for each once that commits; the run that takes one
    resumes it. A second or concurrent run finds them fresh, or locked, and queues nothing; a
    broker still down leaves them for the run after the next stale period."""
    now = timezone.now()
    with transaction.atomic():
        claimed = rows.stalled(now).select_for_update(skip_locked=True)
        ids = list(claimed.values_list("pk", flat=True)[:RECOVER_LIMIT])
        rows.filter(pk__in=ids).update(status=QUEUED, heartbeat_at=now)
        for pk in ids:
            enqueue_on_commit(task_name, pk)
    if ids:
        logger.warning("%s: queued again %d stalled row(s): %s", task_name, len(ids), ids)
    return len(ids)


@contextmanager
def keep_alive(*rows: QuerySet[Any], every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Stamp `heartbeat_at` on each of `rows` every `every` seconds while the block runs: for a
    long step with no point of its own to stamp at (WeasyPrint rendering a PDF), so that the
    recovery job tells it from a run that died (a handout part stamps its export too). A thread
    with its own database connection does it."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                for each in rows:
                    try:
                        each.update(heartbeat_at=timezone.now())
                    except Exception:  # a missed stamp only risks a second run, not a failure
                        logger.exception("heartbeat of %s failed", each.model.__name__)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
