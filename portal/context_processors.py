from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .access import membership_of


def portal(request: HttpRequest) -> dict[str, Any]:
    # An error raised before the authentication middleware leaves the request without a user.
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None) or membership_of(user)
    return {
        "membership": membership,
        "current_partner": membership.partner if membership else None,
        "SERVICE_DOMAIN": settings.SERVICE_DOMAIN,
        "SIP_PROXY": f"{settings.SIP_SERVICE_HOST}:{settings.SIP_TRANSPORT_PORT}",
    }
