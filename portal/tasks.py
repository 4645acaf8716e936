"""Tasks of the tenancy app: the outbox's sender and its periodic jobs."""

from __future__ import annotations

from celery import shared_task

from . import outbox


@shared_task
def outbox_send(message_id: int) -> str:
    """Send one outbox message (queued when it was written). On SMTP failure the message gets
    its next attempt time, and the periodic job below tries it again."""
    return outbox.outbox_send(message_id=message_id)


@shared_task
def outbox_send_due() -> dict[str, int]:
    return outbox.outbox_send_due()


@shared_task
def outbox_delete_sent() -> int:
    return outbox.outbox_delete_sent()
