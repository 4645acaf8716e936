"""The API's lookups of objects by their own id (a consumer, a calling domain, a batch...):
always through the token's partner (request.partner, set by api.auth.TokenAuth), so another
partner's object is a 404 exactly like a missing one (portal.access.get_company does the same
for companies)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

M = TypeVar("M", bound=Model)


def partner_get(request: HttpRequest, queryset: QuerySet[M], public_id: Any) -> M:
    """The object of `queryset` with this public id in one of the partner's companies (its
    company and partner come with it, for the services' role checks), else 404."""
    return get_object_or_404(
        queryset.select_related("company__partner"),
        company__partner=request.partner,  # type: ignore[attr-defined]
        public_id=public_id,
    )
