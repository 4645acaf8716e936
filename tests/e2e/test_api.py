"""The partner API in a browser: the API tokens page (create, the secret once, revoke) and the
interactive API documentation, under the portal's Content Security Policy (the conftest fails a
journey on any violation) and without any CDN."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.models import ApiToken
from tests.e2e.axe import serious_findings
from tests.e2e.test_journeys import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_uses_and_revokes_a_token(page: Page, portal, personas):
    sign_in(page, portal, "manager@a.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    assert serious_findings(page) == []
    page.get_by_role("link", name="Create token").click()
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_label("Write").check()
    assert serious_findings(page) == []
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy the secret now")).to_be_visible()
    secret = page.get_by_role("textbox", name="Secret").input_value()
    assert secret.startswith("pp_")
    assert serious_findings(page) == []

    companies = httpx.get(
        f"{portal.url}/api/v1/companies", headers={"Authorization": f"Bearer {secret}"}
    )
    assert companies.status_code == 200
    assert [c["name"] for c in companies.json()["items"]] == ["Acme A"]

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row", name="Billing sync")
    expect(row).to_contain_text("read, write")
    expect(page.get_by_text(secret)).to_have_count(0)  # never shown again
    row.get_by_role("link", name="Revoke Billing sync").click()
    assert serious_findings(page) == []
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("API token “Billing sync” revoked.")).to_be_visible()
    expect(page.get_by_role("row", name="Billing sync")).to_contain_text("Revoked")
    assert ApiToken.objects.get(name="Billing sync").revoked_at is not None
    again = httpx.get(
        f"{portal.url}/api/v1/companies", headers={"Authorization": f"Bearer {secret}"}
    )
    assert again.status_code == 401


def test_the_api_docs_render_from_local_files(page: Page, portal, personas):
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(portal.url) else elsewhere.append(request.url)
        ),
    )
    page.goto(f"{portal.url}/api/v1/docs")
    expect(page.get_by_text("Partner portal API").first).to_be_visible()
    expect(page.get_by_text("List companies").first).to_be_visible()
    assert [url for url in elsewhere if not url.startswith("data:")] == []
