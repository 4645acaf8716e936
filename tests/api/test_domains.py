"""Calling domains, Microsoft 365 domains and interop configurations through the API: the
Domains tab's actions through the same services, verification against a real DNS server on
loopback, the rules as 422, another partner's ids as 404."""

from __future__ import annotations

import pytest
from django.core import mail

from consumers.models import Consumer
from domains.models import CallingDomain, DomainStatus, InteropConfiguration, Microsoft365Domain
from portal.models import AuditEvent
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture
def added(api, personas, dns_server):
    """example.org added through the API: pending, with its TXT record to publish."""
    response = api.post(
        f"companies/{personas.company.public_id}/calling-domains", {"name": "Example.ORG"}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_adding_a_domain_answers_the_txt_record_to_publish(api, personas, added):
    domain = CallingDomain.objects.get(public_id=added["id"])
    assert added["name"] == "example.org"
    assert added["status"] == "pending"
    assert added["verification_method"] is None
    assert added["verification_token"] == domain.verification_token
    assert added["txt_record"] == {
        "name": "example.org",
        "value": f"pexip-verification={domain.verification_token}",
    }
    assert {r["type"] for r in added["records"]} == {"TXT", "SRV"}
    assert added["claim_expires_at"]
    event = AuditEvent.objects.get(action="calling_domain.add")
    assert event.data["api_token"] == str(api.token.token.public_id)


def test_verify_checks_dns_now(api, added, dns_server):
    url = f"calling-domains/{added['id']}/verify"
    response = api.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["last_error"]
    dns_server.add_txt("example.org", added["txt_record"]["value"])
    response = api.post(url)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "verified"
    assert body["verification_method"] == "dns_txt"
    assert body["txt_record"] is None  # nothing left to prove
    assert api.get(f"calling-domains/{added['id']}").json()["status"] == "verified"


def test_a_service_subdomain_is_verified_at_once_with_nothing_to_publish(api, personas):
    name = f"video.{personas.company.service_domain}"
    response = api.post(f"companies/{personas.company.public_id}/calling-domains", {"name": name})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["verification_method"]) == ("verified", "service_domain")
    assert body["txt_record"] is None
    assert body["records"] == []


def test_adding_rules_are_422_by_field(api, personas, added):
    url = f"companies/{personas.company.public_id}/calling-domains"
    for name in ("example.org", "co.uk", "not a domain", "1.2.3.4"):
        body = assert_problem(api.post(url, {"name": name}), 422)
        assert body["errors"]["name"], name
    assert_problem(api.post(url, {}), 422)
    assert CallingDomain.objects.filter(company=personas.company).count() == 1


def test_resend_email_mails_the_records_to_the_contact(
    api, personas, added, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"calling-domains/{added['id']}/resend-email")
    assert response.status_code == 200, response.content
    assert [m.to for m in mail.outbox] == [[personas.company.contact_email]]
    assert added["txt_record"]["value"] in mail.outbox[0].body


def test_delete_refuses_a_domain_in_use_then_deletes(api, personas, added, make):
    domain = CallingDomain.objects.get(public_id=added["id"])
    CallingDomain.objects.filter(pk=domain.pk).update(status=DomainStatus.VERIFIED)
    room = make.team_vmr("board-room", domain="example.org")
    body = assert_problem(api.delete(f"calling-domains/{added['id']}"), 422)
    assert "used by 1 consumer" in body["errors"]["__all__"][0]
    Consumer.objects.filter(pk=room.pk).delete()
    response = api.delete(f"calling-domains/{added['id']}")
    assert response.status_code == 204
    assert not CallingDomain.objects.filter(pk=domain.pk).exists()


def test_the_list_pages_with_next_and_constant_queries(
    api, personas, django_assert_max_num_queries
):
    for i in range(5):
        CallingDomain.objects.create(company=personas.company, name=f"d{i}.example")
    url = f"companies/{personas.company.public_id}/calling-domains"
    api.get(url)
    with django_assert_max_num_queries(4) as few:
        first = api.get(url, {"limit": 2}).json()
    names = [d["name"] for d in first["items"]]
    page = first
    while page["next"]:
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = api.get(page["next"]).json()
        names += [d["name"] for d in page["items"]]
    assert names == [f"d{i}.example" for i in range(5)]


