"""The product's error pages: 400, 403, 404, 429 and 500 in the portal's layout, each with a way
back (the company list when signed in, sign-in otherwise) and nothing of the internals.

project/urls.py names them as Django's handler400/403/404/500, settings.CSRF_FAILURE_VIEW is
`csrf_failure`, and a rate-limited view answers with `too_many_requests`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

# What a client should wait before trying again after a 429 (the rate limits count per minute).
RETRY_AFTER_SECONDS = 60

CSRF_FAILURE_MESSAGE = (
    "This form has expired or was sent from another page. Go back, reload the page and try again."
)


def _page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    if not hasattr(request, "user"):
        # Refused before AuthenticationMiddleware ran (a bad Host header): nobody is signed in
        # as far as this page knows, and the layout asks.
        request.user = AnonymousUser()
    return render(request, f"{status}.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The portal's refusals are written for partner staff ("Your role is read-only."); any
    # other exception's text is not shown.
    message = str(exception) if type(exception) is PermissionDenied else ""
    return _page(request, 403, message=message)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, 403, message=CSRF_FAILURE_MESSAGE)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404)


def too_many_requests(request: HttpRequest, *, message: str = "") -> HttpResponse:
    """The answer of a rate-limited view (`message`: what was limited, if it helps)."""
    response = _page(request, 429, message=message)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """A plain template with no context processors: the database may be what failed, and the
    signed-in user is not looked up (the session cookie is hint enough for the way back)."""
    signed_in = settings.SESSION_COOKIE_NAME in request.COOKIES
    return HttpResponseServerError(loader.get_template("500.html").render({"signed_in": signed_in}))
