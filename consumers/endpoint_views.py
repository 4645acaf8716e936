"""Endpoint pages: settings, QR codes, provisioning, call history; the device-facing
provisioning URL and the call platform's ingest API."""

from __future__ import annotations

import hmac
import json
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from portal import activity
from portal.access import get_company, partner_view
from portal.csvexport import csv_response
from portal.db import replica_view
from portal.errors import RETRY_AFTER_SECONDS
from portal.models import Company
from portal.ratelimit import client_ip, rate_limited
from portal.web import act, paginate, query_day, querystring_without, submit

from . import exports, provisioning, selectors
from .activity import consumer_subject
from .forms import UsageModelForm
from .models import Consumer, ConsumerKind, EndpointSettings
from .services import endpoints, ingest


def _endpoint(request: HttpRequest, company_id: str, consumer_id: str) -> tuple[Company, Consumer]:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(
        company=company, public_id=consumer_id, kind=ConsumerKind.ENDPOINT
    )
    return company, consumer


def _detail(
    request: HttpRequest,
    company: Company,
    consumer: Consumer,
    form: UsageModelForm,
    status: int = 200,
) -> HttpResponse:
    endpoint = endpoints.endpoint_settings(consumer)
    context = {
        "company": company,
        "tab": "endpoints",
        "consumer": consumer,
        "endpoint": endpoint,
        "form": form,
        "has_qr_code": provisioning.has_qr_code(endpoint),
        "provisioning_url": endpoints.provisioning_url(endpoint),
        "qr_link": provisioning.qr_link(consumer),
        "timeline": activity.timeline(
            company=company,
            object_type="consumer",
            object_id=consumer.public_id,
            subject=consumer_subject(consumer),
        ),
    }
    return render(request, "consumers/endpoint_detail.html", context, status=status)


def _redirect_to_detail(company: Company, consumer: Consumer) -> HttpResponse:
    return redirect(
        "consumers:endpoint_detail", company_id=company.public_id, consumer_id=consumer.public_id
    )


