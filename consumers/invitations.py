"""The invitation lifecycle (emails, acceptance, re-sends, purge)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from .models import Invitation


def invitation_enqueue_send(invitation: Invitation) -> None:
    from .tasks import invitation_send

    invitation_id = invitation.pk
    transaction.on_commit(lambda: invitation_send.delay(invitation_id))


INVITE_FIRST_RESEND = timedelta(days=10)
INVITE_SECOND_RESEND = timedelta(days=30)
INVITE_PURGE_AFTER = timedelta(days=60)


def next_resend_at(invitation: Invitation) -> datetime | None:
    if invitation.accepted_at is not None:
        return None
    if invitation.first_reminder_at is None:
        return invitation.schedule_started_at + INVITE_FIRST_RESEND
    if invitation.second_reminder_at is None:
        return invitation.schedule_started_at + INVITE_SECOND_RESEND
    return None
