"""Licences: what a company has paid for, and so what may be added.

The code says "licence" (British, as the product does) everywhere but in the model's class name
`License`, kept for the stable interface and the database table."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import period_active, period_active_q


class LicenceKind(models.TextChoices):
    ENTERPRISE_USER = "enterprise_user", "Enterprise User"
    ENTERPRISE_WIDE = "enterprise_wide", "Enterprise Wide"
    ROOM = "room", "Room"


# The name this class had before the code settled on one spelling; outside scripts import it.
LicenseKind = LicenceKind


class LicenceQuerySet(models.QuerySet):
    def active_on(self, day: date | None = None) -> LicenceQuerySet:
        return self.filter(period_active_q(day or timezone.localdate()))


class License(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="licences")
    kind = models.CharField(max_length=32, choices=LicenceKind.choices)
    # None for enterprise_wide: unlimited users and team VMRs.
    quantity = models.PositiveIntegerField(null=True, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    cost_centre = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "id"]
        verbose_name = "licence"
        indexes = [models.Index(fields=["company", "starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="license_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind=LicenceKind.ENTERPRISE_WIDE) | Q(quantity__isnull=False),
                name="license_quantity_required",
            ),
        ]

    def __str__(self) -> str:
        qty = "unlimited" if self.quantity is None else self.quantity
        return f"{self.get_kind_display()} × {qty} ({self.starts_on} – {self.ends_on})"

    def is_active(self, day: date | None = None) -> bool:
        return period_active(self.starts_on, self.ends_on, day or timezone.localdate())
