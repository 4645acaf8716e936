"""Endpoint capabilities: usage model, SIP credentials, QR codes, provisioning, call history."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.access import ensure_can_write
from portal.audit import audit_record

from . import tokens
from .models import (
    CallDirection,
    CallRecord,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    EndpointSettings,
    UsageModel,
    new_nonce,
    new_sip_password,
)

PROVISIONING = "provisioning"


def endpoint_settings(consumer: Consumer) -> EndpointSettings:
    """The endpoint's settings row, created on first use for plainly created endpoints."""
    if consumer.kind != ConsumerKind.ENDPOINT:
        raise ValidationError(f"{consumer.address} is not an endpoint.")
    ep, _ = EndpointSettings.objects.get_or_create(consumer=consumer)
    return ep


def provisioning_token(ep: EndpointSettings) -> str:
    token = tokens.token_for(ep.provisioning_nonce, PROVISIONING)
    token_hash = tokens.token_hash(token)
    if ep.provisioning_token_hash != token_hash:
        EndpointSettings.objects.filter(pk=ep.pk).update(provisioning_token_hash=token_hash)
        ep.provisioning_token_hash = token_hash
    return token


def provisioning_url(ep: EndpointSettings) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse(
        "endpoint_provision", kwargs={"token": provisioning_token(ep), "config_format": "json"}
    )


def endpoint_by_provisioning_token(token: str) -> EndpointSettings | None:
    if not tokens.looks_like_token(token or ""):
        return None
    ep = (
        EndpointSettings.objects.select_related("consumer__company__partner")
        .filter(provisioning_token_hash=tokens.token_hash(token))
        .first()
    )
    if ep is None or not tokens.matches(ep.provisioning_nonce, token, PROVISIONING):
        return None
    if ep.consumer.status != ConsumerStatus.ACTIVE:
        return None
    return ep


@transaction.atomic
def endpoint_rotate_provisioning(*, actor: Any, consumer: Consumer) -> EndpointSettings:
    ensure_can_write(actor, consumer.company.partner)
    ep = endpoint_settings(consumer)
    ep.provisioning_nonce = new_nonce()
    ep.provisioning_token_hash = None
    ep.save(update_fields=["provisioning_nonce", "provisioning_token_hash"])
    provisioning_token(ep)
    audit_record(
        actor=actor, action="endpoint.provisioning_rotate", obj=consumer, company=consumer.company
    )
    return ep


@transaction.atomic
def endpoint_regenerate_sip_password(*, actor: Any, consumer: Consumer) -> EndpointSettings:
    ensure_can_write(actor, consumer.company.partner)
    ep = endpoint_settings(consumer)
    ep.sip_password = new_sip_password()
    ep.save(update_fields=["sip_password"])
    audit_record(
        actor=actor,
        action="endpoint.sip_password_regenerate",
        obj=consumer,
        company=consumer.company,
    )
    return ep


@transaction.atomic
def endpoint_set_usage_model(
    *,
    actor: Any,
    consumer: Consumer,
    usage_model: str,
    personal_user: Consumer | None = None,
    confirmed: bool = False,
) -> EndpointSettings:
    """Shared (default) or Personal (twinned to one of the company's users). Switching to
    Personal removes call history older than 3 months at once; switching back does not bring
    it back, so the switch must be confirmed."""
    from .retention import retention_cutoff

    ensure_can_write(actor, consumer.company.partner)
    ep = endpoint_settings(consumer)
    if usage_model not in UsageModel.values:
        raise ValidationError({"usage_model": "Choose Shared or Personal."})
    if usage_model == UsageModel.PERSONAL:
        if (
            personal_user is None
            or personal_user.kind != ConsumerKind.USER
            or (personal_user.company_id != consumer.company_id)
        ):
            raise ValidationError({"personal_user": "Choose one of this company's users."})
        if ep.usage_model != UsageModel.PERSONAL and not confirmed:
            raise ValidationError(
                {"confirmed": "Confirm that call history older than 3 months will be removed."}
            )
    removed = 0
    if usage_model == UsageModel.PERSONAL and ep.usage_model != UsageModel.PERSONAL:
        removed, _ = CallRecord.objects.filter(
            consumer=consumer, started_at__lt=retention_cutoff(timezone.now())
        ).delete()
    ep.usage_model = usage_model
    ep.personal_user = personal_user if usage_model == UsageModel.PERSONAL else None
    ep.save(update_fields=["usage_model", "personal_user"])
    audit_record(
        actor=actor,
        action="endpoint.usage_model",
        obj=consumer,
        company=consumer.company,
        data={"usage_model": usage_model, "removed": removed},
    )
    return ep


