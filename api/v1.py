"""The partner REST API, version 1: the NinjaAPI instance (mounted at /api/v1/ by project.urls),
its default auth (api.auth.TokenAuth), the Idempotency-Key handling of every POST, and the
exception handlers that turn every error into an RFC 9457 problem (api.problems)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    ValidationError,
)
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.operation import PathView

from .auth import RateLimited, TokenAuth
from .idempotency import idempotent
from .openapi import openapi_schema_complete
from .problems import problem, pydantic_errors, status_title, validation_errors

logger = logging.getLogger(__name__)

DESCRIPTION = """Automate what you do in the partner portal: companies, their users, team VMRs,
endpoints and calling domains, batch jobs, handouts and webhooks.

Authenticate with `Authorization: Bearer <token>` (create a token on the portal's **API tokens**
page). Lists answer `{"items": [...], "next": <url or null>}`; follow `next` for the next page.
Errors are RFC 9457 `application/problem+json`. Send an `Idempotency-Key` header with a POST to
retry it safely for 24 hours."""


class PartnerAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return openapi_schema_complete(super().get_openapi_schema(*args, **kwargs))


api = PartnerAPI(
    title="Partner portal API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=TokenAuth(),
    docs=Swagger(settings={"persistAuthorization": False}),
)


def _without_nul(run: Any) -> Any:
    """PostgreSQL stores no NUL character in text: a body holding one is refused up front
    (a 422), rather than failing in the database; a body over the upload limit is a 413."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            body = request.body if request.method in {"POST", "PUT", "PATCH"} else b""
        except RequestDataTooBig:
            # Over DATA_UPLOAD_MAX_MEMORY_SIZE: a problem too, not the portal's HTML 400 page.
            return problem(413, "Content Too Large", detail="The request body is too large.")
        if b"\\u0000" in body or b"\x00" in body:
            return problem(
                422, "Unprocessable Content", errors={"__all__": ["Remove the NUL characters."]}
            )
        return run(request, *args, **kwargs)

    return wrapper


# Before auth and validation, so that a replay answers exactly what the first request got.
api.add_decorator(idempotent, mode="view")
api.add_decorator(_without_nul, mode="view")


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        401,
        "Unauthorized",
        detail="Send a valid API token: Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return problem(
        429,
        "Too Many Requests",
        detail="This token made too many requests this minute.",
        headers={"Retry-After": str(max(1, exc.retry_after))},
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(403, "Forbidden", detail=str(exc) or "You are not allowed to do this.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(404, "Not Found", detail="No such object.")


api.add_exception_handler(ObjectDoesNotExist, _not_found)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem(422, "Unprocessable Content", errors=validation_errors(exc))


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # A value the database cannot store (out of range): the input's fault, never a 500.
    return problem(422, "Unprocessable Content", errors={"__all__": ["A value is out of range."]})


@api.exception_handler(NinjaValidationError)
def _invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return problem(
        422, "Unprocessable Content", errors=pydantic_errors(exc.errors, tag=_body_kind(request))
    )


def _body_kind(request: HttpRequest) -> str:
    """The `kind` a JSON body names (the tag of a union of bodies), else ""."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return ""
    kind = body.get("kind") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else ""


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # ninja's "Cannot parse request body": malformed JSON, or a body that is not an object.
        return problem(
            422, "Unprocessable Content", errors={"__all__": ["The body is not valid JSON."]}
        )
    return problem(exc.status_code, status_title(exc.status_code), detail=str(exc))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error: %s %s", request.method, request.path)
    return problem(500, "Internal Server Error", detail="Something went wrong on our side.")


from .routers import companies  # noqa: E402

api.add_router("", companies.router)

from .routers import batches, consumers, domains, endpoints, handouts  # noqa: E402

for _resources in (consumers, endpoints, domains, batches, handouts):
    api.add_router("", _resources.router)

from .routers import webhooks  # noqa: E402

api.add_router("", webhooks.router)


def _method_not_allowed(self: PathView) -> HttpResponse:
    """A method the path does not have: a problem too (ninja answers plain text), with Allow."""
    allowed = sorted({method for operation in self.operations for method in operation.methods})
    return problem(
        405,
        "Method Not Allowed",
        detail=f"Use {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )


PathView._not_allowed = _method_not_allowed  # type: ignore[method-assign]


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other URL under /api/v1/: a problem too, not the portal's HTML page."""
    return problem(404, "Not Found", detail="No such API endpoint. See /api/v1/docs.")
