"""End to end on real components: a Celery worker process on Redis sends the invitation to a
real SMTP server on loopback, and the link in it accepts the invitation."""

from __future__ import annotations

import re

from django.test import Client

from consumers.models import ConsumerStatus
from tests.conftest import message_parts, wait_for


def test_a_real_worker_delivers_the_invitation_over_smtp(make, celery_worker_process, smtp_server):
    celery_worker_process.start(EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}")
    consumer = make.user("worker.invitee", email="worker.invitee@example.org")
    wait_for(lambda: smtp_server.messages, timeout=30, message="the invitation at the SMTP server")
    message = smtp_server.messages[0]
    assert message["To"] == "worker.invitee@example.org"
    text, html = message_parts(message)
    assert "worker.invitee.vmr@acme-a.onpexip.com" in text
    assert "worker.invitee@acme-a.onpexip.com" in html
    path = re.search(r"http://portal\.test(/invite/[0-9a-f]{64}/)", text).group(1)
    assert path in html

    consumer.invitation.refresh_from_db()
    assert consumer.invitation.sent_at is not None, "the worker stamped the send"
    invitee = Client()
    assert invitee.post(path).status_code == 200
    consumer.refresh_from_db()
    assert consumer.status == ConsumerStatus.ACTIVE
