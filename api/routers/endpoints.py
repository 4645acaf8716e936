"""An endpoint's own resources, as its page shows them: the QR code (shared endpoints only,
consumers.provisioning.has_qr_code), the device configuration, the usage model and the call
history (the calls page's from/to filters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router

from consumers import provisioning, selectors
from consumers.models import Consumer, ConsumerKind, EndpointSettings
from consumers.services import endpoints
from portal.access import ensure_can_write
from portal.web import day_start, query_day

from ..auth import api_actor
from ..pagination import PageQuery, cursor_page, page_schema
from ..schemas import CallRecordOut, DeviceConfigurationOut, EndpointSettingsOut, UsageModelIn
from .consumers import consumer_of
from .responses import errors

router = Router(tags=["endpoints"])

NO_QR_CODE = "QR codes are for shared endpoints: this endpoint is personal."


def endpoint_of(request: HttpRequest, consumer_id: UUID) -> tuple[Consumer, EndpointSettings]:
    """An endpoint of the token's partner with its settings, else 404 (another kind too)."""
    consumer = consumer_of(request, consumer_id, kind=ConsumerKind.ENDPOINT)
    return consumer, endpoints.endpoint_settings(consumer)


def _binary(media_type: str, description: str) -> dict[str, Any]:
    """The OpenAPI description of a 200 answered with a file of `media_type`."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"responses": {200: {"description": description, "content": content}}}


def _qr_code(request: HttpRequest, consumer_id: UUID, fmt: str) -> HttpResponse:
    api_actor(request, write=False)
    consumer, endpoint = endpoint_of(request, consumer_id)
    if not provisioning.has_qr_code(endpoint):
        raise ValidationError({"usage_model": [NO_QR_CODE]}, code="no_qr_code")
    media_type, render = QR_FORMATS[fmt]
    response = HttpResponse(render(consumer), content_type=media_type)
    response["Content-Disposition"] = f'inline; filename="{consumer.alias}-qr.{fmt}"'
    return response


QR_FORMATS: dict[str, tuple[str, Callable[[Consumer], bytes]]] = {
    "png": ("image/png", provisioning.qr_png),
    "svg": ("image/svg+xml", provisioning.qr_svg),
}


def _qr_route(fmt: str, image: str) -> Callable[[HttpRequest, UUID], HttpResponse]:
    """The operation `endpoint_qr_<fmt>` (its operationId and URL name): the QR code as `image`."""

    def view(request: HttpRequest, consumer_id: UUID) -> HttpResponse:
        return _qr_code(request, consumer_id, fmt)

    view.__name__ = view.__qualname__ = f"endpoint_qr_{fmt}"
    return router.get(
        f"/consumers/{{consumer_id}}/qr.{fmt}",
        response=errors(404, 422),
        openapi_extra=_binary(QR_FORMATS[fmt][0], f"The QR code (its join link) as {image}."),
        summary=f"A shared endpoint's QR code, {fmt.upper()}",
    )(view)


endpoint_qr_png = _qr_route("png", "a PNG image")
endpoint_qr_svg = _qr_route("svg", "an SVG image")


@router.get(
    "/consumers/{consumer_id}/configuration",
    response={200: DeviceConfigurationOut, **errors(404)},
    summary="An endpoint's device configuration (SIP credentials, provisioning URL)",
    description="It holds the SIP password: like the configuration download, only for a token "
    "with the write scope whose member may change data.",
)
def endpoint_configuration(request: HttpRequest, consumer_id: UUID) -> dict[str, Any]:
    actor = api_actor(request, write=True)
    consumer, endpoint = endpoint_of(request, consumer_id)
    ensure_can_write(actor, consumer.company.partner)
    shared = provisioning.has_qr_code(endpoint)
    return {
        **provisioning.endpoint_config(consumer, endpoint),
        "provisioning_url": endpoints.provisioning_url(endpoint),
        "qr_link": provisioning.qr_link(consumer) if shared else None,
    }


def _settings_out(endpoint: EndpointSettings) -> dict[str, Any]:
    personal = endpoint.personal_user
    return {
        "usage_model": endpoint.usage_model,
        "personal_user": personal.public_id if personal else None,
        "device_make": endpoint.device_make,
        "device_model": endpoint.device_model,
        "serial_number": endpoint.serial_number,
        "has_qr_code": provisioning.has_qr_code(endpoint),
    }


@router.get(
    "/consumers/{consumer_id}/usage-model",
    response={200: EndpointSettingsOut, **errors(404)},
    summary="An endpoint's usage model and device",
)
def endpoint_usage_model_read(request: HttpRequest, consumer_id: UUID) -> dict[str, Any]:
    api_actor(request, write=False)
    _consumer, endpoint = endpoint_of(request, consumer_id)
    return _settings_out(endpoint)


@router.patch(
    "/consumers/{consumer_id}/usage-model",
    response={200: EndpointSettingsOut, **errors(404, 422)},
    summary="Set an endpoint's usage model: Shared, or Personal (twinned to a user)",
)
def endpoint_usage_model(
    request: HttpRequest, consumer_id: UUID, payload: UsageModelIn
) -> dict[str, Any]:
    actor = api_actor(request, write=True)
    consumer, _endpoint = endpoint_of(request, consumer_id)
    personal_user = None
    if payload.personal_user is not None:
        # As the page's form: one of the company's users, else the service's refusal.
        users = selectors.company_users(company=consumer.company)
        personal_user = users.filter(public_id=payload.personal_user).first()
    endpoint = endpoints.endpoint_set_usage_model(
        actor=actor,
        consumer=consumer,
        usage_model=payload.usage_model,
        personal_user=personal_user,
        confirmed=payload.confirmed,
    )
    return _settings_out(endpoint)


class CallFilters(PageQuery):
    from_: date | None = Field(None, alias="from", description="From this day (YYYY-MM-DD).")
    to: date | None = Field(None, description="To this day, included (YYYY-MM-DD).")


@router.get(
    "/consumers/{consumer_id}/calls",
    response={200: page_schema(CallRecordOut), **errors(404, 422)},
    summary="An endpoint's call history, newest first",
)
def endpoint_calls(
    request: HttpRequest, consumer_id: UUID, filters: Query[CallFilters]
) -> dict[str, Any]:
    api_actor(request, write=False)
    consumer, _endpoint = endpoint_of(request, consumer_id)
    # The calls page's reading of the days (a day too near the calendar's ends is ignored).
    since_day, until_day = query_day(request, "from"), query_day(request, "to")
    until = day_start(until_day + timedelta(days=1)) if until_day else None
    calls = selectors.call_history(consumer=consumer, since=day_start(since_day), until=until)
    return cursor_page(request, calls, order=("-started_at", "-id"))
