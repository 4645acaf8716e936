"""The console's polish in a real browser: copy-to-clipboard, long and internationalised
addresses on one line, the Actions menus from the keyboard, and axe on every page a partner sees
(no serious or critical finding)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from consumers.models import CallRecord
from domains.models import CallingDomain
from tests.e2e.axe import serious_findings
from tests.e2e.test_journeys import company_url, sign_in
from tests.mailing import deliver
from tests.portal.test_isolation import PUBLIC_VIEWS, objects_of_partner_a
from tests.urlwalk import iter_views, url_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDN_DOMAIN = "xn--bcher-kva.example"  # bücher.example
LONG_ALIAS = "quarterly-board-meeting-room-north-wing"


def idn_room(personas):
    """A team VMR with a long alias on a verified internationalised calling domain."""
    CallingDomain.objects.create(
        company=personas.company,
        name=IDN_DOMAIN,
        status="verified",
        verification_method="dns_txt",
        verified_at=timezone.now(),
    )
    return consumer_services.team_vmr_create(
        actor=personas.regular,
        company=personas.company,
        alias=LONG_ALIAS,
        display_name="Board room",
        domain=IDN_DOMAIN,
    )


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


@pytest.fixture
def clipboard_page(page: Page, portal):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal.url)
    return page


def test_copy_buttons_copy_the_value_and_say_so(clipboard_page: Page, portal, personas):
    page = clipboard_page
    room = idn_room(personas)
    endpoint = consumer_services.endpoint_create(
        actor=personas.regular, company=personas.company, alias="lobby-screen", display_name="L"
    )
    sign_in(page, portal, "regular@a.example")

    # A list: the long internationalised address on one line, in Unicode, whole in its title.
    page.goto(company_url(portal, personas.company, "team-vmrs/"))
    shown = f"{LONG_ALIAS}@bücher.example"
    code = page.locator("code.truncate", has_text=LONG_ALIAS)
    expect(code).to_have_attribute("title", f"{shown} ({room.address})")
    box = code.bounding_box()
    assert box is not None and box["height"] < 30, "the address wraps"
    assert code.evaluate("el => el.scrollWidth > el.clientWidth"), "not cut with an ellipsis"
    copy = page.get_by_role("button", name=f"Copy {shown}")
    copy.click()
    expect(copy).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text("Copied")
    assert clipboard(page) == room.address  # as stored: what a SIP device dials

    # From the keyboard, on the endpoint's page: SIP username, then the provisioning URL.
    page.goto(company_url(portal, personas.company, f"endpoints/{endpoint.public_id}/"))
    username = page.get_by_role("button", name="Copy SIP username")
    username.focus()
    page.keyboard.press("Enter")
    expect(username).to_have_text("Copied")
    assert clipboard(page) == "lobby-screen@acme-a.onpexip.com"
    provisioning = page.get_by_role("button", name="Copy provisioning URL")
    provisioning.focus()
    page.keyboard.press("Space")
    expect(provisioning).to_have_text("Copied")
    assert re.match(r"^https?://\S+/\S+$", clipboard(page))
    expect(username).to_have_text("Copy", timeout=5000)  # back to its label after a moment


def test_dns_records_can_be_copied(clipboard_page: Page, portal, personas):
    from domains import services as domain_services

    page = clipboard_page
    domain = domain_services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="bücher-video.example"
    )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, f"domains/{domain.public_id}/"))
    expect(page.get_by_role("heading", name="bücher-video.example")).to_be_visible()
    txt = page.get_by_role("button", name=re.compile(r"^Copy the value of the TXT record"))
    txt.first.click()
    expect(txt.first).to_have_text("Copied")
    assert clipboard(page) == f"pexip-verification={domain.verification_token}"


def test_the_actions_menu_is_a_disclosure_driven_by_the_keyboard(page: Page, portal, personas):
    room = consumer_services.team_vmr_create(
        actor=personas.regular, company=personas.company, alias="all-hands", display_name="All"
    )
    consumer_services.consumer_deactivate(actor=personas.regular, consumer=room)
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "team-vmrs/"))
    assert page.locator("[role=menu], [role=menuitem]").count() == 0
    summary = page.get_by_label("Actions for all-hands@acme-a.onpexip.com")
    menu = page.locator("details.actions-menu .menu").first
    items = menu.locator("a, button")
    names = [(items.nth(i).text_content() or "").strip() for i in range(items.count())]
    assert "Edit" in names and "Activate" in names and names[-1] == "Delete…"

    summary.focus()
    page.keyboard.press("ArrowDown")  # opens it and goes to the first item
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("End")
    expect(items.last).to_be_focused()
    page.keyboard.press("ArrowDown")  # wraps round
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(items.last).to_be_focused()
    page.keyboard.press("Home")
    expect(items.first).to_be_focused()
    page.keyboard.press("Escape")  # closes it, focus back on its button
    expect(items.first).to_be_hidden()
    expect(summary).to_be_focused()

    page.keyboard.press("Enter")  # Enter toggles it like any disclosure; Tab walks the items
    expect(items.first).to_be_visible()
    for _ in names:
        page.keyboard.press("Tab")
    expect(items.last).to_be_focused()
    page.keyboard.press("Tab")  # leaving it closes it
    expect(items.first).to_be_hidden()

    summary.click()
    expect(items.first).to_be_visible()
    page.get_by_role("heading", name="Acme A").click()  # a click elsewhere closes it
    expect(items.first).to_be_hidden()
    summary.focus()
    page.keyboard.press("ArrowUp")  # opens it at the last item
    expect(items.last).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Delete team VMR"))).to_be_visible()


def partner_pages(personas) -> dict[str, str]:
    """Every page a partner's manager sees: each named view that answers a GET with an HTML
    page, filled with partner A's objects (tests.urlwalk), plus the signed-out pages."""
    objects = objects_of_partner_a(personas)
    client = Client()
    client.force_login(personas.manager)
    pages = {}
    for entry in iter_views():
        if entry.name in PUBLIC_VIEWS:
            continue
        url = url_for(entry, objects)
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            if not getattr(response, "streaming", False) and b"<!doctype html>" in (
                response.content[:100].lower()
            ):
                pages[entry.name] = url
    return pages


