"""Reads of the API's own rows."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from portal.models import Partner

from .models import ApiToken
from .tokens import secret_hash, secret_well_formed


def api_token_for_secret(secret: str, *, now: datetime) -> ApiToken | None:
    """The usable token (ApiToken.objects.usable) with this secret, with its member, account
    and partner, in one query; None for anything else. A malformed secret (a typo, another
    service's token) costs no query."""
    if not secret_well_formed(secret):
        return None
    return (
        ApiToken.objects.usable(now)
        .select_related("created_by__user", "created_by__partner")
        .filter(secret_hash=secret_hash(secret))
        .first()
    )


def api_token_list(*, partner: Partner) -> QuerySet[ApiToken]:
    """The partner's tokens, newest first, with who created them."""
    return (
        ApiToken.objects.filter(partner=partner)
        .select_related("created_by__user")
        .order_by("-created_at", "-id")
    )
