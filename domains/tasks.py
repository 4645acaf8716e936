"""Tasks of the domains app: load the domain by id (nothing if it is gone), call a service."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import CallingDomain


def _domain(domain_id: int) -> CallingDomain | None:
    return CallingDomain.objects.select_related("company__partner").filter(pk=domain_id).first()


@shared_task
def calling_domain_verify(domain_id: int) -> str | None:
    domain = _domain(domain_id)
    if domain is None:
        return None
    try:
        return services.calling_domain_verify(actor=None, calling_domain=domain).status
    except CallingDomain.DoesNotExist:  # deleted (or expired) while it was being checked
        return None


@shared_task
def calling_domains_check_pending() -> dict[str, int]:
    return services.calling_domains_check_pending()


@shared_task
def calling_domain_claims_expire() -> dict[str, int]:
    return services.calling_domain_claims_expire()
