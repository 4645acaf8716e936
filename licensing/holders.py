"""Seat holders: the consumers that hold licence seats, as licensing sees them.

Consumers sit above licensing (imports flow portal ← licensing ← domains ← consumers), so
licensing cannot import them. The consumers app registers how it counts and releases seats when
Django starts (`consumers.apps.ConsumersConfig.ready`), and licensing asks through
`seat_holders()`: the licence check (capacity may not drop below what is in use), the Licences
tab and the daily expiry job. The rules themselves stay where they belong: which statuses hold
a seat and which kinds use which family in consumers, capacity and allocation in licensing.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from portal.models import Company


class SeatHolders(Protocol):
    def used(self, *, company: Company) -> dict[str, int]:
        """Seats in use, per family."""
        ...

    def release_trials(self, *, today: date) -> dict[str, int]:
        """Evaluation closed: trial consumers become inactive. {company public id: count}."""
        ...

    def release_over_capacity(self, *, today: date) -> dict[str, int]:
        """Licences ended: the newest consumers beyond capacity become inactive."""
        ...


_holders: SeatHolders | None = None


def seat_holders_register(holders: SeatHolders) -> None:
    global _holders
    _holders = holders


def seat_holders() -> SeatHolders:
    if _holders is None:
        raise ImproperlyConfigured("No seat holders registered: is the consumers app installed?")
    return _holders
