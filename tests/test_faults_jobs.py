"""Nothing stuck, and the web keeps working, when the processes around it fail: a worker killed
mid-batch, the broker or the cache unreachable. Real worker processes on Redis where a process
dies; the recovery jobs (`batches_recover`, `handout_exports_recover`) run as beat would run
them, with the clock moved past the stale limit."""

from __future__ import annotations

import logging
import re
import signal
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from consumers import tokens
from consumers.models import (
    BATCH_STALE_AFTER,
    BatchJob,
    Consumer,
    Invitation,
    ItemOutcome,
)
from consumers.services import batch as batches
from handouts import services as handouts
from handouts.models import EXPORT_STALE_AFTER, HandoutExport, HandoutPart
from portal import jobs
from portal import settings as portal_settings
from portal.celery import app
from portal.models import AuditEvent
from tests.conftest import (
    database_url_for_subprocess,
    free_port,
    raised,
    requires_postgres,
    run_at_once,
    wait_for,
)
from tests.consumers.test_batch import bulk_users, make_rooms, preview

# Loading the task modules sets Django up again, which configures logging again and drops the
# log capture of the test running then: load them now.
app.loader.import_default_modules()


@contextmanager
def broker_unreachable(url: str = ""):
    """Queueing goes to a closed port (as with the broker down), or to `url`, inside the block;
    then back."""
    previous, eager = app.conf.get("broker_write_url"), app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.conf.broker_write_url = url or f"redis://127.0.0.1:{free_port()}/0"
    _drop_broker_pools()
    try:
        yield
    finally:
        app.conf.broker_write_url, app.conf.task_always_eager = previous, eager
        _drop_broker_pools()


def _drop_broker_pools() -> None:
    app._pool = None
    app.amqp._producer_pool = None


def after_stale(limit: timedelta):
    """The clock moved past the stale limit: what the recovery job sees minutes later."""
    return time_machine.travel(timezone.now() + limit + timedelta(minutes=1), tick=True)


def confirm_url(batch: BatchJob) -> str:
    return reverse("consumers:batch_confirm", args=[batch.company.public_id, batch.public_id])


def assert_deleted_once(batch: BatchJob, consumers: list[Consumer]) -> None:
    batch.refresh_from_db()
    assert (batch.status, batch.processed, batch.succeeded, batch.failed) == (
        "done",
        len(consumers),
        len(consumers),
        0,
    )
    assert set(batch.items.values_list("outcome", flat=True)) == {ItemOutcome.SUCCEEDED}
    assert not Consumer.objects.filter(pk__in=[c.pk for c in consumers]).exists()
    deleted = AuditEvent.objects.filter(action=f"{consumers[0].kind}.delete")
    assert deleted.count() == len(consumers), "each deletion audited once"


# --- a worker killed mid-batch ------------------------------------------------------------------


@contextmanager
def row_locked(table: str, pk: int):
    """Another session holds a row lock (an admin mid-edit): the batch's chunk that needs the
    row waits for it, mid-batch."""
    with psycopg.connect(database_url_for_subprocess(), autocommit=False) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])
        yield
        other.rollback()


