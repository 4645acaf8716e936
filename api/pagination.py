"""Cursor pagination for every list: `{"items": [...], "next": <absolute url or null>}`.

The cursor is opaque to clients: the URL-safe base64 of the last row's ordering values (JSON).
The next page is the rows after those values in the same order (keyset), so a page costs one
query however deep it is, and rows added meanwhile neither repeat nor go missing."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field, create_model

from portal.db import replica_call

from .auth import api_actor_company

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


class PageQuery(Schema):
    """The query parameters of every list; a list's filter schema extends it."""

    cursor: str | None = Field(None, description="The `next` link's cursor, as given.")
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Items per page.")


@cache
def page_schema(item: type[Schema]) -> type[Schema]:
    """The response schema of a list of `item`: `{"items": [...], "next": url | null}`."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{item.__name__}Page",
        __base__=Schema,
        items=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, Field(..., description="The next page's URL; null on the last.")),
    )


def _field_of(model: type[Model], name: str) -> Any:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, model: type[Model], names: Sequence[str]) -> list[Any]:
    invalid = ValidationError({"cursor": "This cursor is not valid for this list."})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(values, list) or len(values) != len(names):
        raise invalid
    try:
        return [
            None if v is None else _field_of(model, n).to_python(v)
            for n, v in zip(names, values, strict=True)
        ]
    except (ValidationError, TypeError, ValueError):
        raise invalid from None


def _after(order: Sequence[str], values: list[Any]) -> Q:
    """Rows strictly after `values` in `order` (each field ascending, or descending with "-"):
    (a > x) OR (a = x AND b > y) OR ...  The ordering's fields must not be NULL."""
    condition = Q()
    equal = Q()
    for spec, value in zip(order, values, strict=True):
        name = spec.lstrip("-")
        op = "lt" if spec.startswith("-") else "gt"
        condition |= equal & Q(**{f"{name}__{op}": value})
        equal &= Q(**{name: value})
    return condition


def _limit(request: HttpRequest, default: int, maximum: int) -> int:
    raw = request.GET.get("limit", "")
    if not raw:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError({"limit": "Enter a whole number."}) from None
    if not 1 <= limit <= maximum:
        raise ValidationError({"limit": f"Enter a number from 1 to {maximum}."})
    return limit


def cursor_page(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    order: Sequence[str] = ("-created_at", "-public_id"),
    item: Callable[[Any], Any] | None = None,
    limit_default: int = LIMIT_DEFAULT,
    limit_max: int = LIMIT_MAX,
) -> dict[str, Any]:
    """One page of `queryset` in `order` (non-null model fields, the last one unique), after
    the request's `cursor`, `limit` rows long (one query). `item` maps each row (default: the
    row itself, for the response schema to read). A bad cursor or limit is a 422. The page is
    read from the read replica when there is one (portal.db): every list of the API is a page."""
    names = [spec.lstrip("-") for spec in order]
    limit = _limit(request, limit_default, limit_max)
    rows = queryset.order_by(*order)
    cursor = request.GET.get("cursor", "")
    if cursor:
        rows = rows.filter(_after(order, _decode(cursor, queryset.model, names)))
    page = replica_call(request, lambda: list(rows[: limit + 1]))
    next_url = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        params = request.GET.copy()
        params["cursor"] = _encode([getattr(last, n) for n in names])
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return {"items": [item(row) for row in page] if item else page, "next": next_url}


def company_page(
    request: HttpRequest,
    company_id: Any,
    select: Callable[..., QuerySet[Any]],
    *,
    order: Sequence[str],
) -> dict[str, Any]:
    """One page of a company's `select(company=...)` rows, for a token that may read (a
    company's calling domains, Microsoft 365 domains, interop configurations, licences)."""
    _actor, company = api_actor_company(request, company_id, write=False)
    return cursor_page(request, select(company=company), order=order)
