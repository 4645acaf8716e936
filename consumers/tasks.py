"""Tasks of the consumers app: load by id, call a service. The periodic ones are listed in
portal.celery.PERIODIC_JOBS."""

from __future__ import annotations

from celery import shared_task

from .services import batch, invitations, retention


@shared_task
def invitation_reminders_send() -> dict[str, int]:
    run = invitations.invitation_reminders_send()
    return {"sent": run.sent, "initial": run.initial}


@shared_task
def invitations_purge() -> int:
    return invitations.invitations_purge()


@shared_task
def call_history_retention_run() -> dict[str, int]:
    run = retention.call_history_retention_run()
    return {"anonymized": run.anonymized, "deleted": run.deleted}


# Acknowledged once it has run, and given back to the broker if its worker dies (settings:
# CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST; time limits in
# CELERY_TASK_ANNOTATIONS). A redelivered or re-queued run resumes with what is left.
@shared_task(acks_late=True)
def batch_run(batch_id: int) -> str | None:
    run = batch.batch_run(batch_id=batch_id)
    return run.status if run else None


@shared_task
def batches_recover() -> int:
    return batch.batches_recover()
