"""Webhook endpoints (partner managers): list, register (the signing secret answered once),
read, change, delete; each endpoint's delivery log and redeliver. The rules are the services'
(api.webhooks.services): the same as the Webhooks page's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from portal.access import ensure_can_manage_staff
from portal.events import EVENT_TYPES

from ..auth import api_actor, api_partner
from ..models_webhooks import WebhookEndpoint
from ..pagination import PageQuery, cursor_page, page_schema
from ..schemas import PublicIdOut
from ..webhooks import selectors, services
from ..webhooks.targets import URL_MAX_LENGTH
from .responses import errors

router = Router(tags=["webhooks"])

EventName = Literal[EVENT_TYPES]  # type: ignore[valid-type]
DeliveryStatusName = Literal["pending", "sending", "delivered", "failed"]
Url = Annotated[str, Field(max_length=URL_MAX_LENGTH, description="A public http(s) URL.")]


class WebhookEndpointOut(PublicIdOut):
    url: str
    events: list[EventName]
    enabled: bool
    failures: int = Field(description="Failed attempts in a row (0 after a success).")
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`), answered this once: store it now."
    )


class WebhookEndpointIn(Schema):
    url: Url
    events: list[EventName] = Field(..., min_length=1, max_length=len(EVENT_TYPES) * 2)
    enabled: bool = True


class WebhookEndpointPatch(Schema):
    url: Url | None = None
    events: list[EventName] | None = Field(None, min_length=1, max_length=len(EVENT_TYPES) * 2)
    enabled: bool | None = None


class WebhookDeliveryOut(PublicIdOut):
    event_id: str = Field(description="The `webhook-id` header: the same for a redelivery.")
    event_type: EventName
    status: DeliveryStatusName
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The body sent: `type`, `timestamp`, `data`.")


def _manager(request: HttpRequest, *, write: bool) -> Any:
    """Webhooks are the managers' (as on the Webhooks page): 403 for anyone else."""
    actor = api_actor(request, write=write)
    ensure_can_manage_staff(actor, api_partner(request))
    return actor


def _endpoint(
    request: HttpRequest, webhook_id: UUID, *, write: bool
) -> tuple[Any, WebhookEndpoint]:
    """The manager acting (`_manager`) and the partner's webhook endpoint, else 404."""
    actor = _manager(request, write=write)
    return actor, selectors.webhook_endpoint_get(partner=api_partner(request), public_id=webhook_id)


@router.get(
    "/webhooks",
    response={200: page_schema(WebhookEndpointOut), **errors(422)},
    summary="List webhook endpoints",
)
def webhook_list(request: HttpRequest, page: Query[PageQuery]) -> Any:
    _manager(request, write=False)
    return cursor_page(request, selectors.webhook_endpoints(partner=api_partner(request)))


@router.post(
    "/webhooks",
    response={201: WebhookEndpointCreated, **errors(422)},
    summary="Register a webhook endpoint",
    description="Answers the signing secret once. Events are POSTed per Standard Webhooks "
    "(`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the body "
    '`{"type", "timestamp", "data"}`.',
)
def webhook_create(request: HttpRequest, payload: WebhookEndpointIn) -> Any:
    actor = _manager(request, write=True)
    endpoint, _secret = services.webhook_endpoint_create(
        actor=actor, url=payload.url, events=payload.events, enabled=payload.enabled
    )
    # WebhookEndpointCreated reads the new endpoint's secret: this answer only has it.
    return Status(201, endpoint)


@router.get(
    "/webhooks/{webhook_id}",
    response={200: WebhookEndpointOut, **errors(404)},
    summary="Read a webhook endpoint",
)
def webhook_get(request: HttpRequest, webhook_id: UUID) -> Any:
    return _endpoint(request, webhook_id, write=False)[1]


@router.patch(
    "/webhooks/{webhook_id}",
    response={200: WebhookEndpointOut, **errors(404, 422)},
    summary="Change a webhook endpoint's URL, events or whether it is enabled",
    description="Enabling a disabled endpoint clears its failures; disabling it fails the "
    "deliveries still waiting (redeliver them later from its log).",
)
def webhook_update(request: HttpRequest, webhook_id: UUID, payload: WebhookEndpointPatch) -> Any:
    actor, endpoint = _endpoint(request, webhook_id, write=True)
    return services.webhook_endpoint_update(
        actor=actor,
        endpoint=endpoint,
        url=payload.url,
        events=payload.events,
        enabled=payload.enabled,
    )


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **errors(404)},
    summary="Delete a webhook endpoint and its delivery log",
)
def webhook_delete(request: HttpRequest, webhook_id: UUID) -> Status[None]:
    actor, endpoint = _endpoint(request, webhook_id, write=True)
    services.webhook_endpoint_delete(actor=actor, endpoint=endpoint)
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: page_schema(WebhookDeliveryOut), **errors(404, 422)},
    summary="List an endpoint's deliveries (newest first, kept 30 days)",
)
def webhook_deliveries(request: HttpRequest, webhook_id: UUID, page: Query[PageQuery]) -> Any:
    _actor, endpoint = _endpoint(request, webhook_id, write=False)
    return cursor_page(request, selectors.webhook_deliveries(endpoint=endpoint))


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response={202: WebhookDeliveryOut, **errors(404, 422)},
    summary="Send a delivery's event again",
    description="A new delivery with the same `webhook-id`, sent shortly. The endpoint must be "
    "enabled.",
)
def webhook_redeliver(request: HttpRequest, webhook_id: UUID, delivery_id: UUID) -> Any:
    actor, endpoint = _endpoint(request, webhook_id, write=True)
    delivery = selectors.webhook_delivery_get(partner=api_partner(request), public_id=delivery_id)
    if delivery.endpoint_id != endpoint.pk:
        raise Http404("No such delivery of this endpoint.")
    return Status(202, services.webhook_redeliver(actor=actor, delivery=delivery))
