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
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# A worker is replaced after this many requests (WeasyPrint's memory does not all come back).
max_requests = 1000
max_requests_jitter = 100
# The workers' heartbeat files on tmpfs: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = "-"
errorlog = "-"


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
