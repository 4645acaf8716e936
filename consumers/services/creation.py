"""Adding consumers: Users (by invitation), Team VMRs and Endpoints.

Every input is validated before anything is written; the seat is taken under the company's row
lock; the addresses are reserved last, where the database has the final word on uniqueness; a
room (a user's personal VMR, a team VMR) then gets its conference ID (consumers.conference_ids).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from domains.services import calling_domain_for_address
from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from ..addresses import normalize_alias_for
from ..conference_ids import conference_id_allocate
from ..events import consumer_event
from ..models import (
    ROOM_KINDS,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    EndpointSettings,
    TeamVmrSettings,
    UsageModel,
    address_rows,
)
from ..seats import seat_take
from .common import clean_text, lock_company, validate_email_address
from .endpoints import provisioning_token
from .invitations import invitation_create
from .kind_settings import clean_device, clean_pins
from .reservation import ensure_addresses_free, guarded_addresses, reserve_addresses


def _consumer_create(
    actor: Actor,
    company: Company,
    kind: str,
    names: tuple[str, str, str | None],
    status: str = ConsumerStatus.ACTIVE,
) -> Consumer:
    """The steps every kind shares: `names` is (alias, display name, domain or None for the
    company's service subdomain). The caller is atomic and has validated its own inputs."""
    alias, display_name, domain = names
    ensure_can_write(actor, company.partner)
    display_name = clean_text(display_name, field="display_name")
    calling_domain = calling_domain_for_address(company=company, name=domain)
    alias = normalize_alias_for(alias, domain=calling_domain.name)
    rows = address_rows(alias, calling_domain.name, kind)
    ensure_addresses_free(rows)
    is_trial = seat_take(locked_company=lock_company(company), kind=kind)
    # The consumer's own (alias, domain) constraint is the first to see a concurrent add of
    # the same address (a double-clicked submit).
    with guarded_addresses(rows):
        consumer = Consumer.objects.create(
            company=company,
            kind=kind,
            alias=alias,
            domain=calling_domain.name,
            calling_domain=calling_domain,
            display_name=display_name,
            status=status,
            is_trial=is_trial,
        )
    reserve_addresses(consumer)
    if kind in ROOM_KINDS:
        conference_id_allocate(consumer)
    consumer_event("consumer.created", consumer)
    return consumer


def _audit_created(actor: Actor, consumer: Consumer, action: str) -> None:
    audit_record(
        actor, action, consumer, data={"address": consumer.address, "trial": consumer.is_trial}
    )


@transaction.atomic
def user_invite(
    *,
    actor: Actor,
    company: Company,
    email: str,
    full_name: str,
    alias: str,
    domain: str | None = None,
) -> Consumer:
    email = validate_email_address(email)
    full_name = clean_text(full_name, field="full_name", required=True)
    names = (alias, full_name, domain)
    consumer = _consumer_create(actor, company, ConsumerKind.USER, names, ConsumerStatus.INVITED)
    invitation_create(consumer, email=email, full_name=full_name)
    # Ids only: an invitee's name and email never reach the audit log.
    # The domain (the company's, not the invitee's) names the user once it is gone.
    audit_record(
        actor, "user.invite", consumer, data={"trial": consumer.is_trial, "domain": consumer.domain}
    )
    return consumer


@transaction.atomic
def team_vmr_create(
    *,
    actor: Actor,
    company: Company,
    alias: str,
    display_name: str,
    domain: str | None = None,
    host_pin: str = "",
    guest_pin: str = "",
) -> Consumer:
    host_pin, guest_pin = clean_pins(host_pin, guest_pin)
    consumer = _consumer_create(
        actor, company, ConsumerKind.TEAM_VMR, (alias, display_name, domain)
    )
    TeamVmrSettings.objects.create(consumer=consumer, host_pin=host_pin, guest_pin=guest_pin)
    _audit_created(actor, consumer, "team_vmr.create")
    return consumer


@transaction.atomic
def endpoint_create(
    *,
    actor: Actor,
    company: Company,
    alias: str,
    display_name: str,
    domain: str | None = None,
    usage_model: str = UsageModel.SHARED,
    device_make: str = "",
    device_model: str = "",
    serial_number: str = "",
) -> Consumer:
    if usage_model not in UsageModel.values:
        raise ValidationError({"usage_model": "Choose Shared or Personal."})
    device = clean_device(
        {"device_make": device_make, "device_model": device_model, "serial_number": serial_number}
    )
    consumer = _consumer_create(
        actor, company, ConsumerKind.ENDPOINT, (alias, display_name, domain)
    )
    settings = EndpointSettings.objects.create(consumer=consumer, usage_model=usage_model, **device)
    provisioning_token(settings)
    _audit_created(actor, consumer, "endpoint.create")
    return consumer
