"""Two-factor sign-in (TOTP, django-otp): enrolment by QR code on first sign-in, single-use
recovery codes, and a manager's reset of a colleague's second factor. The view
(portal.views.two_factor) only shows these steps."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record

RECOVERY_CODES = 10


def is_enrolled(user: Any) -> bool:
    return user_has_device(user, confirmed=True)


def second_factor_verify(*, user: Any, code: str) -> Any:
    """The device that accepts the code (TOTP or a single-use recovery code), else None."""
    code = code.strip().replace(" ", "")
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(code):
            return device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code.lower()):
            return device
    return None


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the QR code and the key to type instead."""

    device: Any
    qr_svg: str
    secret: str


def enrolment_start(*, user: Any) -> Enrolment:
    """The unconfirmed authenticator of a first sign-in (the same one until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or (
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    )
    buffer = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return Enrolment(device=device, qr_svg=buffer.getvalue().decode(), secret=secret)


class EnrolmentRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def enrolment_confirm(*, user: Any, device: Any, code: str) -> list[str]:
    """Confirm the authenticator with its current code; returns the new recovery codes.
    Raises EnrolmentRefused (too many tries, or a wrong code). The check is outside the
    transaction: django-otp records a failed try on the device, and that must stay."""
    if not device.verify_is_allowed()[0]:
        raise EnrolmentRefused("Too many tries: wait a few seconds, then enter the current code.")
    if not device.verify_token(code.strip()):
        raise EnrolmentRefused(
            "That code does not match. Check the time on your phone and try the current code."
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_issue(user)
        membership = getattr(user, "membership", None)
        if membership is not None:
            audit_record(user, "member.2fa_enrol", membership)
    return codes


@transaction.atomic
def recovery_codes_issue(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="recovery", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def second_factor_reset(user: Any) -> int:
    deleted_totp, _ = TOTPDevice.objects.filter(user=user).delete()
    deleted_static, _ = StaticDevice.objects.filter(user=user).delete()
    return deleted_totp + deleted_static