def seed_every_kind(personas) -> str:
    """A consumer of each kind, a pending invitation, a call; the invitation's link."""
    idn_room(personas)
    consumer_services.user_invite(
        actor=personas.regular,
        company=personas.company,
        email="grace@customer.example",
        full_name="Grace Hopper",
        alias="grace.hopper",
    )
    endpoint = consumer_services.endpoint_create(
        actor=personas.regular, company=personas.company, alias="walk-endpoint", display_name="W"
    )
    CallRecord.objects.create(
        consumer=endpoint,
        started_at=timezone.now() - timedelta(hours=2),
        duration_seconds=600,
        direction="inbound",
        remote_address="alice@xn--bcher-kva.example",
    )
    deliver()
    message = next(m for m in mail.outbox if m.to == ["grace@customer.example"])
    return re.search(r"(http://\S+/invite/[0-9a-f]{64}/)", message.body).group(1)


def test_every_partner_page_passes_axe(page: Page, portal, personas, browser):
    invitation_link = seed_every_kind(personas)
    pages = partner_pages(personas)
    # The pages the task names are among them (the walk did not silently lose them).
    for name in (
        "portal:company_list",
        "consumers:team_vmr_list",
        "consumers:endpoint_detail",
        "consumers:endpoint_calls",
        "domains:domain_detail",
        "licensing:licence_list",
        "portal:company_activity",
        "portal:member_list",
    ):
        assert name in pages, f"{name} is not in the sweep"
    findings: dict[str, list[str]] = {}

    anonymous = browser.new_context()
    visitor = anonymous.new_page()
    for name, url in {
        "login": f"{portal.url}/accounts/login/",
        "password reset": f"{portal.url}/accounts/password-reset/",
        "invitation": invitation_link,
    }.items():
        visitor.goto(url)
        findings[name] = serious_findings(visitor)
    anonymous.close()

    sign_in(page, portal, "manager@a.example")
    for name, url in pages.items():
        page.goto(f"{portal.url}{url}")
        findings[name] = serious_findings(page)
        # With an Actions menu open too: what it shows is checked as well.
        if page.locator("details.actions-menu summary").count():
            page.locator("details.actions-menu summary").first.click()
            findings[f"{name} (menu open)"] = serious_findings(page)
    failing = {name: found for name, found in findings.items() if found}
    assert failing == {}, failing
    assert len(findings) >= 30, sorted(findings)
