"""Logs, request ids, job summaries and error reports (portal.observability, gunicorn.conf.py).

Log lines are read as the processes write them: a JSON handler on the root logger here, the
stderr of a real gunicorn and of a real Celery worker there. Sentry gets a real loopback
endpoint: the SDK sends its envelopes to it as it would to sentry.io.
"""

from __future__ import annotations

import base64
import gzip
import http.server
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest
import sentry_sdk
import structlog
from django.core import mail
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse

from portal.observability import (
    job_counts,
    json_formatter,
    request_id_from,
    scrub,
    sentry_before_send,
)
from tests.conftest import database_url_for_subprocess, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "a1" * 32  # the shape of an invitation or provisioning token


@pytest.fixture
def json_log():
    """The JSON lines the root logger writes while the test runs (parsed)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)
    structlog.contextvars.clear_contextvars()


# --- request ids ---------------------------------------------------------------------------------


def test_request_id_from_accepts_a_uuid_a_hex_id_and_a_trace_id():
    for value in (str(uuid.uuid4()), uuid.uuid4().hex, "Root=1-5759e988-bd862e3fe1be46a994272793"):
        assert request_id_from(value) == value


def test_a_well_formed_incoming_request_id_is_kept_and_returned(db, client):
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="lb-7f3a9c2e-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c2e-0001"


@pytest.mark.parametrize(
    "incoming",
    [None, "", "short", "has space 12345", "line\nbreak-123456", '"quoted"-123456', "x" * 129],
)
def test_a_missing_or_malformed_request_id_is_replaced_by_a_new_one(db, client, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    first = client.get(reverse("login"), **headers)["X-Request-ID"]
    second = client.get(reverse("login"), **headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_the_request_id_is_in_the_log_lines_of_its_request(db, client, json_log):
    client.get(f"/invite/{TOKEN}/", HTTP_X_REQUEST_ID="edge-req-000123")
    [line] = [line for line in json_log() if line["logger"] == "django.request"]
    assert line["request_id"] == "edge-req-000123"
    assert line["message"] == "Not Found: /invite/[redacted]/"
    assert TOKEN not in json.dumps(json_log())


def _log_the_address(request):
    logging.getLogger("portal.views").warning("sent to %s", request.user.email)
    return HttpResponse("ok")


urlpatterns = [path("log-the-address/", _log_the_address)]


@pytest.mark.urls(__name__)
def test_log_lines_carry_the_user_and_partner_ids_and_never_an_email(personas, login, json_log):
    response = login(personas.regular).get("/log-the-address/")
    [line] = [line for line in json_log() if line["logger"] == "portal.views"]
    assert line["user_id"] == personas.regular.pk
    assert line["partner_id"] == personas.partner.pk
    assert line["request_id"] == response["X-Request-ID"]
    assert line["message"] == "sent to [email]"
    assert "@" not in json.dumps(json_log())


def test_another_partners_page_logs_the_404_with_who_asked(personas, login, json_log):
    url = reverse("portal:company_detail", args=[personas.other_company.public_id])
    assert login(personas.manager).get(url).status_code == 404
    [line] = [line for line in json_log() if line["logger"] == "django.request"]
    assert (line["user_id"], line["partner_id"]) == (personas.manager.pk, personas.partner.pk)
    assert line["level"] == "warning"


def test_the_context_of_a_request_does_not_leak_into_the_next(personas, login, client, json_log):
    login(personas.manager).get(
        reverse("portal:company_detail", args=[personas.other_company.public_id])
    )
    client.logout()
    client.get(f"/invite/{TOKEN}/")
    anonymous = [line for line in json_log() if line["logger"] == "django.request"][-1]
    assert "user_id" not in anonymous
    assert "partner_id" not in anonymous


# --- what a log line may hold --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invite sent to Ann.O'Brien+x@mail.example.co.uk", "invite sent to [email]"),
        (f"GET /invite/{TOKEN}/ 404", "GET /invite/[redacted]/ 404"),
        (f"/provision/{TOKEN}/config.json", "/provision/[redacted]/config.json"),
        (
            "/accounts/reset/MQ/c4x2-0f1e2d3c4b5a69788796a5b4c3d2e1f0/",
            "/accounts/reset/MQ/[redacted]/",
        ),
        ("/accounts/reset/done/", "/accounts/reset/done/"),
        ("/companies/?q=ann@x.example&page=2", "/companies/?q=[email]&page=2"),
        ("/x/?token=abc123&next=/", "/x/?token=[redacted]&next=/"),
        ("celery@worker-1 ready.", "celery@worker-1 ready."),
    ],
)
def test_scrub_removes_addresses_and_link_tokens(text, expected):
    assert scrub(text) == expected


def _patterns(resolvers, prefix=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


# What a non-token parameter of a route is filled with, by name.
SAMPLE_ARGUMENTS = {"config_format": "json", "uidb64": "MQ"}


def test_every_route_that_carries_a_token_is_redacted_in_logs():
    """A new route with a token in its path must be added to portal.observability's list."""
    routes = [
        (route, p)
        for route, p in _patterns(get_resolver().url_patterns)
        # The API tokens pages (and their admin) name a token by its public id, never its secret.
        if "token" in route and "apitoken" not in route.replace("-", "")
    ]
    assert len(routes) >= 3  # invitation, provisioning, password reset
    for route, pattern in routes:
        names = [*pattern.pattern.converters] or [*pattern.pattern.regex.groupindex]
        secret = "f00d" * 16
        kwargs = {
            name: secret if "token" in name else SAMPLE_ARGUMENTS[name]
            for name in names
            if name in SAMPLE_ARGUMENTS or "token" in name
        }
        url = reverse(pattern.name, kwargs=kwargs)
        assert secret not in scrub(url), route
        assert secret not in scrub(f"Not Found: {url}"), route


