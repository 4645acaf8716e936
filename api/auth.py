"""Who calls the API: `Authorization: Bearer <secret>` resolves to an ApiToken, which acts as the
member who created it, narrowed by its scopes. Every operation looks objects up through the
token's partner (portal.access), so another partner's object is a 404 like a missing one."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from portal.access import get_company
from portal.audit import ACTOR_CONTEXT_ATTR
from portal.models import Company
from portal.ratelimit import WINDOW_SECONDS, rate_limited

from .models import ApiToken
from .selectors import api_token_for_secret
from .services import api_token_touch


class RateLimited(Exception):
    """The token made more than API_RATE_LIMIT requests this minute: 429, Retry-After."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Rate limited; retry after {retry_after} s")


class TokenAuth(HttpBearer):
    """The API's default auth. A missing, unknown, expired or revoked token, or one whose
    member (or account) was deactivated, answers 401."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.openapi_scheme or not secret.strip():
            return None
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        now = timezone.now()
        api_token = api_token_for_secret(token, now=now)
        if api_token is None:
            return None
        if rate_limited(f"api:{api_token.public_id}", settings.API_RATE_LIMIT):
            raise RateLimited(WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS)
        api_token_touch(token=api_token, now=now)
        membership = api_token.created_by
        # What the portal's helpers read (portal.access.get_company, membership_of).
        request.membership = membership  # type: ignore[attr-defined]
        request.partner = membership.partner  # type: ignore[attr-defined]
        return api_token


def api_token_of(request: HttpRequest) -> ApiToken:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def api_actor(request: HttpRequest, *, write: bool) -> Any:
    """The member the token acts as, for a service's `actor`. 403 when the token lacks the
    scope (`write` for a change, `read` or `write` for a read); the services' own role checks
    (a read-only member) raise PermissionDenied, a 403 too. Every audit event the actor causes
    records the token's id (portal.audit)."""
    token = api_token_of(request)
    if write and not token.can_write:
        raise PermissionDenied("This API token does not have the write scope.")
    if not write and not token.can_read:
        raise PermissionDenied("This API token does not have the read scope.")
    membership = token.created_by
    user = membership.user
    user._portal_membership = membership  # type: ignore[attr-defined]
    setattr(user, ACTOR_CONTEXT_ATTR, {"api_token": str(token.public_id)})
    return user


def api_partner(request: HttpRequest) -> Any:
    return request.partner  # type: ignore[attr-defined]


def api_company(
    request: HttpRequest, company_id: uuid.UUID | str, *, with_state: bool = True
) -> Company:
    """The token's partner's company (with its state unless `with_state=False`), or 404
    (portal.access.get_company)."""
    return get_company(request, company_id, with_state=with_state)


def api_actor_company(
    request: HttpRequest, company_id: uuid.UUID | str, *, write: bool, with_state: bool = True
) -> tuple[Any, Company]:
    """What an operation on a company's resources starts with: the acting member (api_actor,
    checked first: 403 before 404) and the company (api_company)."""
    actor = api_actor(request, write=write)
    return actor, api_company(request, company_id, with_state=with_state)
