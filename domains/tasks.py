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
    return services.calling_domain_verify(actor=None, calling_domain=domain).status


@shared_task(bind=True, max_retries=5)
def calling_domain_dns_email_send(self, domain_id: int) -> None:  # type: ignore[no-untyped-def]
    domain = _domain(domain_id)
    if domain is None:
        return
    try:
        services.calling_domain_dns_email(calling_domain=domain)
    except Exception as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task(bind=True, max_retries=5)
def calling_domain_verified_email_send(self, domain_id: int) -> None:  # type: ignore[no-untyped-def]
    domain = _domain(domain_id)
    if domain is None:
        return
    try:
        services.calling_domain_verified_email(calling_domain=domain)
    except Exception as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task
def calling_domains_check_pending() -> dict[str, int]:
    return services.calling_domains_check_pending()
