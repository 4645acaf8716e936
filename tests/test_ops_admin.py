"""Operations staff in Django admin write through the same services as the portal (issue 16,
item 7): every save and delete is checked and audited, records are read-only. Each test
drives admin over HTTP as ops."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from consumers.models import BatchItem, BatchJob, CallRecord, Consumer
from domains.models import CallingDomain, DomainStatus, InteropConfiguration, Microsoft365Domain
from handouts import services as handouts
from handouts.models import DialInNumber, HandoutExport
from licensing.models import LicenceKind, License
from portal.models import AuditEvent, Company, PartnerMembership
from tests.conftest import T0, add_company, add_licence

TODAY = T0.date()


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def company_form(company: Company, **changes) -> dict[str, str]:
    """What the Company change form posts: the stored values, with `changes`."""
    ends_on = company.evaluation_ends_on
    data = {
        "name": company.name,
        "country": str(company.country or ""),
        "reference": company.reference,
        "contact_name": company.contact_name,
        "contact_email": company.contact_email,
        "evaluation_ends_on": ends_on.isoformat() if ends_on else "",
    }
    return {**data, **changes}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- companies ----------------------------------------------------------------------------------


def test_the_evaluation_date_in_the_company_form_goes_through_the_service(personas, login):
    company = personas.company
    new_end = timezone.localdate() + timedelta(days=90)
    response = login(personas.ops).post(
        url("portal_company_change", company.pk),
        company_form(company, evaluation_ends_on=new_end.isoformat(), reference="PO-1"),
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.evaluation_ends_on, company.reference) == (new_end, "PO-1")
    [evaluation] = events("company.evaluation")
    assert evaluation.actor == personas.ops and evaluation.company == company
    assert evaluation.data == {"ends_on": new_end.isoformat()}
    assert events("company.update")[0].data == {"fields": ["reference"]}


def test_a_company_form_that_keeps_the_evaluation_writes_no_evaluation_event(personas, login):
    company = personas.company
    response = login(personas.ops).post(
        url("portal_company_change", company.pk), company_form(company, name="Acme Renamed")
    )
    assert response.status_code == 302
    assert events("company.evaluation") == [] and len(events("company.update")) == 1


def test_partner_and_slug_cannot_be_changed_after_creation(personas, login):
    company = personas.company
    client = login(personas.ops)
    page = client.get(url("portal_company_change", company.pk)).content.decode()
    assert 'name="partner"' not in page and 'name="slug"' not in page
    assert company.slug in page, "shown, read-only"
    response = client.post(
        url("portal_company_change", company.pk),
        company_form(company, partner=str(personas.other_partner.pk), slug="taken-over"),
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.partner, company.slug) == (personas.partner, "acme-a")


def test_ops_add_a_company_through_the_service(personas, login):
    client = login(personas.ops)
    add_page = client.get(url("portal_company_add")).content.decode()
    assert 'name="partner"' in add_page and 'name="slug"' not in add_page
    ends_on = timezone.localdate() + timedelta(days=30)
    response = client.post(
        url("portal_company_add"),
        {
            "partner": personas.partner.pk,
            "name": "  New   Co ",
            "contact_email": "Boss@NewCo.example",
            "evaluation_ends_on": ends_on.isoformat(),
        },
    )
    assert response.status_code == 302
    company = Company.objects.get(name="New Co")
    assert (company.slug, company.contact_email) == ("new-co", "boss@newco.example")
    assert company.evaluation_ends_on == ends_on
    assert [e.company for e in events("company.create")] == [company]
    assert [e.data for e in events("company.evaluation")] == [{"ends_on": ends_on.isoformat()}]


def test_extend_evaluation_by_30_days_emails_each_company_once_and_is_audited(
    clock, personas, login, django_capture_on_commit_callbacks
):
    open_company = personas.company  # open: ends in 30 days
    open_company.evaluation_ends_on = TODAY + timedelta(days=10)
    open_company.save()
    closed = add_company(personas.partner, "Closed Co", evaluation_ends_on=TODAY - timedelta(5))
    never = add_company(personas.partner, "Never Co", contact_email="never@never.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(personas.ops).post(
            url("portal_company_changelist"),
            {
                "action": "extend_evaluation",
                "_selected_action": [open_company.pk, closed.pk, never.pk],
            },
        )
    assert response.status_code == 302
    expected = {
        open_company.pk: TODAY + timedelta(days=40),  # from its current end
        closed.pk: TODAY + timedelta(days=30),  # from today
        never.pk: TODAY + timedelta(days=30),
    }
    assert dict(Company.objects.values_list("pk", "evaluation_ends_on")) | expected == dict(
        Company.objects.values_list("pk", "evaluation_ends_on")
    )
    audited = {e.company_id: e.data["ends_on"] for e in events("company.evaluation")}
    assert audited == {pk: day.isoformat() for pk, day in expected.items()}
    assert all(e.actor == personas.ops for e in events("company.evaluation"))
    assert len(mail.outbox) == 3
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    message = by_recipient[("contact@acme.example",)]
    assert message.cc == ["help@a.example"]
    assert "Acme A: the evaluation is extended" in message.subject
    html = message.alternatives[0][0]
    assert "has been extended" in message.body and "has been extended" in html
    assert ("never@never.example",) in by_recipient


def test_the_extension_is_for_ops_only(personas):
    from django.core.exceptions import PermissionDenied

    from portal import services

    with pytest.raises(PermissionDenied):
        services.company_extend_evaluation(actor=personas.manager, company=personas.company)
    assert events("company.evaluation") == []


def test_companies_filter_by_state(personas, login):
    paid = add_company(personas.partner, "Paid Co")
    add_licence(paid)
    client = login(personas.ops)
    expected = {"paid": "Paid Co", "trial_open": "Acme A", "trial_closed": "Bravo B"}
    for state, name in expected.items():
        response = client.get(url("portal_company_changelist"), {"state": state})
        names = [c.name for c in response.context["cl"].result_list]
        assert names == [name], state
    assert b"Trial (Closed)" in client.get(url("portal_company_changelist")).content


# --- autocomplete -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "field"),
    [
        ("portal_company_add", "partner"),
        ("licensing_license_add", "company"),
        ("domains_microsoft365domain_add", "company"),
        ("domains_interopconfiguration_add", "calling_domain"),
        ("portal_partnermembership_add", "partner"),
    ],
)
def test_admin_picks_related_rows_with_autocomplete_not_raw_ids(personas, login, page, field):
    body = login(personas.ops).get(url(page)).content.decode()
    assert f'name="{field}"' in body
    assert "admin-autocomplete" in body and "vForeignKeyRawIdAdminField" not in body


def test_the_autocomplete_finds_companies_by_name(personas, login):
    response = login(personas.ops).get(
        reverse("admin:autocomplete"),
        {"app_label": "licensing", "model_name": "license", "field_name": "company", "term": "acm"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Acme A"]


# --- licences -----------------------------------------------------------------------------------


def test_deleting_a_licence_whose_seats_are_in_use_is_refused(
    personas, make, closed_company, login
):
    licence = add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 3)
    spare = add_licence(closed_company, LicenceKind.ROOM, 2)
    make.team_vmrs(2, company=closed_company)
    client = login(personas.ops)
    response = client.post(
        url("licensing_license_delete", licence.pk), {"post": "yes"}, follow=True
    )
    assert b"2 are in use" in response.content
    assert License.objects.filter(pk=licence.pk).exists() and events("licence.delete") == []
    response = client.post(url("licensing_license_delete", spare.pk), {"post": "yes"})
    assert response.status_code == 302 and not License.objects.filter(pk=spare.pk).exists()
    [event] = events("licence.delete")
    assert event.actor == personas.ops and event.data == {"kind": "room", "quantity": 2}


def test_a_licence_keeps_its_company(personas, login, closed_company):
    licence = add_licence(closed_company)
    body = login(personas.ops).get(url("licensing_license_change", licence.pk)).content
    assert b'name="company"' not in body


# --- Microsoft 365 domains ----------------------------------------------------------------------


def test_a_microsoft365_name_that_is_no_domain_is_refused(personas, login):
    response = login(personas.ops).post(
        url("domains_microsoft365domain_add"),
        {"company": personas.company.pk, "name": "not a domain!!"},
    )
    assert response.status_code == 200
    assert b"Enter only the domain name" in response.content
    assert not Microsoft365Domain.objects.exists() and events("microsoft365_domain.add") == []


def test_a_microsoft365_domain_is_added_normalised_then_marked_verified(personas, login):
    client = login(personas.ops)
    response = client.post(
        url("domains_microsoft365domain_add"),
        {"company": personas.company.pk, "name": "  Contoso.EXAMPLE "},
    )
    assert response.status_code == 302
    domain = Microsoft365Domain.objects.get()
    assert domain.name == "contoso.example"
    assert events("microsoft365_domain.add")[0].actor == personas.ops
    renamed = client.post(
        url("domains_microsoft365domain_change", domain.pk),
        {"company": personas.company.pk, "name": "other.example"},
    )
    assert renamed.status_code == 403, "a name is never edited"
    client.post(
        url("domains_microsoft365domain_changelist"),
        {"action": "mark_verified", "_selected_action": [domain.pk]},
    )
    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by_ops and domain.name == "contoso.example"


def test_microsoft365_and_calling_domains_are_deleted_through_the_services(personas, login):
    company = personas.company
    m365 = Microsoft365Domain.objects.create(company=company, name="contoso.example")
    domain = CallingDomain.objects.create(company=company, name="pending.example")
    client = login(personas.ops)
    client.post(url("domains_microsoft365domain_delete", m365.pk), {"post": "yes"})
    client.post(url("domains_callingdomain_delete", domain.pk), {"post": "yes"})
    assert not Microsoft365Domain.objects.exists()
    assert not CallingDomain.objects.filter(pk=domain.pk).exists()
    assert len(events("microsoft365_domain.delete")) == 1
    assert len(events("calling_domain.delete")) == 1


def test_a_calling_domain_in_use_or_the_service_domain_is_not_deleted(personas, login, make):
    service_domain = make.team_vmr("room-one").calling_domain
    client = login(personas.ops)
    in_use = client.post(url("domains_callingdomain_delete", service_domain.pk), {"post": "yes"})
    assert b"Cannot delete calling domain" in in_use.content
    Consumer.objects.all().delete()
    response = client.post(
        url("domains_callingdomain_delete", service_domain.pk), {"post": "yes"}, follow=True
    )
    assert b"service domain cannot be deleted" in response.content
    assert CallingDomain.objects.filter(pk=service_domain.pk).exists()
    assert events("calling_domain.delete") == []


def test_an_interop_configuration_is_added_through_the_service(personas, login):
    company = personas.company
    domain = CallingDomain.objects.create(
        company=company, name="video.acme.example", status=DomainStatus.VERIFIED
    )
    response = login(personas.ops).post(
        url("domains_interopconfiguration_add"),
        {
            "company": company.pk,
            "name": " Teams ",
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "calling_domain": domain.pk,
        },
    )
    assert response.status_code == 302
    config = InteropConfiguration.objects.get()
    assert (config.name, config.calling_domain) == ("Teams", domain)
    assert events("interop.create")[0].actor == personas.ops


# --- dial-in numbers ----------------------------------------------------------------------------


def dial_in_form(**changes) -> dict[str, str]:
    return {"country": "GB", "label": "London", "sort_order": "0", "is_active": "on", **changes}


def test_a_dial_in_number_that_is_no_phone_number_is_refused(personas, login):
    response = login(personas.ops).post(
        url("handouts_dialinnumber_add"), dial_in_form(number="call me maybe")
    )
    assert response.status_code == 200
    assert "“call me maybe” is not a valid phone number" in response.content.decode()
    assert not DialInNumber.objects.exists() and events("dial_in_number.create") == []


def test_a_dial_in_number_is_stored_as_e164_and_printed_internationally(personas, login):
    client = login(personas.ops)
    response = client.post(url("handouts_dialinnumber_add"), dial_in_form(number="020 7946 0000"))
    assert response.status_code == 302
    number = DialInNumber.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM handouts_dialinnumber")
        assert cursor.fetchone()[0] == "+442079460000"
    assert number.international == "+44 20 7946 0000"
    [event] = events("dial_in_number.create")
    assert event.actor == personas.ops and event.data == {
        "country": "GB",
        "number": "+442079460000",
    }
    html = handouts.handout_render_html(company=personas.company, sections=["dial_in"])
    assert "+44 20 7946 0000" in html and "+442079460000" not in html
    page = client.get(url("handouts_dialinnumber_change", number.pk)).content.decode()
    assert 'value="+44 20 7946 0000"' in page


def test_a_dial_in_number_is_read_with_its_country(personas, login):
    """A national number means the chosen country's: the same digits differ by country."""
    client = login(personas.ops)
    client.post(url("handouts_dialinnumber_add"), dial_in_form(country="NO", number="21 00 00 00"))
    number = DialInNumber.objects.get()
    assert str(number.number) == "+4721000000"
    client.post(url("handouts_dialinnumber_change", number.pk), dial_in_form(number="garbage"))
    number.refresh_from_db()
    assert str(number.number) == "+4721000000"
    response = client.post(url("handouts_dialinnumber_delete", number.pk), {"post": "yes"})
    assert response.status_code == 302 and not DialInNumber.objects.exists()
    assert len(events("dial_in_number.delete")) == 1


