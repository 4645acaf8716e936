"""The optional read replica (portal.db): list pages and exports read from it; every write, and
every read that must see a write, goes to the primary.

The replica here is a real second connection to the test database, opened with
`default_transaction_read_only=on`: PostgreSQL refuses any write routed to it. Only this module
adds the alias (a module fixture, after the test database exists), so the rest of the suite runs
without it.
"""

from __future__ import annotations

import copy
import os
import re
import runpy
import shutil
import subprocess
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from api.services import api_token_create
from consumers.models import BatchJob, Consumer
from consumers.services import batch as batches
from portal import db
from portal.models import AuditEvent, Company, Partner
from portal.services import company_create
from tests.api.conftest import ApiClient, Token, token_for
from tests.conftest import add_licence, free_port, requires_postgres, wait_for

# Transactional: the replica's connection sees committed rows only.
with_replica = pytest.mark.django_db(transaction=True, databases=["default", db.REPLICA])

ROOT = Path(__file__).resolve().parents[1]
# What may reach the replica: reads only (a server-side cursor's DECLARE is Django's .iterator()).
READ = re.compile(r"^\s*(SELECT|WITH|DECLARE)\b", re.IGNORECASE)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """The `replica` alias: the test database again, read-only, a mirror of default (Django
    neither creates nor flushes it)."""
    requires_postgres()
    primary = copy.deepcopy(connections["default"].settings_dict)
    options = {k: v for k, v in primary["OPTIONS"].items() if k != "pool"}
    connections.settings[db.REPLICA] = {
        **primary,
        "OPTIONS": {**options, "options": "-c default_transaction_read_only=on"},
        "TEST": {**primary["TEST"], "MIRROR": "default"},
    }
    yield
    connections[db.REPLICA].close()
    del connections[db.REPLICA]
    del connections.settings[db.REPLICA]


class Recorder:
    """Every statement sent on a connection (before it runs, so a refused one counts too)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def reads_of(self, table: str) -> list[str]:
        return [s for s in self.sql if READ.match(s) and f'"{table}"' in s]


class Queries:
    def __init__(self) -> None:
        self.replica, self.primary = Recorder(), Recorder()

    def clear(self) -> None:
        self.replica.sql.clear()
        self.primary.sql.clear()

    def assert_replica_only_read(self) -> None:
        """Nothing but reads reached the replica (PostgreSQL would also have refused a write)."""
        assert self.replica.sql == [s for s in self.replica.sql if READ.match(s)]
        assert not any("FOR UPDATE" in s for s in self.replica.sql)


@pytest.fixture
def queries(settings):
    """The router and the pin installed, as settings.py does when DATABASE_REPLICA_URL is
    set; statements recorded on both connections."""
    settings.DATABASE_ROUTERS = ["portal.db.ReplicaRouter"]
    first, *rest = settings.MIDDLEWARE
    settings.MIDDLEWARE = [first, "portal.db.ReplicaPinMiddleware", *rest]
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    db._down_until = 0.0
    recorded = Queries()
    with ExitStack() as stack:
        stack.enter_context(connections[db.REPLICA].execute_wrapper(recorded.replica))
        stack.enter_context(connections["default"].execute_wrapper(recorded.primary))
        yield recorded
    connections[db.REPLICA].close()
    db._down_until = 0.0


def grouped(recorder: Recorder) -> list[str]:
    """The company list's tab counts: one GROUP BY over the companies."""
    return [s for s in recorder.reads_of("portal_company") if "GROUP BY" in s]


def unpin(client: Client) -> None:
    """Forget the pin, as the cookie does after DATABASE_REPLICA_PIN_SECONDS."""
    client.cookies.pop(db.PIN_COOKIE, None)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content) if response.streaming else response.content


def curl(name: str, company: Company, *more: object) -> str:
    return reverse(f"consumers:{name}", args=[company.public_id, *more])


# --- (a) a write never goes to the replica -------------------------------------------------------


