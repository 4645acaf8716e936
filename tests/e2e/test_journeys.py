"""Partner admins' journeys in a real browser (Chromium), each a test."""

from __future__ import annotations

import base64
import re

import pytest
from django.core import mail
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from consumers.models import BatchJob, Consumer
from consumers.services import batch as batches
from domains.models import CallingDomain
from handouts import services as handout_services
from handouts.models import HandoutExport
from licensing.models import LicenceKind
from portal.models import Company
from tests.conftest import add_licence
from tests.handouts.test_handouts import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def totp_now(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, step=30, digits=6).token():06d}"


def sign_in(page: Page, portal, email: str, password: str = "pw-test-123") -> None:
    page.goto(f"{portal.url}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def company_url(portal, company: Company, tail: str) -> str:
    return f"{portal.url}/companies/{company.public_id}/{tail}"


def test_sign_in_with_two_factor(page: Page, portal, personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    sign_in(page, portal, "manager@a.example")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator(".qr-enrol svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    expect(page.get_by_role("link", name="Acme A")).to_be_visible()
    expect(page.get_by_text("Bravo B")).to_have_count(0)


def test_create_a_company_from_the_list(page: Page, portal, personas):
    sign_in(page, portal, "regular@a.example")
    page.get_by_role("link", name="Add company").click()
    page.get_by_label("Name", exact=True).fill("Contoso Ltd")
    page.get_by_label("Contact email").fill("it@contoso.example")
    page.get_by_role("button", name="Add company").click()
    expect(page.get_by_text("Company “Contoso Ltd” created.")).to_be_visible()
    page.get_by_role("link", name="Companies").first.click()
    page.get_by_label("Search companies").fill("contoso")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Contoso Ltd")).to_be_visible()


def test_invite_a_user_who_accepts_in_a_fresh_browser(page: Page, portal, personas, browser):
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "users/"))
    page.get_by_role("link", name="Invite User").click()
    expect(page.get_by_text("Trial until")).to_be_visible()
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Email", exact=True).fill("grace@customer.example")
    page.get_by_label("Alias", exact=True).fill("Grace.Hopper")
    page.get_by_role("button", name=re.compile("Send invitation")).click()
    expect(page.get_by_text("grace.hopper@acme-a.onpexip.com invited as a trial.")).to_be_visible()

    message = next(m for m in mail.outbox if m.to == ["grace@customer.example"])
    link = re.search(r"(http://\S+/invite/[0-9a-f]{64}/)", message.body).group(1)
    invitee = browser.new_context()
    invitee_page = invitee.new_page()
    invitee_page.goto(link)
    expect(invitee_page.get_by_text("grace.hopper.vmr@acme-a.onpexip.com")).to_be_visible()
    invitee_page.get_by_role("button", name="Accept the invitation").click()
    expect(invitee_page.get_by_role("heading", name="Welcome!")).to_be_visible()
    invitee.close()
    page.reload()
    expect(page.locator("tr", has_text="grace.hopper@").get_by_text("Active")).to_be_visible()


def test_add_a_team_vmr_and_an_endpoint_then_open_its_qr_page(page: Page, portal, personas):
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "team-vmrs/add/"))
    page.get_by_label("Name", exact=True).fill("All hands")
    page.get_by_label("Alias", exact=True).fill("all-hands")
    page.get_by_label("Host PIN").fill("1234")
    page.get_by_role("button", name=re.compile("Add Team VMR")).click()
    expect(page.get_by_text("all-hands@acme-a.onpexip.com added as a trial.")).to_be_visible()

    page.goto(company_url(portal, personas.company, "endpoints/add/"))
    page.get_by_label("Name", exact=True).fill("Boardroom")
    page.get_by_label("Alias", exact=True).fill("Boardroom-1")
    page.get_by_role("button", name=re.compile("Add Endpoint")).click()
    expect(page.get_by_text("boardroom-1@acme-a.onpexip.com added")).to_be_visible()
    page.get_by_role("link", name="Boardroom").click()
    expect(page.get_by_role("img", name=re.compile("QR code that joins"))).to_be_visible()
    page.get_by_role("link", name="Printable page").click()
    expect(page.get_by_text("boardroom-1@acme-a.onpexip.com")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()


def test_verify_a_calling_domain_without_reloading(page: Page, portal, personas, dns_server):
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "domains/"))
    page.get_by_role("link", name="Add Calling Domain").click()
    page.get_by_label("Domain name").fill("example.org")
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("Pending verification")).to_be_visible()
    # The live DNS panel loads once the page is shown: nothing published yet.
    expect(page.locator("#dns-check tbody tr").first).to_contain_text("Missing")
    domain = CallingDomain.objects.get(name="example.org")
    dns_server.add_txt("example.org", f"pexip-verification={domain.verification_token}")

    page.evaluate("window.__stayedOnThePage = true")
    verify = page.get_by_role("button", name="Verify", exact=True)
    disabled_in_flight = []

    def hold(route):  # type: ignore[no-untyped-def]
        disabled_in_flight.append(verify.is_disabled())
        route.continue_()

    page.route("**/verify/", hold)
    verify.click()
    expect(page.locator("#domain-status").get_by_text("Verified", exact=True)).to_be_visible()
    assert disabled_in_flight == [True], "one request, with the button disabled meanwhile"
    assert page.evaluate("window.__stayedOnThePage") is True, "no reload happened"

    page.goto(company_url(portal, personas.company, "users/invite/"))
    expect(page.get_by_label("Domain").locator("option", has_text="example.org")).to_have_count(1)


