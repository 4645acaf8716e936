"""Writes for calling domains."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.access import ensure_can_write
from portal.audit import audit_record
from portal.emails import send_email
from portal.models import Company

from . import dns as engine
from .models import (
    CallingDomain,
    DomainStatus,
    InteropConfiguration,
    Microsoft365Domain,
    VerificationMethod,
)
from .names import is_public_suffix, is_subdomain, normalize_domain, root_domain


def company_default_domain(*, company: Company) -> CallingDomain:
    """The company's service subdomain `<slug>.<SERVICE_DOMAIN>`, created verified on first use."""
    name = company.service_domain
    domain = CallingDomain.objects.filter(name=name).first()
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
            domain = CallingDomain.objects.get(name=name)
    if domain.company_id != company.pk:
        raise ValidationError(f"The service domain {name} belongs to another company.")
    return domain


def calling_domain_for_address(*, company: Company, name: str | None) -> CallingDomain:
    """The calling domain a new address goes on: None is the company's service subdomain.

    The gate: only a verified domain of this company may be used, in every path.
    """
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
    if not domain.is_verified:
        raise ValidationError(
            {
                "domain": f"{wanted} is not verified yet: publish its DNS TXT record and verify "
                "it before adding addresses on it."
            },
            code="domain_unverified",
        )
    return domain


# --- adding and verifying hosted calling domains -----------------------------------------------


def auto_verification(*, company: Company, name: str) -> str | None:
    """The one place that decides whether a domain is verified without a TXT record.

    - a subdomain of SERVICE_DOMAIN: `service_domain`;
    - a domain this company verified as a Microsoft 365 domain: `microsoft365`;
    - a subdomain of a root domain this company verified (as a calling domain or a Microsoft
      365 domain): `parent_domain`. Never the other way round, never another company's.
    """
    service = settings.SERVICE_DOMAIN
    if is_subdomain(name, service):
        return VerificationMethod.SERVICE_DOMAIN
    if Microsoft365Domain.objects.filter(
        company=company, name=name, status=DomainStatus.VERIFIED
    ).exists():
        return VerificationMethod.MICROSOFT365
    root = root_domain(name)
    if root and root != name:
        verified_root = (
            CallingDomain.objects.filter(
                company=company, name=root, status=DomainStatus.VERIFIED
            ).exists()
            or Microsoft365Domain.objects.filter(
                company=company, name=root, status=DomainStatus.VERIFIED
            ).exists()
        )
        if verified_root:
            return VerificationMethod.PARENT_DOMAIN
    return None


def validate_new_calling_domain(*, company: Company, value: str) -> str:
    try:
        name = normalize_domain(value)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    service = settings.SERVICE_DOMAIN
    if name == service:
        raise ValidationError({"name": f"{service} itself is the service's shared domain."})
    if is_subdomain(name, service):
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
    existing = CallingDomain.objects.filter(name=name).first()
    if existing is not None:
        if existing.company_id == company.pk:
            raise ValidationError({"name": f"{name} is already one of this company's domains."})
        raise ValidationError({"name": f"{name} is already hosted by another customer."})
    return name


@transaction.atomic
def calling_domain_add(*, actor: Any, company: Company, name: str) -> CallingDomain:
    ensure_can_write(actor, company.partner)
    name = validate_new_calling_domain(company=company, value=name)
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
        except IntegrityError:  # the same name added at the same moment elsewhere
            raise ValidationError({"name": f"{name} is already hosted by a customer."}) from None
    audit_record(
        actor=actor,
        action="calling_domain.add",
        obj=domain,
        company=company,
        data={"name": name, "method": domain.verification_method},
    )
    _enqueue(_send_dns_email_task, domain.pk)
    return domain


def _enqueue(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: task().delay(*args))


def _send_dns_email_task() -> Any:
    from .tasks import calling_domain_dns_email_send

    return calling_domain_dns_email_send


def _verified_email_task() -> Any:
    from .tasks import calling_domain_verified_email_send

    return calling_domain_verified_email_send


def calling_domain_dns_email(*, calling_domain: CallingDomain) -> None:
    """The DNS requirements email to the company contact, the partner copied."""
    from .records import required_records

    company = calling_domain.company
    partner = company.partner
    send_email(
        "calling_domain_dns",
        to=[company.contact_email],
        cc=[partner.support_email] if partner.support_email else [],
        context={
            "company": company,
            "partner": partner,
            "domain": calling_domain,
            "records": required_records(calling_domain),
            "prefix": settings.DOMAIN_VERIFICATION_PREFIX,
        },
    )


@transaction.atomic
def calling_domain_dns_email_resend(*, actor: Any, calling_domain: CallingDomain) -> None:
    ensure_can_write(actor, calling_domain.company.partner)
    audit_record(
        actor=actor,
        action="calling_domain.dns_email",
        obj=calling_domain,
        company=calling_domain.company,
    )
    _enqueue(_send_dns_email_task, calling_domain.pk)