@partner_view()
def endpoint_detail(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    endpoint = endpoints.endpoint_settings(consumer)
    personal = endpoint.personal_user
    form = UsageModelForm(
        company=company,
        current=endpoint.usage_model,
        initial={
            "usage_model": endpoint.usage_model,
            "personal_user": str(personal.public_id) if personal else "",
        },
    )
    return _detail(request, company, consumer, form)


@partner_view(write=True)
@require_POST
def endpoint_usage_model(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    current = endpoints.endpoint_settings(consumer).usage_model
    form = UsageModelForm(request.POST, company=company, current=current)
    done, _ = submit(
        request,
        form,
        lambda data: endpoints.endpoint_set_usage_model(
            actor=request.user, consumer=consumer, **data
        ),
    )
    if done:
        messages.success(request, "Usage model saved.")
        return _redirect_to_detail(company, consumer)
    return _detail(request, company, consumer, form, status=400)


@partner_view(write=True)
@require_POST
def endpoint_regenerate_password(
    request: HttpRequest, company_id: str, consumer_id: str
) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    act(
        request,
        lambda: endpoints.endpoint_regenerate_sip_password(actor=request.user, consumer=consumer),
        "New SIP password generated: update the device's configuration.",
    )
    return _redirect_to_detail(company, consumer)


@partner_view(write=True)
@require_POST
def endpoint_rotate_provisioning(
    request: HttpRequest, company_id: str, consumer_id: str
) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    act(
        request,
        lambda: endpoints.endpoint_rotate_provisioning(actor=request.user, consumer=consumer),
        "New provisioning URL created; the old one no longer works.",
    )
    return _redirect_to_detail(company, consumer)


def _with_qr_code(
    request: HttpRequest, company_id: str, consumer_id: str
) -> tuple[Company, Consumer]:
    company, consumer = _endpoint(request, company_id, consumer_id)
    if not provisioning.has_qr_code(endpoints.endpoint_settings(consumer)):
        raise Http404("QR codes are for shared endpoints")
    return company, consumer


@partner_view()
def endpoint_qr(
    request: HttpRequest, company_id: str, consumer_id: str, qr_format: str
) -> HttpResponse:
    _company, consumer = _with_qr_code(request, company_id, consumer_id)
    if qr_format == "png":
        response = HttpResponse(provisioning.qr_png(consumer), content_type="image/png")
    else:
        response = HttpResponse(provisioning.qr_svg(consumer), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{consumer.alias}-qr.{qr_format}"'
    return response


@partner_view()
def endpoint_qr_print(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _with_qr_code(request, company_id, consumer_id)
    return render(
        request,
        "consumers/endpoint_qr_print.html",
        {
            "company": company,
            "consumer": consumer,
            "qr_link": provisioning.qr_link(consumer),
            "svg": provisioning.qr_svg(consumer).decode(),
        },
    )


def _config_response(consumer: Consumer, endpoint: EndpointSettings, fmt: str) -> HttpResponse:
    body, content_type, _ext = provisioning.render_config(consumer, endpoint, fmt)
    return HttpResponse(body, content_type=content_type)


@partner_view(write=True)
def endpoint_config(
    request: HttpRequest, company_id: str, consumer_id: str, config_format: str
) -> HttpResponse:
    """Configuration download (it holds the SIP password: regular and manager roles only)."""
    _company, consumer = _endpoint(request, company_id, consumer_id)
    endpoint = endpoints.endpoint_settings(consumer)
    response = _config_response(consumer, endpoint, config_format)
    ext = provisioning.CONFIG_FORMATS[config_format][1]
    response["Content-Disposition"] = f'attachment; filename="{consumer.alias}.{ext}"'
    return response


def _day_start(day: date | None) -> datetime | None:
    """The start of `day` in the current time zone."""
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@partner_view()
@replica_view
def endpoint_calls(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    since_day, until_day = query_day(request, "from"), query_day(request, "to")
    since = _day_start(since_day)
    until = _day_start(until_day + timedelta(days=1) if until_day else None)
    calls = selectors.call_history(consumer=consumer, since=since, until=until)
    if request.GET.get("export") == "csv":
        return csv_response(
            filename=f"{consumer.alias}-calls.csv",
            header=exports.CALLS_HEADER,
            rows=exports.call_rows(calls),
        )
    return render(
        request,
        "consumers/endpoint_calls.html",
        {
            "company": company,
            "tab": "endpoints",
            "consumer": consumer,
            "page": paginate(request, calls, per_page=50),
            "since": since_day,
            "until": until_day,
            "qs_page": querystring_without(request, "page"),
            "qs_export": querystring_without(request, "page", "export"),
        },
    )


# --- device-facing and platform-facing endpoints (no session) ----------------------------------


def _too_many_requests() -> HttpResponse:
    """Devices read plain text; they are told when to try again."""
    response = HttpResponse("Too many requests\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@require_http_methods(["GET"])
def endpoint_provision(request: HttpRequest, token: str, config_format: str) -> HttpResponse:
    if rate_limited(f"prov-ip:{client_ip(request)}", settings.PROVISIONING_RATE_LIMIT):
        return _too_many_requests()
    endpoint = endpoints.endpoint_by_provisioning_token(token)
    if endpoint is None:
        raise Http404("Unknown provisioning URL")
    if rate_limited(f"prov-ep:{endpoint.pk}", settings.PROVISIONING_RATE_LIMIT):
        return _too_many_requests()
    response = _config_response(endpoint.consumer, endpoint, config_format)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_http_methods(["POST"])
def call_records_ingest(request: HttpRequest) -> HttpResponse:
    expected = settings.CALL_RECORDS_INGEST_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(expected.encode(), presented.strip().encode())
    ):
        return JsonResponse({"error": "invalid or missing service token"}, status=401)
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    records = payload.get("records") if isinstance(payload, dict) else None
    try:
        stored = ingest.call_records_ingest(records=records)
    except ingest.IngestError as exc:
        errors = {str(k): v for k, v in exc.errors.items()}
        return JsonResponse({"error": "no record was stored", "records": errors}, status=400)
    return JsonResponse({"stored": stored, "received": len(records)}, status=201)
