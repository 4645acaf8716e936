"""Accessibility of the main pages (axe-core) and keyboard use of the Actions menu."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from tests.e2e.test_journeys import company_url, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_main_pages_have_no_critical_violations(page: Page, portal, personas):
    consumer_services.team_vmr_create(
        actor=personas.regular,
        company=personas.company,
        alias="all-hands",
        display_name="All hands",
    )
    axe = Axe()
    page.goto(f"{portal.url}/accounts/login/")
    pages = {"login": None}
    results = {"login": axe.run(page)}
    sign_in(page, portal, "manager@a.example")
    pages = {
        "companies": f"{portal.url}/companies/",
        "users": company_url(portal, personas.company, "users/"),
        "team vmrs": company_url(portal, personas.company, "team-vmrs/"),
        "invite form": company_url(portal, personas.company, "users/invite/"),
        "domains": company_url(portal, personas.company, "domains/"),
        "licences": company_url(portal, personas.company, "licences/"),
        "handout": company_url(portal, personas.company, "handout/"),
        "staff": f"{portal.url}/staff/",
    }
    for name, url in pages.items():
        page.goto(url)
        results[name] = axe.run(page)
    critical = {
        name: [v["id"] for v in result.response["violations"] if v["impact"] == "critical"]
        for name, result in results.items()
    }
    assert all(not ids for ids in critical.values()), critical


def test_the_actions_menu_works_from_the_keyboard(page: Page, portal, personas):
    consumer_services.team_vmr_create(
        actor=personas.regular,
        company=personas.company,
        alias="all-hands",
        display_name="All hands",
    )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "team-vmrs/"))
    summary = page.get_by_label("Actions for all-hands@acme-a.onpexip.com")
    summary.focus()
    page.keyboard.press("Enter")
    edit = page.get_by_role("menuitem", name="Edit")
    expect(edit).to_be_visible()
    page.keyboard.press("Tab")
    expect(edit).to_be_focused()
    page.keyboard.press("Escape")
    expect(edit).to_be_hidden()
    expect(summary).to_be_focused()
    summary.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Edit team VMR")).to_be_visible()
