"""What an endpoint is configured with, and its QR code: pure rendering, no writes.

A shared endpoint's QR code opens its join link (the address only, never a secret); the
configuration download (JSON, Cisco xConfiguration, Poly) carries the SIP credentials.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings

from .models import Consumer, EndpointSettings, UsageModel


def has_qr_code(endpoint: EndpointSettings | str | None) -> bool:
    """QR codes are for shared endpoints: a personal one belongs to one user. `endpoint` is an
    endpoint's settings, or only its usage model (a row read in bulk; None: no settings row
    yet, so the default, Shared)."""
    usage_model = endpoint.usage_model if isinstance(endpoint, EndpointSettings) else endpoint
    return (usage_model or UsageModel.SHARED) == UsageModel.SHARED


def qr_link_for(address: str) -> str:
    """The join link a shared endpoint's QR code encodes: the address only, never a secret."""
    return settings.ENDPOINT_QR_URL_TEMPLATE.replace("{address}", quote(address, safe="@"))


def qr_link(consumer: Consumer) -> str:
    return qr_link_for(consumer.address)


def _qr(address: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(qr_link_for(address))
    code.make(fit=True)
    return code


def qr_png_for(address: str) -> bytes:
    """The QR code of an endpoint's address as a PNG (the QR view, the handout's QR section)."""
    buffer = io.BytesIO()
    _qr(address).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_png(consumer: Consumer) -> bytes:
    return qr_png_for(consumer.address)


def qr_svg(consumer: Consumer) -> bytes:
    buffer = io.BytesIO()
    _qr(consumer.address).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def endpoint_config(consumer: Consumer, endpoint: EndpointSettings) -> dict[str, Any]:
    return {
        "display_name": consumer.display_name or consumer.alias,
        "address": consumer.address,
        "sip": {
            "proxy": settings.SIP_SERVICE_HOST,
            "port": settings.SIP_TRANSPORT_PORT,
            "transport": "tls",
            "username": consumer.address,
            "password": endpoint.sip_password,
            "domain": consumer.domain,
        },
        "device": {
            "make": endpoint.device_make,
            "model": endpoint.device_model,
            "serial": endpoint.serial_number,
        },
        "usage_model": endpoint.usage_model,
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


def render_config(consumer: Consumer, endpoint: EndpointSettings, fmt: str) -> tuple[str, str, str]:
    """(content, content type, file extension) of a configuration download."""
    config = endpoint_config(consumer, endpoint)
    content_type, ext = CONFIG_FORMATS[fmt]
    if fmt == "json":
        body = json.dumps(config, indent=2)
    elif fmt == "cisco":
        body = render_cisco(config)
    else:
        body = render_poly(config)
    return body, content_type, ext
