"""The Webhooks pages (partner managers): the endpoints (add, with the secret shown once; edit;
delete) and each endpoint's delivery log, with redeliver."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import partner_view
from portal.db import replica_view
from portal.web import act, confirm, paginate, submit

from . import selectors, services
from .forms import EVENT_LABELS, WebhookEndpointForm


def _endpoint(request: HttpRequest, webhook_id: str):  # type: ignore[no-untyped-def]
    return selectors.webhook_endpoint_get(
        partner=request.partner,  # type: ignore[attr-defined]
        public_id=webhook_id,
    )


@partner_view(manager=True)
@require_http_methods(["GET"])
@replica_view
def webhook_list(request: HttpRequest) -> HttpResponse:
    endpoints = selectors.webhook_endpoints(partner=request.partner)  # type: ignore[attr-defined]
    return render(request, "api/webhook_list.html", {"endpoints": endpoints})


@partner_view(manager=True)
@never_cache
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    done, result = submit(
        request,
        form,
        lambda data: services.webhook_endpoint_create(
            actor=request.user, url=data["url"], events=data["events"], enabled=data["enabled"]
        ),
    )
    if done:
        endpoint, secret = result
        # Shown on this response only (never in a URL or the session).
        return render(request, "api/webhook_created.html", {"endpoint": endpoint, "secret": secret})
    return render(request, "api/webhook_form.html", {"form": form})


@partner_view(manager=True)
@require_http_methods(["GET"])
def webhook_detail(request: HttpRequest, webhook_id: str) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    page = paginate(request, selectors.webhook_deliveries(endpoint=endpoint))
    context = {
        "endpoint": endpoint,
        "page": page,
        "event_labels": [EVENT_LABELS[e] for e in endpoint.events if e in EVENT_LABELS],
    }
    return render(request, "api/webhook_detail.html", context)


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, webhook_id: str) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    initial = {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    done, _result = submit(
        request,
        form,
        lambda data: services.webhook_endpoint_update(
            actor=request.user, endpoint=endpoint, **data
        ),
    )
    if done:
        return redirect("api:webhook_detail", endpoint.public_id)
    return render(request, "api/webhook_form.html", {"form": form, "endpoint": endpoint})


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, webhook_id: str) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    return confirm(
        request,
        lambda: services.webhook_endpoint_delete(actor=request.user, endpoint=endpoint),
        f"Webhook endpoint {endpoint.url} deleted.",
        then="api:webhook_list",
        template="api/webhook_delete.html",
        context={"endpoint": endpoint},
    )


@partner_view(manager=True)
@require_POST
def webhook_redeliver(request: HttpRequest, webhook_id: str, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    delivery = selectors.webhook_delivery_get(
        partner=request.partner,  # type: ignore[attr-defined]
        public_id=delivery_id,
    )
    if delivery.endpoint_id == endpoint.pk:
        act(
            request,
            lambda: services.webhook_redeliver(actor=request.user, delivery=delivery),
            f"{delivery.event_type} queued for redelivery.",
        )
    return redirect("api:webhook_detail", endpoint.public_id)
