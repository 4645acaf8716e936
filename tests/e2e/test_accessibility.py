"""Keyboard use of the Actions menu with Tab and Enter (tests/e2e/test_polish.py sweeps every
page with axe-core and drives the menu with the arrow keys)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from tests.e2e.test_journeys import company_url, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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
    edit = page.get_by_role("link", name="Edit", exact=True)
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
