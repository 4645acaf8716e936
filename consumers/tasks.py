"""Tasks of the consumers app: load by id, call a service. The periodic ones are listed in
portal.celery.PERIODIC_JOBS."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from .services import batch, invitations, retention

logger = logging.getLogger(__name__)

SEND_RETRY_DELAY = 60


@shared_task(bind=True, max_retries=5)
def invitation_send(self: Any, invitation_id: int) -> bool:
    """Send a new (or manually re-sent) invitation. Takes an id only: no personal data in the
    broker. On SMTP failure a worker retries; in-process it leaves it to the hourly job."""
    try:
        return invitations.invitation_send_initial(invitation_id=invitation_id)
    except Exception as exc:
        if self.request.is_eager:
            logger.exception("invitation %s: send failed; the hourly job retries", invitation_id)
            return False
        raise self.retry(exc=exc, countdown=SEND_RETRY_DELAY * (self.request.retries + 1)) from exc


@shared_task
def invitation_reminders_send() -> dict[str, int]:
    run = invitations.invitation_reminders_send()
    return {"sent": run.sent, "initial": run.initial, "failed": run.failed}


@shared_task
def invitations_purge() -> int:
    return invitations.invitations_purge()


@shared_task
def call_history_retention_run() -> dict[str, int]:
    run = retention.call_history_retention_run()
    return {"anonymized": run.anonymized, "deleted": run.deleted}


@shared_task(acks_late=True)
def batch_run(batch_id: int) -> str | None:
    run = batch.batch_run(batch_id=batch_id)
    return run.status if run else None
