"""Reads of webhook endpoints and their delivery logs, always through the partner."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from portal.models import Partner

from ..models_webhooks import WebhookDelivery, WebhookEndpoint


def webhook_endpoints(*, partner: Partner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(partner=partner).select_related("created_by__user")


def webhook_endpoint_get(*, partner: Partner, public_id: Any) -> WebhookEndpoint:
    """The partner's endpoint, or 404 (another partner's and a missing one alike)."""
    endpoint = webhook_endpoints(partner=partner).filter(public_id=public_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint")
    return endpoint


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's log, newest first (the (endpoint, -created_at, -id) index)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")


def webhook_delivery_get(*, partner: Partner, public_id: Any) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint__partner")
        .filter(endpoint__partner=partner, public_id=public_id)
        .first()
    )
    if delivery is None:
        raise Http404("No such webhook delivery")
    return delivery