def calling_domain_verify(*, actor: Any, calling_domain: CallingDomain) -> CallingDomain:
    """Check DNS now. Verified stays verified; a transient DNS failure changes nothing but the
    recorded error; the verified email goes out once, on the transition only."""
    if actor is not None:
        ensure_can_write(actor, calling_domain.company.partner)
    domain = CallingDomain.objects.get(pk=calling_domain.pk)
    if domain.is_verified:
        return domain
    now = timezone.now()
    method = auto_verification(company=domain.company, name=domain.name)
    if method:
        result = engine.TxtCheck(engine.VERIFIED, "")
    else:
        # Outside any transaction: a slow DNS answer must not hold a database lock.
        result = engine.check_txt(domain.name, domain.verification_token)
        method = VerificationMethod.DNS_TXT
    with transaction.atomic():
        if result.outcome == engine.VERIFIED:
            # Only one concurrent verifier wins this UPDATE, so only one email is sent.
            won = CallingDomain.objects.filter(pk=domain.pk, status=DomainStatus.PENDING).update(
                status=DomainStatus.VERIFIED,
                verification_method=method,
                verified_at=now,
                last_checked_at=now,
                last_error="",
            )
            if won:
                audit_record(
                    actor=actor,
                    action="calling_domain.verified",
                    obj=domain,
                    company=domain.company,
                    data={"method": method},
                )
                _enqueue(_verified_email_task, domain.pk)
                transaction.on_commit(lambda: _verify_dependants(domain.company_id))
        else:
            CallingDomain.objects.filter(pk=domain.pk, status=DomainStatus.PENDING).update(
                last_checked_at=now, last_error=result.reason[:300]
            )
    domain.refresh_from_db()
    return domain


def _verify_dependants(company_id: int) -> None:
    """A newly verified root (or Microsoft 365 domain) verifies the company's pending
    subdomains of it without a TXT record."""
    for pending in CallingDomain.objects.filter(company_id=company_id, status=DomainStatus.PENDING):
        if auto_verification(company=pending.company, name=pending.name):
            calling_domain_verify(actor=None, calling_domain=pending)


def calling_domain_verified_email(*, calling_domain: CallingDomain) -> None:
    company = calling_domain.company
    send_email(
        "calling_domain_verified",
        to=[company.contact_email],
        cc=[company.partner.support_email] if company.partner.support_email else [],
        context={"company": company, "partner": company.partner, "domain": calling_domain},
    )


@transaction.atomic
def calling_domain_delete(*, actor: Any, calling_domain: CallingDomain) -> None:
    ensure_can_write(actor, calling_domain.company.partner)
    if calling_domain.name == calling_domain.company.service_domain:
        raise ValidationError("The company's service domain cannot be deleted.")
    in_use = calling_domain.consumers.count()
    interop = calling_domain.interop_configurations.count()
    if in_use or interop:
        parts = []
        if in_use:
            parts.append(f"{in_use} consumer{'s' if in_use != 1 else ''}")
        if interop:
            parts.append(f"{interop} interop configuration{'s' if interop != 1 else ''}")
        raise ValidationError(
            f"{calling_domain.name} is used by {' and '.join(parts)}: delete or move them first.",
            code="in_use",
        )
    audit_record(
        actor=actor,
        action="calling_domain.delete",
        obj=calling_domain,
        company=calling_domain.company,
        data={"name": calling_domain.name},
    )
    calling_domain.delete()


# Back-off: a domain pending for long is checked less often.
CHECK_INTERVALS = (
    (timedelta(days=1), timedelta(minutes=15)),
    (timedelta(days=7), timedelta(hours=1)),
    (timedelta(days=30), timedelta(hours=6)),
)
CHECK_INTERVAL_LONG = timedelta(days=1)
CHECK_BATCH = 100


def check_interval(age: timedelta) -> timedelta:
    for limit, interval in CHECK_INTERVALS:
        if age < limit:
            return interval
    return CHECK_INTERVAL_LONG


def calling_domains_check_pending(*, now: datetime | None = None) -> dict[str, int]:
    """Check pending domains that are due, claiming each with a conditional UPDATE of
    last_checked_at, so a concurrent run checks (and emails) nothing twice."""
    now = now or timezone.now()
    counts = {"checked": 0, "verified": 0}
    # Due: never checked, or checked longer ago than the interval for the domain's age.
    due = Q(last_checked_at__isnull=True)
    previous = timedelta(0)
    for limit, interval in CHECK_INTERVALS:
        due |= Q(
            created_at__gt=now - limit,
            created_at__lte=now - previous,
            last_checked_at__lte=now - interval,
        )
        previous = limit
    due |= Q(created_at__lte=now - previous, last_checked_at__lte=now - CHECK_INTERVAL_LONG)
    candidates = list(
        CallingDomain.objects.filter(due, status=DomainStatus.PENDING)
        .order_by("last_checked_at", "pk")
        .values_list("pk", "last_checked_at")[:CHECK_BATCH]
    )
    for pk, last_checked in candidates:
        claimed = (
            CallingDomain.objects.filter(pk=pk, last_checked_at=last_checked).update(
                last_checked_at=now
            )
            if last_checked
            else CallingDomain.objects.filter(pk=pk, last_checked_at__isnull=True).update(
                last_checked_at=now
            )
        )
        if not claimed:
            continue
        domain = calling_domain_verify(actor=None, calling_domain=CallingDomain(pk=pk))
        counts["checked"] += 1
        counts["verified"] += int(domain.is_verified)
    return counts