def test_the_migration_stores_numbers_as_e164_and_stops_on_what_is_no_number(db):
    migration = importlib.import_module("handouts.migrations.0002_dial_in_numbers_e164")
    old_apps = MigrationExecutor(connection).loader.project_state(("handouts", "0001_initial")).apps
    Old = old_apps.get_model("handouts", "DialInNumber")
    london = Old.objects.create(country="GB", label="London", number="020 7946 0000")
    oslo = Old.objects.create(country="NO", label="Oslo", number="+47 21 00 00 00")
    migration.to_e164(old_apps, None)
    stored = dict(Old.objects.values_list("pk", "number"))
    assert stored == {london.pk: "+442079460000", oslo.pk: "+4721000000"}
    bad = Old.objects.create(country="DE", label="Berlin", number="call me maybe")
    with pytest.raises(RuntimeError, match=rf"#{bad.pk} .*'call me maybe'"):
        migration.to_e164(old_apps, None)


# --- consumers ----------------------------------------------------------------------------------


def test_a_consumer_deleted_in_admin_goes_through_the_service(personas, login, make):
    room = make.team_vmr("room-one")
    client = login(personas.ops)
    listing = client.get(url("consumers_consumer_changelist"))
    assert b"delete_selected" not in listing.content
    response = client.post(url("consumers_consumer_delete", room.pk), {"post": "yes"})
    assert response.status_code == 302 and not Consumer.objects.exists()
    [event] = events("team_vmr.delete")
    assert event.actor == personas.ops and event.object_id == str(room.public_id)


