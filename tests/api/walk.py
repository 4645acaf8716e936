"""What the isolation walk and Schemathesis share: the partner's real object behind each path
parameter. A parameter names an object of the collection whose segment stands before it
(`/consumers/{consumer_id}` → a consumer), so a new kind of object in a path is taught here."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from api.models import WebhookDelivery
from api.services import webhook_endpoint_create

# The collection a path parameter belongs to -> the key of objects_of_partner_a (and of
# webhook_objects).
OBJECT_OF_SEGMENT = {
    "companies": "company_id",
    "consumers": "consumer_id",
    "calling-domains": "domain_id",
    "microsoft365-domains": "m365_id",
    "interop-configurations": "interop_id",
    "batches": "batch_id",
    "handout-exports": "export_id",
    "webhook-endpoints": "webhook_endpoint_id",
    "webhooks": "webhook_endpoint_id",
    "webhook-deliveries": "webhook_delivery_id",
    "deliveries": "webhook_delivery_id",
}


def object_key(path_before: str) -> str | None:
    """The objects' key for the parameter that follows `path_before` (the path up to it), or
    None for a collection the walk does not know."""
    segment = path_before.rstrip("/").rsplit("/", 1)[-1]
    return OBJECT_OF_SEGMENT.get(segment)


def webhook_objects(manager: Any) -> dict[str, Any]:
    """A webhook endpoint of the manager's partner and one delivery of it."""
    endpoint, _ = webhook_endpoint_create(
        actor=manager, url="https://hooks.example/walk", events=["company.created"]
    )
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    if delivery is None:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event_id="walk", event_type="company.created", payload={}
            )
    return {"webhook_endpoint_id": endpoint.public_id, "webhook_delivery_id": delivery.public_id}
