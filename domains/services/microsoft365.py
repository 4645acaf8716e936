"""A company's Microsoft 365 tenant domains (verified by TXT record or by operations staff;
see verification)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from ..models import Microsoft365Domain
from ..names import is_public_suffix, normalize_domain


@transaction.atomic
def microsoft365_domain_add(*, actor: Actor, company: Company, name: str) -> Microsoft365Domain:
    ensure_can_write(actor, company.partner)
    try:
        name = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if is_public_suffix(name):
        raise ValidationError({"name": f"{name} is a public suffix."})
    listed = ValidationError({"name": f"{name} is already listed."})
    if Microsoft365Domain.objects.filter(company=company, name=name).exists():
        raise listed
    try:
        with transaction.atomic():  # the same name added twice at once: one wins
            domain = Microsoft365Domain.objects.create(company=company, name=name)
    except IntegrityError:
        raise listed from None
    audit_record(actor, "microsoft365_domain.add", domain, data={"name": name})
    return domain


@transaction.atomic
def microsoft365_domain_delete(*, actor: Actor, microsoft365_domain: Microsoft365Domain) -> None:
    ensure_can_write(actor, microsoft365_domain.company.partner)
    audit_record(
        actor,
        "microsoft365_domain.delete",
        microsoft365_domain,
        data={"name": microsoft365_domain.name},
    )
    microsoft365_domain.delete()
