"""Fault tests of the outbox and the periodic jobs' locks, with real processes (issue 16, item 9):
two `manage.py runjobs` at once, and a Celery worker killed with SIGKILL right after it sent one
reminder. Every email is counted where it arrives: a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from django.utils import timezone

from consumers.models import Invitation
from consumers.services import invitations
from licensing.models import LicenceKind
from portal import emails, outbox
from portal.models import OUTBOX_CLAIM_TIMEOUT, OutboxMessage
from tests.conftest import add_licence, database_url_for_subprocess, requires_postgres, wait_for

ROOT = Path(__file__).resolve().parent.parent


def invitees_due_a_reminder(personas, make, count: int) -> list[str]:
    """`count` invited users, invited eleven days ago: each is due its first reminder. Their
    first emails are gone from the outbox (long sent and deleted)."""
    add_licence(personas.company, LicenceKind.ENTERPRISE_WIDE, None)
    addresses = [f"invitee{i:02}@x.example" for i in range(count)]
    for i, address in enumerate(addresses):
        make.user(f"invitee{i:02}", email=address)
    OutboxMessage.objects.all().delete()
    Invitation.objects.update(sent_at=timezone.now() - timedelta(days=11))
    return addresses


def recipients(sink) -> Counter[str]:
    return Counter(message["To"] for message in sink.messages)


# --- two runjobs at once ------------------------------------------------------------------------


def runjobs(smtp_port: int) -> subprocess.Popen[str]:
    """`manage.py runjobs` in a process of its own, tasks in-process (no broker), mailing the
    test's SMTP server."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_BROKER_URL": "",
        "SITE_URL": "http://portal.test",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "runjobs"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_two_runjobs_at_once_deliver_each_email_once(personas, make, smtp_server, monkeypatch):
    requires_postgres()
    addresses = invitees_due_a_reminder(personas, make, 12)
    # And what a broker outage left in the outbox: written, its sender never queued.
    monkeypatch.setattr(outbox, "enqueue_on_commit", lambda *args: None)
    notices = [f"notice{i}@x.example" for i in range(3)]
    for address in notices:
        emails.account_exists(email=address, partner=personas.partner)
    smtp_server.messages.clear()
    accept = smtp_server.handle_DATA

    async def slowly(server, session, envelope):  # so that the two runs overlap
        await asyncio.sleep(0.05)
        return await accept(server, session, envelope)

    smtp_server.handle_DATA = slowly

    started = time.monotonic()
    runs = [runjobs(smtp_server.port) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    elapsed = time.monotonic() - started
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, f"runjobs failed:\n{out}\n{err}"
    assert recipients(smtp_server) == Counter(addresses + notices), "each email exactly once"
    reminders = [m for m in smtp_server.messages if m["To"] in addresses]
    assert all(m["Subject"].startswith("Reminder:") for m in reminders)
    assert not Invitation.objects.filter(first_reminder_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
    print(f"two runjobs at once: {elapsed:.1f} s;", [out.splitlines() for out, _ in outputs])


# --- a worker killed right after sending one reminder -------------------------------------------


@pytest.mark.parametrize(
    "server_had_it",
    [False, True],
    ids=["killed-before-the-next-was-accepted", "killed-after-the-next-was-accepted"],
)
def test_a_worker_killed_right_after_sending_one_reminder(
    personas, make, celery_worker_process, smtp_server, server_had_it
):
    """The worker sends the first reminder and stamps it; while it sends the second, it is
    killed (SIGKILL, from the SMTP server's side). After a restart and the periodic job's next
    run, nothing was lost and the first reminder never went again. At most the one message in
    flight at the crash can go twice: only if the server had already taken it."""
    addresses = invitees_due_a_reminder(personas, make, 5)
    email_url = f"smtp://127.0.0.1:{smtp_server.port}"
    worker = celery_worker_process.start(EMAIL_URL=email_url)
    accept, seen = smtp_server.handle_DATA, []

    async def crash_on_the_second(server, session, envelope):
        seen.append(envelope)
        if len(seen) != 2:
            return await accept(server, session, envelope)
        if server_had_it:
            smtp_server.messages.append(message_from_bytes(envelope.content, policy=default))
        os.kill(worker.pid, signal.SIGKILL)
        return "451 4.3.0 the sender is gone"

    smtp_server.handle_DATA = crash_on_the_second
    started = time.monotonic()
    assert invitations.invitation_reminders_send().sent == 5  # written, stamped, queued
    assert worker.wait(timeout=30) == -signal.SIGKILL
    statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == {"sent": 1, "sending": 1, "pending": 3}

    celery_worker_process.start(EMAIL_URL=email_url)  # the restart: the queued three go
    wait_for(lambda: OutboxMessage.objects.filter(status="sent").count() == 4, timeout=30)
    # The periodic job's next run once the crashed claim has timed out: the one in flight.
    assert outbox.outbox_send_due(now=timezone.now() + OUTBOX_CLAIM_TIMEOUT)["sent"] == 1
    elapsed = time.monotonic() - started

    received = recipients(smtp_server)
    in_flight = seen[1].rcpt_tos[0]
    assert set(received) == set(addresses), "nothing lost"
    assert received[seen[0].rcpt_tos[0]] == 1, "the reminder sent before the crash: once"
    expected = {a: 2 if (a == in_flight and server_had_it) else 1 for a in addresses}
    assert dict(received) == expected
    assert all(m["Subject"].startswith("Reminder:") for m in smtp_server.messages)
    assert invitations.invitation_reminders_send().sent == 0
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    print(f"crash after one reminder ({server_had_it=}): {elapsed:.1f} s")
