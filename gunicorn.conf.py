"""gunicorn's configuration: the Docker image's command (`gunicorn --config gunicorn.conf.py
portal.wsgi`) and docker-compose's web service.

Logs are JSON lines on stderr like the portal's own (portal.observability): gunicorn's messages,
and one access line per request with its method, path (no query string, link tokens redacted),
status, size, duration and request id.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gunicorn.glogging import Logger

from portal.observability import access_log_fields, json_formatter

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Processes, two per core, each serving one request at a time (README, Operations: "The web
# processes"). A page is mostly Python (templates, the ORM) with a few round trips to PostgreSQL:
# two processes per core keep the cores busy while one waits for the database, and the listening
# socket hands the waiting connections out in the order they came, so under load each request
# waits about as long as the others. Threads (gthread) measured worse on the same load: every
# database round trip of a thread waits for the interpreter lock held by the others (p99 2-3
# times the median, against 1.3 here). `GUNICORN_WORKER_CLASS=gthread` and `GUNICORN_THREADS`
# are there to compare. A sync worker closes each connection after its response: the proxy in
# front keeps the clients' connections open. Each process keeps one database connection
# (CONN_MAX_AGE).
# The cores this process may use (a container's cpuset; a CPU quota is not seen: set
# WEB_CONCURRENCY from it), capped so that a large host does not open more database connections
# than PostgreSQL allows (README, Operations: "PostgreSQL connections").
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * CORES, 8))))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Django is loaded once, before the workers are forked: a replaced worker starts at once instead
# of importing the project while its share of the clients waits.
preload_app = True
# A worker is replaced after this many requests (WeasyPrint's memory does not all come back).
max_requests = 5000
max_requests_jitter = 500
# The workers' heartbeat files on tmpfs: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = "-"
errorlog = "-"


def when_ready(server: Any) -> None:
    """Before the workers are forked: load what each would load on its first request
    (portal.warmup), so that none makes its first clients wait, and freeze it out of their
    garbage collector's full passes."""
    from portal.warmup import freeze_for_fork, warm_up

    warm_up()
    freeze_for_fork()


def post_fork(server: Any, worker: Any) -> None:
    """Nothing opened before the fork is shared by the workers (preload_app): no database
    connection is open then, and this makes sure of it."""
    from django.db import connections

    connections.close_all()


class JsonLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = json_formatter()
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(formatter)
            if hasattr(handler, "setStream") and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        fields = access_log_fields(
            method=req.method,
            path=req.path,
            status=resp.status_code,
            size=getattr(resp, "sent", None),
            duration_ms=round(request_time.total_seconds() * 1000, 1),
            request_id=headers.get("x-request-id"),
            remote_addr=environ.get("REMOTE_ADDR"),
        )
        self.access_log.info(
            "%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields
        )


logger_class = JsonLogger
