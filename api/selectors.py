"""Reads of the API's own rows."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

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


def api_token_list(*, partner: Partner, now: datetime | None = None) -> QuerySet[ApiToken]:
    """The partner's tokens, newest first, with who created them and `usable`: whether the API
    accepts it now (ApiToken.objects.usable, the one rule; a token whose creator was
    deactivated, moved or made ops is not, though never revoked)."""
    usable = ApiToken.objects.usable(now or timezone.now()).filter(pk=OuterRef("pk"))
    return (
        ApiToken.objects.filter(partner=partner)
        .select_related("created_by__user")
        .annotate(usable=Exists(usable))
        .order_by("-created_at", "-id")
    )
