"""/healthz and /readyz: public, no personal data, one entry per check, 503 (never 500) when a
dependency is down or hangs; the heartbeat of beat and of a worker."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
import time_machine
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.test import Client
from django.utils import timezone

from portal import health
from portal import settings as portal_settings
from portal.celery import app
from portal.models import Heartbeat
from tests.conftest import free_port, redis_url, wait_for
from tests.test_faults_jobs import broker_unreachable

CHECKS = {"database", "migrations", "cache", "broker", "worker", "beat"}


@pytest.fixture
def with_broker():
    """Tasks go to the broker (as in production), not in-process as in the other tests."""
    redis_url()
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def readyz(client=None):
    response = (client or Client()).get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response, response.json()


def failing(body) -> set[str]:
    return {name for name, check in body["checks"].items() if not check["ok"]}


def test_healthz_answers_without_touching_anything(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert Client().post("/healthz").status_code == 405


def test_readyz_on_the_embedded_default_is_ready(db):
    response, body = readyz()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"].keys() == CHECKS
    assert body["checks"]["broker"] == {"ok": True, "detail": health.IN_PROCESS}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_with_a_broker_needs_fresh_heartbeats_of_beat_and_a_worker(db, with_broker):
    response, body = readyz()
    assert response.status_code == 503 and body["status"] == "fail"
    assert failing(body) == {"worker", "beat"}
    assert body["checks"]["worker"]["detail"] == "no heartbeat yet"
    assert body["checks"]["broker"] == {"ok": True, "detail": "answers"}

    health.heartbeat_stamp("beat", "worker")
    assert readyz()[0].status_code == 200
    with time_machine.travel(timezone.now() + health.HEARTBEAT_STALE_AFTER + timedelta(minutes=1)):
        response, body = readyz()
    assert response.status_code == 503 and failing(body) == {"worker", "beat"}
    assert body["checks"]["beat"]["detail"].startswith("last heartbeat 2")


def test_readyz_broker_down(db, with_broker):
    health.heartbeat_stamp("beat", "worker")
    with broker_unreachable():
        response, body = readyz()
    assert response.status_code == 503 and failing(body) == {"broker"}
    assert body["checks"]["broker"]["detail"] == "unavailable (OperationalError)"


def test_readyz_cache_down(db, settings):
    settings.CACHES = {"default": portal_settings.redis_cache(f"redis://127.0.0.1:{free_port()}/0")}
    response, body = readyz()
    assert response.status_code == 503 and failing(body) == {"cache"}
    assert body["checks"]["cache"]["detail"] == "does not answer"


def test_readyz_never_hangs_on_a_dependency_that_does(db, settings, with_broker):
    """Cache and broker accept the connection and then never answer."""
    health.heartbeat_stamp("beat", "worker")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.CACHES = {"default": portal_settings.redis_cache(url)}
        start = time.monotonic()
        with broker_unreachable(url):
            response, body = readyz()
        took = time.monotonic() - start
    assert response.status_code == 503 and failing(body) == {"cache", "broker"}
    assert took < 8, f"{took:.1f} s"


def test_a_failing_check_is_a_503_naming_only_the_error_class(db, monkeypatch):
    def down():
        raise OperationalError('connection to server at "db.internal" (10.0.0.5) failed')

    monkeypatch.setitem(health.CHECKS, "database", down)
    response, body = readyz()
    assert response.status_code == 503
    assert body["checks"]["database"] == {"ok": False, "detail": "unavailable (OperationalError)"}
    assert b"db.internal" not in response.content


def test_readyz_fails_while_migrations_are_not_applied(db, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)])
    response, body = readyz()
    assert response.status_code == 503 and failing(body) == {"migrations"}
    assert body["checks"]["migrations"]["detail"] == "1 migration(s) not applied"


def test_run_in_process_the_heartbeat_stamps_beat_and_worker(db):
    app.tasks[health.HEARTBEAT_TASK].apply()  # what `runjobs` does
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"beat", "worker"}


def test_a_real_worker_and_a_sender_make_readyz_ready(personas, celery_worker_process):
    celery_worker_process.start()
    health.heartbeat.apply_async()  # as beat sends it: sending stamps "beat"
    assert Heartbeat.objects.filter(name="beat").exists()
    wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), message="a worker ran it")
    response, body = readyz()
    assert response.status_code == 200, body
    assert body["checks"]["broker"]["detail"] == "answers"
