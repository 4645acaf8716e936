from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from licensing.models import LicenceKind, License
from portal.models import Company, Partner, PartnerMembership, Role

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def requires_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL is required (REQUIRE_SERVICES=1) but tests run on SQLite")
        pytest.skip("needs PostgreSQL")


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail("Redis is required (REQUIRE_SERVICES=1) but is not configured")
        pytest.skip("needs Redis")
    return url


@dataclass
class Personas:
    partner: Partner
    other_partner: Partner
    manager: object
    regular: object
    read_only: object
    other_manager: object
    ops: object
    company: Company
    other_company: Company


def make_user(email: str, *, partner: Partner | None = None, role: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username=email, email=email, password="pw-test-123", **extra
    )
    if partner is not None:
        PartnerMembership.objects.create(user=user, partner=partner, role=role)
    return user


@pytest.fixture
def personas(db) -> Personas:
    partner = Partner.objects.create(name="Partner A", support_email="help@a.example")
    other = Partner.objects.create(name="Partner B")
    company = Company.objects.create(
        partner=partner,
        name="Acme A",
        contact_email="contact@acme.example",
        evaluation_ends_on=timezone.localdate() + timedelta(days=30),
    )
    other_company = Company.objects.create(
        partner=other, name="Bravo B", contact_email="contact@bravo.example"
    )
    return Personas(
        partner=partner,
        other_partner=other,
        manager=make_user("manager@a.example", partner=partner, role=Role.MANAGER),
        regular=make_user("regular@a.example", partner=partner, role=Role.REGULAR),
        read_only=make_user("readonly@a.example", partner=partner, role=Role.READ_ONLY),
        other_manager=make_user("manager@b.example", partner=other, role=Role.MANAGER),
        ops=make_user("ops@service.example", is_staff=True, is_superuser=True),
        company=company,
        other_company=other_company,
    )


def add_licence(
    company: Company, kind: str = LicenceKind.ENTERPRISE_USER, quantity: int | None = 10, **extra
) -> License:
    today = timezone.localdate()
    return License.objects.create(
        company=company,
        kind=kind,
        quantity=quantity,
        starts_on=extra.pop("starts_on", today - timedelta(days=1)),
        ends_on=extra.pop("ends_on", today + timedelta(days=365)),
        **extra,
    )


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def database_url_for_subprocess() -> str:
    """The URL of the test database this process uses, for a worker started by a test."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, worker_id):
    """A real Celery worker process on the Redis broker, with a queue of this test's own
    (xdist workers share one Redis, and would otherwise take each other's tasks)."""
    import subprocess
    import sys
    import time
    import uuid

    from portal.celery import app

    requires_postgres()
    broker = redis_url()
    queue = f"test-{worker_id}-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    def start(extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "EMAIL_URL": f"filemail://{tmp_path / 'mail'}",
            "SITE_URL": "http://portal.test",
            **(extra_env or {}),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-Q",
                queue,
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while "ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("Celery worker did not start:\n" + log.read_text())
            time.sleep(0.2)
        return proc

    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_url = broker
    procs: list[subprocess.Popen] = []

    class Worker:
        mail_dir = tmp_path / "mail"
        log_path = log
        queue_name = queue

        def start(self, **extra_env: str) -> subprocess.Popen:
            proc = start(extra_env)
            procs.append(proc)
            return proc

    try:
        yield Worker()
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        app.conf.task_always_eager = True
        app.conf.task_default_queue = "portal"


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.2, message: str = ""):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out waiting: {message}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """Collects what a real SMTP server on loopback receives; can refuse mail on demand."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port; Django sends to it."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = free_port()  # Controller(port=0) fails its own start-up check
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    sink.port = port
    try:
        yield sink
    finally:
        controller.stop()


def message_parts(message) -> tuple[str, str]:
    """(text, html) of an email.message.EmailMessage."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


@pytest.fixture(scope="session")
def _loopback_dns():
    from tests.dnsserver import LoopbackDNS

    server = LoopbackDNS()
    yield server
    server.stop()


@pytest.fixture
def dns_server(_loopback_dns, settings):
    """The loopback DNS server, emptied, with the portal's resolver pointed at it."""
    _loopback_dns.reset()
    settings.DNS_NAMESERVERS = [_loopback_dns.nameserver]
    settings.DNS_LIFETIME = 1
    return _loopback_dns


@pytest.fixture(autouse=True)
def _no_public_dns(settings):
    """No test may query the machine's resolver (or the internet): a closed port by default."""
    settings.DNS_NAMESERVERS = ["127.0.0.1:9"]
    settings.DNS_LIFETIME = 0.1
