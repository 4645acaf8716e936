"""The service's PSTN dial-in numbers, kept by operations (Django admin): the one rule for a
number, and the writes, each audited."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from phonenumber_field.phonenumber import PhoneNumber

from portal.access import Actor, ensure_is_ops
from portal.audit import audit_record

from .models import DialInNumber


def dial_in_number_parse(value: Any, *, country: str) -> PhoneNumber:
    """A dial-in number as typed: in international form (+44 20 7946 0000), or in the national
    form of the row's country (020 7946 0000 in GB). Only a valid phone number passes
    (libphonenumber's metadata); it is stored as E.164 and printed in international form."""
    if isinstance(value, PhoneNumber) and value.is_valid():
        return value  # read already (a form, or the stored E.164 of an edited row)
    text = str(value or "").strip()
    number: PhoneNumber | None = PhoneNumber()
    try:
        phonenumbers.parse(text, (country or "").upper() or None, numobj=number)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not number.is_valid():
        raise ValidationError(
            {
                "number": f"“{text}” is not a valid phone number. Enter it with its country "
                "code, like +44 20 7946 0000, or as dialled in the number's country."
            },
            code="invalid",
        )
    return number


def _audit_data(number: DialInNumber) -> dict[str, Any]:
    return {"country": str(number.country), "number": str(number.number.as_e164)}


@transaction.atomic
def dial_in_number_save(*, actor: Actor, number: DialInNumber) -> DialInNumber:
    """Add or change a dial-in number (its number read with dial_in_number_parse)."""
    ensure_is_ops(actor, "keep the dial-in numbers")
    number.number = dial_in_number_parse(number.number, country=str(number.country or ""))
    number.label = " ".join(number.label.split())
    number.full_clean()
    created = number.pk is None
    number.save()
    action = "dial_in_number.create" if created else "dial_in_number.update"
    audit_record(actor, action, number, data=_audit_data(number))
    return number


@transaction.atomic
def dial_in_number_delete(*, actor: Actor, number: DialInNumber) -> None:
    ensure_is_ops(actor, "keep the dial-in numbers")
    audit_record(actor, "dial_in_number.delete", number, data=_audit_data(number))
    number.delete()
