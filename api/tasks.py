"""The API's Celery tasks (the periodic ones are listed in portal.celery.PERIODIC_JOBS)."""

from __future__ import annotations

from celery import shared_task

from . import idempotency
from .webhooks import delivery


@shared_task
def idempotency_records_purge() -> int:
    """Forget the Idempotency-Keys older than IDEMPOTENCY_TTL."""
    return idempotency.idempotency_records_purge()


@shared_task
def webhook_deliveries_send(delivery_ids: list[int]) -> dict[str, int]:
    """Send webhook deliveries written with a change (queued on its commit). A failed one gets
    its next attempt time, and the periodic job below tries it again."""
    counts: dict[str, int] = {}
    for pk in delivery_ids:
        outcome = delivery.delivery_send(delivery_id=pk)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@shared_task
def webhook_deliveries_send_due() -> dict[str, int]:
    return delivery.deliveries_send_due()


@shared_task
def webhook_deliveries_delete_old() -> int:
    return delivery.deliveries_delete_old()