def test_batch_delete_a_selection_with_the_progress_bar(page: Page, portal, personas, monkeypatch):
    # A busy worker: the confirmed batch waits in the queue until the test runs it.
    monkeypatch.setattr(batches, "enqueue_on_commit", lambda *args: None)
    for i in range(4):
        consumer_services.team_vmr_create(
            actor=personas.regular,
            company=personas.company,
            alias=f"room-{i:03}",
            display_name=f"Room {i}",
        )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "team-vmrs/"))
    page.get_by_label("Select room-000@acme-a.onpexip.com").check()
    page.get_by_label("Select room-002@acme-a.onpexip.com").check()
    page.get_by_label("With the ticked rows:").select_option("delete")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".notice")).to_contain_text("2 will be deleted")
    page.get_by_role("button", name="Delete 2 now").click()
    expect(page.locator("#batch-progress")).to_contain_text("0 of 2 done")
    page.evaluate("window.__beforeTheBatchRan = true")
    batches.batch_run(batch_id=BatchJob.objects.get().pk)
    expect(page.locator("#batch-progress progress")).to_have_attribute("value", "2")
    expect(page.locator("#batch-progress")).to_contain_text("2 succeeded, 0 failed")
    # Once done, the page reloads by itself: the items table below shows each outcome.
    expect(page.locator(".badge.outcome-succeeded")).to_have_count(2)
    assert page.evaluate("window.__beforeTheBatchRan") is None, "the page was reloaded"
    assert set(Consumer.objects.values_list("alias", flat=True)) == {"room-001", "room-003"}


def test_delete_a_team_vmr_after_the_confirmation_page(page: Page, portal, personas):
    consumer_services.team_vmr_create(
        actor=personas.regular, company=personas.company, alias="all-hands", display_name="All"
    )
    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "team-vmrs/"))
    page.get_by_label("Actions for all-hands@acme-a.onpexip.com").click()
    page.get_by_role("link", name="Delete…").click()
    question = page.get_by_role("heading", name="Delete team VMR all-hands@acme-a.onpexip.com?")
    expect(question).to_be_visible()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_role("button", name="Delete team VMR").click()
    expect(page.get_by_text("all-hands@acme-a.onpexip.com deleted.")).to_be_visible()
    assert not Consumer.objects.exists()


def test_a_large_company_gets_its_handout_from_the_background(
    page: Page, portal, personas, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(handout_services, "SYNC_LIMIT", 0)
    # A busy worker: the export waits in the queue until the test runs it.
    monkeypatch.setattr(handout_services, "enqueue_on_commit", lambda *args: None)
    consumer_services.team_vmr_create(
        actor=personas.regular, company=personas.company, alias="all-hands", display_name="All"
    )
    sign_in(page, portal, "readonly@a.example")
    page.goto(company_url(portal, personas.company, "handout/"))
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#export-status")).to_contain_text("Queued")
    page.evaluate("window.__stayedOnThePage = true")
    handout_services.handout_export_run(export_id=HandoutExport.objects.get().pk)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "handout.pdf"
    download_info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    assert page.evaluate("window.__stayedOnThePage") is True, "the status updated in place"


def test_a_handout_in_parts_shows_its_progress_then_downloads_as_one(
    page: Page, portal, personas, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HANDOUT_PART_ROWS = 10  # 8 rooms at three rows each: three parts
    monkeypatch.setattr(handout_services, "SYNC_LIMIT", 0)
    # Busy workers: each task waits in the queue until the test runs it.
    monkeypatch.setattr(handout_services, "enqueue_on_commit", lambda *args: None)
    add_licence(personas.company, LicenceKind.ROOM, 8)
    for i in range(8):
        consumer_services.team_vmr_create(
            actor=personas.regular, company=personas.company, alias=f"room-{i}", display_name="R"
        )
    sign_in(page, portal, "readonly@a.example")
    page.goto(company_url(portal, personas.company, "handout/"))
    page.get_by_role("button", name="Generate").click()
    export = HandoutExport.objects.get()
    handout_services.handout_export_run(export_id=export.pk)  # planned: three parts queued
    first = export.parts.get(index=0)
    handout_services.handout_part_run(part_id=first.pk)
    status = page.locator("#export-status")
    expect(status).to_contain_text("1 of 3 sections rendered")
    expect(status.locator("progress")).to_have_attribute("value", "1")
    for part in export.parts.exclude(pk=first.pk):
        handout_services.handout_part_run(part_id=part.pk)
    handout_services.handout_export_run(export_id=export.pk)  # the merge
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "handout.pdf"
    download_info.value.save_as(path)
    text = pdf_text(path.read_bytes())
    pages = text.split("\f")
    assert all(f"Page {n} of {len(pages)}" in p for n, p in enumerate(pages, start=1))
    assert [f"room-{i}@" in text for i in range(8)] == [True] * 8


def test_download_the_handout_pdf(page: Page, portal, personas, tmp_path):
    add_licence(personas.company, LicenceKind.ROOM, 2)
    consumer_services.endpoint_create(
        actor=personas.regular, company=personas.company, alias="lobby-screen", display_name="Lobby"
    )
    sign_in(page, portal, "readonly@a.example")
    page.goto(company_url(portal, personas.company, "handout/"))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    path = tmp_path / "handout.pdf"
    download_info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    text = pdf_text(path.read_bytes())
    assert "lobby-screen@acme-a.onpexip.com" in text