# --- QR codes ------------------------------------------------------------------------------------


def qr_link(consumer: Consumer) -> str:
    """The join link a shared endpoint's QR code encodes: the address only, never a secret."""
    return settings.ENDPOINT_QR_URL_TEMPLATE.replace("{address}", quote(consumer.address, safe="@"))


def _qr(consumer: Consumer) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(qr_link(consumer))
    code.make(fit=True)
    return code


def qr_png(consumer: Consumer) -> bytes:
    buffer = io.BytesIO()
    _qr(consumer).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(consumer: Consumer) -> bytes:
    buffer = io.BytesIO()
    _qr(consumer).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


# --- provisioning configuration --------------------------------------------------------------


def endpoint_config(consumer: Consumer) -> dict[str, Any]:
    ep = endpoint_settings(consumer)
    return {
        "display_name": consumer.display_name or consumer.alias,
        "address": consumer.address,
        "sip": {
            "proxy": settings.SIP_SERVICE_HOST,
            "port": settings.SIP_TRANSPORT_PORT,
            "transport": "tls",
            "username": consumer.address,
            "password": ep.sip_password,
            "domain": consumer.domain,
        },
        "device": {"make": ep.device_make, "model": ep.device_model, "serial": ep.serial_number},
        "usage_model": ep.usage_model,
    }


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_cisco(config: dict[str, Any]) -> str:
    sip = config["sip"]
    lines = [
        f"xConfiguration SIP DisplayName: {_quoted(config['display_name'])}",
        f"xConfiguration SIP URI: {_quoted(config['address'])}",
        f"xConfiguration SIP Proxy 1 Address: {_quoted(sip['proxy'] + ':' + str(sip['port']))}",
        "xConfiguration SIP DefaultTransport: TLS",
        f"xConfiguration SIP Authentication UserName: {_quoted(sip['username'])}",
        f"xConfiguration SIP Authentication Password: {_quoted(sip['password'])}",
        "xConfiguration NetworkServices SIP Mode: On",
    ]
    return "\n".join(lines) + "\n"


def render_poly(config: dict[str, Any]) -> str:
    sip = config["sip"]
    lines = [
        'voIpProt.SIP.enable="1"',
        f"reg.1.displayName={_quoted(config['display_name'])}",
        f"reg.1.address={_quoted(config['address'])}",
        f"reg.1.auth.userId={_quoted(sip['username'])}",
        f"reg.1.auth.password={_quoted(sip['password'])}",
        f"reg.1.server.1.address={_quoted(sip['proxy'])}",
        f'reg.1.server.1.port="{sip["port"]}"',
        'reg.1.server.1.transport="TLS"',
    ]
    return "\n".join(lines) + "\n"


CONFIG_FORMATS = {
    "json": ("application/json", "json"),
    "cisco": ("text/plain; charset=utf-8", "txt"),
    "poly": ("text/plain; charset=utf-8", "cfg"),
}


def render_config(consumer: Consumer, fmt: str) -> tuple[str, str, str]:
    """(content, content type, file extension) of a configuration download."""
    import json

    config = endpoint_config(consumer)
    content_type, ext = CONFIG_FORMATS[fmt]
    if fmt == "json":
        body = json.dumps(config, indent=2)
    elif fmt == "cisco":
        body = render_cisco(config)
    else:
        body = render_poly(config)
    return body, content_type, ext