def waiting_on_a_lock() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def kill_9_waiting(worker) -> None:  # type: ignore[no-untyped-def]
    """`kill -9` of a worker whose statement waits on a lock. Its session would end once the
    statement got the lock (PostgreSQL notices a closed client on its next read): end it now,
    as the server would."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    with connection.cursor() as cursor:
        for pid in waiting_on_a_lock():
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not waiting_on_a_lock(), message="the dead worker's session ended")


def test_kill_9_of_the_worker_mid_batch_then_recovery_finishes_it_once(
    personas, celery_worker_process
):
    users = bulk_users(personas.company, batches.CHUNK_SIZE + 1000)  # two chunks
    batch = preview(personas.regular, "delete", users)
    worker = celery_worker_process.start()
    with row_locked("consumers_consumer", users[-1].pk):
        batches.batch_confirm(actor=personas.regular, batch=batch)
        wait_for(
            lambda: (
                BatchJob.objects.get(pk=batch.pk).processed == batches.CHUNK_SIZE
                and waiting_on_a_lock()
            ),
            message="the first chunk done, the second waiting",
        )
        kill_9_waiting(worker)
    batch.refresh_from_db()
    assert (batch.status, batch.processed) == ("running", batches.CHUNK_SIZE)

    assert batches.batches_recover() == 0, "a fresh heartbeat: maybe still running"
    with after_stale(BATCH_STALE_AFTER):
        assert batches.batches_recover() == 1
        assert batches.batches_recover() == 0, "queued once"
    celery_worker_process.start()
    wait_for(lambda: BatchJob.objects.get(pk=batch.pk).status == "done", timeout=60)
    assert_deleted_once(batch, users)
    assert BatchJob.objects.get(pk=batch.pk).attempts == 2


def test_every_task_is_acked_late_given_back_if_its_worker_dies_and_time_limited():
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        assert task.acks_late and task.reject_on_worker_lost, name
        assert 0 < task.soft_time_limit < task.time_limit, name
    default = app.conf.task_soft_time_limit
    for long_job in ("consumers.tasks.batch_run", "handouts.tasks.handout_export_run"):
        assert app.tasks[long_job].soft_time_limit > default


# --- the broker unreachable ---------------------------------------------------------------------


def test_broker_down_at_confirm_the_page_answers_and_recovery_runs_the_batch_once(
    personas, celery_worker_process, caplog
):
    rooms = make_rooms(personas, 3)
    batch = preview(personas.regular, "delete", rooms)
    client = Client()
    client.force_login(personas.regular)
    with broker_unreachable():
        response = client.post(confirm_url(batch), follow=True)
    assert response.status_code == 200
    assert b"Queued:</strong> it will start shortly." in response.content
    assert "could not queue consumers.tasks.batch_run" in caplog.text
    batch.refresh_from_db()
    assert batch.status == "queued"

    celery_worker_process.start()  # the broker is back, with a worker
    with after_stale(BATCH_STALE_AFTER):
        assert batches.batches_recover() == 1
        assert batches.batches_recover() == 0
    wait_for(lambda: BatchJob.objects.get(pk=batch.pk).status == "done", timeout=30)
    assert_deleted_once(batch, rooms)


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_invite_the_form_answers_and_the_email_goes_once(
    personas, paid_company, caplog
):
    client = Client()
    client.force_login(personas.regular)
    invite = reverse("consumers:user_invite", args=[paid_company.public_id])
    fields = {"full_name": "Bo Broker", "email": "bo@example.com", "alias": "bo.broker"}
    with broker_unreachable():
        response = client.post(invite, {**fields, "domain": "acme-a.onpexip.com"}, follow=True)
    assert response.status_code == 200
    assert b"bo.broker@acme-a.onpexip.com invited." in response.content
    assert "could not queue" in caplog.text
    assert Invitation.objects.filter(email="bo@example.com").exists()
    assert not [m for m in mail.outbox if "bo@example.com" in m.to], "nothing sent yet"

    # The broker is back: what beat runs (`runjobs` runs it all once) sends the invitation.
    call_command("runjobs")
    call_command("runjobs")
    assert len([m for m in mail.outbox if m.to == ["bo@example.com"]]) == 1


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_handout_export_the_page_answers_and_recovery_generates_it(
    personas, make, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(handouts, "SYNC_LIMIT", 0)
    make.team_vmr("all-hands")
    client = Client()
    client.force_login(personas.read_only)
    form = reverse("handouts:handout", args=[personas.company.public_id])
    with broker_unreachable():
        response = client.post(
            form, {"sections": ["team_vmrs"], "not_active": "omit", "fmt": "html"}, follow=True
        )
    assert response.status_code == 200 and b"It will start shortly." in response.content
    export = HandoutExport.objects.get()
    assert export.status == "queued"

    with after_stale(EXPORT_STALE_AFTER):
        assert handouts.handout_exports_recover() == 1  # runs in-process here
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("done", 1)
    assert handouts.handout_exports_recover() == 0


def test_a_failed_queueing_is_logged_not_raised(
    personas, caplog, django_capture_on_commit_callbacks
):
    rooms = make_rooms(personas, 1)
    batch = preview(personas.regular, "delete", rooms)
    with (
        broker_unreachable(),
        caplog.at_level(logging.ERROR, logger="portal.jobs"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        jobs.enqueue_on_commit("consumers.tasks.batch_run", batch.pk)
    assert f"could not queue consumers.tasks.batch_run({batch.pk},)" in caplog.text


# --- the cache unreachable ----------------------------------------------------------------------


def test_cache_down_the_company_list_and_a_rate_limited_page_answer(
    personas, make, settings, caplog
):
    invitation = Invitation.objects.get(consumer=make.user("cache.down"))
    settings.CACHES = {"default": portal_settings.redis_cache(f"redis://127.0.0.1:{free_port()}/0")}
    client = Client()
    client.force_login(personas.regular)
    page = client.get(reverse("portal:company_list"))
    assert page.status_code == 200 and b"Acme A" in page.content
    invitee = Client().get(f"/invite/{tokens.token_for(invitation.token_nonce)}/")
    assert invitee.status_code == 200 and b"Acme A" in invitee.content
    assert "rate limit invite-ip not applied: the cache does not answer" in caplog.text
    assert "Exception ignored" in caplog.text, "django-redis logs each skipped call"


# --- resuming, in-process -----------------------------------------------------------------------


def test_a_run_resumes_after_the_last_stamped_chunk(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 2)
    rooms = make_rooms(personas, 5)
    batch = preview(personas.regular, "delete", rooms)
    batches.batch_confirm(actor=personas.regular, batch=batch)
    real_run_chunk, chunks = batches._run_chunk, []

    def run_chunk(batch, chunk, actor):
        chunks.append(len(chunk))
        if len(chunks) == 2:
            raise SoftTimeLimitExceeded()  # the time limit: the run stops mid-chunk
        return real_run_chunk(batch, chunk, actor)

    monkeypatch.setattr(batches, "_run_chunk", run_chunk)
    with pytest.raises(SoftTimeLimitExceeded):
        batches.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.processed) == ("running", 2), "the second chunk rolled back"
    assert batch.items.filter(outcome=ItemOutcome.PENDING).count() == 3

    assert batches.batch_run(batch_id=batch.pk).processed == 2, "a live run holds it"
    with after_stale(BATCH_STALE_AFTER), django_capture_on_commit_callbacks(execute=True):
        assert batches.batches_recover() == 1  # in-process here: runs the rest at once
    assert chunks == [2, 2, 2, 1], "the first chunk stays done; the second is run again"
    assert_deleted_once(batch, rooms)


def test_a_batch_interrupted_too_often_ends_with_what_is_left_failed(personas):
    rooms = make_rooms(personas, 3)
    batch = preview(personas.regular, "delete", rooms)
    batches.batch_confirm(actor=personas.regular, batch=batch)
    BatchJob.objects.filter(pk=batch.pk).update(status="running", attempts=batches.MAX_ATTEMPTS)
    with after_stale(BATCH_STALE_AFTER):
        batch = batches.batch_run(batch_id=batch.pk)
    assert (batch.status, batch.processed, batch.failed) == ("done", 3, 3)
    assert set(batch.items.values_list("message", flat=True)) == {batches.GAVE_UP_MESSAGE}
    assert Consumer.objects.filter(pk__in=[r.pk for r in rooms]).count() == 3


def test_an_export_whose_worker_died_is_generated_again(
    personas, make, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    make.team_vmr("all-hands")
    export = handouts.handout_export_start(  # its task is not run (on commit, in a test)
        actor=personas.read_only,
        company=personas.company,
        fmt="html",
        options=handouts.HandoutOptions(),
    )
    # A whole-worker kill while rendering: the export stays "running", its message is gone.
    HandoutExport.objects.filter(pk=export.pk).update(status="running", attempts=1)
    assert handouts.handout_export_run(export_id=export.pk).status == "running", "alive?"
    assert handouts.handout_exports_recover() == 0
    with after_stale(EXPORT_STALE_AFTER), django_capture_on_commit_callbacks(execute=True):
        assert handouts.handout_exports_recover() == 1
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("done", 2) and export.file

    HandoutExport.objects.filter(pk=export.pk).update(
        status="running", attempts=3, heartbeat_at=timezone.now()
    )
    with after_stale(EXPORT_STALE_AFTER), django_capture_on_commit_callbacks(execute=True):
        handouts.handout_exports_recover()
    export.refresh_from_db()
    assert (export.status, export.error) == ("failed", handouts.GAVE_UP_ERROR)


def test_kill_9_of_a_worker_mid_part_then_recovery_finishes_the_handout_once(
    personas, celery_worker_process, settings, tmp_path
):
    """A handout in three parts: the worker is killed while it holds the first (taken, not
    rendered); a new worker renders the others; once the export's heartbeat is stale the
    recovery job queues the export, whose run queues the dead part again; the merged file
    lists every room once."""
    settings.MEDIA_ROOT = tmp_path / "media"
    worker_env = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "HANDOUT_PART_ROWS": "60"}
    settings.HANDOUT_PART_ROWS = 60  # a room counts as three rows: three parts of 20 rooms
    rooms = make_rooms(personas, 60)
    export = HandoutExport.objects.create(  # its run below, in this process
        company=personas.company, fmt="pdf", options={"sections": ["team_vmrs"]}
    )
    handouts.handout_export_run(export_id=export.pk)  # plans three parts, queues a task each
    parts = list(HandoutPart.objects.filter(export=export))
    assert len(parts) == 3
    with row_locked("handouts_handoutexport", export.pk):
        worker = celery_worker_process.start(**worker_env)
        wait_for(
            lambda: (
                HandoutPart.objects.get(pk=parts[0].pk).status == "running" and waiting_on_a_lock()
            ),
            message="the first part taken, its worker waiting on the export's row",
        )
        kill_9_waiting(worker)

    celery_worker_process.start(**worker_env)
    wait_for(
        lambda: HandoutExport.objects.get(pk=export.pk).parts_done == 2,
        message="the other two parts rendered by the new worker",
    )
    export.refresh_from_db()
    assert export.status == "running", "the dead part holds it"
    assert handouts.handout_exports_recover() == 0, "fresh: the parts stamped it"
    # Minutes later, for this process and the worker alike (the worker keeps the real clock):
    # no heartbeat since, from the export or its dead part.
    later = timezone.now() - EXPORT_STALE_AFTER - timedelta(minutes=1)
    HandoutExport.objects.filter(pk=export.pk).update(heartbeat_at=later)
    HandoutPart.objects.filter(export=export, status="running").update(heartbeat_at=later)
    assert handouts.handout_exports_recover() == 1
    wait_for(lambda: HandoutExport.objects.get(pk=export.pk).status == "done", timeout=60)
    export.refresh_from_db()
    with export.file.open("rb") as f:
        text = PdfReader(f).pages
        listed = re.findall(r"room-\d{4}@", "".join(page.extract_text() for page in text))
    assert listed == [f"{r.alias}@" for r in sorted(rooms, key=lambda r: (r.display_name, r.alias))]
    assert not HandoutPart.objects.exists()
    assert not list((settings.MEDIA_ROOT / "handouts" / "parts").glob("*")), "no part left"


@pytest.mark.django_db(transaction=True)
def test_two_recovery_runs_at_once_queue_each_batch_once(personas, monkeypatch):
    requires_postgres()
    stalled = []
    for n in range(3):
        batch = preview(personas.regular, "delete", make_rooms(personas, 1, prefix=f"r{n}"))
        stalled.append(batch.pk)
    BatchJob.objects.filter(pk__in=stalled).update(status="queued")
    sent = []
    monkeypatch.setattr(jobs, "_send", lambda task, args: sent.append((task.name, args)))
    with after_stale(BATCH_STALE_AFTER):
        results = run_at_once(batches.batches_recover, batches.batches_recover)
    assert raised(results) == [] and sum(results) == 3
    assert sorted(args for _name, args in sent) == [(pk,) for pk in sorted(stalled)]


def test_keep_alive_stamps_while_a_long_step_runs(transactional_db, personas):
    import time

    export = HandoutExport.objects.create(company=personas.company, fmt="pdf")
    before = export.heartbeat_at
    with jobs.keep_alive(HandoutExport.objects.filter(pk=export.pk), every=0.05):
        time.sleep(0.3)
    export.refresh_from_db()
    assert export.heartbeat_at > before
