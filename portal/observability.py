"""Logs, request ids, job summaries and error reports.

- Every log line is one JSON object on stderr (settings.LOGGING uses `json_formatter`), whoever
  logged it: the apps, Django, Celery or gunicorn. A line written while a request is served
  carries its request id, and the signed-in user's id and partner id; a line written by a task
  carries the task's name and id (and the request id of the request that queued it).
- Never an email address, and never a token: `scrub` rewrites both in every string of a log line
  and of a Sentry event (invitation, provisioning and password reset links carry their token in
  the path).
- `RequestIdMiddleware` keeps a well-formed incoming `X-Request-ID` (a proxy's), else makes one,
  and returns it in the response header; gunicorn's access log (gunicorn.conf.py) prints it.
- One summary line per task run, with the counts the task returned, from Celery's signals: the
  tasks themselves log nothing for it.
- Sentry (`sentry_init`) only when SENTRY_DSN is set, without personal data (`sentry_before_send`).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

import sentry_sdk  # its calls do nothing while Sentry is not initialised
import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id may look like (nginx $request_id, a UUID, a trace id): no spaces,
# quotes or control characters, so that it cannot forge or break a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# The URLs whose path carries a secret: invitation links, provisioning URLs, password reset
# links (tests/portal/test_observability.py walks the URLconf for any other route with a token).
_TOKEN_IN_PATH = re.compile(r"(/invite/|/provision/|/accounts/reset/[^/\s]+/)[^/\s?#\"']+")
_TOKEN_IN_QUERY = re.compile(
    r"([?&](?:token|key|secret|signature|code|password)=)[^&\s#\"']+", re.IGNORECASE
)
REDACTED = "[redacted]"

logger = logging.getLogger(__name__)


def scrub(text: str) -> str:
    """`text` without email addresses and without the tokens of links."""
    text = _EMAIL.sub("[email]", text)
    text = _TOKEN_IN_PATH.sub(rf"\1{REDACTED}", text)
    return _TOKEN_IN_QUERY.sub(rf"\1{REDACTED}", text)


def _scrub_all(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {key: _scrub_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_all(item) for item in value]
    return value


# --- request ids ---------------------------------------------------------------------------------


def request_id_from(header: str | None) -> str:
    """The incoming request id when it is well formed, else a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response (redirects and static files too) gets the header."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Cleared here and when the response is closed (`_request_finished`), not on the way
        # out: Django logs a 4xx/5xx response after the middleware has returned it.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        sentry_sdk.set_tag("request_id", request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        # After the authentication middleware. Only with a session cookie: a health probe, a
        # device fetching its configuration or a first visit costs no query here.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return
        from portal.access import membership_of

        try:
            user = request.user
            if not user.is_authenticated:
                return
            membership = membership_of(user)
        except Exception:  # the database is down: the view will fail and say so, not this
            return
        structlog.contextvars.bind_contextvars(user_id=user.pk)
        sentry_sdk.set_user({"id": str(user.pk)})
        if membership is not None:
            structlog.contextvars.bind_contextvars(partner_id=membership.partner_id)
            sentry_sdk.set_tag("partner_id", membership.partner_id)


def _request_finished(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


# --- log lines -----------------------------------------------------------------------------------

_RECORD_ATTRIBUTES = {
    *logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__,
    "message",
    "asctime",
}


def _add_extras(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """The `extra=` fields of a standard logging call, when they are plain data (Django's
    `request` object, with its cookies and tokens, is not)."""
    record = event.get("_record")
    if record is None:
        return event
    for key, value in record.__dict__.items():
        if key in _RECORD_ATTRIBUTES or key.startswith("_") or key in event:
            continue
        if value is None or isinstance(value, str | int | float | bool | list | dict):
            event[key] = value
    return event


def _scrub_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if key.startswith("_") else _scrub_all(value) for key, value in event.items()
    }


_FIRST = ("timestamp", "level", "logger", "message")


def _first_fields_first(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: event[key] for key in _FIRST if key in event},
        **{key: value for key, value in event.items() if key not in _FIRST},
    }


def _formatter(renderer: Any) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _add_extras,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.processors.format_exc_info,
            _scrub_event,
            structlog.processors.EventRenamer("message"),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _first_fields_first,
            renderer,
        ],
    )


def json_formatter() -> logging.Formatter:
    """One JSON object per line: timestamp, level, logger, message, request_id, user_id,
    partner_id, task, task_id, exception, and the call's `extra=` fields."""
    return _formatter(structlog.processors.JSONRenderer())


def console_formatter() -> logging.Formatter:
    """The same fields for a person at a terminal (LOG_FORMAT=console)."""
    return _formatter(structlog.dev.ConsoleRenderer(colors=False, event_key="message"))


# --- job summaries -------------------------------------------------------------------------------

# task id -> (start, context tokens); a task run eagerly inside another one nests.
_running: dict[str, tuple[float, Mapping[str, Any]]] = {}
# task id -> the exception's type, from task_failure (a task run eagerly that raises ends with
# no state of its own).
_failed: dict[str, str] = {}