# --- call records ingest ---------------------------------------------------------------------

MAX_INGEST_RECORDS = 5000


@dataclass
class IngestError(Exception):
    errors: dict[int, list[str]]

    def __str__(self) -> str:
        return "; ".join(f"record {i}: {', '.join(m)}" for i, m in sorted(self.errors.items()))


def _parse_record(raw: Any, endpoints: dict[str, int]) -> tuple[CallRecord | None, list[str]]:
    problems: list[str] = []
    if not isinstance(raw, dict):
        return None, ["must be an object"]
    address = str(raw.get("endpoint") or "").strip().lower()
    consumer_id = endpoints.get(address)
    if consumer_id is None:
        problems.append(f"unknown endpoint {address!r}" if address else "endpoint is missing")
    started = raw.get("started_at")
    started_at = parse_datetime(str(started)) if started else None
    if started_at is None:
        problems.append("started_at must be an ISO 8601 date and time")
    elif timezone.is_naive(started_at):
        problems.append("started_at needs a time zone (for example Z or +01:00)")
    duration = raw.get("duration_seconds")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        problems.append("duration_seconds must be a whole number of seconds, 0 or more")
    direction = raw.get("direction")
    if direction not in CallDirection.values:
        problems.append("direction must be 'in' or 'out'")
    remote_ip = raw.get("remote_ip") or None
    if remote_ip is not None:
        try:
            validate_ipv46_address(str(remote_ip))
        except ValidationError:
            problems.append(f"remote_ip {remote_ip!r} is not an IP address")
    for name, limit in (("remote_address", 320), ("remote_display_name", 200), ("call_id", 100)):
        if len(str(raw.get(name) or "")) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    if problems:
        return None, problems
    return CallRecord(
        consumer_id=consumer_id,
        call_id=(str(raw["call_id"]) if raw.get("call_id") else None),
        started_at=started_at,
        duration_seconds=duration,
        direction=direction,
        remote_address=str(raw.get("remote_address") or ""),
        remote_display_name=str(raw.get("remote_display_name") or ""),
        remote_ip=remote_ip,
    ), []


def call_records_ingest(*, records: list[Any]) -> int:
    """Validate every record; store all of them, or none (IngestError with per-record errors).
    A record whose call_id is already stored is skipped, so a re-sent batch is harmless."""
    from .models import Address, AddressPurpose

    if not isinstance(records, list) or not records:
        raise IngestError({0: ["records must be a non-empty list"]})
    if len(records) > MAX_INGEST_RECORDS:
        raise IngestError({0: [f"at most {MAX_INGEST_RECORDS} records per batch"]})
    wanted = {str(r.get("endpoint") or "").strip().lower() for r in records if isinstance(r, dict)}
    endpoints = dict(
        Address.objects.filter(
            address__in=wanted,
            purpose=AddressPurpose.PRIMARY,
            consumer__kind=ConsumerKind.ENDPOINT,
        ).values_list("address", "consumer_id")
    )
    parsed, errors = [], {}
    for index, raw in enumerate(records):
        record, problems = _parse_record(raw, endpoints)
        if problems:
            errors[index] = problems
        else:
            parsed.append(record)
    ids = [r.call_id for r in parsed if r.call_id]
    if len(ids) != len(set(ids)):
        errors.setdefault(0, []).append("call_id values repeat within the batch")
    if errors:
        raise IngestError(errors)
    with transaction.atomic():
        created = CallRecord.objects.bulk_create(parsed, ignore_conflicts=True, batch_size=1000)
    return len(created)


def call_history(
    *, consumer: Consumer, since: datetime | None = None, until: datetime | None = None
) -> Any:
    qs = CallRecord.objects.filter(consumer=consumer)
    if since:
        qs = qs.filter(started_at__gte=since)
    if until:
        qs = qs.filter(started_at__lt=until)
    return qs.order_by("-started_at", "-id")
