"""Webhooks: the endpoints a partner registers and the log of what was sent to each.

The signing secret is stored as given (`whsec_…`): it must be used to sign every delivery, so a
hash would not do. It is shown once when the endpoint is created; admin never shows it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import Partner, PartnerMembership

# A delivery claimed by a sender that died (a killed worker) is taken again after this.
DELIVERY_CLAIM_TIMEOUT = timedelta(minutes=5)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookEndpoint(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey(
        PartnerMembership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Failed attempts in a row (any delivery), and since when: reset by a success.
    failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "-created_at"], name="webhook_partner_idx")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        return self.secret[:10]


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now: datetime) -> WebhookDeliveryQuerySet:
        """Pending and due, or claimed by a sender that died."""
        return self.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - DELIVERY_CLAIM_TIMEOUT)
        )


class WebhookDelivery(models.Model):
    """One event sent to one endpoint: its body (what is signed, the same on every attempt)
    and how its attempts went."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The Standard Webhooks message id (`webhook-id`): the same for a redelivery of the event,
    # so that a receiver can tell a repeat.
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhookdelivery_log_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["created_at"], name="webhookdelivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"
