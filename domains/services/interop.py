"""Interop configurations (Microsoft Teams / CVI): each uses a verified calling domain."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from ..models import InteropConfiguration
from .gate import calling_domain_for_address


@transaction.atomic
def interop_configuration_create(
    *, actor: Actor, company: Company, name: str, tenant_id: Any, calling_domain: str
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
    domain = calling_domain_for_address(company=company, name=calling_domain)
    taken = ValidationError({"tenant_id": "This tenant already has a configuration."})
    if InteropConfiguration.objects.filter(company=company, tenant_id=tenant).exists():
        raise taken
    try:
        with transaction.atomic():  # the same tenant added twice at once: one wins
            config = InteropConfiguration.objects.create(
                company=company, name=name, tenant_id=tenant, calling_domain=domain
            )
    except IntegrityError:
        raise taken from None
    audit_record(actor, "interop.create", config, data={"domain": domain.name})
    return config


@transaction.atomic
def interop_configuration_delete(*, actor: Actor, configuration: InteropConfiguration) -> None:
    ensure_can_write(actor, configuration.company.partner)
    audit_record(actor, "interop.delete", configuration)
    configuration.delete()
