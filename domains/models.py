"""Calling domains: the domains a company's addresses live on."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

# A pending claim of a calling domain that is not verified within CLAIM_LIFETIME of being added
# is removed; its company is warned CLAIM_WARNING_NOTICE before (at 23 days).
CLAIM_LIFETIME = timedelta(days=30)
CLAIM_WARNING_NOTICE = timedelta(days=7)


class DomainStatus(models.TextChoices):
    PENDING = "pending", "Pending verification"
    VERIFIED = "verified", "Verified"


def is_verified_status(status: str | None) -> bool:
    """A calling domain may carry addresses (new or reactivated) once it is verified."""
    return status == DomainStatus.VERIFIED


class VerificationMethod(models.TextChoices):
    SERVICE_DOMAIN = "service_domain", "Service domain"
    MICROSOFT365 = "microsoft365", "Microsoft 365 domain"
    PARENT_DOMAIN = "parent_domain", "Verified parent domain"
    DNS_TXT = "dns_txt", "DNS TXT record"


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


class VerifiableDomain(models.Model):
    """What calling and Microsoft 365 domains share: a TXT token that proves ownership, and
    where its check stands (domains.services.verification moves them to verified)."""

    audit_name = ""  # the audit log's name of the kind of domain

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=DomainStatus.choices, default=DomainStatus.PENDING
    )
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name  # type: ignore[attr-defined]

    @property
    def is_verified(self) -> bool:
        return is_verified_status(self.status)


class CallingDomainQuerySet(models.QuerySet["CallingDomain"]):
    def claims_expired(self, now: datetime) -> CallingDomainQuerySet:
        """Pending claims older than CLAIM_LIFETIME: due for removal."""
        return self.filter(status=DomainStatus.PENDING, created_at__lte=now - CLAIM_LIFETIME)

    def claims_warning_due(self, now: datetime) -> CallingDomainQuerySet:
        """Pending claims within CLAIM_WARNING_NOTICE of their expiry, not warned yet. Expired
        ones are not warned: they are removed (a warning would name a date already past); nor
        are claims of a name another company verified (publishing the record cannot help)."""
        verified_names = self.model.objects.filter(status=DomainStatus.VERIFIED).values("name")
        return self.filter(
            status=DomainStatus.PENDING,
            created_at__lte=now - (CLAIM_LIFETIME - CLAIM_WARNING_NOTICE),
            created_at__gt=now - CLAIM_LIFETIME,
            expiry_warned_at__isnull=True,
        ).exclude(name__in=verified_names)


class CallingDomain(VerifiableDomain):
    """A company's claim of a domain name, pending until the company proves it owns it.

    The Microsoft 365 model: several companies may hold the same name pending (each at most
    once); the first to prove it gets it, and a *verified* name belongs to one company only
    (the partial unique constraint below, which also settles two verifications racing). A
    claim not verified within CLAIM_LIFETIME is removed (domains.services.claims)."""

    audit_name = "calling_domain"

    company = models.ForeignKey(
        "portal.Company", on_delete=models.CASCADE, related_name="calling_domains"
    )
    # Lower-case IDNA (A-label) form (domains.names.normalize_domain).
    name = models.CharField(max_length=253)
    verification_method = models.CharField(  # noqa: DJ001 - None while pending (contract)
        max_length=32, choices=VerificationMethod.choices, null=True, blank=True
    )
    # Set when someone presses Verify; the page shows "Checking…" until a check is newer.
    check_requested_at = models.DateTimeField(null=True, blank=True)
    # Stamped by the job that sends the expiry warning, in the transaction that sends it.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    objects = CallingDomainQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="calling_domain_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(status="verified"),
                name="calling_domain_verified_name_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status"]),
            models.Index(
                fields=["last_checked_at"],
                name="calling_domain_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["created_at"],
                name="calling_domain_claims_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    @property
    def claim_expires_at(self) -> datetime | None:
        """When an unverified claim is removed (None once verified)."""
        return None if self.is_verified else self.created_at + CLAIM_LIFETIME

    @property
    def checking(self) -> bool:
        requested = self.check_requested_at
        return bool(
            requested
            and not self.is_verified
            and (self.last_checked_at is None or self.last_checked_at < requested)
        )


class Microsoft365Domain(VerifiableDomain):
    """A domain of the company's Microsoft 365 tenant (for Teams interop / CVI)."""

    audit_name = "microsoft365_domain"

    company = models.ForeignKey(
        "portal.Company", on_delete=models.CASCADE, related_name="microsoft365_domains"
    )
    name = models.CharField(max_length=253)
    verified_by_ops = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "Microsoft 365 domain"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="m365_domain_unique_per_company"
            )
        ]


class InteropKind(models.TextChoices):
    MICROSOFT_TEAMS = "microsoft_teams", "Microsoft Teams (CVI)"


class InteropConfiguration(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        "portal.Company", on_delete=models.CASCADE, related_name="interop_configurations"
    )
    kind = models.CharField(
        max_length=32, choices=InteropKind.choices, default=InteropKind.MICROSOFT_TEAMS
    )
    name = models.CharField(max_length=200)
    tenant_id = models.UUIDField(help_text="The Microsoft 365 tenant id.")
    # RESTRICT: a domain in use by an interop configuration cannot be deleted, unless both go
    # in the same cascade (the company is deleted).
    calling_domain = models.ForeignKey(
        CallingDomain, on_delete=models.RESTRICT, related_name="interop_configurations"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "tenant_id"], name="interop_tenant_unique")
        ]

    def __str__(self) -> str:
        return self.name
