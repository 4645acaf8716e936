from __future__ import annotations

from django.db.models import QuerySet

from portal.models import Company

from .models import CallingDomain, DomainStatus


def usable_domains(*, company: Company) -> QuerySet[CallingDomain]:
    """Verified calling domains of the company (for the add forms' domain choice)."""
    return CallingDomain.objects.filter(company=company, status=DomainStatus.VERIFIED).order_by(
        "name"
    )
