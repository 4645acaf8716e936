"""Editing a consumer: alias (never the domain), display name, cost centre, description tag,
and the kind's own settings (Team VMR PINs, endpoint device). Every field is validated before
anything is written."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.access import Actor, ensure_can_write
from portal.audit import audit_record

from ..addresses import normalize_alias_for
from ..models import Consumer, ConsumerKind, EndpointSettings, TeamVmrSettings, address_rows
from .common import clean_text
from .kind_settings import DEVICE_FIELDS, clean_device, clean_pins
from .reservation import ensure_addresses_free, reserve_addresses

TEXT_FIELDS = {"display_name": 200, "cost_centre": 100, "description_tag": 100}
CONSUMER_FIELDS = {"alias", *TEXT_FIELDS}
KIND_FIELDS = {
    ConsumerKind.USER: set(),
    ConsumerKind.TEAM_VMR: {"host_pin", "guest_pin"},
    ConsumerKind.ENDPOINT: set(DEVICE_FIELDS),
}


def _allowed_fields(consumer: Consumer, fields: dict[str, Any]) -> None:
    if "domain" in fields and fields["domain"] not in (None, consumer.domain):
        raise ValidationError({"domain": "The domain of an address cannot be changed."})
    fields.pop("domain", None)
    unknown = set(fields) - CONSUMER_FIELDS - KIND_FIELDS[consumer.kind]
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")


def _cleaned(consumer: Consumer, fields: dict[str, Any]) -> dict[str, Any]:
    """Every changed field, validated, as {name: new value} (PINs as one "pins" pair)."""
    cleaned: dict[str, Any] = {}
    if "alias" in fields and str(fields["alias"]).strip().lower() != consumer.alias:
        # Only a new alias is checked: an address kept as it is stays valid.
        alias = normalize_alias_for(fields["alias"], domain=consumer.domain)
        ensure_addresses_free(address_rows(alias, consumer.domain, consumer.kind), exclude=consumer)
        cleaned["alias"] = alias
    for name, max_length in TEXT_FIELDS.items():
        if name in fields:
            cleaned[name] = clean_text(fields[name], field=name, max_length=max_length)
    changed = {k: v for k, v in cleaned.items() if v != getattr(consumer, k)}
    if KIND_FIELDS[ConsumerKind.TEAM_VMR] & set(fields):
        vmr = TeamVmrSettings.objects.filter(consumer=consumer).first() or TeamVmrSettings()
        pins = clean_pins(
            fields.get("host_pin", vmr.host_pin), fields.get("guest_pin", vmr.guest_pin)
        )
        if pins != (vmr.host_pin, vmr.guest_pin):
            changed["pins"] = pins
    if KIND_FIELDS[ConsumerKind.ENDPOINT] & set(fields):
        endpoint = EndpointSettings.objects.filter(consumer=consumer).first() or EndpointSettings()
        device = clean_device(fields)
        changed.update({k: v for k, v in device.items() if v != getattr(endpoint, k)})
    return changed


@transaction.atomic
def consumer_update(*, actor: Actor, consumer: Consumer, **fields: Any) -> Consumer:
    ensure_can_write(actor, consumer.company.partner)
    _allowed_fields(consumer, fields)
    consumer = Consumer.objects.select_for_update(of=("self",)).get(pk=consumer.pk)
    changed = _cleaned(consumer, fields)
    for name in CONSUMER_FIELDS & set(changed):
        setattr(consumer, name, changed[name])
    if "alias" in changed:
        # Before the consumer row: the address table has the last word when two edits race.
        reserve_addresses(consumer)
    consumer.save()
    if "pins" in changed:
        host_pin, guest_pin = changed["pins"]
        TeamVmrSettings.objects.update_or_create(
            consumer=consumer, defaults={"host_pin": host_pin, "guest_pin": guest_pin}
        )
    device = {k: v for k, v in changed.items() if k in DEVICE_FIELDS}
    if device:
        EndpointSettings.objects.update_or_create(consumer=consumer, defaults=device)
    if changed:
        audit_record(actor, f"{consumer.kind}.update", consumer, data={"fields": sorted(changed)})
    return consumer
