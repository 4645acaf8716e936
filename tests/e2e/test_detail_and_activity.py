"""Journeys: a pending user's page from the Users tab (its history, next re-send and deletion
date), and the Activity tab's filters; axe on both pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from playwright.sync_api import Page, expect

from consumers import services as consumer_services
from consumers.models import Invitation
from tests.e2e.axe import serious_findings
from tests.e2e.test_journeys import company_url, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_pending_users_page_shows_its_lifecycle(page: Page, portal, personas):
    user = consumer_services.user_invite(
        actor=personas.regular,
        company=personas.company,
        email="nine.days@x.example",
        full_name="Nine Days",
        alias="nine.days",
    )
    # Invited nine days ago: the first re-send is due tomorrow.
    sent = timezone.now() - timedelta(days=9)
    Invitation.objects.filter(consumer=user).update(sent_at=sent)
    invitation = Invitation.objects.get(consumer=user)

    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, personas.company, "users/"))
    page.get_by_role("link", name="Nine Days").click()
    expect(page.get_by_role("heading", name="Nine Days")).to_be_visible()
    expect(page.get_by_text("nine.days.vmr@acme-a.onpexip.com")).to_be_visible()
    next_resend = date_filter(timezone.localtime(invitation.next_resend_at()))
    purge = date_filter(timezone.localtime(invitation.purge_at()))
    expect(page.get_by_test_id("next-resend")).to_have_text(next_resend)
    expect(page.get_by_test_id("purge-at")).to_have_text(purge)
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("listitem")).to_have_count(1)
    expect(history).to_contain_text(
        "regular@a.example invited user nine.days@acme-a.onpexip.com as a trial"
    )
    assert serious_findings(page) == []

    # "Open in the activity log" shows this user's history there.
    history.get_by_role("link", name="Open in the activity log").click()
    expect(page.get_by_text("Showing the history of one object")).to_be_visible()
    expect(page.locator("table.activity tbody tr")).to_have_count(1)


def test_filter_the_activity_log(page: Page, portal, personas):
    company = personas.company
    consumer_services.user_invite(
        actor=personas.regular,
        company=company,
        email="a@x.example",
        full_name="A",
        alias="first.user",
    )
    room = consumer_services.team_vmr_create(
        actor=personas.manager, company=company, alias="board-room", display_name="Board"
    )
    consumer_services.consumer_delete(actor=personas.manager, consumer=room)

    sign_in(page, portal, "regular@a.example")
    page.goto(company_url(portal, company, "users/"))
    page.get_by_role("link", name="Activity").click()
    rows = page.locator("table.activity tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(
        "manager@a.example deleted team VMR board-room@acme-a.onpexip.com"
    )
    assert serious_findings(page) == []

    page.get_by_label("Action").select_option(label="User invited")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("regular@a.example invited user first.user@")
    expect(page.get_by_label("Action")).to_have_value("user.invite")

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Search the activity").fill("board-room")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page.get_by_label("Search the activity").fill("")
    page.get_by_label("From").fill(tomorrow)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No activity matches.")).to_be_visible()
    assert serious_findings(page) == []
