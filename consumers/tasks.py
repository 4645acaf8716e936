from __future__ import annotations

from celery import shared_task


@shared_task
def invitation_send(invitation_id: int) -> None:
    """Send the invitation email (the invitations issue fills this in)."""
    return None
