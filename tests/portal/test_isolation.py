"""The isolation walk: every view of the portal, filled with partner A's objects, requested by
partner B's manager (404 expected) and anonymously (login redirect expected)."""

from __future__ import annotations

import sys
import types

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from portal.access import partner_view
from portal.models import Company
from tests.urlwalk import iter_views, url_for

# Views that are meant to be reached without signing in, each with why.
PUBLIC_VIEWS = {
    "login": "sign in",
    "logout": "sign out",
    "password_reset": "asks for an email, reveals nothing",
    "password_reset_done": "static page",
    "password_reset_confirm": "guarded by the signed token",
    "password_reset_complete": "static page",
    "invitation_accept": "the invitee's page, guarded by the link token",
    "endpoint_provision": "device-facing, guarded by the provisioning token",
    "call_records_ingest": "platform-facing, guarded by the service token",
    "healthz": "liveness, for load balancers: says nothing but ok",
    "readyz": "readiness, for load balancers: which dependency fails, no partner data",
}


def objects_of_partner_a(personas) -> dict[str, object]:
    """One of partner A's objects for every URL parameter name the portal uses."""
    from consumers.models import BatchJob, Consumer
    from consumers.services import endpoint_create
    from consumers.services.batch import batch_preview
    from domains import services as domain_services

    endpoint = Consumer.objects.filter(company=personas.company, kind="endpoint").first() or (
        endpoint_create(
            actor=personas.manager,
            company=personas.company,
            alias="walk-endpoint",
            display_name="Walk",
        )
    )
    from domains.models import CallingDomain, InteropConfiguration, Microsoft365Domain

    domain = CallingDomain.objects.filter(company=personas.company).exclude(
        name=personas.company.service_domain
    ).first() or domain_services.calling_domain_add(
        actor=personas.manager, company=personas.company, name="walk.example"
    )
    m365 = Microsoft365Domain.objects.filter(company=personas.company).first() or (
        domain_services.microsoft365_domain_add(
            actor=personas.manager, company=personas.company, name="walk365.example"
        )
    )
    interop = InteropConfiguration.objects.filter(company=personas.company).first() or (
        domain_services.interop_configuration_create(
            actor=personas.manager,
            company=personas.company,
            name="Walk",
            tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
            calling_domain=None,
        )
    )
    from handouts.models import HandoutExport

    export = HandoutExport.objects.filter(company=personas.company).first() or (
        HandoutExport.objects.create(company=personas.company, fmt="pdf")
    )
    batch = BatchJob.objects.filter(company=personas.company).first() or batch_preview(
        actor=personas.manager,
        company=personas.company,
        kind="endpoint",
        action="delete",
        consumer_ids=[str(endpoint.public_id)],
    )
    from api.models import ApiToken
    from api.services import api_token_create

    api_token = (
        ApiToken.objects.filter(partner=personas.partner).first()
        or (api_token_create(actor=personas.manager, name="Walk", scopes=["read"])[0])
    )
    webhook, delivery = _webhook_of(personas)
    return {
        "token_id": api_token.public_id,
        "webhook_id": webhook.public_id,
        "delivery_id": delivery.public_id,
        # The same, under the names the API walk (tests/api/test_isolation.py) looks up.
        "webhook_endpoint_id": webhook.public_id,
        "webhook_delivery_id": delivery.public_id,
        "company_id": personas.company.public_id,
        # An endpoint: the endpoint pages need one, and the generic consumer pages take any kind.
        "consumer_id": endpoint.public_id,
        "domain_id": domain.public_id,
        "m365_id": m365.public_id,
        "interop_id": interop.public_id,
        "qr_format": "png",
        "batch_id": batch.public_id,
        "export_id": export.public_id,
        "config_format": "json",
        "member_id": personas.regular.membership.public_id,
        "uidb64": "MQ",
        "token": "0" * 64,
    }


def _webhook_of(personas):  # type: ignore[no-untyped-def]
    """Partner A's webhook endpoint, with one delivery in its log."""
    from api.models import WebhookDelivery, WebhookEndpoint
    from api.services import webhook_endpoint_create

    webhook = (
        WebhookEndpoint.objects.filter(partner=personas.partner).first()
        or (
            webhook_endpoint_create(
                actor=personas.manager,
                url="https://hooks.walk.example/",
                events=["company.created"],
            )[0]
        )
    )
    delivery = WebhookDelivery.objects.filter(endpoint=webhook).first() or (
        WebhookDelivery.objects.create(
            endpoint=webhook,
            event_id="msg_walk",
            event_type="company.created",
            payload={"type": "company.created", "timestamp": "", "data": {}},
            status="delivered",
        )
    )
    return webhook, delivery


def isolation_violations(personas, urlconf: str | None = None) -> list[str]:
    objects = objects_of_partner_a(personas)
    outsider = Client()
    outsider.force_login(personas.other_manager)
    anonymous = Client()
    problems: list[str] = []
    for entry in iter_views(urlconf):
        if entry.name in PUBLIC_VIEWS:
            continue
        url = url_for(entry, objects, urlconf)
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url)
            if response.status_code != 302 or "/accounts/login/" not in response["Location"]:
                problems.append(
                    f"anonymous {method.upper()} {url} ({entry.name}) -> {response.status_code}"
                )
            response = getattr(outsider, method)(url)
            owned = bool(entry.params)
            # 405 comes before any lookup, whatever the id: it reveals nothing either.
            if owned and response.status_code not in (404, 405):
                problems.append(
                    f"outsider {method.upper()} {url} ({entry.name}) -> {response.status_code}"
                )
            body = (
                b"".join(response.streaming_content)
                if getattr(response, "streaming", False)
                else response.content
            )
            if (
                not owned
                and response.status_code == 200
                and (
                    personas.company.name.encode() in body
                    or personas.regular.email.encode() in body
                )
            ):
                problems.append(
                    f"outsider {method.upper()} {url} ({entry.name}) shows partner A's data"
                )
    return problems


def test_every_view_is_isolated_and_needs_login(personas, db):
    entries = list(iter_views())
    assert len(entries) > 10, "the walk should see the portal's views"
    assert isolation_violations(personas) == []


def test_the_walk_catches_a_view_that_forgets_the_tenant_check(personas, db):
    @partner_view()
    def leaky_company(request, company_id):
        # The mistake: a lookup that does not go through request.partner.
        return HttpResponse(Company.objects.get(public_id=company_id).name)

    module = types.ModuleType("tests_leaky_urls")
    from project.urls import urlpatterns

    module.urlpatterns = [
        path("leak/<uuid:company_id>/", leaky_company, name="leak"),
        *urlpatterns,
    ]
    sys.modules[module.__name__] = module
    try:
        from django.test import override_settings

        with override_settings(ROOT_URLCONF=module.__name__):
            problems = isolation_violations(personas, urlconf=module.__name__)
    finally:
        del sys.modules[module.__name__]
    assert problems and all("leak" in p for p in problems)
    assert any(p.startswith("outsider GET") and "-> 200" in p for p in problems)


def test_the_walk_refuses_an_unknown_url_parameter(personas, db):
    @partner_view()
    def view(request, gizmo_id):
        return HttpResponse("")

    module = types.ModuleType("tests_unknown_param_urls")
    module.urlpatterns = [path("gizmo/<int:gizmo_id>/", view, name="gizmo")]

    sys.modules[module.__name__] = module
    try:
        with pytest.raises(LookupError, match="gizmo_id"):
            isolation_violations(personas, urlconf=module.__name__)
    finally:
        del sys.modules[module.__name__]
