"""The invitation lifecycle: the email, acceptance, manual and scheduled re-sends, the purge.

The schedule (consumers.models: INVITE_*, Invitation.next_resend_at, InvitationQuerySet) counts
from `sent_at` (the first send, or the latest manual re-send): an unanswered invitation is
re-sent at 10 and at 30 days, and deleted with the invitee's personal data at 60 days.

Every email is written to the outbox (portal.emails) in the transaction that stamps it, and the
outbox sends it, once, after the commit: nothing here talks to the mail server, so no
transaction waits on it and a crash can neither lose a stamped email nor send an unstamped one.
The reminder job claims rows with `SELECT ... FOR UPDATE SKIP LOCKED` in bounded batches, one
short transaction each, so a second or concurrent run writes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from portal import emails
from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.jobs import work_list_batches

from .. import tokens
from ..events import consumer_event
from ..models import (
    INVITE_FIRST_RESEND,
    INVITE_SECOND_RESEND,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    Invitation,
)
from .common import audit_many
from .deletion import consumer_delete, delete_consumer_rows

logger = logging.getLogger(__name__)

# Each reminder is rendered in its batch's transaction: batches short enough to hold row locks
# briefly.
BATCH_SIZE = 200
# Purging is statements only (no email per invitation): larger batches, fewer statements.
PURGE_BATCH_SIZE = 2000

INVALID_LINK_MESSAGE = (
    "This invitation link is not valid. It may have expired, been used already, or been "
    "copied incompletely. Ask your administrator for a new invitation."
)


def accept_url(invitation: Invitation) -> str:
    token = tokens.token_for(invitation.token_nonce)
    return settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})


def invitation_create(consumer: Consumer, *, email: str, full_name: str) -> Invitation:
    """The invited user's invitation, and its email in the same transaction: the schedule
    counts from now."""
    nonce = tokens.new_nonce()
    invitation = Invitation.objects.create(
        consumer=consumer,
        email=email,
        full_name=full_name,
        token_nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
        sent_at=timezone.now(),
    )
    _send(invitation, reminder=False)
    return invitation


def _send(invitation: Invitation, *, reminder: bool) -> None:
    """Write the email to the outbox (it leaves when the caller's transaction commits)."""
    emails.invitation(invitation, link=accept_url(invitation), reminder=reminder)


def _pending() -> Any:
    return Invitation.objects.pending().select_related("consumer__company__partner")


@dataclass
class ReminderRun:
    sent: int = 0
    initial: int = 0


def invitation_reminders_send(*, now: datetime | None = None) -> ReminderRun:
    """Re-send unanswered invitations at 10 and 30 days (one email if both are due), and send
    those whose first send never went out (invitations from before the outbox).

    The due invitations are listed once, then claimed and stamped BATCH_SIZE at a time
    (portal.jobs.work_list_batches); one that became due meanwhile waits for the next run."""
    now = now or timezone.now()
    run = ReminderRun()
    due = list(_pending().resend_due(now).order_by("pk").values_list("pk", flat=True))
    for ids in work_list_batches(due, BATCH_SIZE):
        _reminders_batch(now, ids, run)
    return run


@transaction.atomic
def _reminders_batch(now: datetime, ids: Sequence[int], run: ReminderRun) -> None:
    """Claim these invitations (those still due, and not another run's), write their emails and
    stamp them, in one transaction."""
    batch = list(
        _pending()
        .resend_due(now)
        .filter(pk__any_of=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
    )
    first_ids, second_ids, initial_ids = [], [], []
    reminded: dict[tuple[int, int], list[Invitation]] = {}  # (company, day) → invitations
    stamp = timezone.now()
    for invitation in batch:
        is_initial = invitation.sent_at is None
        if is_initial:  # the email states the deletion date counted from this send
            invitation.sent_at = stamp
            initial_ids.append(invitation.pk)
        else:
            first_ids.append(invitation.pk)
            second = invitation.second_resend_due(now)
            if second:
                second_ids.append(invitation.pk)
            day = (INVITE_SECOND_RESEND if second else INVITE_FIRST_RESEND).days
            reminded.setdefault((invitation.consumer.company_id, day), []).append(invitation)
        _send(invitation, reminder=not is_initial)
    _audit_reminders(reminded)
    # Set-based stamps; a catch-up stamps both reminders with the one email.
    Invitation.objects.filter(pk__in=first_ids, first_reminder_at__isnull=True).update(
        first_reminder_at=stamp
    )
    Invitation.objects.filter(pk__in=second_ids).update(second_reminder_at=stamp)
    Invitation.objects.filter(pk__in=initial_ids).update(sent_at=stamp)
    run.sent += len(first_ids)
    run.initial += len(initial_ids)


def _audit_reminders(reminded: dict[tuple[int, int], list[Invitation]]) -> None:
    """One audit event per re-sent invitation (the consumer's timeline shows "day 10" or "day
    30"), one INSERT per company and day."""
    for (_company_id, day), sent in reminded.items():
        company = sent[0].consumer.company
        rows = [(invitation.consumer.public_id, ConsumerKind.USER) for invitation in sent]
        audit_many(None, company, "invitation_reminder", rows, data={"day": day})


def invitations_purge(*, now: datetime | None = None) -> int:
    """Delete invitations unanswered 60 days after they were sent, with the user consumer and
    every piece of the invitee's personal data; the seat is freed. Bounded batches."""
    now = now or timezone.now()
    # From the invitations' side: the pending-invitation index finds the expired ones. Listed
    # once, then claimed by id a batch at a time (portal.jobs.work_list_batches): each
    # invitation with its consumer, both locked in one statement and still expired under the
    # lock (an invitee who accepted meanwhile keeps the account). Rows another transaction
    # holds (an acceptance, a manual delete) are skipped, never waited for: whatever order it
    # locks them in, the purge cannot deadlock with it.
    expired = Invitation.objects.purge_due(now)
    due = list(expired.order_by("consumer_id").values_list("consumer_id", flat=True))
    purged = 0
    for batch in work_list_batches(due, PURGE_BATCH_SIZE):
        with transaction.atomic():
            claim = (
                expired.filter(consumer__id__any_of=batch, consumer__kind=ConsumerKind.USER)
                .select_related("consumer")
                .select_for_update(skip_locked=True, of=("self", "consumer"))
                .only("consumer__id")
                .order_by("consumer_id")
            )
            ids = _claimed_ids(claim)
            delete_consumer_rows(
                dict.fromkeys(ids, ConsumerKind.USER), actor_id=None, action="invitation_purged"
            )
            purged += len(ids)
    return purged


def _claimed_ids(claim: QuerySet[Invitation]) -> list[int]:
    """The consumer ids the claim locks, read from its rows as they come: building an
    invitation and a consumer object for each only to read an id was a third of the purge's
    time. (Django's values_list() would drop the consumer's join, and with it the lock on the
    consumer: SELECT ... FOR UPDATE OF can only name a table the query follows.) The claim
    selects the consumer's id last (`.only("consumer__id")` over select_related)."""
    sql, params = claim.query.get_compiler(using=claim.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[-1] for row in cursor.fetchall()]


def invitation_lookup(token: str) -> Invitation | None:
    """The pending invitation for a link token, or None for any kind of invalid link."""
    if not tokens.looks_like_token(token or ""):
        return None
    invitation = (
        Invitation.objects.select_related("consumer__company__partner")
        .filter(token_hash=tokens.token_hash(token), accepted_at__isnull=True)
        .first()
    )
    if invitation is None or not tokens.matches(invitation.token_nonce, token):
        return None
    if invitation.consumer.status != ConsumerStatus.INVITED:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str) -> Consumer:
    invitation = invitation_lookup(token)
    if invitation is None:
        raise ValidationError(INVALID_LINK_MESSAGE, code="invalid_link")
    # Single use, even for two clicks at the same moment: only one UPDATE finds it unaccepted.
    now = timezone.now()
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=now
    )
    if not claimed:
        raise ValidationError(INVALID_LINK_MESSAGE, code="invalid_link")
    consumer = invitation.consumer
    Consumer.objects.filter(pk=consumer.pk, status=ConsumerStatus.INVITED).update(
        status=ConsumerStatus.ACTIVE, updated_at=now
    )
    consumer.refresh_from_db()
    audit_record(None, "user.accept", consumer)
    consumer_event("invitation.accepted", consumer)
    return consumer


