"""The partner API's own rows: API tokens and the Idempotency-Key records of POSTs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from portal.models import Partner, PartnerMembership


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


# last_used_at is written at most this often per token: not one UPDATE per request.
LAST_USED_PRECISION = timedelta(minutes=1)
# How long a POST's Idempotency-Key is remembered (and its first response replayed).
IDEMPOTENCY_TTL = timedelta(hours=24)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now: datetime) -> ApiTokenQuerySet:
        """Not revoked, not expired, its creator's account and membership still active, the
        member still in the token's partner (not moved to another), and not an ops account
        (ops act as managers of every partner: no token acts with that power)."""
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
            created_by__user__is_active=True,
            created_by__user__is_staff=False,
            created_by__partner=F("partner"),
        )


class ApiToken(models.Model):
    """A partner member's API token. It acts as that member, narrowed by its scopes.

    Only a SHA-256 of the secret is stored: the secret is random (160+ bits), so a plain hash
    is as strong as a slow one and lets each request find its token with one indexed lookup."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(
        PartnerMembership, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    # The secret's first characters (prefix and a few random ones), to recognise it in a list.
    hint = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["partner", "-created_at"], name="apitoken_partner_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def can_write(self) -> bool:
        return Scope.WRITE in self.scopes

    @property
    def can_read(self) -> bool:
        return Scope.READ in self.scopes or Scope.WRITE in self.scopes

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"


class IdempotencyRecord(models.Model):
    """A POST made with an Idempotency-Key: claimed (no response yet) before the operation runs,
    so that of two concurrent requests with one key only one runs; then its response, replayed
    for the same key and body within IDEMPOTENCY_TTL."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_token_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


# Webhook models (WEBHOOKS helper) are imported below.
from .models_webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
