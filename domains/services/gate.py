"""The gate every new address and interop configuration goes through: only a verified calling
domain of the same company may be used."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import Company

from ..models import CallingDomain, DomainStatus, VerificationMethod, is_verified_status
from ..names import normalize_domain


def company_default_domain(*, company: Company) -> CallingDomain:
    """The company's service subdomain `<slug>.<SERVICE_DOMAIN>`, created verified on first use."""
    name = company.service_domain
    domain = CallingDomain.objects.filter(name=name, status=DomainStatus.VERIFIED).first()
    if domain is None:
        try:
            with transaction.atomic():
                domain = CallingDomain.objects.create(
                    company=company,
                    name=name,
                    status=DomainStatus.VERIFIED,
                    verification_method=VerificationMethod.SERVICE_DOMAIN,
                    verified_at=timezone.now(),
                )
        except IntegrityError:  # created concurrently
            domain = CallingDomain.objects.get(name=name, status=DomainStatus.VERIFIED)
    if domain.company_id != company.pk:
        raise ValidationError(f"The service domain {name} belongs to another company.")
    return domain


def calling_domain_for_address(*, company: Company, name: str | None) -> CallingDomain:
    """The calling domain a new address goes on: None is the company's service subdomain."""
    if name is None or not str(name).strip():
        return company_default_domain(company=company)
    try:
        wanted = normalize_domain(str(name))
    except ValidationError as exc:
        raise ValidationError({"domain": exc.messages}) from None
    if wanted == company.service_domain:
        return company_default_domain(company=company)
    domain = CallingDomain.objects.filter(company=company, name=wanted).first()
    if domain is None:
        raise ValidationError(
            {"domain": f"{wanted} is not one of this company's calling domains."}, code="domain"
        )
    ensure_verified(domain)
    return domain


def ensure_verified(domain: CallingDomain) -> None:
    """A calling domain must be verified before anything uses it (new addresses, reactivated
    consumers, interop configurations)."""
    if not is_verified_status(domain.status):
        raise ValidationError(
            {
                "domain": f"{domain.name} is not verified yet: publish its DNS TXT record and "
                "verify it before adding addresses on it."
            },
            code="domain_unverified",
        )