# --- job summaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retval", "expected"),
    [
        (
            {"sent": 3, "failed": 0, "ids": [1, 2], "note": "x"},
            {"counts": {"sent": 3, "failed": 0, "ids": 2}},
        ),
        (7, {"result": 7}),
        ("done", {"result": "done"}),
        (None, {"result": None}),
        (object(), {}),
    ],
)
def test_job_counts_keep_the_numbers_a_task_returns(retval, expected):
    assert job_counts(retval) == expected


def test_a_job_run_logs_one_summary_line_with_its_counts(db, json_log):
    from consumers.tasks import call_history_retention_run

    call_history_retention_run.delay()
    [line] = [line for line in json_log() if line["message"].startswith("job ")]
    assert line["message"] == "job consumers.tasks.call_history_retention_run success"
    assert line["task"] == "consumers.tasks.call_history_retention_run"
    assert line["state"] == "SUCCESS"
    assert line["counts"] == {"anonymized": 0, "deleted": 0}
    assert line["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f-]{36}", line["task_id"])


def test_a_failed_job_run_logs_its_summary_with_the_error_type(db, json_log):
    from portal.celery import app

    @app.task(name="tests.observability.broken")
    def broken():
        raise LookupError("not there")

    with pytest.raises(LookupError):
        broken.delay()
    [line] = [line for line in json_log() if line["message"].startswith("job ")]
    assert line["level"] == "warning"  # Celery's own ERROR line is the one that reports it
    assert (line["state"], line["error"]) == ("FAILURE", "LookupError")


def test_a_real_worker_logs_json_with_the_request_id_of_whoever_queued(celery_worker_process):
    from consumers.tasks import call_history_retention_run

    celery_worker_process.start()
    structlog.contextvars.bind_contextvars(request_id="queued-by-req-42")
    try:
        call_history_retention_run.delay()
    finally:
        structlog.contextvars.clear_contextvars()

    def summary():
        for text in celery_worker_process.log_path.read_text().splitlines():
            if text.startswith("{") and '"job consumers.tasks.call_history' in text:
                return json.loads(text)
        return None

    line = wait_for(summary, message="the job's summary line in the worker's log")
    assert line["counts"] == {"anonymized": 0, "deleted": 0}
    assert line["request_id"] == "queued-by-req-42"
    ready = [t for t in celery_worker_process.log_path.read_text().splitlines() if "ready." in t]
    assert json.loads(ready[0])["logger"].startswith("celery")  # Celery left logging to us


# --- errors: ADMINS and Sentry -------------------------------------------------------------------


def test_without_sentry_an_error_is_mailed_to_admins(settings):
    settings.ADMINS = [("Ops", "ops@service.example")]
    logging.getLogger("portal.jobs").error("reminder job failed for invitation %s", 42)
    [message] = mail.outbox
    assert message.to == ["ops@service.example"]
    assert "reminder job failed for invitation 42" in message.subject


def test_sentry_is_not_initialised_without_a_dsn():
    assert not os.environ.get("SENTRY_DSN")
    assert not sentry_sdk.get_client().is_active()


