"""Each product rule gives the same answer on every path that reaches it (docs/ARCHITECTURE.md:
rule -> the one function -> these tests), and the defects found when the rules had copies stay
fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consumers import services as consumer_services
from consumers.models import (
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    Invitation,
    TeamVmrSettings,
)
from consumers.seats import family_kinds, release_trials, seats_used
from consumers.services import bulk
from consumers.services.batch import batch_preview
from domains import records
from domains import services as domain_services
from domains.models import CallingDomain, DomainStatus, Microsoft365Domain, VerificationMethod
from handouts import services as handout_services
from handouts.models import HandoutExport
from licensing.models import LicenceKind, License
from licensing.services import licence_save
from portal import services as portal_services
from portal.models import Company, CompanyState
from tests.conftest import add_licence, requires_postgres

SHORT = "abc"  # under the six characters the service's shared domains need


def hosted_domain(company: Company, name: str, status: str = DomainStatus.VERIFIED):
    return CallingDomain.objects.create(
        company=company,
        name=name,
        status=status,
        verification_method=VerificationMethod.DNS_TXT if status == DomainStatus.VERIFIED else None,
    )


def reactivation_preview(personas, company: Company, consumer: Consumer):
    """The batch tool's preview of reactivating one Team VMR."""
    return batch_preview(
        actor=personas.regular,
        company=company,
        kind=ConsumerKind.TEAM_VMR,
        action="reactivate",
        consumer_ids=[str(consumer.public_id)],
    )


def invite_form(client, company, **fields):
    data = {"full_name": "Ann One", "email": "ann@x.example", "alias": SHORT, **fields}
    data.setdefault("domain", company.service_domain)
    return client.post(reverse("consumers:user_invite", args=[company.public_id]), data)


def csv_plan(company, line: str) -> bulk.BulkPlan:
    return bulk.bulk_invite_plan(company=company, rows=bulk.parse_invite_csv(line))


# --- the alias rules, and "is the address on a hosted domain" -----------------------------------


def test_alias_rule_on_the_service_domain_is_the_same_on_every_path(personas, login, make):
    company = personas.company
    client = login(personas.regular)
    response = invite_form(client, company)
    assert b"at least 6 characters" in response.content, "web form"
    with pytest.raises(ValidationError, match="at least 6 characters"):
        make.user(SHORT, company=company)
    plan = csv_plan(company, f"Ann One,ann@x.example,{SHORT}")
    assert "at least 6 characters" in plan.rows[0].errors[0], "CSV import"
    assert not Consumer.objects.exists()


def test_alias_rule_on_a_hosted_domain_is_the_same_on_every_path(personas, login):
    company = personas.company
    hosted_domain(company, "acme.example")
    client = login(personas.regular)
    invite_form(client, company, domain="acme.example", email="one@x.example")
    assert Consumer.objects.filter(alias=SHORT, domain="acme.example").exists(), "web form"
    plan = csv_plan(company, "Ben Two,ben@x.example,bob,acme.example")
    assert plan.ok, "CSV import accepts a short alias on the hosted domain"


def test_a_plainly_created_consumer_on_the_service_domain_keeps_the_minimum_on_edit(
    personas, login
):
    """Regression: the hosted input fell back to "hosted" when a consumer had no calling
    domain row, so it could be renamed below six characters (service and admin alike)."""
    company = personas.company
    consumer = Consumer.objects.create(
        company=company,
        kind=ConsumerKind.TEAM_VMR,
        alias="long-enough",
        domain=company.service_domain,
    )
    with pytest.raises(ValidationError, match="at least 6 characters"):
        consumer_services.consumer_update(actor=personas.regular, consumer=consumer, alias=SHORT)
    admin = login(personas.ops)
    response = admin.post(
        reverse("admin:consumers_consumer_change", args=[consumer.pk]),
        {"alias": SHORT, "display_name": "", "cost_centre": "", "description_tag": ""},
    )
    assert b"at least 6 characters" in response.content
    consumer.refresh_from_db()
    assert consumer.alias == "long-enough"


def test_an_address_kept_as_it_is_is_not_checked_again(personas, login):
    """A consumer made outside the services with an alias that the rules now refuse can still
    be edited: only a new alias is checked."""
    company = personas.company
    consumer = Consumer.objects.create(
        company=company, kind=ConsumerKind.TEAM_VMR, alias="bob", domain=company.service_domain
    )
    response = login(personas.regular).post(
        reverse("consumers:consumer_edit", args=[company.public_id, consumer.public_id]),
        {"alias": "bob", "display_name": "Bob's room"},
    )
    assert response.status_code == 302
    assert Consumer.objects.get(pk=consumer.pk).display_name == "Bob's room"


