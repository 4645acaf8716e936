from __future__ import annotations

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from portal.models import Company

from .models import CallingDomain, DomainStatus, InteropConfiguration, Microsoft365Domain


def usable_domains(*, company: Company) -> QuerySet[CallingDomain]:
    """Verified calling domains of the company (for the add forms' domain choice)."""
    return CallingDomain.objects.filter(company=company, status=DomainStatus.VERIFIED).order_by(
        "name"
    )


def calling_domain_list(*, company: Company) -> QuerySet[CallingDomain]:
    return (
        CallingDomain.objects.filter(company=company)
        .annotate(consumer_count=Count("consumers", distinct=True))
        .order_by("name")
    )


def calling_domain_get(*, company: Company, public_id: object) -> CallingDomain:
    return get_object_or_404(
        CallingDomain.objects.select_related("company__partner"),
        company=company,
        public_id=public_id,
    )


def microsoft365_domain_list(*, company: Company) -> QuerySet[Microsoft365Domain]:
    return Microsoft365Domain.objects.filter(company=company).order_by("name")


def microsoft365_domain_get(*, company: Company, public_id: object) -> Microsoft365Domain:
    return get_object_or_404(Microsoft365Domain, company=company, public_id=public_id)


def interop_list(*, company: Company) -> QuerySet[InteropConfiguration]:
    return (
        InteropConfiguration.objects.filter(company=company)
        .select_related("calling_domain")
        .order_by("name")
    )


def interop_get(*, company: Company, public_id: object) -> InteropConfiguration:
    return get_object_or_404(InteropConfiguration, company=company, public_id=public_id)
