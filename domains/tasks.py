"""Tasks of the domains app: load the domain by id (nothing if it is gone), call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from portal import emails

from . import services
from .models import CallingDomain
from .records import required_records

EMAIL_RETRIES = 5
EMAIL_RETRY_DELAY = 60  # seconds, times the attempt


def _domain(domain_id: int) -> CallingDomain | None:
    return CallingDomain.objects.select_related("company__partner").filter(pk=domain_id).first()


def _send_or_retry(task: Any, send: Any) -> None:
    """Send now; on failure a worker retries later (in-process, the failure is raised)."""
    try:
        send()
    except Exception as exc:
        if task.request.is_eager:
            raise
        raise task.retry(exc=exc, countdown=EMAIL_RETRY_DELAY * (task.request.retries + 1)) from exc


@shared_task
def calling_domain_verify(domain_id: int) -> str | None:
    domain = _domain(domain_id)
    if domain is None:
        return None
    try:
        return services.calling_domain_verify(actor=None, calling_domain=domain).status
    except CallingDomain.DoesNotExist:  # deleted (or expired) while it was being checked
        return None


@shared_task(bind=True, max_retries=EMAIL_RETRIES)
def calling_domain_dns_email_send(self: Any, domain_id: int) -> None:
    domain = _domain(domain_id)
    if domain is not None:
        _send_or_retry(
            self, lambda: emails.calling_domain_dns(domain, records=required_records(domain))
        )


@shared_task(bind=True, max_retries=EMAIL_RETRIES)
def calling_domain_verified_email_send(self: Any, domain_id: int) -> None:
    domain = _domain(domain_id)
    if domain is not None:
        _send_or_retry(self, lambda: emails.calling_domain_verified(domain))


@shared_task
def calling_domains_check_pending() -> dict[str, int]:
    return services.calling_domains_check_pending()


@shared_task
def calling_domain_claims_expire() -> dict[str, int]:
    return services.calling_domain_claims_expire()
