"""A new company starts in trial mode (issue 17, item 3): every path that creates a company (the
portal's form, Django admin, the demo data) opens an evaluation of NEW_COMPANY_EVALUATION_DAYS
through the one service, the contact gets "New company created (in trial mode)", the partner
sees the end, and the evaluation's emails follow: reminders at 23 and 7 days, one "Trial ended"
(one email for one event, even when trial consumers go inactive with it)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from consumers.models import Consumer, ConsumerStatus
from licensing.expiry import licences_expiry_run
from portal import display, services
from portal.models import AuditEvent, Company, CompanyState, OutboxMessage
from tests.conftest import T0
from tests.mailing import deliver

TODAY = T0.date()


def new_company(personas, **fields) -> Company:
    fields = {"name": "Delta D", "contact_email": "it@delta.example", **fields}
    return services.company_create(actor=personas.regular, partner=personas.partner, **fields)


def trial_emails() -> list[mail.EmailMessage]:
    deliver()
    return [m for m in mail.outbox if "Delta D" in m.subject]


def test_a_new_company_is_in_trial_mode_for_30_days_and_its_contact_is_told(clock, personas):
    company = new_company(personas, contact_name="Dana")
    company = Company.objects.with_state().get(pk=company.pk)
    assert company.evaluation_ends_on == TODAY + timedelta(days=30)
    assert company.state == CompanyState.TRIAL_OPEN
    assert company.evaluation_open_on(TODAY + timedelta(days=30))
    assert not company.evaluation_open_on(TODAY + timedelta(days=31))
    [event] = AuditEvent.objects.filter(action="company.evaluation", company=company)
    assert event.actor == personas.regular
    assert event.data == {"ends_on": (TODAY + timedelta(days=30)).isoformat()}
    [message] = trial_emails()
    assert message.subject == "Delta D: new company created (in trial mode)"
    assert message.to == ["it@delta.example"] and message.cc == ["help@a.example"]
    end = display.day(TODAY + timedelta(days=30))
    assert "Hello Dana" in message.body and f"until {end}" in message.body
    assert f"until <strong>{end}</strong>" in message.alternatives[0][0]


def test_the_trial_length_is_a_setting_and_zero_opens_none(clock, personas, settings):
    settings.NEW_COMPANY_EVALUATION_DAYS = 14
    assert new_company(personas).evaluation_ends_on == TODAY + timedelta(days=14)
    settings.NEW_COMPANY_EVALUATION_DAYS = 0
    company = new_company(personas, name="Echo E")
    assert company.evaluation_ends_on is None
    deliver()
    assert not [m for m in mail.outbox if "Echo E" in m.subject]


def test_a_new_company_can_add_trial_consumers_at_once(clock, personas, make):
    company = new_company(personas)
    room = make.team_vmr("first-room", company=company)
    assert room.is_trial and room.status == ConsumerStatus.ACTIVE


def test_only_ops_choose_another_evaluation_for_a_new_company(clock, personas):
    with pytest.raises(PermissionDenied):
        new_company(personas, evaluation_ends_on=None)
    assert not Company.objects.filter(name="Delta D").exists()
    company = services.company_create(
        actor=personas.ops,
        partner=personas.partner,
        name="Delta D",
        contact_email="it@delta.example",
        evaluation_ends_on=None,
    )
    assert company.evaluation_ends_on is None and trial_emails() == []


def test_the_portal_form_creates_a_company_in_trial_mode_and_shows_its_end(clock, personas, login):
    client = login(personas.regular)
    form = client.get(reverse("portal:company_create")).content.decode()
    assert "starts in trial mode: an evaluation of 30 days opens" in form
    response = client.post(
        reverse("portal:company_create"), {"name": "Delta D", "contact_email": "it@delta.example"}
    )
    assert response.status_code == 302
    company = Company.objects.get(name="Delta D")
    end = TODAY + timedelta(days=30)
    assert company.evaluation_ends_on == end
    page = client.get(response.url, follow=True).content.decode()
    assert "created. It is in trial mode" in page
    assert any(f"until {shown}" in page for shown in (end.isoformat(), display.day(end)))
    listing = client.get(reverse("portal:company_list")).content.decode()
    row = listing[listing.index("Delta D") :]
    row = row[: row.index("</tr>")]
    assert end.isoformat() in row or display.day(end) in row
    assert len(trial_emails()) == 1


def test_django_admin_creates_a_company_in_trial_mode_unless_ops_change_it(clock, personas, login):
    client = login(personas.ops)
    add_url = reverse("admin:portal_company_add")
    end = TODAY + timedelta(days=30)
    page = client.get(add_url).content.decode()
    shown = re.search(r'name="evaluation_ends_on" value="([^"]+)"', page)
    assert shown and shown.group(1) in (end.isoformat(), end.strftime("%d/%m/%Y"))
    form = {"partner": personas.partner.pk, "name": "Delta D", "contact_email": "it@delta.example"}
    # The add form posts the end it showed: the default trial, one email.
    response = client.post(add_url, {**form, "evaluation_ends_on": shown.group(1)})
    assert response.status_code == 302
    assert Company.objects.get(name="Delta D").evaluation_ends_on == end
    assert len(trial_emails()) == 1
    # Ops cleared the date: no evaluation, no trial email.
    response = client.post(add_url, {**form, "name": "Foxtrot F", "evaluation_ends_on": ""})
    assert response.status_code == 302
    assert Company.objects.get(name="Foxtrot F").evaluation_ends_on is None
    deliver()
    assert not [m for m in mail.outbox if "Foxtrot F" in m.subject]


def test_the_demo_data_creates_its_companies_through_the_service(clock, db):
    call_command("seed_demo", stdout=io.StringIO())
    created = AuditEvent.objects.filter(action="company.create").count()
    assert created == Company.objects.count() > 0
    states = dict(Company.objects.with_state().values_list("name", "state_code"))
    assert states["Globex Trial"] == CompanyState.TRIAL_OPEN
    assert states["Initech Closed Trial"] == CompanyState.TRIAL_CLOSED
    assert states["Acme Paid Ltd"] == CompanyState.PAID
    trial_mails = OutboxMessage.objects.filter(subject__contains="in trial mode")
    assert sorted(m.subject.split(":")[0] for m in trial_mails) == [
        "Globex Trial",
        "Pied Piper Trial",
    ]
    call_command("seed_demo", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action="company.create").count() == created


def test_the_trial_then_sends_its_reminders_and_one_ended_email(clock, personas, make):
    """The whole life of a new company's trial: created (1 email), 23 and 7 days before its
    end (1 each), and its end, when its trial consumers go inactive (1 email for both)."""
    company = new_company(personas)
    make.team_vmrs(2, prefix="trial-room", company=company)
    assert [m.subject for m in trial_emails()] == ["Delta D: new company created (in trial mode)"]
    subjects = []
    for day in range(1, 40):
        mail.outbox.clear()
        licences_expiry_run(today=TODAY + timedelta(days=day))
        licences_expiry_run(today=TODAY + timedelta(days=day))  # a second run sends nothing
        subjects += [(day, m.subject) for m in trial_emails()]
    assert subjects == [
        (7, "Delta D: the evaluation ends in 23 days"),
        (23, "Delta D: the evaluation ends in 7 days"),
        (31, "Delta D: the evaluation has ended"),
    ]
    assert set(Consumer.objects.filter(company=company).values_list("status", flat=True)) == {
        ConsumerStatus.INACTIVE
    }


def test_trial_end_with_trial_consumers_is_one_email_that_counts_them(clock, personas, make):
    company = new_company(personas)
    make.team_vmrs(3, prefix="trial-room", company=company)
    deliver()
    mail.outbox.clear()
    result = licences_expiry_run(today=TODAY + timedelta(days=31))
    assert list(result["trial_deactivated"].values()) == [3]
    [message] = trial_emails()
    assert message.subject == "Delta D: the evaluation has ended"
    assert "3 trial users, rooms or endpoints are now inactive" in message.body
    assert "<strong>3</strong> trial users" in message.alternatives[0][0]
    # Kept in the outbox like every email, once.
    assert OutboxMessage.objects.filter(subject=message.subject).count() == 1
    assert licences_expiry_run(today=TODAY + timedelta(days=32))["emails"] == 0
    assert trial_emails() == [message]


def test_an_evaluation_closed_without_an_end_date_still_says_so_once(clock, personas, make):
    company = new_company(personas)
    make.team_vmrs(2, prefix="trial-room", company=company)
    services.company_set_evaluation(actor=personas.ops, company=company, ends_on=None)
    deliver()
    mail.outbox.clear()
    licences_expiry_run(today=TODAY + timedelta(days=1))
    licences_expiry_run(today=TODAY + timedelta(days=2))
    [message] = trial_emails()
    assert message.subject == "Delta D: 2 consumers deactivated"
    assert "the evaluation has ended" in message.body