def test_renaming_to_a_taken_address_is_a_message_not_a_server_error(personas, login, make):
    first = make.team_vmr("room-one")
    second = make.team_vmr("room-two")
    with pytest.raises(ValidationError, match="already taken"):
        consumer_services.consumer_update(actor=personas.regular, consumer=second, alias="room-one")
    company = personas.company
    response = login(personas.regular).post(
        reverse("consumers:consumer_edit", args=[company.public_id, second.public_id]),
        {"alias": "room-one", "display_name": "R"},
    )
    assert response.status_code == 200 and b"already taken" in response.content
    assert {first.alias, Consumer.objects.get(pk=second.pk).alias} == {"room-one", "room-two"}


def test_team_vmr_pins_are_validated_before_anything_is_written(personas, make):
    """Regression: consumer_update saved the consumer before it checked the PINs."""
    vmr = make.team_vmr("room-one", company=personas.company, display_name="Room")
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError, match="PIN"):
        consumer_services.consumer_update(
            actor=personas.regular, consumer=vmr, alias="room-renamed", host_pin="12"
        )
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"UPDATE", "INSERT", "DELETE"}]
    assert writes == []
    assert Consumer.objects.get(pk=vmr.pk).alias == "room-one"
    assert TeamVmrSettings.objects.get(consumer=vmr).host_pin == ""


# --- a calling domain must be verified before anything uses it ----------------------------------


def test_an_unverified_domain_is_refused_on_every_path(personas, login, make):
    company = personas.company
    pending = hosted_domain(company, "pending.example", status=DomainStatus.PENDING)
    client = login(personas.regular)
    response = invite_form(client, company, alias="ann.one", domain="pending.example")
    assert response.status_code == 200 and not Consumer.objects.exists(), "not offered in the form"
    with pytest.raises(ValidationError, match="not verified yet"):
        make.user("ann.one", domain="pending.example")
    plan = csv_plan(company, "Ann One,ann@x.example,ann.one,pending.example")
    assert "not verified yet" in plan.rows[0].errors[0], "CSV import"
    with pytest.raises(ValidationError, match="not verified yet"):
        domain_services.interop_configuration_create(
            actor=personas.regular,
            company=company,
            name="Teams",
            tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
            calling_domain="pending.example",
        )
    admin = login(personas.ops).post(
        reverse("admin:domains_interopconfiguration_add"),
        {
            "company": company.pk,
            "kind": "microsoft_teams",
            "name": "Teams",
            "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "calling_domain": pending.pk,
        },
    )
    assert b"not verified yet" in admin.content, "Django admin"
    assert_reactivation_refused_on_unverified(personas, pending)


def assert_reactivation_refused_on_unverified(personas, pending: CallingDomain) -> None:
    consumer = Consumer.objects.create(
        company=personas.company,
        kind=ConsumerKind.TEAM_VMR,
        alias="old-room",
        domain=pending.name,
        calling_domain=pending,
        status=ConsumerStatus.INACTIVE,
    )
    batch = batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind=ConsumerKind.TEAM_VMR,
        action="reactivate",
        consumer_ids=[str(consumer.public_id)],
    )
    assert batch.items.get().message == "domain not verified", "batch preview"
    with pytest.raises(ValidationError, match="is not verified"):
        consumer_services.consumer_activate(actor=personas.regular, consumer=consumer)


def test_the_dns_panel_and_verify_agree(personas, dns_server):
    domain = domain_services.calling_domain_add(
        actor=personas.regular, company=personas.company, name="proof.example"
    )
    txt_row = next(c for c in records.check_records(domain) if c.record.rtype == "TXT")
    assert txt_row.state == "missing"
    assert not domain_services.calling_domain_verify(
        actor=personas.regular, calling_domain=domain
    ).is_verified
    dns_server.add_txt("proof.example", f"pexip-verification={domain.verification_token}")
    txt_row = next(c for c in records.check_records(domain) if c.record.rtype == "TXT")
    assert txt_row.state == "ok"
    assert domain_services.calling_domain_verify(
        actor=personas.regular, calling_domain=domain
    ).is_verified


# --- seats --------------------------------------------------------------------------------------


