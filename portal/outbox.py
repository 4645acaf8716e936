"""The outbox: every email leaves through here, once.

portal.emails renders an email and writes it here (`outbox_write`) in the transaction of the
change that causes it: the message exists exactly when the change committed. Its sender is
queued on commit; the periodic job (`outbox_send_due`) sends whatever is still due, so a broker
outage or a crashed worker loses nothing.

Each message is sent on its own, in three steps:
1. claim: a conditional UPDATE (pending and due → sending, one more attempt), committed before
   anything goes out, so that a concurrent sender finds it taken;
2. send over SMTP;
3. stamp it sent, or put it back with a later `next_attempt_at` (exponential back-off), or,
   after MAX_ATTEMPTS or a refusal of every recipient, mark it failed and log it.
A crash between 1 and 3 leaves the message "sending"; after OUTBOX_CLAIM_TIMEOUT the periodic
job takes it again. So the one message in flight at a crash is the only one that can go twice.

Sent (and given up) messages are deleted after OUTBOX_KEEP_SENT_DAYS; an invitee's messages go
with the rest of their personal data (`outbox_forget`, by the `about` key).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.utils import timezone

from .jobs import enqueue_on_commit
from .models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# Back-off after the n-th failed attempt: RETRY_FIRST * 2**(n-1), at most RETRY_LONGEST
# (1, 2, 4 ... 32 minutes, then hourly: 12 attempts span about seven hours of SMTP trouble).
RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(hours=1)
SEND_BATCH = 100
FAILURES_BEFORE_PAUSE = 5
DELETE_BATCH = 5000

# What outbox_send reports.
SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"


def about_key(kind: str, pk: int) -> str:
    """The `about` of a message concerning one object of a higher app (e.g. a consumer)."""
    return f"{kind}:{pk}"


def outbox_write(
    *,
    name: str,
    rendered: tuple[str, str, str],
    to: Sequence[str],
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
    about: str = "",
    holds_secret: bool = False,
    replaces_pending: bool = False,
) -> OutboxMessage:
    """Write one message (subject, text, html) in the caller's transaction; its sender is queued
    once that commits. `replaces_pending`: the same email about the same thing, not sent yet,
    is dropped (a re-send replaces the one still waiting, never adds a second)."""
    if replaces_pending and about:
        OutboxMessage.objects.filter(name=name, about=about, status=OutboxStatus.PENDING).delete()
    subject, text, html = rendered
    message = OutboxMessage.objects.create(
        name=name,
        about=about,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        cc=list(cc),
        reply_to=list(reply_to),
        subject=subject,
        text=text,
        html=html,
        holds_secret=holds_secret,
    )
    enqueue_on_commit("portal.tasks.outbox_send", message.pk)
    return message


def outbox_send(*, message_id: int, now: datetime | None = None) -> str:
    """Claim, send and stamp one message (SENT, RETRY, FAILED; SKIPPED when it is not due, or
    another sender has it). Runs outside a transaction: the claim must commit before sending."""
    message = _claim(message_id, now or timezone.now())
    if message is None:
        return SKIPPED
    try:
        _email(message).send(fail_silently=False)
    except Exception as exc:
        return _record_failure(message, exc)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="", **_cleared(message)
    )
    return SENT


@dataclass
class SendRun:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    failing: int = 0  # attempts failed in a row

    def count(self, outcome: str) -> None:
        if outcome == SKIPPED:
            return
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.failing = 0 if outcome == SENT else self.failing + 1

    @property
    def paused(self) -> bool:
        """The server is down or refusing everything: leave the rest to the next run (each
        attempt may wait EMAIL_TIMEOUT, and counts towards giving the message up)."""
        return self.failing >= FAILURES_BEFORE_PAUSE


def outbox_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: send every message due (new ones whose task was lost, retries, and
    claims a crash left behind), each on its own, oldest first."""
    now = now or timezone.now()
    run = SendRun()
    last_pk = 0
    while not run.paused:
        ids = list(
            OutboxMessage.objects.due(now)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:SEND_BATCH]
        )
        for pk in ids:
            run.count(outbox_send(message_id=pk, now=now))
            if run.paused:
                break
        if len(ids) < SEND_BATCH:
            break
        last_pk = ids[-1]
    return {"sent": run.sent, "retry": run.retry, "failed": run.failed}


def outbox_delete_sent(*, now: datetime | None = None) -> int:
    """The periodic job: delete messages sent (or given up) more than OUTBOX_KEEP_SENT_DAYS ago,
    in bounded batches."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OUTBOX_KEEP_SENT_DAYS)
    done = Q(status=OutboxStatus.SENT, sent_at__lt=cutoff) | Q(
        status=OutboxStatus.FAILED, claimed_at__lt=cutoff
    )
    deleted = 0
    while True:
        # Unordered: the partial indexes find the rows, no sort over the whole outbox.
        done_ids = OutboxMessage.objects.filter(done).order_by().values_list("pk", flat=True)
        ids = list(done_ids[:DELETE_BATCH])
        if ids:
            deleted += OutboxMessage.objects.filter(pk__any_of=ids).delete()[0]
        if len(ids) < DELETE_BATCH:
            return deleted


def outbox_forget(*, about: Sequence[str]) -> int:
    """Delete every message about these objects, sent or not (their personal data goes)."""
    if not about:
        return 0
    return OutboxMessage.objects.filter(about__any_of=list(about)).delete()[0]


def _claim(pk: int, now: datetime) -> OutboxMessage | None:
    claimed = (
        OutboxMessage.objects.due(now)
        .filter(pk=pk)
        .update(status=OutboxStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )
    # Deleted between the claim and this read (the purge took it): nothing to send.
    return OutboxMessage.objects.filter(pk=pk).first() if claimed else None


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=message.from_email,
        to=message.to,
        cc=message.cc,
        reply_to=message.reply_to,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _record_failure(message: OutboxMessage, exc: Exception) -> str:
    """Back off and try again later, or give up. The log names the message, never an address
    (an SMTP error may quote one: it stays in the row, which holds it anyway)."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    rows = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING)
    # Every recipient refused: trying again changes nothing.
    if message.attempts >= MAX_ATTEMPTS or isinstance(exc, smtplib.SMTPRecipientsRefused):
        rows.update(status=OutboxStatus.FAILED, last_error=error, **_cleared(message))
        logger.error(
            "outbox message %s (%s): gave up after %s attempt(s): %s",
            message.pk,
            message.name,
            message.attempts,
            type(exc).__name__,
        )
        return FAILED
    delay = min(RETRY_FIRST * 2 ** (message.attempts - 1), RETRY_LONGEST)
    rows.update(
        status=OutboxStatus.PENDING, next_attempt_at=timezone.now() + delay, last_error=error
    )
    logger.warning(
        "outbox message %s (%s): attempt %s failed (%s), next in %s",
        message.pk,
        message.name,
        message.attempts,
        type(exc).__name__,
        delay,
    )
    return RETRY


def _cleared(message: OutboxMessage) -> dict[str, str]:
    """A sign-in link is not kept once it has left (nor when it never will)."""
    return {"text": "", "html": ""} if message.holds_secret else {}
