"""Emails leave through the outbox once the transaction that wrote them commits. A test on the
`db` fixture never commits (its transaction is rolled back at the end), so nothing is sent by
itself there: `deliver()` runs what the periodic outbox job would, and the messages reach
Django's test outbox (`mail.outbox`) or the SMTP server the test set up."""

from __future__ import annotations

from datetime import datetime

from portal.models import OutboxMessage
from portal.outbox import outbox_send_due


def deliver(*, now: datetime | None = None) -> dict[str, int]:
    """Send every email due, as the periodic job would: {"sent", "retry", "failed"}."""
    return outbox_send_due(now=now)


def waiting(**filters: object) -> list[OutboxMessage]:
    """The messages written and not sent yet (pending, or being sent)."""
    return list(
        OutboxMessage.objects.filter(status__in=["pending", "sending"], **filters).order_by("pk")
    )