def test_before_send_keeps_no_personal_data():
    event = {
        "request": {
            "url": f"https://portal.example/invite/{TOKEN}/?email=ann@x.example",
            "method": "GET",
            "query_string": "email=ann@x.example",
            "cookies": {"sessionid": "s3ss10n"},
            "data": {"email": "ann@x.example"},
            "headers": {
                "Cookie": "sessionid=s3ss10n",
                "Authorization": "Bearer t0k3n",
                "X-Forwarded-For": "203.0.113.9",
                "User-Agent": "Firefox",
                "X-Request-ID": "edge-1234567",
            },
        },
        "user": {"id": "7", "email": "ann@x.example", "ip_address": "203.0.113.9"},
        "exception": {"values": [{"type": "SMTPRecipientsRefused", "value": "ann@x.example"}]},
        "breadcrumbs": {"values": [{"message": "sent to bob@y.example"}]},
        "extra": {"to": ["carol@z.example"]},
    }
    scrubbed = sentry_before_send(event)
    assert scrubbed["request"] == {
        "url": "https://portal.example/invite/[redacted]/",
        "method": "GET",
        "headers": {"User-Agent": "Firefox", "X-Request-ID": "edge-1234567"},
    }
    assert scrubbed["user"] == {"id": "7"}
    text = json.dumps(scrubbed)
    for secret in ("@x.example", "@y.example", "@z.example", "s3ss10n", "t0k3n", "203.0.113.9"):
        assert secret not in text
    assert scrubbed["exception"]["values"][0]["value"] == "[email]"


class _SentryEndpoint(http.server.BaseHTTPRequestHandler):
    envelopes: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_with_a_dsn_a_server_error_reaches_sentry_without_personal_data(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SentryEndpoint)
    _SentryEndpoint.envelopes = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # A page that fails (its database does not exist), through the WSGI application as
    # gunicorn calls it.
    script = f"""
import sentry_sdk
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
environ = {{
    "PATH_INFO": "/invite/{TOKEN}/",
    "QUERY_STRING": "email=ann@x.example",
    "HTTP_HOST": "testserver",
    "HTTP_COOKIE": "sessionid=s3ss10n-cookie",
    "HTTP_AUTHORIZATION": "Bearer t0k3n-auth",
    "HTTP_X_FORWARDED_FOR": "203.0.113.9",
}}
setup_testing_defaults(environ)
status = []
b"".join(application(environ, lambda line, headers, exc_info=None: status.append(line)))
assert status[0].startswith("500"), status
sentry_sdk.flush(10)
"""
    env = {
        **os.environ,
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{server.server_address[1]}/1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/no_such_database_for_sentry",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    raw = b"\n".join(_SentryEndpoint.envelopes).decode()
    events = [
        json.loads(line)
        for line in raw.splitlines()
        if line.startswith("{") and '"exception"' in line
    ]
    assert events, raw[:2000]
    event = events[0]
    assert {"django", "celery"} <= set(event["sdk"]["integrations"])
    assert event["request"]["url"].endswith("/invite/[redacted]/")
    assert "Cookie" not in event["request"]["headers"]
    for secret in (TOKEN, "ann@x.example", "s3ss10n", "t0k3n", "203.0.113.9"):
        assert secret not in raw


# --- gunicorn's access log -----------------------------------------------------------------------


def test_gunicorn_writes_json_access_lines_without_tokens_or_query_strings(db, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": base64.b64encode(os.urandom(40)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log.read_text())
                time.sleep(0.3)
        request = urllib.request.Request(
            f"{base}/invite/{TOKEN}/?email=ann@x.example", headers={"X-Request-ID": "edge-abc-0042"}
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)

        def access_line():
            for text in log.read_text().splitlines():
                if "gunicorn.access" in text and "edge-abc-0042" in text:
                    return json.loads(text)
            return None

        line = wait_for(access_line, message="the access log line")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert line["path"] == "/invite/[redacted]/"
    assert line["status"] == 404
    assert line["method"] == "GET"
    assert line["duration_ms"] >= 0
    text = log.read_text()
    assert "warm-up: URLconf and" in text, "loaded before the workers were forked"
    assert TOKEN not in text
    assert "ann@x.example" not in text
    for text_line in text.splitlines():
        json.loads(text_line)  # every line of gunicorn's stderr is one JSON object


# --- docker-compose's healthchecks ---------------------------------------------------------------


def test_the_beat_containers_healthcheck_fails_without_a_recent_heartbeat(transactional_db):
    from portal.health import heartbeat_stamp
    from tests.conftest import redis_url

    compose = (ROOT / "docker-compose.yml").read_text()
    beat = compose[compose.index("\n  beat:\n") :]
    [command] = re.findall(r'- "(import django;[^"]*)"', beat)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_BROKER_URL": redis_url(),  # tasks go to workers: heartbeats count
        "DJANGO_SETTINGS_MODULE": "portal.settings",  # as the image sets it
    }

    def healthcheck() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", command], cwd=ROOT, env=env, capture_output=True, text=True
        )

    assert healthcheck().returncode != 0  # no heartbeat yet
    heartbeat_stamp("beat")
    result = healthcheck()
    assert result.returncode == 0, result.stderr[-2000:]
