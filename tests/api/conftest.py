"""Fixtures of the API tests: a token per persona (made through the service, as the API tokens
page makes them) and `api`, a client that sends one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from api.models import ApiToken
from api.services import api_token_create
from portal.models import PartnerMembership, Role

API = "/api/v1"


@dataclass
class Token:
    token: ApiToken
    secret: str

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def token_for(user: Any, scopes: tuple[str, ...] = ("read", "write"), name: str = "CI") -> Token:
    """A token acting as `user`. A manager creates their own; anyone else's is made as a
    manager's of their partner would be, then handed to them (the service lets managers only
    create tokens, and a token acts as its creator)."""
    membership = PartnerMembership.objects.select_related("user").get(user=user)
    if membership.role == Role.MANAGER:
        token, secret = api_token_create(actor=user, name=name, scopes=scopes)
        return Token(token, secret)
    # A manager who later lost the role: the token made while a manager, then the role changed.
    PartnerMembership.objects.filter(pk=membership.pk).update(role=Role.MANAGER)
    as_manager = get_user_model().objects.get(pk=user.pk)
    token, secret = api_token_create(actor=as_manager, name=name, scopes=scopes)
    PartnerMembership.objects.filter(pk=membership.pk).update(role=membership.role)
    return Token(token, secret)


@pytest.fixture
def manager_token(personas) -> Token:
    return token_for(personas.manager)


@pytest.fixture
def read_token(personas) -> Token:
    return token_for(personas.manager, scopes=("read",), name="Read only")


@pytest.fixture
def regular_token(personas) -> Token:
    return token_for(personas.regular)


@pytest.fixture
def read_only_member_token(personas) -> Token:
    """A read-only member's token with both scopes: it still cannot write."""
    return token_for(personas.read_only)


@pytest.fixture
def other_token(personas) -> Token:
    """Another partner's manager's token."""
    return token_for(personas.other_manager)


class ApiClient:
    """Django's test client speaking JSON with a bearer token (None: no Authorization)."""

    def __init__(self, client: Client, token: Token | None = None) -> None:
        self.client = client
        self.token = token

    def as_(self, token: Token | None) -> ApiClient:
        return ApiClient(self.client, token)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        """Extra headers as keywords, WSGI-style: HTTP_IDEMPOTENCY_KEY="k"."""
        extra = {
            k.removeprefix("HTTP_").replace("_", "-").title(): v for k, v in (headers or {}).items()
        }
        return {**(self.token.header if self.token else {}), **extra}

    def _url(self, path: str) -> str:
        return path if path.startswith(("/", "http")) else f"{API}/{path}"

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(self._url(path), params or {}, headers=self._headers(headers))

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        return self.client.generic(
            method,
            self._url(path),
            data,
            content_type="application/json",
            headers=self._headers(headers),
        )

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("POST", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("PATCH", path, body, **headers)

    def put(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("PUT", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(self._url(path), headers=self._headers(headers))


@pytest.fixture
def api(client, manager_token) -> ApiClient:
    """A client with the partner manager's read-write token; `api.as_(other)` switches."""
    return ApiClient(client, manager_token)


@pytest.fixture
def api_client(client) -> ApiClient:
    """A client without a token; `api_client.as_(token)` adds one."""
    return ApiClient(client)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    return body