def _pending_invitation_of(consumer: Consumer) -> Invitation:
    invitation = Invitation.objects.filter(consumer=consumer, accepted_at__isnull=True).first()
    if consumer.kind != ConsumerKind.USER or invitation is None:
        raise ValidationError(f"{consumer.address} has no pending invitation.", code="not_pending")
    return invitation


@transaction.atomic
def invitation_resend(*, actor: Actor, consumer: Consumer) -> Invitation:
    """Send the invitation again now and restart the 10 / 30 / 60-day schedule from now."""
    ensure_can_write(actor, consumer.company.partner)
    invitation = _pending_invitation_of(consumer)
    if consumer.status != ConsumerStatus.INVITED:
        raise ValidationError(
            f"{consumer.address} is inactive: activate it before re-sending.", code="inactive"
        )
    # The email and the new schedule in one transaction: the email states the deletion date
    # counted from now, and replaces the previous one if that is still waiting to go.
    invitation.sent_at = timezone.now()
    invitation.first_reminder_at = invitation.second_reminder_at = None
    # The UPDATE takes the invitation's row lock: a purge (or an acceptance) that got there
    # first leaves nothing to update once it commits, and no email goes to an invitee just
    # purged. (The invitation's lock alone: the consumer's too would order locks against
    # invitation_accept's and could deadlock.)
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        sent_at=invitation.sent_at, first_reminder_at=None, second_reminder_at=None
    ):
        raise ValidationError(f"{consumer.address} has no pending invitation.", code="not_pending")
    audit_record(actor, "user.invitation_resend", consumer)
    _send(invitation, reminder=False)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Actor, consumer: Consumer) -> None:
    """Withdraw a pending invitation: the invited user is deleted."""
    ensure_can_write(actor, consumer.company.partner)
    _pending_invitation_of(consumer)
    audit_record(actor, "user.invitation_revoke", consumer)
    consumer_delete(actor=actor, consumer=consumer)
