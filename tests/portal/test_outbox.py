"""The outbox (portal.outbox): an email is written in the transaction of the change that causes
it, sent once after the commit, retried with back-off, given up and logged after too many
failures, kept OUTBOX_KEEP_SENT_DAYS once sent; and every periodic job runs under its advisory
lock (portal.celery.PortalTask), which `runjobs` honours too."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from consumers import tasks as consumer_tasks
from consumers.models import Invitation
from consumers.services import invitations
from licensing import expiry
from licensing import tasks as licensing_tasks
from licensing.models import LicenceKind
from portal import emails, outbox
from portal import tasks as portal_tasks
from portal.celery import JOB_SKIPPED, PERIODIC_JOBS, app, job_lock_name
from portal.locks import lock_key
from portal.models import OUTBOX_CLAIM_TIMEOUT, OutboxMessage, OutboxStatus
from tests.conftest import (
    T0,
    add_licence,
    database_url_for_subprocess,
    raised,
    requires_postgres,
    run_at_once,
)
from tests.mailing import deliver, waiting
from tests.portal.test_settings import run_manage


def notice(personas, email: str = "someone@x.example") -> OutboxMessage:
    """One email (the existing-account notice), written and not sent yet."""
    emails.account_exists(email=email, partner=personas.partner)
    return OutboxMessage.objects.latest("pk")


def status_of(message: OutboxMessage) -> str:
    message.refresh_from_db()
    return message.status


# --- written with the change, sent once ----------------------------------------------------------


def test_an_email_of_a_change_that_rolls_back_never_exists(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            emails.trial_ended(personas.company, days_left=0)
            raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert deliver()["sent"] == 0 and mail.outbox == []


def test_an_email_leaves_once_its_change_commits_and_never_again(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emails.trial_ended(personas.company, days_left=0)
            assert mail.outbox == [], "nothing leaves before the commit"
    (message,) = mail.outbox
    assert message.to == ["contact@acme.example"] and message.cc == ["help@a.example"]
    assert "evaluation has ended" in message.subject and message.alternatives
    stored = OutboxMessage.objects.get()
    assert (stored.name, stored.status, stored.attempts) == ("trial_ended", "sent", 1)
    assert stored.subject == message.subject and stored.sent_at is not None
    assert deliver() == {"sent": 0, "retry": 0, "failed": 0}
    assert outbox.outbox_send(message_id=stored.pk) == outbox.SKIPPED
    assert len(mail.outbox) == 1


def test_a_refused_send_backs_off_and_goes_when_the_server_is_back(clock, personas, smtp_server):
    message = notice(personas)
    smtp_server.refuse = True
    assert deliver() == {"sent": 0, "retry": 1, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == T0 + timedelta(minutes=1)
    assert "SMTPDataError" in message.last_error
    assert deliver() == {"sent": 0, "retry": 0, "failed": 0}, "not due yet"

    clock.shift(timedelta(minutes=1))
    assert deliver()["retry"] == 1
    message.refresh_from_db()
    assert message.next_attempt_at == T0 + timedelta(minutes=3), "twice as long"
    smtp_server.refuse = False
    clock.shift(timedelta(minutes=2))
    assert deliver() == {"sent": 1, "retry": 0, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert [m["To"] for m in smtp_server.messages] == ["someone@x.example"]


def test_it_gives_up_after_the_last_attempt_and_logs_without_the_address(
    clock, personas, smtp_server, monkeypatch, caplog
):
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    message = notice(personas, "give.up@x.example")
    smtp_server.refuse = True
    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        for _ in range(3):
            deliver()
            clock.shift(outbox.RETRY_LONGEST)
    assert status_of(message) == OutboxStatus.FAILED
    assert deliver() == {"sent": 0, "retry": 0, "failed": 0}, "never tried again"
    logged = {r.getMessage(): r.levelname for r in caplog.records if r.name == "portal.outbox"}
    assert list(logged.values()) == ["WARNING", "WARNING", "ERROR"]
    assert "gave up after 3 attempt(s)" in list(logged)[-1]
    assert not any("give.up" in line for line in logged)


def test_an_address_every_server_refuses_is_given_up_at_once(personas, smtp_server):
    async def refuse_recipient(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"

    smtp_server.handle_RCPT = refuse_recipient
    message = notice(personas, "nobody@x.example")
    assert deliver() == {"sent": 0, "retry": 0, "failed": 1}
    message.refresh_from_db()
    assert message.attempts == 1 and "SMTPRecipientsRefused" in message.last_error


def test_a_message_a_crash_left_claimed_is_sent_again_after_the_claim_timeout(clock, personas):
    message = notice(personas)
    # A sender claimed it, then died before it stamped the send (or released it).
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING, claimed_at=T0, attempts=1
    )
    assert deliver()["sent"] == 0, "its sender may still be at it"
    clock.shift(OUTBOX_CLAIM_TIMEOUT - timedelta(seconds=1))
    assert deliver()["sent"] == 0
    clock.shift(timedelta(seconds=1))
    assert deliver()["sent"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_message_once(personas, monkeypatch):
    requires_postgres()
    monkeypatch.setattr(outbox, "enqueue_on_commit", lambda *args: None)  # the broker is down
    for i in range(40):
        emails.account_exists(email=f"p{i:02}@x.example", partner=personas.partner)
    results = run_at_once(*[outbox.outbox_send_due] * 4)
    assert raised(results) == []
    assert sum(r["sent"] for r in results) == 40
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{i:02}@x.example" for i in range(40)]
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


# --- what it keeps ------------------------------------------------------------------------------


def test_sent_and_given_up_messages_are_deleted_after_the_keep_days(clock, personas, settings):
    assert settings.OUTBOX_KEEP_SENT_DAYS == 14
    sent, failed, waits = notice(personas), notice(personas), notice(personas)
    deliver()
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED)
    OutboxMessage.objects.filter(pk=waits.pk).update(
        status=OutboxStatus.PENDING, next_attempt_at=T0 + timedelta(days=30)
    )
    clock.shift(timedelta(days=14) - timedelta(seconds=1))
    assert portal_tasks.outbox_delete_sent.apply().get() == 0
    clock.shift(timedelta(seconds=2))
    assert portal_tasks.outbox_delete_sent.apply().get() == 2
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [waits.pk]
    assert {sent.pk, failed.pk}.isdisjoint(OutboxMessage.objects.values_list("pk", flat=True))

    settings.OUTBOX_KEEP_SENT_DAYS = 1
    OutboxMessage.objects.filter(pk=waits.pk).update(status="sent", sent_at=T0 + timedelta(days=13))
    assert outbox.outbox_delete_sent() == 1


def test_a_keep_days_setting_that_makes_no_sense_stops_the_start():
    result = run_manage("check", OUTBOX_KEEP_SENT_DAYS="0")
    assert result.returncode != 0 and "OUTBOX_KEEP_SENT_DAYS" in result.stderr


def test_a_password_reset_goes_through_the_outbox_and_its_link_is_not_kept(personas, client):
    client.post(reverse("password_reset"), {"email": "regular@a.example"})
    (message,) = waiting(name="password_reset")
    assert message.holds_secret and "/accounts/reset/" in message.text
    assert deliver()["sent"] == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    message.refresh_from_db()
    assert (message.status, message.text, message.html) == ("sent", "", "")
    assert message.subject == mail.outbox[0].subject, "what was sent stays visible"


def test_ops_see_the_outbox_read_only_and_never_a_sign_in_link(personas, login, client):
    client.post(reverse("password_reset"), {"email": "regular@a.example"})
    (secret,) = waiting(name="password_reset")
    plain = notice(personas, "plain@x.example")
    ops = login(personas.ops)
    assert ops.get(reverse("admin:portal_outboxmessage_changelist")).status_code == 200
    assert ops.get(reverse("admin:portal_outboxmessage_add")).status_code == 403
    page = ops.get(reverse("admin:portal_outboxmessage_change", args=[secret.pk]))
    assert page.status_code == 200 and b"/accounts/reset/" not in page.content
    assert b"Choose a new password" in page.content, "its subject is shown"
    page = ops.get(reverse("admin:portal_outboxmessage_change", args=[plain.pk]))
    assert b"already has an account" in page.content
    delete = reverse("admin:portal_outboxmessage_delete", args=[plain.pk])
    assert ops.post(delete, {"post": "yes"}).status_code == 403


# --- an invitee's messages ----------------------------------------------------------------------


@pytest.fixture
def invitee(personas, make, django_capture_on_commit_callbacks):
    """An invited user whose invitation email is still waiting (the broker is down)."""
    add_licence(personas.company, LicenceKind.ENTERPRISE_USER, 5)
    with django_capture_on_commit_callbacks(execute=False):
        return make.user("waiting.invitee", email="waiting@x.example")


def test_a_resend_replaces_the_invitation_still_waiting(personas, invitee):
    (first,) = waiting(name="invitation")
    invitations.invitation_resend(actor=personas.regular, consumer=invitee)
    (second,) = waiting(name="invitation")
    assert second.pk != first.pk and second.about == first.about == f"consumer:{invitee.pk}"
    assert deliver()["sent"] == 1 and len(mail.outbox) == 1


def test_deleting_an_invited_user_deletes_its_emails_sent_or_not(personas, invitee, make):
    deliver()
    invitations.invitation_resend(actor=personas.regular, consumer=invitee)
    other = make.user("other.invitee", email="other@x.example")
    assert OutboxMessage.objects.filter(about=f"consumer:{invitee.pk}").count() == 2
    invitations.invitation_revoke(actor=personas.regular, consumer=invitee)
    assert not OutboxMessage.objects.filter(about=f"consumer:{invitee.pk}").exists()
    assert OutboxMessage.objects.filter(about=f"consumer:{other.pk}").exists()
    assert deliver()["sent"] == 1 and mail.outbox[-1].to == ["other@x.example"]


def test_the_reminder_job_writes_each_reminder_with_its_stamp(clock, personas, invitee):
    Invitation.objects.update(sent_at=T0 - timedelta(days=10))
    OutboxMessage.objects.all().delete()
    with transaction.atomic():
        run = invitations.invitation_reminders_send()
        (message,) = waiting(name="invitation")
        assert Invitation.objects.get().first_reminder_at == T0, "in the same transaction"
    assert (run.sent, run.initial) == (1, 0)
    assert message.subject.startswith("Reminder:") and message.to == ["waiting@x.example"]
    assert invitations.invitation_reminders_send().sent == 0
    assert len(waiting()) == 1


# --- periodic jobs: one run at a time -------------------------------------------------------------


@pytest.fixture
def hold_lock():
    """Hold a job's advisory lock from another database session (another process's run)."""
    requires_postgres()
    sessions = []

    def hold(name: str) -> None:
        session = psycopg.connect(database_url_for_subprocess(), autocommit=True)
        sessions.append(session)
        assert session.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)]).fetchone()[0]

    yield hold
    for session in sessions:
        session.close()


def test_every_periodic_job_has_a_lock_and_other_tasks_none():
    for job, (task, _schedule) in PERIODIC_JOBS.items():
        assert job_lock_name(task) is not None, job
    assert job_lock_name("portal.tasks.outbox_send") is None


def test_a_job_another_run_holds_is_skipped_by_beat_runjobs_and_a_direct_call(personas, hold_lock):
    notice(personas)
    hold_lock("job:outbox-send")
    assert app.tasks["portal.tasks.outbox_send_due"].apply().get() == JOB_SKIPPED
    assert portal_tasks.outbox_send_due() == JOB_SKIPPED
    out = StringIO()
    call_command("runjobs", "outbox-send", "outbox-cleanup", stdout=out)
    assert "outbox-send: skipped (already running elsewhere)" in out.getvalue()
    assert "outbox-cleanup: done" in out.getvalue(), "another job's lock is its own"
    assert mail.outbox == [] and len(waiting()) == 1


def test_the_reminders_and_the_purge_share_one_lock(personas, hold_lock):
    hold_lock("job:invitations")
    assert consumer_tasks.invitation_reminders_send() == JOB_SKIPPED
    assert consumer_tasks.invitations_purge() == JOB_SKIPPED
    assert consumer_tasks.call_history_retention_run() != JOB_SKIPPED


def test_a_job_releases_its_lock_when_it_fails(db, monkeypatch, hold_lock):
    def boom(**kwargs):
        raise RuntimeError("the job failed")

    monkeypatch.setattr(expiry, "licences_expiry_run", boom)
    with pytest.raises(RuntimeError):
        licensing_tasks.licences_expiry_run.apply().get()
    hold_lock("job:licences-expiry")  # another session takes it at once


@pytest.mark.django_db(transaction=True)  # each job in its own transactions, as in production
def test_runjobs_runs_every_job_reports_each_failure_and_exits_non_zero(monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(invitations, "invitation_reminders_send", boom)
    monkeypatch.setattr(expiry, "licences_expiry_run", boom)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("runjobs", stdout=out, stderr=err)
    assert failure.value.returncode == 1
    assert "job(s) failed: invitation-reminders, licences-expiry" in str(failure.value), (
        err.getvalue()
    )
    assert "invitation-reminders: FAILED (RuntimeError: database went away)" in err.getvalue()
    assert "licences-expiry: FAILED (RuntimeError: database went away)" in err.getvalue()
    for name in PERIODIC_JOBS:
        assert f"{name}: " in out.getvalue() + err.getvalue(), f"{name} did not run"
    assert "outbox-send: done" in out.getvalue(), "the last job ran after the failures"