def test_microsoft365_domains_add_list_verify_delete(api, personas, dns_server):
    url = f"companies/{personas.company.public_id}/microsoft365-domains"
    response = api.post(url, {"name": "contoso.com"})
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["status"] == "pending"
    assert_problem(api.post(url, {"name": "contoso.com"}), 422)
    assert [d["name"] for d in api.get(url).json()["items"]] == ["contoso.com"]
    domain = Microsoft365Domain.objects.get(public_id=added["id"])
    dns_server.add_txt("contoso.com", f"pexip-verification={domain.verification_token}")
    response = api.post(f"microsoft365-domains/{added['id']}/verify")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verified"
    assert api.delete(f"microsoft365-domains/{added['id']}").status_code == 204
    assert not Microsoft365Domain.objects.filter(pk=domain.pk).exists()


def test_interop_configurations_need_a_verified_domain(api, personas, added):
    url = f"companies/{personas.company.public_id}/interop-configurations"
    body = {"name": "Teams", "tenant_id": TENANT, "calling_domain": "example.org"}
    refused = assert_problem(api.post(url, body), 422)
    assert "not verified" in refused["errors"]["domain"][0]
    bad = assert_problem(api.post(url, {**body, "tenant_id": "nope"}), 422)
    assert "tenant_id" in bad["errors"]
    service = {**body, "calling_domain": personas.company.service_domain}
    response = api.post(url, service)
    assert response.status_code == 201, response.content
    config = response.json()
    assert config["tenant_id"] == TENANT
    assert config["calling_domain"] == personas.company.service_domain
    assert_problem(api.post(url, service), 422)  # one configuration per tenant
    assert [c["id"] for c in api.get(url).json()["items"]] == [config["id"]]
    assert api.get(f"interop-configurations/{config['id']}").json()["name"] == "Teams"
    assert api.delete(f"interop-configurations/{config['id']}").status_code == 204
    assert not InteropConfiguration.objects.exists()


def test_a_read_token_cannot_change_domains(api, personas, added, read_token):
    reader = api.as_(read_token)
    assert reader.get(f"calling-domains/{added['id']}").status_code == 200
    url = f"companies/{personas.company.public_id}/calling-domains"
    assert_problem(reader.post(url, {"name": "other.example"}), 403)
    for action in ("verify", "resend-email"):
        assert_problem(reader.post(f"calling-domains/{added['id']}/{action}"), 403)
    assert_problem(reader.delete(f"calling-domains/{added['id']}"), 403)
    assert CallingDomain.objects.filter(public_id=added["id"]).exists()


def test_another_partners_domains_are_404(api, personas, dns_server):
    theirs = CallingDomain.objects.create(company=personas.other_company, name="bravo.example")
    m365 = Microsoft365Domain.objects.create(company=personas.other_company, name="bravo.com")
    other = personas.other_company.public_id
    for kind in ("calling-domains", "microsoft365-domains", "interop-configurations"):
        assert_problem(api.get(f"companies/{other}/{kind}"), 404)
    assert_problem(api.post(f"companies/{other}/calling-domains", {"name": "x.example"}), 404)
    assert_problem(api.get(f"calling-domains/{theirs.public_id}"), 404)
    for action in ("verify", "resend-email"):
        assert_problem(api.post(f"calling-domains/{theirs.public_id}/{action}"), 404)
    assert_problem(api.delete(f"calling-domains/{theirs.public_id}"), 404)
    assert_problem(api.post(f"microsoft365-domains/{m365.public_id}/verify"), 404)
    assert_problem(api.delete(f"microsoft365-domains/{m365.public_id}"), 404)
    assert CallingDomain.objects.filter(pk=theirs.pk).exists()
    assert Microsoft365Domain.objects.filter(pk=m365.pk).exists()