def test_a_consumer_edit_refused_by_the_service_shows_the_error_on_the_form(personas, login, make):
    make.team_vmr("room-one")
    second = make.team_vmr("room-two")
    response = login(personas.ops).post(
        url("consumers_consumer_change", second.pk),
        {"alias": "room-one", "display_name": "R", "cost_centre": "", "description_tag": ""},
    )
    assert response.status_code == 200 and b"already taken" in response.content
    assert b"was changed successfully" not in response.content
    assert Consumer.objects.get(pk=second.pk).alias == "room-two"


# --- partners and staff -------------------------------------------------------------------------


def test_partners_and_staff_are_saved_through_the_services(personas, login):
    client = login(personas.ops)
    partner = personas.partner
    response = client.post(
        url("portal_partner_change", partner.pk),
        {
            "name": "Partner A Ltd",
            "support_email": "help@a.example",
            "brand_color": "#1f4e79",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert events("partner.update")[0].actor == personas.ops
    response = client.post(
        url("portal_partnermembership_add"),
        {"partner": partner.pk, "email": "New.Manager@a.example", "role": "manager"},
    )
    assert response.status_code == 302
    membership = PartnerMembership.objects.get(user__email="new.manager@a.example")
    assert membership.role == "manager" and events("member.invite")[0].actor == personas.ops
    regular = PartnerMembership.objects.get(user=personas.regular)
    client.post(url("portal_partnermembership_change", regular.pk), {"role": "read_only"})
    regular.refresh_from_db()
    assert regular.role == "read_only"
    assert events("member.role")[0].data == {"from": "regular", "to": "read_only"}
    assert client.get(url("portal_partnermembership_delete", regular.pk)).status_code == 403


# --- records: read-only -------------------------------------------------------------------------


def test_audit_events_cannot_be_added_changed_or_deleted(personas, login):
    client = login(personas.ops)
    client.post(url("portal_company_change", personas.company.pk), company_form(personas.company))
    event = AuditEvent.objects.create(action="company.update", object_type="company", object_id="1")
    listing = client.get(url("portal_auditevent_changelist"))
    assert listing.status_code == 200 and b"delete_selected" not in listing.content
    assert client.get(url("portal_auditevent_change", event.pk)).status_code == 200
    assert (
        client.post(url("portal_auditevent_delete", event.pk), {"post": "yes"}).status_code == 403
    )
    assert client.get(url("portal_auditevent_add")).status_code == 403
    assert client.post(url("portal_auditevent_change", event.pk), {}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.fixture
def records(personas, endpoint):
    batch = BatchJob.objects.create(
        company=personas.company, kind="team_vmr", action="delete", status="running", total=1
    )
    return {
        "consumers_batchjob": batch,
        "consumers_batchitem": BatchItem.objects.create(batch=batch, position=0, label="a@b.c"),
        "handouts_handoutexport": HandoutExport.objects.create(company=personas.company, fmt="pdf"),
        "consumers_callrecord": CallRecord.objects.create(
            consumer=endpoint, started_at=timezone.now(), duration_seconds=60, direction="in"
        ),
    }


def test_job_records_open_for_ops_but_cannot_be_changed(personas, login, records):
    client = login(personas.ops)
    for name, obj in records.items():
        assert client.get(url(f"{name}_changelist")).status_code == 200, name
        page = client.get(url(f"{name}_change", obj.pk))
        assert page.status_code == 200 and b'name="_save"' not in page.content, name
        assert client.post(url(f"{name}_change", obj.pk), {}).status_code == 403, name
        assert client.get(url(f"{name}_add")).status_code == 403, name
        assert client.post(url(f"{name}_delete", obj.pk), {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists(), name


def test_a_batch_links_to_its_items(personas, login, records):
    batch = records["consumers_batchjob"]
    client = login(personas.ops)
    page = client.get(url("consumers_batchjob_change", batch.pk)).content.decode()
    items_url = url("consumers_batchitem_changelist") + f"?batch__id__exact={batch.pk}"
    assert items_url in page.replace("&amp;", "&")
    listing = client.get(items_url)
    assert [i.label for i in listing.context["cl"].result_list] == ["a@b.c"]


def test_a_company_deleted_in_admin_takes_its_records_along(personas, login, records):
    response = login(personas.ops).post(
        url("portal_company_delete", personas.company.pk), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Company.objects.filter(pk=personas.company.pk).exists()
    assert not BatchJob.objects.exists() and not CallRecord.objects.exists()