def job_counts(retval: Any) -> dict[str, Any]:
    """What a task's return value says about its run: the numbers of a dict of counts (or the
    size of a collection), else the value itself when it is a plain one (a status, a count)."""
    if isinstance(retval, Mapping):
        counts: dict[str, Any] = {}
        for key, value in retval.items():
            if isinstance(value, int | float):
                counts[str(key)] = value
            elif isinstance(value, list | tuple | set | dict):
                counts[str(key)] = len(value)
        return {"counts": counts}
    if retval is None or isinstance(retval, str | int | float | bool):
        return {"result": retval}
    return {}


def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    context = {"task": task.name, "task_id": task_id}
    # The request that queued it (see _task_published); a task run eagerly keeps its own.
    request_id = getattr(task.request, "request_id", None)
    if request_id and "request_id" not in structlog.contextvars.get_contextvars():
        context["request_id"] = request_id
    _running[task_id] = (time.monotonic(), structlog.contextvars.bind_contextvars(**context))


def _task_finished(
    task_id: str | None = None,
    task: Any = None,
    retval: Any = None,
    state: str | None = None,
    **_: Any,
) -> None:
    if task_id is None or task is None:
        return
    started, tokens = _running.pop(task_id, (None, {}))
    error = _failed.pop(task_id, None)
    if state is None:
        # Run eagerly with its exceptions propagating, a failed task sends neither a state nor
        # task_failure: the exception is on its way out through Celery's `finally`.
        in_flight = sys.exc_info()[1]
        state = "FAILURE"
        error = error or (type(in_flight).__name__ if in_flight is not None else None)
    fields: dict[str, Any] = {"task": task.name, "task_id": task_id, "state": state}
    if started is not None:
        fields["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    if state == "SUCCESS":
        fields.update(job_counts(retval))
        level = logging.INFO
    else:
        # WARNING, not ERROR: Celery logs the failure itself, with its traceback, and that line
        # is the one reported to Sentry or ADMINS; this one is the summary beside it.
        if isinstance(retval, BaseException):
            error = type(retval).__name__
        fields["error"] = error
        level = logging.WARNING
    logger.log(level, "job %s %s", task.name, (state or "").lower(), extra=fields)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


def _task_failed(task_id: str | None = None, exception: Any = None, **_: Any) -> None:
    if task_id is not None and exception is not None:
        _failed[task_id] = type(exception).__name__


def _task_published(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """The request id travels with the task (a message header), to the worker's log lines."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


def _celery_logging(**_: Any) -> None:
    """Connected to Celery's setup_logging: Celery then leaves logging to settings.LOGGING
    (it would otherwise replace the root handler with its own plain-text one)."""


def install() -> None:
    """Connects the signal handlers above (PortalConfig.ready) and sends Python's warnings to
    the log, as JSON lines like the rest."""
    from celery import signals as celery_signals
    from django.core.signals import request_finished

    logging.captureWarnings(True)

    request_finished.connect(_request_finished, dispatch_uid="observability.request_finished")
    celery_signals.setup_logging.connect(_celery_logging, weak=False)
    celery_signals.before_task_publish.connect(_task_published, weak=False)
    celery_signals.task_prerun.connect(_task_started, weak=False)
    celery_signals.task_failure.connect(_task_failed, weak=False)
    celery_signals.task_postrun.connect(_task_finished, weak=False)


# --- gunicorn's access log -----------------------------------------------------------------------


def access_log_fields(
    *,
    method: str,
    path: str,
    status: int | None,
    size: int | None,
    duration_ms: float,
    request_id: str | None,
    remote_addr: str | None,
) -> dict[str, Any]:
    """One access log line: the path without its query string and with any token redacted."""
    return {
        "method": method,
        "path": scrub(path.split("?", 1)[0]),
        "status": status,
        "bytes": size,
        "duration_ms": duration_ms,
        "request_id": request_id,
        "remote_addr": remote_addr,
    }


# --- Sentry --------------------------------------------------------------------------------------

# The request headers an error report keeps: none that authenticates or names a person.
_SENTRY_HEADERS = {
    "host",
    "user-agent",
    "accept",
    "accept-language",
    "content-type",
    "content-length",
    "referer",
    "x-request-id",
    "hx-request",
}


def sentry_before_send(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """No personal data in an error report: no cookies, no Authorization (or other headers
    outside a short list), no form data or query string, a user by id only, and no email
    address or link token anywhere in the event."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, Mapping):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in _SENTRY_HEADERS
            }
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, Mapping):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return _scrub_all(event)


def sentry_init(*, dsn: str) -> None:
    """Errors (web requests, tasks, ERROR log lines) to Sentry. SENTRY_ENVIRONMENT and
    SENTRY_RELEASE are read by the SDK itself."""
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        # Local variables and form posts hold invitees' addresses and link tokens.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=sentry_before_send,
    )
