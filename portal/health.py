"""Health: `GET /healthz` (the process answers) and `GET /readyz` (what it depends on answers),
and the heartbeat that shows that beat and a worker are alive.

Both pages are public (a load balancer, a container healthcheck): they say which check failed,
never why in detail (the log has it), and nothing about any partner. /readyz answers 503 when
a check fails, and never hangs on a dependency that does: each check has a short timeout.

The heartbeat: beat sends `heartbeat` every minute (portal.celery.PERIODIC_JOBS). Sending it
stamps `beat` (the publish signal, in beat's process) and running it stamps `worker`, so each
shows on its own. Run in-process (`runjobs`, the embedded default), it stamps both.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import after_task_publish
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .celery import app
from .models import Heartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_TASK = "portal.health.heartbeat"
# Beat sends the heartbeat every minute: three missed ones mean it, or every worker, is gone.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)
CHECK_TIMEOUT = 2  # seconds a check may wait for the database or the broker
IN_PROCESS = "not used: tasks run in-process"


class CheckFailed(Exception):
    """A check's dependency answered, wrongly: the message says how."""


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    ok = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )


def _run(name: str, check: Callable[[], str]) -> dict[str, Any]:
    try:
        return {"ok": True, "detail": check()}
    except CheckFailed as failed:
        logger.warning("readyz: %s: %s", name, failed)
        return {"ok": False, "detail": str(failed)}
    except Exception as exc:  # the class only: messages can name hosts and users
        logger.warning("readyz: %s failed", name, exc_info=True)
        return {"ok": False, "detail": f"unavailable ({type(exc).__name__})"}


@contextmanager
def _bounded_transaction() -> Any:
    """A transaction whose statements give up after CHECK_TIMEOUT (connecting is bounded by
    the database settings' connect_timeout)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [CHECK_TIMEOUT * 1000])
        yield


def check_database() -> str:
    with _bounded_transaction(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "answers"


def check_migrations() -> str:
    with _bounded_transaction():
        executor = MigrationExecutor(connection)
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if missing:
        raise CheckFailed(f"{len(missing)} migration(s) not applied")
    return "all applied"


def check_cache() -> str:
    # A cache that is down is ignored by the pages (settings: IGNORE_EXCEPTIONS), so it shows
    # as a value that does not come back, not as an error. The key expires on its own.
    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        raise CheckFailed("does not answer")
    return "answers"


def check_broker() -> str:
    if app.conf.task_always_eager:
        return IN_PROCESS
    timeouts = {"socket_connect_timeout": CHECK_TIMEOUT, "socket_timeout": CHECK_TIMEOUT}
    with app.connection_for_write(
        connect_timeout=CHECK_TIMEOUT, transport_options=timeouts
    ) as broker:
        broker.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT)
    return "answers"


def _heartbeat_check(name: str) -> Callable[[], str]:
    def check() -> str:
        if app.conf.task_always_eager:
            return IN_PROCESS
        with _bounded_transaction():
            beat = Heartbeat.objects.filter(name=name).first()
        if beat is None:
            raise CheckFailed("no heartbeat yet")
        age = int((timezone.now() - beat.at).total_seconds())
        if beat.at < timezone.now() - HEARTBEAT_STALE_AFTER:
            raise CheckFailed(f"last heartbeat {age} s ago")
        return f"last heartbeat {age} s ago"

    return check


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "broker": check_broker,
    "worker": _heartbeat_check("worker"),
    "beat": _heartbeat_check("beat"),
}


def heartbeat_stamp(*names: str) -> None:
    now = timezone.now()
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=now) for name in names],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )


@shared_task(bind=True, name=HEARTBEAT_TASK)
def heartbeat(self: Any) -> None:
    """A worker ran the heartbeat; run in-process (no beat sent it), the runner is both."""
    if self.request.is_eager or self.request.called_directly:
        heartbeat_stamp("beat", "worker")
    else:
        heartbeat_stamp("worker")


@after_task_publish.connect
def _heartbeat_sent(sender: str | None = None, **_kwargs: Any) -> None:
    """Beat sent the heartbeat: stamped in beat's own process, so that a beat that runs shows
    even while no worker does."""
    if sender != HEARTBEAT_TASK:
        return
    close_old_connections()  # beat serves no requests: nothing else closes a broken connection
    try:
        heartbeat_stamp("beat")
    except Exception:
        logger.exception("heartbeat: could not stamp beat's")