@with_replica
def test_write_flows_through_the_pages_and_the_api_never_reach_the_replica(
    client, personas, queries
):
    """A manager's day, each write after a list page read from the replica: every write lands
    on the primary, and nothing is refused."""
    client.force_login(personas.manager)
    lists = 0

    def post(url: str, data: dict[str, object]) -> None:
        nonlocal lists
        unpin(client)
        assert client.get(reverse("portal:company_list")).status_code == 200
        lists += 1
        response = client.post(url, data)
        assert response.status_code == 302, response.content[:2000]

    post(reverse("portal:company_create"), {"name": "New Co", "contact_email": "a@new.example"})
    company = Company.objects.get(name="New Co")
    add_licence(company, quantity=10)
    post(
        curl("user_invite", company),
        {
            "full_name": "Ann Example",
            "email": "ann@example.com",
            "alias": "ann.example",
            "domain": company.service_domain,
        },
    )
    for alias in ("room-one", "room-two"):
        post(
            curl("team_vmr_add", company),
            {"display_name": alias, "alias": alias, "domain": company.service_domain},
        )
    rooms = list(Consumer.objects.filter(company=company, kind="team_vmr"))
    post(
        curl("batch_new", company),
        {
            "kind": "team_vmr",
            "source": "selection",
            "action": "delete",
            "ids": [str(rooms[0].public_id)],
        },
    )
    batch = BatchJob.objects.get()
    post(curl("batch_confirm", company, batch.public_id), {})  # runs at once (eager Celery)
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded) == ("done", 1)
    user = Consumer.objects.get(company=company, kind="user")
    post(curl("consumer_delete", company, user.public_id), {})
    post(
        reverse("portal:company_edit", args=[company.public_id]),
        {"name": "New Co Renamed", "contact_email": "b@new.example", "country": "GB"},
    )
    unpin(client)
    report = client.get(curl("batch_report", company, batch.public_id))
    assert "room-one@" in body(report).decode()

    token = token_for(personas.manager)
    api = ApiClient(client, token)
    created = api.post("companies", {"name": "Api Co", "contact_email": "c@api.example"})
    assert created.status_code == 201, created.content
    assert "Api Co" in api.get("companies").content.decode()
    post(
        reverse("portal:company_delete", args=[company.public_id]),
        {"confirm_name": "New Co Renamed"},
    )

    assert not Company.objects.filter(pk=company.pk).exists()
    assert list(Consumer.objects.filter(alias="room-two")) == []
    assert AuditEvent.objects.filter(action="company.delete").exists()
    queries.assert_replica_only_read()
    assert len(queries.replica.reads_of("portal_company")) >= lists, "the lists read the replica"
    assert any(WRITE.match(s) for s in queries.primary.sql)


@with_replica
def test_inside_a_replica_scope_every_write_and_locking_read_goes_to_the_primary(
    personas, make, queries
):
    """Services and the ORM's write paths called inside the scope itself: each reaches the
    primary (the read-only replica would refuse it), and the scope then reads what it wrote."""
    with db.replica_reads() as scope:
        assert scope is not None and scope.replica
        assert Company.objects.all().db == db.REPLICA
        company = Company.objects.get(pk=personas.company.pk)  # from the replica
        assert company._state.db == db.REPLICA
        company.reference = "R-7"
        company.save()  # an object read from the replica is saved to the primary
        assert Company.objects.all().db == "default", "after a write, the scope reads its own"
    with db.replica_reads():
        assert Company.objects.select_for_update().db == "default"
        assert Company.objects.all().db == "default", "a locking read counts as a write"

    with db.replica_reads():
        with transaction.atomic():
            assert Company.objects.all().db == "default", "inside a transaction: the primary"
            locked = Company.objects.select_for_update().get(pk=personas.company.pk)
            assert locked.reference == "R-7"
        created = company_create(
            actor=personas.manager,
            partner=personas.partner,
            name="Scope Co",
            contact_email="s@x.example",
        )
        room = make.team_vmr("scoped-room", company=personas.company)
        Partner.objects.get_or_create(name="Got Partner")
        Company.objects.filter(pk=created.pk).update(reference="R-8")
        room.delete()
        Partner.objects.filter(name="Got Partner").delete()

    assert Company.objects.get(pk=created.pk).reference == "R-8"
    assert not Consumer.objects.filter(alias="scoped-room").exists()
    queries.assert_replica_only_read()
    assert queries.replica.reads_of("portal_company"), "the first read did go to the replica"


# --- (b) list pages and exports read from the replica ---------------------------------------------


