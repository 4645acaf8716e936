"""Validation of the kinds' own settings: Team VMR PINs and endpoint device details."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from .common import clean_text

PIN_PATTERN = re.compile(r"\d{4,20}")
DEVICE_FIELDS = ("device_make", "device_model", "serial_number")


def clean_pins(host_pin: str, guest_pin: str) -> tuple[str, str]:
    host_pin, guest_pin = (host_pin or "").strip(), (guest_pin or "").strip()
    for field, pin in (("host_pin", host_pin), ("guest_pin", guest_pin)):
        if pin and not PIN_PATTERN.fullmatch(pin):
            raise ValidationError({field: "A PIN is 4 to 20 digits."}, code="pin")
    if guest_pin and not host_pin:
        raise ValidationError({"host_pin": "Set a host PIN before a guest PIN."}, code="pin")
    if guest_pin and guest_pin == host_pin:
        raise ValidationError({"guest_pin": "The guest PIN must differ from the host PIN."})
    return host_pin, guest_pin


def clean_device(values: dict[str, Any]) -> dict[str, str]:
    """The endpoint device fields present in `values`, cleaned."""
    return {
        name: clean_text(values[name], field=name, max_length=100)
        for name in DEVICE_FIELDS
        if name in values
    }