# --- Microsoft 365 domains and interop ---------------------------------------------------------


@transaction.atomic
def microsoft365_domain_add(*, actor: Any, company: Company, name: str) -> Microsoft365Domain:
    ensure_can_write(actor, company.partner)
    try:
        name = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if is_public_suffix(name):
        raise ValidationError({"name": f"{name} is a public suffix."})
    if Microsoft365Domain.objects.filter(company=company, name=name).exists():
        raise ValidationError({"name": f"{name} is already listed."})
    domain = Microsoft365Domain.objects.create(company=company, name=name)
    audit_record(
        actor=actor,
        action="microsoft365_domain.add",
        obj=domain,
        company=company,
        data={"name": name},
    )
    return domain


def _m365_verified(domain: Microsoft365Domain, *, actor: Any, by_ops: bool) -> Microsoft365Domain:
    now = timezone.now()
    won = Microsoft365Domain.objects.filter(pk=domain.pk, status=DomainStatus.PENDING).update(
        status=DomainStatus.VERIFIED,
        verified_at=now,
        verified_by_ops=by_ops,
        last_checked_at=now,
        last_error="",
    )
    if won:
        audit_record(
            actor=actor,
            action="microsoft365_domain.verified",
            obj=domain,
            company=domain.company,
            data={"by_ops": by_ops},
        )
        transaction.on_commit(lambda: _verify_dependants(domain.company_id))
    domain.refresh_from_db()
    return domain


def microsoft365_domain_verify(
    *, actor: Any, microsoft365_domain: Microsoft365Domain
) -> Microsoft365Domain:
    """The same TXT engine as calling domains."""
    if actor is not None:
        ensure_can_write(actor, microsoft365_domain.company.partner)
    domain = Microsoft365Domain.objects.get(pk=microsoft365_domain.pk)
    if domain.is_verified:
        return domain
    result = engine.check_txt(domain.name, domain.verification_token)
    with transaction.atomic():
        if result.outcome == engine.VERIFIED:
            return _m365_verified(domain, actor=actor, by_ops=False)
        Microsoft365Domain.objects.filter(pk=domain.pk).update(
            last_checked_at=timezone.now(), last_error=result.reason[:300]
        )
    domain.refresh_from_db()
    return domain


@transaction.atomic
def microsoft365_domain_mark_verified(
    *, actor: Any, microsoft365_domain: Microsoft365Domain
) -> Microsoft365Domain:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("Only the service's operations staff can mark a domain verified.")
    return _m365_verified(microsoft365_domain, actor=actor, by_ops=True)


@transaction.atomic
def microsoft365_domain_delete(*, actor: Any, microsoft365_domain: Microsoft365Domain) -> None:
    ensure_can_write(actor, microsoft365_domain.company.partner)
    audit_record(
        actor=actor,
        action="microsoft365_domain.delete",
        obj=microsoft365_domain,
        company=microsoft365_domain.company,
        data={"name": microsoft365_domain.name},
    )
    microsoft365_domain.delete()


@transaction.atomic
def interop_configuration_create(
    *, actor: Any, company: Company, name: str, tenant_id: Any, calling_domain: str
) -> InteropConfiguration:
    ensure_can_write(actor, company.partner)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Enter a name."})
    try:
        tenant = uuid.UUID(str(tenant_id).strip())
    except ValueError:
        raise ValidationError(
            {"tenant_id": "The tenant id is a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47."}
        ) from None
    domain = calling_domain_for_address(company=company, name=calling_domain)  # the gate
    if InteropConfiguration.objects.filter(company=company, tenant_id=tenant).exists():
        raise ValidationError({"tenant_id": "This tenant already has a configuration."})
    config = InteropConfiguration.objects.create(
        company=company, name=name, tenant_id=tenant, calling_domain=domain
    )
    audit_record(
        actor=actor,
        action="interop.create",
        obj=config,
        company=company,
        data={"domain": domain.name},
    )
    return config


@transaction.atomic
def interop_configuration_delete(*, actor: Any, configuration: InteropConfiguration) -> None:
    ensure_can_write(actor, configuration.company.partner)
    audit_record(
        actor=actor, action="interop.delete", obj=configuration, company=configuration.company
    )
    configuration.delete()


@transaction.atomic
def calling_domain_request_check(*, actor: Any, calling_domain: CallingDomain) -> CallingDomain:
    """The Verify action: the check runs on the worker; the page follows it."""
    ensure_can_write(actor, calling_domain.company.partner)
    if calling_domain.is_verified:
        return calling_domain
    now = timezone.now()
    CallingDomain.objects.filter(pk=calling_domain.pk).update(check_requested_at=now)
    _enqueue(_verify_task, calling_domain.pk)
    calling_domain.check_requested_at = now
    return calling_domain


def _verify_task() -> Any:
    from .tasks import calling_domain_verify

    return calling_domain_verify
