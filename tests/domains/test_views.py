from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from consumers import services as consumer_services
from consumers.models import Consumer
from domains import services
from domains.models import CallingDomain, DomainStatus, InteropConfiguration

# What htmx sends with each of its requests: the one signal for a partial-page answer.
HX = {"HX-Request": "true"}


def durl(name, company, *args):
    return reverse(f"domains:{name}", args=[company.public_id, *args])


@pytest.fixture
def client_regular(personas, login):
    return login(personas.regular)


@pytest.fixture
def pending(personas, dns_server):
    """example.org, just added to partner A's company: pending verification."""
    return services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="example.org"
    )


def test_adding_a_domain_emails_the_dns_requirements(
    personas, client_regular, dns_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_regular.post(
            durl("domain_add", personas.company), {"name": "Example.ORG."}, follow=True
        )
    domain = CallingDomain.objects.get(name="example.org")
    assert b"DNS records to publish were emailed to contact@acme.example" in response.content
    assert domain.status == DomainStatus.PENDING
    message = mail.outbox[-1]
    assert message.to == ["contact@acme.example"] and message.cc == ["help@a.example"]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert f"pexip-verification={domain.verification_token}" in part
        assert "_sips._tcp.example.org" in part and "5061 sip.onpexip.com." in part
        assert "_h323cs._tcp.example.org" in part and "_sip._udp.example.org" in part
    with django_capture_on_commit_callbacks(execute=True):
        client_regular.post(durl("domain_resend_email", personas.company, domain.public_id))
    assert len([m for m in mail.outbox if "DNS records for example.org" in m.subject]) == 2


def test_form_errors_show_beside_the_field(personas, client_regular):
    response = client_regular.post(durl("domain_add", personas.company), {"name": "co.uk"})
    assert "public suffix" in str(response.context["form"].errors["name"])


def test_verify_then_the_gate_opens(
    personas, client_regular, dns_server, django_capture_on_commit_callbacks
):
    company = personas.company
    domain = services.calling_domain_add(
        actor=personas.regular, company=company, name="example.org"
    )
    invite = {
        "full_name": "Eve",
        "email": "eve@example.org",
        "alias": "eve",
        "domain": "example.org",
    }
    form = client_regular.get(reverse("consumers:user_invite", args=[company.public_id]))
    assert b'value="example.org"' not in form.content, "a pending domain is not offered"
    with pytest.raises(Exception, match="not verified yet"):
        consumer_services.user_invite(
            actor=personas.regular,
            company=company,
            email="e@x.example",
            full_name="E",
            alias="eve",
            domain="example.org",
        )
    response = client_regular.post(
        reverse("consumers:user_invite", args=[company.public_id]), invite
    )
    assert response.status_code == 200 and not Consumer.objects.exists()

    page = client_regular.get(durl("domain_detail", company, domain.public_id))
    assert b"Pending verification" in page.content
    dns_server.add_txt("example.org", f"pexip-verification={domain.verification_token}")
    with django_capture_on_commit_callbacks(execute=True):
        client_regular.post(durl("domain_verify", company, domain.public_id))
    response = client_regular.get(durl("domain_detail", company, domain.public_id))
    assert b"status-verified" in response.content
    status = client_regular.get(durl("domain_status", company, domain.public_id), headers=HX)
    assert b"Verified" in status.content and b"hx-trigger" not in status.content, "polling stops"

    client_regular.post(reverse("consumers:user_invite", args=[company.public_id]), invite)
    assert Consumer.objects.get().address == "eve@example.org", "short alias on a hosted domain"


def test_the_status_fragment_polls_while_a_check_is_running(personas, client_regular, pending):
    # Verify pressed, the worker has not answered yet (no on_commit execution here).
    client_regular.post(durl("domain_verify", personas.company, pending.public_id))
    status = client_regular.get(
        durl("domain_status", personas.company, pending.public_id), headers=HX
    )
    assert b"Checking" in status.content and b'hx-trigger="every 1.5s"' in status.content


def test_verify_from_the_page_answers_with_the_status_panel_that_polls(
    personas, client_regular, pending
):
    verify = durl("domain_verify", personas.company, pending.public_id)
    panel = client_regular.post(verify, headers=HX)
    assert panel.content.decode().startswith('<div id="domain-status"')
    assert b"Checking" in panel.content and b'hx-trigger="every 1.5s"' in panel.content
    # Without JavaScript: the plain POST, then the page.
    response = client_regular.post(verify)
    assert response.status_code == 302
    assert response["Location"] == durl("domain_detail", personas.company, pending.public_id)


@pytest.mark.parametrize(
    ("name", "redirects"),
    # The status alone is on the detail page; the DNS panel is that page with the panel filled in.
    [("domain_status", True), ("domain_dns_check", False)],
)
def test_partial_views_answer_htmx_with_the_fragment_and_browsers_with_the_page(
    personas, client_regular, pending, name, redirects
):
    url = durl(name, personas.company, pending.public_id)
    fragment = client_regular.get(url, headers=HX)
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert "HX-Request" in fragment["Vary"], "a cache must not answer one with the other"
    page = client_regular.get(url)
    assert "HX-Request" in page["Vary"]
    if redirects:
        assert page.status_code == 302
        page = client_regular.get(page["Location"])
    assert b"<html" in page.content and b"DNS records to publish" in page.content


def test_the_detail_page_loads_the_dns_panel_once_shown(personas, client_regular, pending):
    dns_check = durl("domain_dns_check", personas.company, pending.public_id)
    page = client_regular.get(durl("domain_detail", personas.company, pending.public_id))
    assert f'hx-get="{dns_check}" hx-trigger="load"'.encode() in page.content
    # Without JavaScript the placeholder's link opens the same page with the panel filled in.
    assert f'<a href="{dns_check}">'.encode() in page.content
    filled = client_regular.get(dns_check)
    assert b"badge dns-" in filled.content and b'hx-trigger="load"' not in filled.content


def test_dns_check_panel_reports_each_record(personas, client_regular, dns_server, pending):
    dns_server.add_txt(
        "_pexip-verification.example.org", f"pexip-verification={pending.verification_token}"
    )
    dns_server.add_srv("_sips._tcp.example.org", 10, 100, 5061, "sip.onpexip.com")
    dns_server.add_srv("_sip._tcp.example.org", 10, 100, 5060, "wrong.example.net")
    dns_server.servfail.add("_h323ls._udp.example.org")
    panel = client_regular.get(
        durl("domain_dns_check", personas.company, pending.public_id), headers=HX
    )
    rows = {
        re.sub(r"\s+", " ", r) for r in re.findall(r"<tr>(.*?)</tr>", panel.content.decode(), re.S)
    }

    def state_of(name):
        row = next(r for r in rows if name in r)
        return re.search(r"badge dns-(\w+)", row).group(1)

    assert state_of("<code>example.org</code>") == "ok"
    assert state_of("_sips._tcp.example.org") == "ok"
    assert state_of("_sip._tcp.example.org") == "wrong"
    assert state_of("_sip._udp.example.org") == "missing"
    assert state_of("_h323ls._udp.example.org") == "error"


def test_delete_is_refused_while_consumers_use_the_domain(personas, client_regular):
    company = personas.company
    domain = CallingDomain.objects.create(
        company=company,
        name="used.example",
        status=DomainStatus.VERIFIED,
        verification_method="dns_txt",
    )
    consumer_services.team_vmr_create(
        actor=personas.regular, company=company, alias="r1", display_name="R", domain="used.example"
    )
    consumer_services.team_vmr_create(
        actor=personas.regular, company=company, alias="r2", display_name="R", domain="used.example"
    )
    confirm = client_regular.get(durl("domain_delete", company, domain.public_id))
    assert b"2 consumers use this domain" in confirm.content
    response = client_regular.post(durl("domain_delete", company, domain.public_id), follow=True)
    assert b"used by 2 consumers" in response.content
    assert CallingDomain.objects.filter(pk=domain.pk).exists()
    Consumer.objects.all().delete()
    client_regular.post(durl("domain_delete", company, domain.public_id))
    assert not CallingDomain.objects.filter(pk=domain.pk).exists()


def test_interop_needs_a_verified_calling_domain(personas, client_regular, dns_server):
    company = personas.company
    services.calling_domain_add(actor=personas.regular, company=company, name="teams.example")
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    with pytest.raises(Exception, match="not verified yet"):
        services.interop_configuration_create(
            actor=personas.regular,
            company=company,
            name="Teams",
            tenant_id=tenant,
            calling_domain="teams.example",
        )
    response = client_regular.post(
        durl("interop_add", company),
        {"name": "Teams", "tenant_id": "nope", "calling_domain": company.service_domain},
    )
    assert "GUID" in str(response.context["form"].errors["tenant_id"])
    client_regular.post(
        durl("interop_add", company),
        {"name": "Teams", "tenant_id": tenant, "calling_domain": company.service_domain},
    )
    config = InteropConfiguration.objects.get()
    assert config.calling_domain.name == company.service_domain
    listing = client_regular.get(durl("domain_list", company))
    assert tenant.encode() in listing.content


def test_ops_mark_a_microsoft365_domain_verified_in_admin(personas, login):
    m365 = services.microsoft365_domain_add(
        actor=personas.regular, company=personas.company, name="contoso.example"
    )
    client = login(personas.ops)
    client.post(
        reverse("admin:domains_microsoft365domain_changelist"),
        {"action": "mark_verified", "_selected_action": [m365.pk]},
    )
    m365.refresh_from_db()
    assert m365.is_verified and m365.verified_by_ops


def test_read_only_sees_the_tab_but_cannot_add(personas, login):
    client = login(personas.read_only)
    assert client.get(durl("domain_list", personas.company)).status_code == 200
    assert (
        client.post(durl("domain_add", personas.company), {"name": "x.example"}).status_code == 403
    )
    assert not CallingDomain.objects.filter(name="x.example").exists()
