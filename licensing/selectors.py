from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from portal.models import Company

from .holders import seat_holders
from .models import License
from .seats import FAMILY_LICENCE_KINDS, Seats, capacity_of


def licence_list(*, company: Company) -> QuerySet[License]:
    return License.objects.filter(company=company).order_by("-ends_on", "id")


def company_seats(
    *, company: Company, today: date, used: dict[str, int] | None = None
) -> dict[str, Seats]:
    """Capacity and use of each seat family on `today`, in two queries (the active licences,
    and `used` counted by the seat holders unless the caller counted it)."""
    licences = list(License.objects.filter(company=company).active_on(today))
    used = seat_holders().used(company=company) if used is None else used
    return {
        family: Seats(family=family, capacity=capacity_of(licences, family), used=used[family])
        for family in FAMILY_LICENCE_KINDS
    }
