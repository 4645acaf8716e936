"""The API tokens page (partner managers): create (the secret shown once), list, revoke."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.access import partner_view
from portal.db import replica_view
from portal.web import confirm, submit

from . import selectors, services
from .forms import ApiTokenForm
from .models import ApiToken


def _get_token(request: HttpRequest, token_id: str) -> ApiToken:
    """The partner's token, or 404 (another partner's too)."""
    return get_object_or_404(
        selectors.api_token_list(partner=request.partner),  # type: ignore[attr-defined]
        public_id=token_id,
    )


@partner_view(manager=True)
@require_http_methods(["GET"])
@replica_view
def api_token_list(request: HttpRequest) -> HttpResponse:
    tokens = selectors.api_token_list(partner=request.partner)  # type: ignore[attr-defined]
    return render(request, "api/token_list.html", {"tokens": tokens})


@partner_view(manager=True)
@never_cache
@require_http_methods(["GET", "POST"])
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    done, result = submit(
        request,
        form,
        lambda data: services.api_token_create(
            actor=request.user,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=form.expires_at(),
        ),
    )
    if done:
        token, secret = result
        # Shown on this response only (never stored, never in a URL or the session).
        return render(
            request, "api/token_created.html", {"token": token, "secret": secret}, status=201
        )
    return render(request, "api/token_form.html", {"form": form})


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    token = _get_token(request, token_id)
    return confirm(
        request,
        lambda: services.api_token_revoke(actor=request.user, token=token),
        f"API token “{token.name}” revoked.",
        then="api:token_list",
        template="api/token_revoke.html",
        context={"token": token},
    )
