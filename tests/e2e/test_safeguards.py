"""Safeguards in the browser (issue 17, item 7): the company delete confirmation (what goes with
the company, its name typed to confirm), Verify answering in place, and the Personal usage
model's confirmation, with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from domains import services as domain_services
from portal.models import Company
from tests.e2e.axe import serious_findings
from tests.e2e.test_journeys import company_url, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_deleting_a_company_needs_its_name_typed(page: Page, portal, personas):
    company = personas.company
    for alias in ("all-hands", "support-desk"):
        consumer_services.team_vmr_create(
            actor=personas.regular, company=company, alias=alias, display_name=alias
        )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, company, "users/"))
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Delete Acme A?")).to_be_visible()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    expect(page.locator(".confirm li", has_text="Team VMR")).to_contain_text("2")
    assert serious_findings(page) == []

    name = page.get_by_label("Type the company's name to confirm")
    delete = page.get_by_role("button", name="Delete company")
    expect(delete).to_be_disabled()
    name.fill("acme a")
    expect(delete).to_be_disabled()
    name.fill("Acme A")
    expect(delete).to_be_enabled()
    name.fill("Acme A!")
    expect(delete).to_be_disabled()

    # Past the script (the button enabled by hand): the server refuses, once, beside the field.
    page.evaluate("document.querySelector('.type-to-confirm button').disabled = false")
    delete.click()
    expect(page.locator(".field .error")).to_have_count(1)
    expect(page.locator(".field .error")).to_contain_text("exactly as shown")
    assert Company.objects.filter(pk=company.pk).exists()
    assert serious_findings(page) == []

    page.get_by_label("Type the company's name to confirm").fill("Acme A")
    page.get_by_role("button", name="Delete company").click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    expect(page.get_by_text("Company “Acme A” deleted.")).to_be_visible()
    assert not Company.objects.filter(pk=company.pk).exists()


def test_the_personal_confirmation_appears_only_when_switching(page: Page, portal, personas):
    company = personas.company
    endpoint = consumer_services.endpoint_create(
        actor=personas.regular, company=company, alias="lobby-screen", display_name="Lobby"
    )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, company, f"endpoints/{endpoint.public_id}/"))
    confirm = page.get_by_label("I understand", exact=False)
    expect(confirm).to_be_hidden()
    page.get_by_label("Personal", exact=True).check()
    expect(confirm).to_be_visible()
    expect(page.get_by_text("removes call history older than 3 months now")).to_be_visible()
    page.get_by_label("Shared", exact=True).check()
    expect(confirm).to_be_hidden()
    assert serious_findings(page) == []


def test_verify_answers_in_place_with_a_spinner_then_the_time(
    page: Page, portal, personas, dns_server
):
    company = personas.company
    domain = domain_services.calling_domain_add(
        actor=personas.regular, company=company, name="example.org"
    )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, company, f"domains/{domain.public_id}/"))
    verify = page.get_by_role("button", name="Verify", exact=True)
    spinner_in_flight = []

    def hold(route):  # type: ignore[no-untyped-def]
        spinner_in_flight.append(page.locator("#verify-spinner").is_visible())
        route.continue_()

    page.route("**/verify/", hold)
    expect(page.locator("#verify-spinner")).to_be_hidden()
    verify.click()
    checked = page.locator("#last-checked")
    expect(checked).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    assert spinner_in_flight == [True], "the spinner shows while the request runs"
    expect(page.locator("#verify-spinner")).to_be_hidden()
    assert serious_findings(page) == []

    dns_server.add_txt("example.org", f"pexip-verification={domain.verification_token}")
    verify.click()
    expect(page.locator("#domain-status").get_by_text("Verified", exact=True)).to_be_visible()
    expect(page.locator("#domain-status time")).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(page.get_by_role("button", name="Verify", exact=True)).to_have_count(0)
