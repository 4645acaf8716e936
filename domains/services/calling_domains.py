"""Adding, deleting and mailing about a company's hosted calling domains."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import emails
from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from ..models import CallingDomain, DomainStatus
from ..names import is_public_suffix, is_service_domain, is_subdomain, normalize_domain
from ..records import required_records
from .gate import company_default_domain
from .verification import (
    auto_verification,
    calling_domain_verified_event,
    verified_elsewhere_message,
    verified_for_another_company,
)


def validate_new_calling_domain(*, company: Company, value: str) -> str:
    try:
        name = normalize_domain(value)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    service = settings.SERVICE_DOMAIN
    if name == service:
        raise ValidationError({"name": f"{service} itself is the service's shared domain."})
    if is_service_domain(name):
        # Subdomains of the service domain are allocated per company: <slug>.<service>.
        own = company.service_domain
        if name != own and not is_subdomain(name, own):
            raise ValidationError(
                {"name": f"On {service} this company can use {own} or a subdomain of it."}
            )
    elif is_public_suffix(name):
        raise ValidationError(
            {"name": f"{name} is a public suffix: enter a domain registered under it."}
        )
    if CallingDomain.objects.filter(company=company, name=name).exists():
        raise ValidationError({"name": f"{name} is already one of this company's domains."})
    # Another company's pending claim does not stop this one (nor is it mentioned): the first
    # to publish its TXT record gets the name.
    if verified_for_another_company(company=company, name=name):
        raise ValidationError({"name": verified_elsewhere_message(name)})
    return name


@transaction.atomic
def calling_domain_add(*, actor: Actor, company: Company, name: str) -> CallingDomain:
    ensure_can_write(actor, company.partner)
    name = validate_new_calling_domain(company=company, value=name)
    method = None  # the company's default domain has its own verified row already
    if name == company.service_domain:
        domain = company_default_domain(company=company)
    else:
        method = auto_verification(company=company, name=name)
        try:
            with transaction.atomic():
                domain = CallingDomain.objects.create(
                    company=company,
                    name=name,
                    status=DomainStatus.VERIFIED if method else DomainStatus.PENDING,
                    verification_method=method,
                    verified_at=timezone.now() if method else None,
                )
        except IntegrityError:
            # Added at the same moment by this company, or verified at once for another one:
            # the rules, asked again, now see the row that won.
            validate_new_calling_domain(company=company, value=name)
            raise ValidationError({"name": f"{name} could not be added: try again."}) from None
    audit_record(
        actor,
        "calling_domain.add",
        domain,
        data={"name": name, "method": domain.verification_method},
    )
    if method:
        calling_domain_verified_event(domain, method)
    _dns_email(domain)
    return domain


def _dns_email(domain: CallingDomain) -> None:
    """The records to publish, to the company (written to the outbox in this transaction)."""
    emails.calling_domain_dns(domain, records=required_records(domain))


@transaction.atomic
def calling_domain_dns_email_resend(*, actor: Actor, calling_domain: CallingDomain) -> None:
    ensure_can_write(actor, calling_domain.company.partner)
    audit_record(actor, "calling_domain.dns_email", calling_domain)
    _dns_email(calling_domain)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


@transaction.atomic
def calling_domain_delete(*, actor: Actor, calling_domain: CallingDomain) -> None:
    ensure_can_write(actor, calling_domain.company.partner)
    if calling_domain.name == calling_domain.company.service_domain:
        raise ValidationError("The company's service domain cannot be deleted.")
    in_use = calling_domain.consumers.count()  # type: ignore[attr-defined]
    interop = calling_domain.interop_configurations.count()  # type: ignore[attr-defined]
    if in_use or interop:
        parts = [_plural(in_use, "consumer")] if in_use else []
        parts += [_plural(interop, "interop configuration")] if interop else []
        raise ValidationError(
            f"{calling_domain.name} is used by {' and '.join(parts)}: delete or move them first.",
            code="in_use",
        )
    audit_record(actor, "calling_domain.delete", calling_domain, data={"name": calling_domain.name})
    calling_domain.delete()
