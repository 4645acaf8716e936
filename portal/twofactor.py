"""Two-factor sign-in (TOTP, django-otp): enrolment by QR code on first sign-in, recovery
codes, and a manager's reset of a colleague's second factor."""

from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record

RECOVERY_CODES = 10


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=16,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or a recovery code.",
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _qr_svg(data: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue().decode()


def _verify(user: Any, code: str) -> Any:
    """The device that accepts the code (TOTP or a single-use recovery code), else None."""
    code = code.strip().replace(" ", "")
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(code):
            return device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code.lower()):
            return device
    return None


@transaction.atomic
def recovery_codes_issue(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="recovery", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify with a code, or enrol on first sign-in."""
    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if user_has_device(user, confirmed=True):
        if request.method == "POST" and form.is_valid():
            device = _verify(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(_next_url(request))
            form.add_error("code", "That code is not valid. Try the current one from your app.")
        return render(
            request,
            "registration/two_factor_verify.html",
            {"form": form, "next": _next_url(request)},
        )

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or (
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    )
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            form.add_error(
                "code", "Too many tries: wait a few seconds, then enter the current code."
            )
        elif device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = recovery_codes_issue(user)
            membership = getattr(user, "membership", None)
            if membership is not None:
                audit_record(
                    actor=user,
                    action="member.2fa_enrol",
                    obj=membership,
                    partner=membership.partner,
                )
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        else:
            form.add_error(
                "code",
                "That code does not match. Check the time on your phone and try the current code.",
            )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr": _qr_svg(device.config_url),
            "secret": secret,
            "next": _next_url(request),
        },
    )


@transaction.atomic
def second_factor_reset(user: Any) -> int:
    deleted_totp, _ = TOTPDevice.objects.filter(user=user).delete()
    deleted_static, _ = StaticDevice.objects.filter(user=user).delete()
    return deleted_totp + deleted_static
