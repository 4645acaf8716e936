"""Shared set-up for the tests.

- `personas`: partner A (its manager, regular and read-only members, its company "Acme A" with
  an open evaluation), partner B (its manager and company "Bravo B") and an ops user.
- Companies in each state: `personas.company` (evaluation open), `closed_company` (evaluation
  closed, no licence), `paid_company` (evaluation closed, free seats); `add_company` and
  `add_licence` for more.
- `make`: consumers made through the services, as the portal makes them; `endpoint` (Shared)
  and `foreign_room` (partner B's) ready made.
- `clock`: time stopped at T0 (time_machine), moved by the test.
- Real services on loopback: `dns_server`, `smtp_server`, `celery_worker_process`; and
  `run_at_once` for work that must be tried concurrently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from consumers import services as consumer_services
from consumers.models import Consumer, ConsumerKind, ConsumerStatus
from consumers.services import endpoints as endpoint_services
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


def add_company(partner: Partner, name: str, **extra) -> Company:
    """A plain company (no evaluation, no licence: closed) with a contact address."""
    return Company.objects.create(
        partner=partner, name=name, contact_email=extra.pop("contact_email", "c@c.example"), **extra
    )


def add_licence(
    company: Company, kind: str = LicenceKind.ENTERPRISE_USER, quantity: int | None = 10, **extra
) -> License:
    """A licence active from yesterday for a year, unless starts_on / ends_on say otherwise."""
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
def closed_company(personas) -> Company:
    """Partner A's company with its evaluation closed and no licence yet: every consumer needs a
    licence seat."""
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    return company


@pytest.fixture
def paid_company(closed_company) -> Company:
    """Partner A's company, paid and with its evaluation closed: 3 Enterprise User seats (users
    and Team VMRs) and 1 Room seat (endpoints), all free."""
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 3)
    add_licence(closed_company, LicenceKind.ROOM, 1)
    return closed_company


@pytest.fixture
def full_company(personas, closed_company, make) -> tuple[Company, Consumer]:
    """Every seat taken: one Enterprise User seat, held by a Team VMR; no Room licence;
    Evaluation Mode closed; and an inactive Team VMR waiting for a seat."""
    company = closed_company
    add_licence(company, LicenceKind.ENTERPRISE_USER, 1)
    make.team_vmr("seat-taker", company=company, display_name="Taker")
    sleeper = Consumer.objects.create(
        company=company,
        kind=ConsumerKind.TEAM_VMR,
        alias="sleeping-room",
        domain=company.service_domain,
        status=ConsumerStatus.INACTIVE,
    )
    return company, sleeper


class Make:
    """Consumers made the way the portal makes them (through the services), by partner A's
    regular member in partner A's company unless a test says otherwise. Arguments a test does
    not look at get plain defaults."""

    def __init__(self, personas: Personas) -> None:
        self.personas = personas

    def _where(self, company: Company | None, actor) -> dict[str, object]:
        return {
            "actor": actor or self.personas.regular,
            "company": company or self.personas.company,
        }

    def user(self, alias: str, *, company=None, actor=None, **extra) -> Consumer:
        extra.setdefault("email", f"{alias}@x.example")
        extra.setdefault("full_name", alias.title())
        return consumer_services.user_invite(**self._where(company, actor), alias=alias, **extra)

    def team_vmr(self, alias: str, *, company=None, actor=None, **extra) -> Consumer:
        extra.setdefault("display_name", "R")
        return consumer_services.team_vmr_create(
            **self._where(company, actor), alias=alias, **extra
        )

    def team_vmrs(self, n: int, *, prefix: str = "room", company=None) -> list[Consumer]:
        """n Team VMRs, <prefix>-0000 upwards, made one after the other."""
        return [
            self.team_vmr(f"{prefix}-{i:04}", company=company, display_name=f"R{i}")
            for i in range(n)
        ]

    def endpoint(self, alias: str, *, company=None, actor=None, **extra) -> Consumer:
        extra.setdefault("display_name", "E")
        return consumer_services.endpoint_create(
            **self._where(company, actor), alias=alias, **extra
        )

    def personal(self, endpoint: Consumer, owner: Consumer | None = None) -> Consumer:
        """The endpoint switched to Personal use, twinned with owner (a new user by default)."""
        owner = owner or self.user(f"{endpoint.alias}.owner", company=endpoint.company)
        endpoint_services.endpoint_set_usage_model(
            actor=self.personas.regular,
            consumer=endpoint,
            usage_model="personal",
            personal_user=owner,
            confirmed=True,
        )
        return endpoint


@pytest.fixture
def make(personas) -> Make:
    return Make(personas)


@pytest.fixture
def endpoint(make) -> Consumer:
    """A Shared endpoint of partner A's company (evaluation open: a trial)."""
    return make.endpoint(
        "lobby-screen", display_name="Lobby screen", device_make="Cisco", device_model="Room Kit"
    )


@pytest.fixture
def foreign_room(personas, make) -> Consumer:
    """A Team VMR of partner B's company: what partner A must never see or touch."""
    add_licence(personas.other_company)
    return make.team_vmr("their-room", company=personas.other_company, actor=personas.other_manager)


# The moment the clock fixture stops time at: a Monday morning, clear of month and year ends.
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """Time stopped at T0; a test moves it with clock.move_to(...) or clock.shift(...). List it
    before the fixtures that create objects, so that those are made at T0 as well."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def run_at_once(*calls: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run each call in a thread of its own, all released at the same moment, each on its own
    database connection (transactional tests only). Returns what each call returned, or the
    exception it raised, in the order of the calls."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def raised(results: list[object]) -> list[Exception]:
    """The exceptions among run_at_once's results."""
    return [r for r in results if isinstance(r, Exception)]


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
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker process on the Redis broker, with a queue of this test's own
    (xdist workers share one Redis, and would otherwise take each other's tasks)."""
    import subprocess
    import sys
    import time
    import uuid

    from portal.celery import app

    requires_postgres()
    broker = redis_url()
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")  # also without pytest-xdist
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
