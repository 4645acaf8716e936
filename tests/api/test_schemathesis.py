"""Schemathesis against the live OpenAPI document (served by the app, through WSGI): for every
operation, valid and invalid data (positive and negative modes), with a read-write token of a
partner manager; no response may be a server error, and every response must conform to the
documented schema (problems included).

Bounded for a 2-core CI: a few examples per operation, deterministic (derandomized, no example
database), no deadline. Path parameters are the partner's real objects, so that valid requests
reach the services rather than stopping at a 404."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.v1 import api as partner_api
from tests.api.conftest import token_for
from tests.api.walk import object_key, webhook_objects
from tests.portal.test_isolation import objects_of_partner_a

MAX_EXAMPLES = 12
SEED = 18


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # PostgreSQL stores no NUL: the API refuses it (422), tested elsewhere.
                "allow-x00": False,
            },
        }
    )


@pytest.fixture
def _wsgi_keeps_the_test_transaction():
    """Django closes the database connection when a WSGI request finishes; the test client
    turns that off so that requests run in the test's transaction, and so does this."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def live(settings, personas, paid_company, dns_server, _wsgi_keeps_the_test_transaction):
    """The partner's objects (by path segment) and a manager's read-write token."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.API_RATE_LIMIT = 100_000
    objects = {**objects_of_partner_a(personas), **webhook_objects(personas.manager)}
    token = token_for(personas.manager, name="Schemathesis")
    return objects, token


def _with_real_objects(case, objects) -> None:
    """A well-formed id in the path becomes the partner's real object of that collection, so
    that valid requests reach the services; a malformed one (negative data) stays."""
    for name, value in (case.path_parameters or {}).items():
        try:
            uuid.UUID(str(value))
        except ValueError:
            continue
        key = object_key(case.path.split("{" + name + "}")[0])
        if key in objects:
            case.path_parameters[name] = str(objects[key])


schema = schemathesis.openapi.from_dict(partner_api.get_openapi_schema(), config=_config())
schema.app = get_wsgi_application()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_openapi_document(case, live):
    objects, token = live
    _with_real_objects(case, objects)
    case.call_and_validate(
        headers=token.header, checks=[not_a_server_error, response_schema_conformance]
    )
