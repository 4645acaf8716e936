"""The Celery application and the one place that defines every periodic job."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from django.conf import settings

from .locks import advisory_lock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

logger = logging.getLogger(__name__)

# What a periodic job's task returns when another run of it (or of a job sharing its lock) holds
# the lock.
JOB_SKIPPED = "skipped: already running elsewhere"


class PortalTask(Task):
    """Every task of the app. A periodic job (PERIODIC_JOBS) runs under its advisory lock,
    however it is started (beat, a second beat, `runjobs`, a direct call): a run that finds
    the lock held is skipped, never raced."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        lock = job_lock_name(self.name)
        if lock is None:
            return super().__call__(*args, **kwargs)
        with advisory_lock(f"job:{lock}") as acquired:
            if not acquired:
                logger.info("%s: skipped, another run holds the lock %r", self.name, lock)
                return JOB_SKIPPED
            return super().__call__(*args, **kwargs)


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Name -> (task, schedule). `manage.py runjobs` runs the same list once, in this order.
PERIODIC_JOBS: dict[str, tuple[str, object]] = {
    "invitation-reminders": ("consumers.tasks.invitation_reminders_send", crontab(minute=5)),
    "invitations-purge": ("consumers.tasks.invitations_purge", crontab(hour=3, minute=15)),
    "calling-domains-check": (
        "domains.tasks.calling_domains_check_pending",
        crontab(minute="*/15"),
    ),
    "calling-domain-claims-expiry": (
        "domains.tasks.calling_domain_claims_expire",
        crontab(minute=40),
    ),
    "call-history-retention": (
        "consumers.tasks.call_history_retention_run",
        crontab(hour=1, minute=30),
    ),
    "licences-expiry": ("licensing.tasks.licences_expiry_run", crontab(hour=2, minute=0)),
    # Every minute: queue again the long jobs a dead worker or a broker outage left behind
    # (their heartbeat is stale), and show beat and the workers alive (portal.health, /readyz).
    "batches-recover": ("consumers.tasks.batches_recover", crontab()),
    "handout-exports-recover": ("handouts.tasks.handout_exports_recover", crontab()),
    "heartbeat": ("portal.health.heartbeat", crontab()),
    "outbox-cleanup": ("portal.tasks.outbox_delete_sent", crontab(hour=4, minute=30)),
    "idempotency-keys-purge": ("api.tasks.idempotency_records_purge", crontab(minute=50)),
    # Webhook retries (and deliveries whose task was lost), and the old delivery logs.
    "webhooks-send": ("api.tasks.webhook_deliveries_send_due", crontab()),
    "webhooks-cleanup": ("api.tasks.webhook_deliveries_delete_old", crontab(hour=4, minute=45)),
    # Last, so that `runjobs` sends what the jobs before it wrote (with no worker to do it).
    "outbox-send": ("portal.tasks.outbox_send_due", crontab()),
}

# Jobs that work on the same rows share one lock and so run one after the other: the reminders
# and the purge both take invitations (overlapping, each held rows the other waited for).
SHARED_LOCKS = {"invitation-reminders": "invitations", "invitations-purge": "invitations"}


def job_lock_name(task_name: str) -> str | None:
    """The lock a task holds while it runs: its job's (or the one it shares); None for a task
    that is not a periodic job."""
    for job, (task, _schedule) in PERIODIC_JOBS.items():
        if task == task_name:
            return SHARED_LOCKS.get(job, job)
    return None


# A demo job's "last run" when beat first starts: long ago, so each runs at once.
NEVER_RUN = datetime(2000, 1, 1, tzinfo=UTC)


def beat_schedule(every: int) -> dict[str, dict[str, Any]]:
    """Beat's schedule: PERIODIC_JOBS; or, with `every` seconds (the demo's
    settings.PERIODIC_JOBS_EVERY), every job at once when beat first starts and then every
    `every` seconds, so that the demo shows its jobs working within a minute."""
    if not every:
        return {
            name: {"task": task, "schedule": when} for name, (task, when) in PERIODIC_JOBS.items()
        }
    return {
        name: {"task": task, "schedule": timedelta(seconds=every), "last_run_at": NEVER_RUN}
        for name, (task, _when) in PERIODIC_JOBS.items()
    }


app.conf.beat_schedule = beat_schedule(settings.PERIODIC_JOBS_EVERY)
