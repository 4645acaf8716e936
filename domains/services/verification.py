"""Verifying calling and Microsoft 365 domains: the automatic rules, the one pending → verified
transition, the DNS check behind Verify, and the periodic check of pending domains."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal import emails
from portal.access import Actor, ensure_can_write, ensure_is_ops
from portal.audit import audit_record
from portal.events import event_emit
from portal.jobs import enqueue_on_commit
from portal.models import Company

from .. import dns_lookup
from ..models import (
    CallingDomain,
    DomainStatus,
    Microsoft365Domain,
    VerifiableDomain,
    VerificationMethod,
)
from ..names import is_service_domain, root_domain

# Microsoft 365 domains are verified by TXT record or by hand by operations staff.
VERIFIED_BY_OPS = "operations"


def verified_for_another_company(*, company: Company, name: str) -> bool:
    """A verified calling domain belongs to one company: the first to prove it. Another
    company's pending claim of the name never counts (and is never revealed). The partial
    unique constraint `calling_domain_verified_name_unique` holds this against races."""
    return (
        CallingDomain.objects.filter(name=name, status=DomainStatus.VERIFIED)
        .exclude(company=company)
        .exists()
    )


def verified_elsewhere_message(name: str) -> str:
    """Names no company: says only that the name is taken."""
    return f"{name} is already verified for another customer of the service."


def auto_verification(*, company: Company, name: str) -> str | None:
    """The one place that decides whether a domain is verified without a TXT record.

    - a subdomain of SERVICE_DOMAIN: `service_domain`;
    - a domain this company verified as a Microsoft 365 domain: `microsoft365`;
    - a subdomain of a root domain this company verified (as a calling domain or a Microsoft
      365 domain): `parent_domain`. Never the other way round, never another company's.
    None, whatever the company verified, for a name another company has verified.
    """
    if verified_for_another_company(company=company, name=name):
        return None
    if is_service_domain(name):
        return VerificationMethod.SERVICE_DOMAIN
    verified_m365 = Microsoft365Domain.objects.filter(company=company, status=DomainStatus.VERIFIED)
    if verified_m365.filter(name=name).exists():
        return VerificationMethod.MICROSOFT365
    root = root_domain(name)
    if root and root != name:
        verified_calling = CallingDomain.objects.filter(
            company=company, status=DomainStatus.VERIFIED
        )
        if verified_calling.filter(name=root).exists() or verified_m365.filter(name=root).exists():
            return VerificationMethod.PARENT_DOMAIN
    return None


def _mark_verified(domain: VerifiableDomain, *, actor: Actor, method: str) -> None:
    """The one pending → verified transition. Only one concurrent verifier wins the conditional
    UPDATE, so the audit event and the email happen once, on the transition only. Another
    company's claim of the same name verified by a concurrent transaction makes the UPDATE
    fail on the verified-name constraint (PostgreSQL waits for that transaction to commit):
    the name is theirs, and this claim records why it stays pending."""
    now = timezone.now()
    if isinstance(domain, CallingDomain):
        method_fields: dict[str, object] = {"verification_method": method}
        audit = {"method": method}
    else:
        method_fields = {"verified_by_ops": method == VERIFIED_BY_OPS}
        audit = {"by_ops": method == VERIFIED_BY_OPS}
    try:
        with transaction.atomic():
            won = (
                type(domain)
                .objects.filter(pk=domain.pk, status=DomainStatus.PENDING)
                .update(
                    status=DomainStatus.VERIFIED,
                    verified_at=now,
                    last_checked_at=now,
                    last_error="",
                    **method_fields,
                )
            )
    except IntegrityError:
        _record_failure(domain, verified_elsewhere_message(domain.name))
        return
    if not won:
        return
    audit_record(actor, f"{domain.audit_name}.verified", domain, data=audit)
    if isinstance(domain, CallingDomain):
        emails.calling_domain_verified(domain)
        calling_domain_verified_event(domain, method)
    company_id = domain.company_id
    transaction.on_commit(lambda: _verify_dependants(company_id))


def calling_domain_verified_event(domain: CallingDomain, method: str) -> None:
    """`calling_domain.verified`: on the pending → verified transition, and for a domain
    verified as it is added (a service subdomain, a verified parent)."""
    company = domain.company
    data = {
        "id": str(domain.public_id),
        "company_id": str(company.public_id),
        "name": domain.name,
        "verification_method": method,
    }
    event_emit("calling_domain.verified", partner=company.partner_id, company=company, data=data)


def _verify_dependants(company_id: int) -> None:
    """A newly verified root (or Microsoft 365 domain) verifies the company's pending
    subdomains of it without a TXT record."""
    for pending in CallingDomain.objects.filter(company_id=company_id, status=DomainStatus.PENDING):
        if auto_verification(company=pending.company, name=pending.name):
            calling_domain_verify(actor=None, calling_domain=pending)


def _record_failure(domain: VerifiableDomain, reason: str) -> None:
    type(domain).objects.filter(pk=domain.pk, status=DomainStatus.PENDING).update(
        last_checked_at=timezone.now(), last_error=reason[:300]
    )


def calling_domain_verify(*, actor: Actor, calling_domain: CallingDomain) -> CallingDomain:
    """Check DNS now. Verified stays verified; a transient DNS failure changes nothing but the
    recorded error; a name another company verified first is not verified, TXT record or not.
    `actor` None: the system (the periodic check, a verified parent). Raises DoesNotExist when
    the claim is gone (deleted, or expired meanwhile)."""
    if actor is not None:
        ensure_can_write(actor, calling_domain.company.partner)
    domain = CallingDomain.objects.select_related("company").get(pk=calling_domain.pk)
    if domain.is_verified:
        return domain
    if verified_for_another_company(company=domain.company, name=domain.name):
        _record_failure(domain, verified_elsewhere_message(domain.name))
        domain.refresh_from_db()
        return domain
    method = auto_verification(company=domain.company, name=domain.name)
    # Outside any transaction: a slow DNS answer must not hold a database lock.
    check = None if method else dns_lookup.txt_evaluate(domain.name, domain.verification_token)
    with transaction.atomic():
        if check is None or check.outcome == dns_lookup.VERIFIED:
            _mark_verified(domain, actor=actor, method=method or VerificationMethod.DNS_TXT)
        else:
            _record_failure(domain, check.reason)
    domain.refresh_from_db()
    return domain


@transaction.atomic
def calling_domain_request_check(*, actor: Actor, calling_domain: CallingDomain) -> CallingDomain:
    """The Verify action: the check runs on the worker; the page follows it."""
    ensure_can_write(actor, calling_domain.company.partner)
    if calling_domain.is_verified:
        return calling_domain
    now = timezone.now()
    CallingDomain.objects.filter(pk=calling_domain.pk).update(check_requested_at=now)
    enqueue_on_commit("domains.tasks.calling_domain_verify", calling_domain.pk)
    calling_domain.check_requested_at = now
    return calling_domain


def microsoft365_domain_verify(
    *, actor: Actor, microsoft365_domain: Microsoft365Domain
) -> Microsoft365Domain:
    """The same TXT evaluator as calling domains."""
    if actor is not None:
        ensure_can_write(actor, microsoft365_domain.company.partner)
    domain = Microsoft365Domain.objects.select_related("company").get(pk=microsoft365_domain.pk)
    if domain.is_verified:
        return domain
    check = dns_lookup.txt_evaluate(domain.name, domain.verification_token)
    with transaction.atomic():
        if check.outcome == dns_lookup.VERIFIED:
            _mark_verified(domain, actor=actor, method=VerificationMethod.DNS_TXT)
        else:
            _record_failure(domain, check.reason)
    domain.refresh_from_db()
    return domain


@transaction.atomic
def microsoft365_domain_mark_verified(
    *, actor: Actor, microsoft365_domain: Microsoft365Domain
) -> Microsoft365Domain:
    ensure_is_ops(actor, "mark a domain verified")
    _mark_verified(microsoft365_domain, actor=actor, method=VERIFIED_BY_OPS)
    microsoft365_domain.refresh_from_db()
    return microsoft365_domain


# --- the periodic check of pending domains ------------------------------------------------------

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


def _due(now: datetime) -> Q:
    """Pending domains never checked, or checked longer ago than the interval for their age
    (`check_interval` as one condition per age band)."""
    due = Q(last_checked_at__isnull=True)
    previous = timedelta(0)
    for limit, interval in CHECK_INTERVALS:
        due |= Q(
            created_at__gt=now - limit,
            created_at__lte=now - previous,
            last_checked_at__lte=now - interval,
        )
        previous = limit
    return due | Q(created_at__lte=now - previous, last_checked_at__lte=now - CHECK_INTERVAL_LONG)


def calling_domains_check_pending(*, now: datetime | None = None) -> dict[str, int]:
    """Check pending domains that are due, claiming each with a conditional UPDATE of
    last_checked_at, so a concurrent run checks (and emails) nothing twice."""
    now = now or timezone.now()
    counts = {"checked": 0, "verified": 0}
    candidates = list(
        CallingDomain.objects.filter(_due(now), status=DomainStatus.PENDING)
        .order_by("last_checked_at", "pk")
        .values_list("pk", "last_checked_at")[:CHECK_BATCH]
    )
    for pk, last_checked in candidates:
        seen = Q(last_checked_at=last_checked) if last_checked else Q(last_checked_at__isnull=True)
        if not CallingDomain.objects.filter(seen, pk=pk).update(last_checked_at=now):
            continue
        try:
            domain = calling_domain_verify(actor=None, calling_domain=CallingDomain(pk=pk))
        except CallingDomain.DoesNotExist:  # deleted or expired meanwhile
            continue
        counts["checked"] += 1
        counts["verified"] += int(domain.is_verified)
    return counts
