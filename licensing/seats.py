"""Seat rules: which licences give seats of which family, a family's capacity, and how new (or
reactivated) consumers are covered.

Two seat families: "enterprise" seats (Enterprise User licences, or unlimited with an active
Enterprise Wide licence) and "room" seats (Room licences). Which consumers draw on which family,
and how many seats they hold, is the consumers app's to say (consumers.seats): it sits above
licensing and counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, Expression, IntegerField, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from portal.display import counted, day
from portal.models import Company

from .models import LicenceKind, License

ENTERPRISE = "enterprise"
ROOM = "room"
FAMILY_LICENCE_KINDS: dict[str, tuple[str, ...]] = {
    ENTERPRISE: (LicenceKind.ENTERPRISE_USER, LicenceKind.ENTERPRISE_WIDE),
    ROOM: (LicenceKind.ROOM,),
}
FAMILY_LABEL = {ENTERPRISE: "Enterprise User", ROOM: "Room"}
NO_SEAT_ADVICE = "Order more seats or ask the service to extend the evaluation."


def licence_family(kind: str) -> str:
    """The seat family a licence kind gives seats in."""
    return next(family for family, kinds in FAMILY_LICENCE_KINDS.items() if kind in kinds)


def capacity_of(licences: Iterable[License], family: str) -> int | None:
    """Seats of `family` the licences give (pass the active ones); None means unlimited."""
    relevant = [lic for lic in licences if lic.kind in FAMILY_LICENCE_KINDS[family]]
    if any(lic.kind == LicenceKind.ENTERPRISE_WIDE for lic in relevant):
        return None
    return sum(lic.quantity or 0 for lic in relevant)


def capacity_sql(family: str, licences: QuerySet[License]) -> tuple[Expression, Expression | None]:
    """`capacity_of` in SQL, for queries over many companies: `licences` are one company's
    active licences (filtered on an OuterRef). Returns (the seats the quantities add up to,
    whether the family is unlimited; None for a family no licence makes unlimited)."""
    kinds = FAMILY_LICENCE_KINDS[family]
    quantities = licences.filter(kind__in=kinds).values("company").annotate(n=Sum("quantity"))
    seats = Coalesce(Subquery(quantities.values("n"), output_field=IntegerField()), 0)
    if LicenceKind.ENTERPRISE_WIDE not in kinds:
        return seats, None
    return seats, Exists(licences.filter(kind=LicenceKind.ENTERPRISE_WIDE))


def billed_licence_kind(family: str, *, unlimited: bool) -> str:
    """The licence kind a seat-holding consumer of `family` is billed as (the billing export):
    Room seats are rooms; enterprise seats are Enterprise Wide while one is active."""
    if family == ROOM:
        return LicenceKind.ROOM
    return LicenceKind.ENTERPRISE_WIDE if unlimited else LicenceKind.ENTERPRISE_USER


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


@dataclass(frozen=True)
class SeatAllocation:
    """How `count` consumers of one family, in the caller's order, would be covered: the first
    take the free seats, the rest are trials while Evaluation Mode is open, else refused."""

    seats: Seats
    count: int
    paid: int
    trial: int
    trial_until: date | None

    @property
    def refused(self) -> int:
        return self.count - self.paid - self.trial

    @property
    def allowed(self) -> bool:
        return self.refused == 0

    @property
    def is_trial(self) -> bool:
        """For a single consumer (count 1): whether it would be a trial."""
        return self.trial > 0

    def trial_at(self, index: int) -> bool | None:
        """The consumer at `index`: False takes a seat, True is a trial, None is refused."""
        if index < self.paid:
            return False
        if index < self.paid + self.trial:
            return True
        return None

    @property
    def message(self) -> str:
        """What adding one consumer would do, said before it is done (and the refusal)."""
        seats = self.seats
        if self.paid and seats.unlimited:
            return "Covered by the company's Enterprise Wide licence."
        if self.paid:
            label = f"remaining {seats.label} seat"
            remaining = counted(seats.remaining, label, f"{label}s")
            return f"Uses 1 of {remaining} ({seats.used} of {seats.capacity} in use)."
        if self.trial:
            return f"Trial until {day(self.trial_until)} (Evaluation Mode)."
        return self.refusal

    @property
    def refusal(self) -> str:
        """Why adding those beyond the free seats is refused (Evaluation Mode closed)."""
        return self.refusal_to("add")

    def refusal_to(self, action: str) -> str:
        """The refusal of `action` ("add", "reactivate room@…"): "Cannot <action>: <why>"."""
        seats = self.seats
        if seats.capacity:
            why = f"all {seats.capacity} {seats.label} seats are in use"
        else:
            why = f"the company has no active {seats.label} licence"
        return f"Cannot {action}: {why} and Evaluation Mode is closed. {NO_SEAT_ADVICE}"


def seats_allocate(*, seats: Seats, count: int, company: Company, today: date) -> SeatAllocation:
    """The one seat-allocation rule. The caller counted `seats` (under a row lock on the
    company when it is about to take them, so that two admins cannot oversubscribe)."""
    paid = count if seats.unlimited else min(count, seats.remaining or 0)
    trial = count - paid if company.evaluation_open_on(today) else 0
    return SeatAllocation(
        seats=seats,
        count=count,
        paid=paid,
        trial=trial,
        trial_until=company.evaluation_ends_on if trial else None,
    )
