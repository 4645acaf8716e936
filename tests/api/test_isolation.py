"""Tenant isolation of the whole API: every operation of `api.v1.api` (those added later
included: the walk is built from the API's own registered operations) is tried

- without a token: 401;
- with partner A's token and partner B's real object ids: 404, exactly like a random id, and
  nothing of partner B changes;
- with partner A's token and random ids: 404.

A new kind of object in a path fails the walk until it is taught here (tests/api/walk.py)."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

import pytest
from django.db import transaction

from api.v1 import api as partner_api
from licensing.models import LicenceKind
from portal.models import AuditEvent
from tests.api.conftest import ApiClient, assert_problem
from tests.api.walk import object_key, webhook_objects
from tests.conftest import add_licence
from tests.portal.test_isolation import objects_of_partner_a

PREFIX = "/api/v1"
# Served to anyone (no partner data): the OpenAPI document and the docs.
PUBLIC_ROUTES = {"openapi.json", "docs", ""}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, OpenAPI operation) of every operation the API registered."""
    schema = partner_api.get_openapi_schema()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


OPERATIONS = operations()


def test_every_route_of_the_api_is_in_the_walk():
    """A route left out of the OpenAPI document would escape the walk: there is none."""
    documented = {
        re.sub(r"\{(\w+)\}", r"<\1>", path.removeprefix(f"{PREFIX}/")) for _, path, _ in OPERATIONS
    }
    routes = {str(p.pattern) for p in partner_api.urls[0]} - PUBLIC_ROUTES
    assert routes - documented == set()
    assert len(OPERATIONS) >= 5


def _other_partners_objects(personas) -> dict[str, Any]:
    """Partner B's objects: the portal walk's objects, made for partner B (in its evaluation,
    so that it may have an endpoint)."""
    add_licence(personas.other_company, LicenceKind.ROOM, 2)
    as_b = replace(
        personas,
        partner=personas.other_partner,
        company=personas.other_company,
        manager=personas.other_manager,
    )
    objects = objects_of_partner_a(as_b)
    objects.update(webhook_objects(personas.other_manager))
    return objects


def _url(path: str, objects: dict[str, Any] | None) -> str:
    """The path with each parameter filled: the object of its collection (the segment before
    it), or a random id when `objects` is None."""

    def fill(match: re.Match[str]) -> str:
        if objects is None:
            return str(uuid.uuid4())
        key = object_key(path[: match.start()])
        if key is None or key not in objects:
            pytest.fail(f"{path}: no test object for {match.group(0)}; teach tests/api/walk.py")
        return str(objects[key])

    return re.sub(r"\{(\w+)\}", fill, path)


def _send(client: ApiClient, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(url)
    return client.send(method, url, {})


def _id(operation: tuple[str, str, dict[str, Any]]) -> str:
    return f"{operation[0]} {operation[1]}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_without_a_token_every_operation_is_401(api_client, personas, operation):
    method, path, _ = operation
    assert_problem(_send(api_client, method, _url(path, None)), 401)


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if "{" in o[1]], ids=_id)
def test_another_partners_objects_are_404_like_missing_ones(api, personas, dns_server, operation):
    method, path, spec = operation
    objects = _other_partners_objects(personas)
    events_of_b = AuditEvent.objects.filter(partner=personas.other_partner).count()
    with transaction.atomic():
        theirs = _send(api, method, _url(path, objects))
        transaction.set_rollback(True)
    missing = _send(api, method, _url(path, None))
    if theirs.status_code == 422 and "requestBody" in spec:
        # The body is checked before the lookup: the same answer as for a missing object.
        assert missing.status_code == 422
        assert theirs.json() == missing.json()
    else:
        assert_problem(theirs, 404)
        assert_problem(missing, 404)
        assert theirs.json() == missing.json()
    assert AuditEvent.objects.filter(partner=personas.other_partner).count() == events_of_b


@pytest.mark.parametrize(
    "operation",
    # With a body, the walk above covers them (the body is checked before the lookup).
    [o for o in OPERATIONS if "{" in o[1] and "requestBody" not in o[2]],
    ids=_id,
)
def test_another_partners_token_gets_404_for_our_objects(api, personas, other_token, operation):
    """The other way round: partner B's token and partner A's objects."""
    method, path, _spec = operation
    objects = {**objects_of_partner_a(personas), **webhook_objects(personas.manager)}
    with transaction.atomic():
        response = _send(api.as_(other_token), method, _url(path, objects))
        transaction.set_rollback(True)
    assert_problem(response, 404)