def test_seat_allocation_refuses_the_same_on_every_path(personas, login, make, full_company):
    company, sleeper = full_company
    form = login(personas.regular).get(reverse("consumers:user_invite", args=[company.public_id]))
    assert b"Cannot add: all 1 Enterprise User seats are in use" in form.content
    with pytest.raises(ValidationError, match="Cannot add"):
        make.user("ann.one", company=company)
    plan = csv_plan(company, "Ann One,ann@x.example,ann.one")
    assert "need 1 Enterprise User seat but only 0 are free" in plan.problems[0]
    batch = reactivation_preview(personas, company, sleeper)
    assert batch.items.get().message == "no licence seat left for 1 of 1"
    with pytest.raises(ValidationError, match="Cannot reactivate sleeping-room@"):
        consumer_services.consumer_activate(actor=personas.regular, consumer=sleeper)


def test_seat_allocation_in_a_batch_run_matches_its_preview(personas, make, closed_company):
    """Two free seats, three inactive consumers of the family: the run reactivates the first
    two and refuses the third with the refusal, as the preview said."""
    company = closed_company
    add_licence(company, LicenceKind.ENTERPRISE_USER, 2)
    sleepers = [
        Consumer.objects.create(
            company=company,
            kind=ConsumerKind.TEAM_VMR,
            alias=f"sleeping-{i}",
            domain=company.service_domain,
            status=ConsumerStatus.INACTIVE,
        )
        for i in range(3)
    ]
    batch = batch_preview(
        actor=personas.regular,
        company=company,
        kind=ConsumerKind.TEAM_VMR,
        action="reactivate",
        consumer_ids=[str(c.public_id) for c in sleepers],
    )
    planned = [item.will_run for item in batch.items.order_by("position")]
    assert planned == [True, True, False]
    activated, failures = consumer_services.consumers_activate(
        actor=personas.regular, company=company, consumer_ids=[c.pk for c in sleepers]
    )
    assert [c.pk in activated for c in sleepers] == planned
    assert failures[sleepers[2].pk].startswith(
        f"Cannot reactivate {sleepers[2].address}: all 2 Enterprise User seats"
    )


def test_seat_allocation_makes_trials_the_same_on_every_path(personas, login, make, full_company):
    company, sleeper = full_company
    company.evaluation_ends_on = timezone.localdate()  # open, its last day
    company.save()
    form = login(personas.regular).get(reverse("consumers:user_invite", args=[company.public_id]))
    assert b"Trial until" in form.content
    plan = csv_plan(company, "Ann One,ann@x.example,ann.one")
    assert plan.ok and plan.trial_count == 1
    batch = reactivation_preview(personas, company, sleeper)
    assert batch.items.get().message.startswith("will be reactivated as a trial until")
    assert consumer_services.consumer_activate(actor=personas.regular, consumer=sleeper).is_trial
    assert make.user("ann.one").is_trial


def test_users_and_team_vmrs_share_enterprise_seats_and_endpoints_use_rooms(
    personas, make, closed_company
):
    company = closed_company
    add_licence(company, LicenceKind.ENTERPRISE_USER, 1)
    add_licence(company, LicenceKind.ROOM, 1)
    make.team_vmr("room-one", company=company, display_name="R")
    with pytest.raises(ValidationError, match="Enterprise User seats are in use"):
        make.user("ann.one", company=company)
    endpoint = consumer_services.endpoint_create(
        actor=personas.regular, company=company, alias="screen-one", display_name="E"
    )
    assert not endpoint.is_trial


@pytest.mark.parametrize("status", ConsumerStatus.values)
@pytest.mark.parametrize("is_trial", [False, True])
def test_holding_a_seat_is_the_same_for_one_consumer_and_in_sql(personas, status, is_trial):
    consumer = Consumer.objects.create(
        company=personas.company,
        kind=ConsumerKind.USER,
        alias="someone",
        domain=personas.company.service_domain,
        status=status,
        is_trial=is_trial,
    )
    assert consumer.holds_seat == Consumer.objects.holding_seats().filter(pk=consumer.pk).exists()
    assert consumer.holds_seat == (status != ConsumerStatus.INACTIVE and not is_trial)


