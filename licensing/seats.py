"""Seat accounting: how many consumers a company's licences allow, and how many are used.

Users and Team VMRs draw on the "enterprise" family (Enterprise User seats, or unlimited with an
active Enterprise Wide licence); Endpoints draw on "room" seats. Trial consumers and inactive
consumers hold no seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.models import Company

from .models import License, LicenseKind

FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "enterprise": (LicenseKind.ENTERPRISE_USER, LicenseKind.ENTERPRISE_WIDE),
    "room": (LicenseKind.ROOM,),
}
FAMILY_CONSUMER_KINDS: dict[str, tuple[str, ...]] = {
    "enterprise": ("user", "team_vmr"),
    "room": ("endpoint",),
}
FAMILY_LABEL = {"enterprise": "Enterprise User", "room": "Room"}


def family_of_licence_kind(kind: str) -> str:
    return "room" if kind == LicenseKind.ROOM else "enterprise"


def family_of_consumer_kind(kind: str) -> str:
    return "room" if kind == "endpoint" else "enterprise"


@dataclass(frozen=True)
class Seats:
    family: str
    capacity: int | None  # None: unlimited (an active Enterprise Wide licence)
    used: int

    @property
    def label(self) -> str:
        return FAMILY_LABEL[self.family]

    @property
    def unlimited(self) -> bool:
        return self.capacity is None

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.used)

    @property
    def available(self) -> bool:
        return self.capacity is None or self.used < self.capacity

    @property
    def over_capacity(self) -> int:
        return 0 if self.capacity is None else max(0, self.used - self.capacity)


def capacity_of(licences: list[License], family: str) -> int | None:
    kinds = FAMILY_KINDS[family]
    relevant = [lic for lic in licences if lic.kind in kinds]
    if any(lic.kind == LicenseKind.ENTERPRISE_WIDE for lic in relevant):
        return None
    return sum(lic.quantity or 0 for lic in relevant)


def seats_used(*, company: Company, family: str) -> int:
    from consumers.models import Consumer

    return (
        Consumer.objects.holding_seats()
        .filter(company=company, kind__in=FAMILY_CONSUMER_KINDS[family])
        .count()
    )


def seats_of(*, company: Company, family: str, today: date | None = None) -> Seats:
    licences = list(License.objects.filter(company=company).active_on(today))
    return Seats(
        family=family,
        capacity=capacity_of(licences, family),
        used=seats_used(company=company, family=family),
    )


def seats_summary(*, company: Company, today: date | None = None) -> dict[str, Seats]:
    """Both families in two queries (for the Licences tab and the add forms)."""
    from django.db.models import Count, Q

    from consumers.models import Consumer

    licences = list(License.objects.filter(company=company).active_on(today))
    counts = (
        Consumer.objects.holding_seats()
        .filter(company=company)
        .aggregate(
            **{
                family: Count("id", filter=Q(kind__in=kinds))
                for family, kinds in FAMILY_CONSUMER_KINDS.items()
            }
        )
    )
    return {
        family: Seats(family=family, capacity=capacity_of(licences, family), used=counts[family])
        for family in FAMILY_KINDS
    }


@dataclass(frozen=True)
class SeatDecision:
    """What adding (or reactivating) one consumer of a kind would do, said before it is done."""

    allowed: bool
    is_trial: bool
    message: str


def seat_decision(
    *, company: Company, consumer_kind: str, seats: Seats | None = None, today: date | None = None
) -> SeatDecision:
    today = today or timezone.localdate()
    family = family_of_consumer_kind(consumer_kind)
    seats = seats or seats_of(company=company, family=family, today=today)
    if seats.unlimited:
        return SeatDecision(True, False, "Covered by the company's Enterprise Wide licence.")
    if seats.available:
        return SeatDecision(
            True,
            False,
            f"Uses 1 of {seats.remaining} remaining {seats.label} seats "
            f"({seats.used} of {seats.capacity} in use).",
        )
    if company.evaluation_ends_on and company.evaluation_ends_on >= today:
        return SeatDecision(
            True, True, f"Trial until {company.evaluation_ends_on.isoformat()} (Evaluation Mode)."
        )
    if seats.capacity:
        why = f"all {seats.capacity} {seats.label} seats are in use"
    else:
        why = f"the company has no active {seats.label} licence"
    return SeatDecision(
        False,
        False,
        f"Cannot add: {why} and Evaluation Mode is closed. "
        "Order more seats or ask the service to extend the evaluation.",
    )


def seat_take(*, company: Company, consumer_kind: str) -> bool:
    """Decide, for one new or reactivated consumer, whether it is a trial; raise when nothing
    allows it. The caller holds a row lock on the company, so that two admins adding at the
    same moment are counted one after the other and can never oversubscribe."""
    decision = seat_decision(company=company, consumer_kind=consumer_kind)
    if not decision.allowed:
        raise ValidationError(decision.message, code="no_seat")
    return decision.is_trial