@with_replica
def test_list_pages_exports_and_api_lists_read_from_the_replica(
    client, personas, make, endpoint, queries
):
    company = personas.company
    make.user("ann.example")
    make.team_vmr("board-room")
    batch = batches.batch_preview(
        actor=personas.manager,
        company=company,
        kind="team_vmr",
        action="delete",
        consumer_ids=[str(Consumer.objects.get(alias="board-room").public_id)],
    )
    token = Token(*api_token_create(actor=personas.manager, name="CI", scopes=("read",)))
    client.force_login(personas.manager)
    pages = {
        reverse("portal:company_list"): ("portal_company", "Acme A"),
        reverse("portal:company_activity", args=[company.public_id]): ("portal_auditevent", ""),
        reverse("portal:member_list"): ("portal_partnermembership", "regular@a.example"),
        curl("user_list", company): ("consumers_consumer", "ann.example"),
        curl("team_vmr_list", company): ("consumers_consumer", "board-room"),
        curl("endpoint_list", company): ("consumers_consumer", "lobby-screen"),
        curl("endpoint_calls", company, endpoint.public_id): ("consumers_callrecord", ""),
        curl("endpoint_calls", company, endpoint.public_id) + "?export=csv": (
            "consumers_callrecord",
            "",
        ),
        reverse("domains:domain_list", args=[company.public_id]): ("domains_callingdomain", ""),
        reverse("licensing:licence_list", args=[company.public_id]): ("licensing_license", ""),
        reverse("api:token_list"): ("api_apitoken", "CI"),
        reverse("api:webhook_list"): ("api_webhookendpoint", ""),
        curl("batch_report", company, batch.public_id): ("consumers_batchitem", "board-room"),
        curl("licence_consumers_export", company): ("consumers_consumer", "ann.example"),
        reverse("partner_licence_consumers_export"): ("consumers_consumer", "board-room"),
        "/api/v1/companies": ("portal_company", "Acme A"),
        f"/api/v1/companies/{company.public_id}/consumers": ("consumers_consumer", "board-room"),
        f"/api/v1/batches/{batch.public_id}/report": ("consumers_batchitem", "board-room"),
        f"/api/v1/batches/{batch.public_id}/report.csv": ("consumers_batchitem", "board-room"),
    }
    for url, (table, shown) in pages.items():
        queries.clear()
        headers = token.header if url.startswith("/api/") else {}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert shown in body(response).decode(), url
        assert queries.replica.reads_of(table), f"{url} read {table} from the primary"
        queries.assert_replica_only_read()
    queries.clear()
    client.get(
        curl("consumer_detail", company, Consumer.objects.get(alias="ann.example").public_id)
    )
    assert queries.replica.sql == [], "a detail page reads the primary"

    # The company list's tab counts kept in the cache (portal.counts_cache) are counted on the
    # primary: counted on a lagging replica, they would be kept until the next change. A
    # search's counts are not kept: from the replica.
    cache.clear()
    queries.clear()
    client.get(reverse("portal:company_list"))
    assert grouped(queries.primary) and not grouped(queries.replica)
    queries.clear()
    client.get(reverse("portal:company_list") + "?q=Acme")
    assert grouped(queries.replica)


# --- (c) the client that wrote reads from the primary for a while ---------------------------------


@with_replica
def test_after_a_post_the_same_client_reads_from_the_primary_for_the_pin_seconds(
    clock, client, personas, queries
):
    client.force_login(personas.manager)
    response = client.post(
        reverse("portal:company_create"), {"name": "Fresh Co", "contact_email": "f@x.example"}
    )
    assert response.status_code == 302
    assert client.cookies[db.PIN_COOKIE]["max-age"] == 10

    queries.clear()
    page = client.get(reverse("portal:company_list"))
    assert "Fresh Co" in page.content.decode()
    assert queries.replica.sql == [], "pinned: the change is read back from the primary"
    assert queries.primary.reads_of("portal_company")

    other = Client()
    other.force_login(personas.regular)
    queries.clear()
    other.get(reverse("portal:company_list"))
    assert queries.replica.reads_of("portal_company"), "another client is not pinned"

    clock.shift(timedelta(seconds=11))  # the browser would drop the cookie; the server too
    queries.clear()
    client.get(reverse("portal:company_list"))
    assert queries.replica.reads_of("portal_company"), "the pin has run out"

    form_error = client.post(reverse("portal:company_create"), {"name": ""})
    assert form_error.status_code == 200
    queries.clear()
    client.get(reverse("portal:company_list"))
    assert queries.replica.sql == [], "any unsafe method answered below 500 pins"

    # An API client that keeps no cookies is pinned by its token.
    token = token_for(personas.manager)
    api = ApiClient(Client(), token)
    created = api.post(
        f"companies/{personas.company.public_id}/consumers",
        {"kind": "team_vmr", "alias": "api-room", "display_name": "Api room"},
    )
    assert created.status_code == 201, created.content
    api.client.cookies.clear()
    queries.clear()
    listed = api.get(f"companies/{personas.company.public_id}/consumers")
    assert "api-room" in listed.content.decode()
    assert queries.replica.sql == []
    other = ApiClient(Client(), token_for(personas.manager, name="Other"))
    queries.clear()
    other.get(f"companies/{personas.company.public_id}/consumers")
    assert queries.replica.reads_of("consumers_consumer"), "another token is not pinned"


