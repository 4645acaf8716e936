"""Calling domains: the domains a company's addresses live on."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class DomainStatus(models.TextChoices):
    PENDING = "pending", "Pending verification"
    VERIFIED = "verified", "Verified"


class VerificationMethod(models.TextChoices):
    SERVICE_DOMAIN = "service_domain", "Service domain"
    MICROSOFT365 = "microsoft365", "Microsoft 365 domain"
    PARENT_DOMAIN = "parent_domain", "Verified parent domain"
    DNS_TXT = "dns_txt", "DNS TXT record"


def is_service_domain(name: str) -> bool:
    service = settings.SERVICE_DOMAIN
    return name == service or name.endswith("." + service)


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


class CallingDomain(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        "portal.Company", on_delete=models.CASCADE, related_name="calling_domains"
    )
    # Lower-case IDNA (A-label) form. Unique: a domain belongs to one company at most.
    name = models.CharField(max_length=253, unique=True)
    status = models.CharField(
        max_length=16, choices=DomainStatus.choices, default=DomainStatus.PENDING
    )
    verification_method = models.CharField(  # noqa: DJ001 - None while pending (contract)
        max_length=32, choices=VerificationMethod.choices, null=True, blank=True
    )
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == DomainStatus.VERIFIED

    @property
    def is_hosted(self) -> bool:
        """The customer's own domain (not one of the service's shared domains)."""
        return not is_service_domain(self.name)
