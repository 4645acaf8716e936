"""RFC 9457 problem details: every error the API answers is built here."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    *,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """An `application/problem+json` response: `type` (about:blank: the status says it all),
    `title`, `status`, and `detail` and `errors` ({field: [messages]}) when given."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def status_title(status: int) -> str:
    return HTTPStatus(status).phrase


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]}; non-field errors under `__all__`."""
    if hasattr(exc, "error_dict"):
        return {
            field: list(ValidationError(errs).messages) for field, errs in exc.error_dict.items()
        }
    return {"__all__": list(exc.messages)}


def pydantic_errors(errors: list[dict[str, Any]], *, tag: str = "") -> dict[str, list[str]]:
    """ninja's validation errors (pydantic's, located as ["body", "payload", "name"]) as
    {field: [messages]}: the field is the location after "body"/"query"/"path" and the
    operation's parameter name, dotted; "__all__" for the body as a whole. `tag`: the body's
    variant of a tagged union (its `kind`), which pydantic puts before the field and a client
    did not write ("user.email" reads "email")."""
    out: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header", "form", "cookie"}:
            source = loc[0]
            loc = loc[1:]
            # ninja puts the body's parameter name first ("payload"); a query/path one is the field.
            if source == "body" and len(loc) > 1:
                loc = loc[1:]
                if tag and len(loc) > 1 and loc[0] == tag:
                    loc = loc[1:]
            elif source == "body":
                loc = []
        field = ".".join(loc) or "__all__"
        out.setdefault(field, []).append(str(error.get("msg", "Invalid value.")))
    return out