# --- the replica down: list pages degrade to the primary -----------------------------------------


@with_replica
def test_a_replica_that_fails_or_does_not_answer_leaves_the_pages_on_the_primary(
    client, personas, queries, caplog
):
    client.force_login(personas.manager)
    replica = connections[db.REPLICA]

    # Half-way through a view: its connection killed, the view runs again on the primary.
    replica.ensure_connection()
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not backend_alive(pid), message="the replica's backend to end")
    queries.clear()
    page = client.get(reverse("portal:company_list"))
    assert page.status_code == 200
    assert "Acme A" in page.content.decode()
    assert queries.replica.sql, "the replica was tried first"
    assert queries.primary.reads_of("portal_company"), "then the primary answered"
    assert db._replica_is_down()
    assert "read replica unavailable" in caplog.text

    # Not answering at all: a scope finds out as it opens (a task's, which has no view to run
    # again, too), reads from the primary, and leaves the replica alone for a while.
    db._down_until = 0.0
    replica.close()
    port = replica.settings_dict["PORT"]
    replica.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        with db.replica_reads():
            assert Company.objects.filter(name="Acme A").exists()
        assert db._replica_is_down()
        queries.clear()
        page = client.get(reverse("portal:company_list"))
        assert page.status_code == 200
        assert "Acme A" in page.content.decode()
        assert queries.primary.reads_of("portal_company")
        assert queries.replica.sql == []
        assert db.read_alias() == "default"
        with db.replica_reads() as scope:
            assert scope is not None and not scope.replica, "marked down: not tried again"
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port


def backend_alive(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


# --- (d) without DATABASE_REPLICA_URL, nothing is installed --------------------------------------


def load_settings(monkeypatch, **env: str) -> dict[str, object]:
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://portal@db.example:5432/portal")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "portal" / "settings.py"))


def test_without_a_replica_url_no_router_alias_or_middleware(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert list(loaded["DATABASES"]) == ["default"]
    assert loaded.get("DATABASE_ROUTERS", []) == []
    assert "portal.db.ReplicaPinMiddleware" not in loaded["MIDDLEWARE"]


def test_with_a_replica_url_the_alias_shares_the_primary_connection_settings(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        DATABASE_REPLICA_URL="postgres://reader@replica.example:5432/portal",
        DATABASE_CONN_MAX_AGE="30",
        DATABASE_REPLICA_PIN_SECONDS="7",
    )
    replica = loaded["DATABASES"]["replica"]
    assert (replica["HOST"], replica["USER"]) == ("replica.example", "reader")
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (30, True)
    assert replica["OPTIONS"]["connect_timeout"] == 5
    assert replica["TEST"] == {"MIRROR": "default"}
    assert loaded["DATABASE_ROUTERS"] == ["portal.db.ReplicaRouter"]
    assert loaded["MIDDLEWARE"][1] == "portal.db.ReplicaPinMiddleware"
    assert loaded["DATABASE_REPLICA_PIN_SECONDS"] == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_REPLICA_URL", "sqlite:///replica.sqlite3"),
        ("DATABASE_REPLICA_URL", "mysql://x@y/z"),
        ("DATABASE_REPLICA_PIN_SECONDS", "soon"),
    ],
)
def test_a_bad_replica_setting_fails_at_start_naming_it(monkeypatch, name, value):
    env = {"DATABASE_REPLICA_URL": "postgres://reader@replica.example/portal", name: value}
    with pytest.raises(ImproperlyConfigured, match=f"{name}:"):
        load_settings(monkeypatch, **env)


# --- the compose scale example --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_the_scale_example_is_a_valid_override_with_a_proxy_in_front_of_two_webs():
    env = {
        **os.environ,
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "portal.example.com",
        "POSTGRES_PASSWORD": "p" * 24,
        "WEB_PORT": "127.0.0.1:8001-8002",
    }
    command = ["docker-compose", "-f", "docker-compose.yml", "-f", "docker-compose.scale.yml"]
    config = subprocess.run(
        [*command, "config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert config.returncode == 0, config.stderr
    services = dict(re.findall(r"^  ([a-z]+):\n((?:    .*\n)*)", config.stdout, re.MULTILINE))
    for name in ("web", "worker"):
        assert "replicas: 2" in services[name]
    assert "replicas" not in services["beat"], "exactly one beat"
    assert "BEHIND_PROXY: '1'" in services["web"]
    assert "127.0.0.1:8001-8002:8000" in services["web"]
    assert "deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "http://web:8000" in nginx and "X-Forwarded-For" in nginx
    assert "proxy_http_version 1.1;" in nginx, "a CSV cut short must not look complete"
