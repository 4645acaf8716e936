"""Writes of webhook endpoints: partner managers register, change, disable, delete them, and
redeliver an event. Each checks the actor, runs in a transaction and records an AuditEvent."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.access import Actor, ensure_can_manage_staff, membership_of
from portal.audit import audit_record
from portal.events import EVENT_TYPES
from portal.jobs import enqueue_on_commit

from ..models_webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .delivery import SEND_TASK, pending_fail
from .targets import url_validate

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = set(events or ())
    if not chosen:
        raise ValidationError({"events": "Choose at least one event."})
    unknown = chosen - set(EVENT_TYPES)
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(sorted(unknown))}."})
    return [event for event in EVENT_TYPES if event in chosen]


def _manager(actor: Actor, endpoint: WebhookEndpoint | None = None) -> Any:
    membership = membership_of(actor)
    if membership is None:
        raise PermissionDenied("Only partner staff can manage webhooks.")
    partner = endpoint.partner if endpoint is not None else membership.partner
    ensure_can_manage_staff(actor, partner)
    return membership


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, events: Iterable[str], enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A partner manager registers an endpoint. Returns it and its signing secret, shown once."""
    membership = _manager(actor)
    url, events = url_validate(url), _clean_events(events)
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(
        partner=membership.partner,
        created_by=membership,
        url=url,
        events=events,
        enabled=enabled,
        secret=secret,
    )
    audit_record(actor, "webhook.create", endpoint, data={"events": events, "enabled": enabled})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change the URL, the events or whether it is enabled (None: unchanged). Enabling again
    clears the failures that disabled it; disabling fails what is still waiting."""
    _manager(actor, endpoint)
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    changes: dict[str, Any] = {}
    if url is not None and url.strip() != locked.url:
        changes["url"] = url_validate(url)
    if events is not None and (clean := _clean_events(events)) != locked.events:
        changes["events"] = clean
    if enabled is not None and enabled != locked.enabled:
        changes["enabled"] = enabled
        reset = {"failures": 0, "failing_since": None, "disabled_reason": ""}
        changes.update(reset if enabled else {"disabled_reason": "Disabled by a manager."})
        changes["disabled_at"] = None if enabled else timezone.now()
    for field, value in changes.items():
        setattr(locked, field, value)
    if changes:
        locked.save()
        if changes.get("enabled") is False:
            pending_fail(locked)
        data = {"fields": sorted(k for k in changes if k in ("url", "events", "enabled"))}
        audit_record(actor, "webhook.update", locked, data=data)
    return locked


def webhook_endpoint_enable(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return webhook_endpoint_update(actor=actor, endpoint=endpoint, enabled=True)


def webhook_endpoint_disable(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return webhook_endpoint_update(actor=actor, endpoint=endpoint, enabled=False)


@transaction.atomic
def webhook_endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes with its delivery log."""
    _manager(actor, endpoint)
    audit_record(actor, "webhook.delete", endpoint, data={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event to its endpoint again, as a new delivery with the same `webhook-id` (the
    receiver can tell it already has it). The endpoint must be enabled."""
    endpoint = delivery.endpoint
    _manager(actor, endpoint)
    if not endpoint.enabled:
        raise ValidationError("Enable the endpoint before redelivering to it.", code="disabled")
    again = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        status=DeliveryStatus.PENDING,
    )
    audit_record(actor, "webhook.redeliver", endpoint, data={"delivery": str(delivery.public_id)})
    enqueue_on_commit(SEND_TASK, [again.pk])
    return again
