"""Licences: what a company has paid for, and so what may be added."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone


class LicenseKind(models.TextChoices):
    ENTERPRISE_USER = "enterprise_user", "Enterprise User"
    ENTERPRISE_WIDE = "enterprise_wide", "Enterprise Wide"
    ROOM = "room", "Room"


class LicenseQuerySet(models.QuerySet):
    def active_on(self, day: date | None = None) -> LicenseQuerySet:
        day = day or timezone.localdate()
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class License(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="licenses")
    kind = models.CharField(max_length=32, choices=LicenseKind.choices)
    # None for enterprise_wide: unlimited users and team VMRs.
    quantity = models.PositiveIntegerField(null=True, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    cost_centre = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = LicenseQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["company", "starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="license_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind=LicenseKind.ENTERPRISE_WIDE) | Q(quantity__isnull=False),
                name="license_quantity_required",
            ),
        ]

    def __str__(self) -> str:
        qty = "unlimited" if self.quantity is None else self.quantity
        return f"{self.get_kind_display()} × {qty} ({self.starts_on} – {self.ends_on})"

    def is_active(self, day: date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.starts_on <= day <= self.ends_on
