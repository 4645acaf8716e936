"""A real Celery worker on the Redis broker picks up what the portal enqueues on commit."""

from __future__ import annotations

from portal import services
from tests.conftest import wait_for


def test_staff_invitation_is_sent_by_a_real_worker(personas, celery_worker_process):
    celery_worker_process.start()
    services.member_invite(
        actor=personas.manager, partner=personas.partner, email="worker@a.example", role="regular"
    )  # commits (transactional test): on_commit enqueues to Redis
    files = wait_for(
        lambda: list(celery_worker_process.mail_dir.glob("*.log")), message="invitation email"
    )
    text = files[0].read_text()
    assert "To: worker@a.example" in text
    assert "http://portal.test/accounts/reset/" in text
    assert "Partner A" in text
