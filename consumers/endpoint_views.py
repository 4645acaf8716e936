"""Endpoint pages: settings, QR codes, provisioning, call history; the device-facing
provisioning URL and the call platform's ingest API."""

from __future__ import annotations

import csv
import json
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import get_company, partner_view
from portal.ratelimit import client_ip, rate_limited
from portal.web import add_service_errors, paginate, querystring_without

from . import endpoints, selectors
from .models import Consumer, ConsumerKind, UsageModel


def _endpoint(request: HttpRequest, company_id: str, consumer_id: str):  # type: ignore[no-untyped-def]
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    if consumer.kind != ConsumerKind.ENDPOINT:
        raise Http404("Not an endpoint")
    return company, consumer


class UsageModelForm(forms.Form):
    usage_model = forms.ChoiceField(choices=UsageModel.choices, widget=forms.RadioSelect)
    personal_user = forms.ChoiceField(required=False, label="Twinned user")
    confirmed = forms.BooleanField(
        required=False,
        label="I understand that call history older than 3 months is removed now and cannot "
        "be recovered by switching back to Shared.",
    )

    def __init__(self, *args, company, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        users = Consumer.objects.filter(company=company, kind=ConsumerKind.USER).order_by("alias")
        self.fields["personal_user"].choices = [("", "—")] + [
            (str(u.public_id), f"{u.display_name} <{u.address}>") for u in users[:500]
        ]


def _detail(request: HttpRequest, company, consumer, form, status: int = 200) -> HttpResponse:  # type: ignore[no-untyped-def]
    ep = endpoints.endpoint_settings(consumer)
    return render(
        request,
        "consumers/endpoint_detail.html",
        {
            "company": company,
            "tab": "endpoints",
            "consumer": consumer,
            "ep": ep,
            "form": form,
            "provisioning_url": endpoints.provisioning_url(ep),
            "qr_link": endpoints.qr_link(consumer),
        },
        status=status,
    )


@partner_view()
def endpoint_detail(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    ep = endpoints.endpoint_settings(consumer)
    form = UsageModelForm(
        company=company,
        initial={
            "usage_model": ep.usage_model,
            "personal_user": str(ep.personal_user.public_id) if ep.personal_user else "",
        },
    )
    return _detail(request, company, consumer, form)


@partner_view(write=True)
@require_POST
def endpoint_usage_model(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    form = UsageModelForm(request.POST, company=company)
    if form.is_valid():
        personal = None
        if form.cleaned_data["personal_user"]:
            personal = Consumer.objects.filter(
                company=company,
                kind=ConsumerKind.USER,
                public_id=form.cleaned_data["personal_user"],
            ).first()
        try:
            endpoints.endpoint_set_usage_model(
                actor=request.user,
                consumer=consumer,
                usage_model=form.cleaned_data["usage_model"],
                personal_user=personal,
                confirmed=form.cleaned_data["confirmed"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Usage model saved.")
            return redirect(
                "consumers:endpoint_detail",
                company_id=company.public_id,
                consumer_id=consumer.public_id,
            )
    return _detail(request, company, consumer, form, status=400)


@partner_view(write=True)
@require_POST
def endpoint_regenerate_password(
    request: HttpRequest, company_id: str, consumer_id: str
) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    endpoints.endpoint_regenerate_sip_password(actor=request.user, consumer=consumer)
    messages.success(request, "New SIP password generated: update the device's configuration.")
    return redirect(
        "consumers:endpoint_detail", company_id=company.public_id, consumer_id=consumer.public_id
    )


@partner_view(write=True)
@require_POST
def endpoint_rotate_provisioning(
    request: HttpRequest, company_id: str, consumer_id: str
) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    endpoints.endpoint_rotate_provisioning(actor=request.user, consumer=consumer)
    messages.success(request, "New provisioning URL created; the old one no longer works.")
    return redirect(
        "consumers:endpoint_detail", company_id=company.public_id, consumer_id=consumer.public_id
    )


def _shared_only(consumer: Consumer) -> None:
    if endpoints.endpoint_settings(consumer).usage_model != UsageModel.SHARED:
        raise Http404("QR codes are for shared endpoints")


@partner_view()
def endpoint_qr(
    request: HttpRequest, company_id: str, consumer_id: str, qr_format: str
) -> HttpResponse:
    fmt = qr_format
    _company, consumer = _endpoint(request, company_id, consumer_id)
    _shared_only(consumer)
    if fmt == "png":
        response = HttpResponse(endpoints.qr_png(consumer), content_type="image/png")
    else:
        response = HttpResponse(endpoints.qr_svg(consumer), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{consumer.alias}-qr.{fmt}"'
    return response


@partner_view()
def endpoint_qr_print(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    _shared_only(consumer)
    return render(
        request,
        "consumers/endpoint_qr_print.html",
        {
            "company": company,
            "consumer": consumer,
            "qr_link": endpoints.qr_link(consumer),
            "svg": endpoints.qr_svg(consumer).decode(),
        },
    )


@partner_view(write=True)
def endpoint_config(
    request: HttpRequest, company_id: str, consumer_id: str, config_format: str
) -> HttpResponse:
    """Configuration download (it holds the SIP password: regular and manager roles only)."""
    _company, consumer = _endpoint(request, company_id, consumer_id)
    body, content_type, ext = endpoints.render_config(consumer, config_format)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{consumer.alias}.{ext}"'
    return response


def _parse_day(value: str | None):  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


@partner_view()
def endpoint_calls(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer = _endpoint(request, company_id, consumer_id)
    tz = timezone.get_current_timezone()
    since_day, until_day = _parse_day(request.GET.get("from")), _parse_day(request.GET.get("to"))
    since = datetime.combine(since_day, time.min, tzinfo=tz) if since_day else None
    until = (
        datetime.combine(until_day + timedelta(days=1), time.min, tzinfo=tz) if until_day else None
    )
    calls = endpoints.call_history(consumer=consumer, since=since, until=until)
    if request.GET.get("export") == "csv":
        return _calls_csv(consumer, calls)
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


class _Echo:
    def write(self, value: str) -> str:
        return value


def _calls_csv(consumer: Consumer, calls) -> StreamingHttpResponse:  # type: ignore[no-untyped-def]
    writer = csv.writer(_Echo())

    def rows():  # type: ignore[no-untyped-def]
        yield writer.writerow(
            [
                "started_at",
                "duration_seconds",
                "direction",
                "remote_address",
                "remote_display_name",
                "remote_ip",
                "anonymised",
            ]
        )
        for call in calls.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    call.started_at.isoformat(),
                    call.duration_seconds,
                    call.direction,
                    call.remote_address,
                    call.remote_display_name,
                    call.remote_ip or "",
                    "yes" if call.anonymized_at else "no",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{consumer.alias}-calls.csv"'
    return response


# --- device-facing and platform-facing endpoints (no session) ----------------------------------


@require_http_methods(["GET"])
def endpoint_provision(request: HttpRequest, token: str, config_format: str) -> HttpResponse:
    if rate_limited(f"prov-ip:{client_ip(request)}", settings.PROVISIONING_RATE_LIMIT):
        return HttpResponse("Too many requests\n", status=429, content_type="text/plain")
    ep = endpoints.endpoint_by_provisioning_token(token)
    if ep is None:
        raise Http404("Unknown provisioning URL")
    if rate_limited(f"prov-ep:{ep.pk}", settings.PROVISIONING_RATE_LIMIT):
        return HttpResponse("Too many requests\n", status=429, content_type="text/plain")
    body, content_type, _ext = endpoints.render_config(ep.consumer, config_format)
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_http_methods(["POST"])
def call_records_ingest(request: HttpRequest) -> HttpResponse:
    import hmac

    expected = settings.CALL_RECORDS_INGEST_TOKEN
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        return JsonResponse({"error": "invalid or missing service token"}, status=401)
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    records = payload.get("records") if isinstance(payload, dict) else None
    try:
        stored = endpoints.call_records_ingest(records=records)
    except endpoints.IngestError as exc:
        return JsonResponse(
            {
                "error": "no record was stored",
                "records": {str(k): v for k, v in exc.errors.items()},
            },
            status=400,
        )
    return JsonResponse({"stored": stored, "received": len(records)}, status=201)