def test_the_seat_count_is_answered_by_the_seat_index_alone(personas, make):
    """The seat counts (every list page's Add button, every add) can be answered from the
    partial index of the consumers holding a seat alone: the index's condition is the
    holding-seats rule and the count reads only its columns, so a change to either without the
    other shows here. (Which plan PostgreSQL picks on a large table is the bench's to show.)"""
    requires_postgres()
    make.user("ann.one")
    make.endpoint("screen-one")
    company = personas.company
    with CaptureQueriesContext(connection) as queries:
        used = seats_used(company=company)
    assert used == {
        family: Consumer.objects.holding_seats()
        .filter(company=company, kind__in=family_kinds(family))
        .count()
        for family in used
    }
    (count,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table of 2 rows is read whole
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {count['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using consumer_seats_idx" in plan, plan


# --- evaluation, licence periods, company state -------------------------------------------------


@pytest.mark.parametrize(
    ("ends_in_days", "open_"), [(1, True), (0, True), (-1, False), (None, False)]
)
def test_evaluation_open_is_the_same_everywhere(personas, ends_in_days, open_):
    today = timezone.localdate()
    company = personas.company
    company.evaluation_ends_on = None if ends_in_days is None else today + timedelta(ends_in_days)
    company.save()
    trial = Consumer.objects.create(
        company=company,
        kind=ConsumerKind.USER,
        alias="trial-one",
        domain="x.example",
        status=ConsumerStatus.ACTIVE,
        is_trial=True,
    )
    expected_state = CompanyState.TRIAL_OPEN if open_ else CompanyState.TRIAL_CLOSED
    assert company.evaluation_open_on(today) is open_
    assert Company.objects.get(pk=company.pk).state == expected_state, "Python"
    assert Company.objects.with_state(today).get(pk=company.pk).state == expected_state, "SQL"
    release_trials(today=today)
    trial.refresh_from_db()
    assert (trial.status == ConsumerStatus.ACTIVE) is open_, "the expiry job"


@pytest.mark.parametrize(
    ("starts", "ends", "active"), [(0, 0, True), (1, 5, False), (-5, -1, False)]
)
def test_a_licence_period_is_active_the_same_in_python_and_sql(personas, starts, ends, active):
    today = timezone.localdate()
    licence = add_licence(
        personas.company, starts_on=today + timedelta(starts), ends_on=today + timedelta(ends)
    )
    assert licence.is_active(today) is active
    assert License.objects.active_on(today).filter(pk=licence.pk).exists() is active
    state = Company.objects.with_state(today).get(pk=personas.company.pk).state
    assert (state == CompanyState.PAID) is active


def test_the_invitation_schedule_is_the_same_for_one_invitation_and_in_sql(personas, make):
    sent = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    make.user("ann.one", company=personas.company)
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=sent)
    invitation.refresh_from_db()
    first = invitation.next_resend_at()
    assert first == sent + timedelta(days=10)
    due = Invitation.objects.pending().resend_due
    assert not due(first - timedelta(seconds=1)).exists()
    assert due(first).exists()
    purge_at = invitation.purge_at()
    assert purge_at == sent + timedelta(days=60)
    assert not Invitation.objects.purge_due(purge_at - timedelta(seconds=1)).exists()
    assert Invitation.objects.purge_due(purge_at).exists()


# --- who may do what ----------------------------------------------------------------------------


def test_a_deactivated_ops_account_can_do_nothing_ops_can(personas):
    """Regression: the ops-only services checked is_staff but not is_active."""
    ops = personas.ops
    company = personas.company
    m365 = Microsoft365Domain.objects.create(company=company, name="tenant.example")
    ops.is_active = False
    ops.save()
    licence = License(
        company=company,
        kind=LicenceKind.ROOM,
        quantity=1,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
    )
    with pytest.raises(PermissionDenied):
        licence_save(actor=ops, licence=licence)
    with pytest.raises(PermissionDenied):
        portal_services.company_set_evaluation(actor=ops, company=company, ends_on=None)
    with pytest.raises(PermissionDenied):
        domain_services.microsoft365_domain_mark_verified(actor=ops, microsoft365_domain=m365)
    assert not License.objects.exists()
    m365.refresh_from_db()
    assert not m365.is_verified
    ops.is_active = True
    ops.save()
    domain_services.microsoft365_domain_mark_verified(actor=ops, microsoft365_domain=m365)
    assert Microsoft365Domain.objects.get(pk=m365.pk).is_verified


def test_a_handout_export_refuses_another_partners_actor(personas):
    """Regression: handout_export_start checked neither the actor's partner nor role."""
    options = handout_services.HandoutOptions()
    with pytest.raises(PermissionDenied):
        handout_services.handout_export_start(
            actor=personas.other_manager, company=personas.company, fmt="pdf", options=options
        )
    with pytest.raises(PermissionDenied):
        handout_services.handout_request(
            actor=None, company=personas.company, fmt="html", options=options
        )
    assert not HandoutExport.objects.exists()
    export = handout_services.handout_export_start(
        actor=personas.read_only, company=personas.company, fmt="pdf", options=options
    )
    assert export.company == personas.company, "every role of the partner may export"
