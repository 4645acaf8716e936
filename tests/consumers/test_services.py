from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from consumers import services
from consumers.models import Address, Consumer, ConsumerStatus, Invitation
from domains.models import CallingDomain, DomainStatus, VerificationMethod
from licensing.models import LicenceKind
from portal.models import AuditEvent
from tests.conftest import add_company, add_licence


def test_each_kind_is_created_on_the_default_service_subdomain(make, paid_company):
    user = make.user("Ann.Example", company=paid_company, email="Ann@Example.COM")
    room = make.team_vmr("boardroom", company=paid_company, host_pin="1234", guest_pin="5678")
    endpoint = make.endpoint("lobby-screen", company=paid_company)
    assert user.address == "ann.example@acme-a.onpexip.com"
    assert user.vmr_address == "ann.example.vmr@acme-a.onpexip.com"
    assert (user.status, user.is_trial) == (ConsumerStatus.INVITED, False)
    assert user.invitation.email == "Ann@example.com"
    assert len(user.invitation.token_hash) == 64
    assert (room.status, room.team_vmr.host_pin) == (ConsumerStatus.ACTIVE, "1234")
    assert endpoint.endpoint.usage_model == "shared"
    domain = CallingDomain.objects.get(name="acme-a.onpexip.com")
    assert domain.company == paid_company and domain.status == DomainStatus.VERIFIED
    assert domain.verification_method == VerificationMethod.SERVICE_DOMAIN
    assert set(Address.objects.values_list("address", flat=True)) == {
        "ann.example@acme-a.onpexip.com",
        "ann.example.vmr@acme-a.onpexip.com",
        "boardroom@acme-a.onpexip.com",
        "lobby-screen@acme-a.onpexip.com",
    }
    actions = set(AuditEvent.objects.filter(company=paid_company).values_list("action", flat=True))
    assert {"user.invite", "team_vmr.create", "endpoint.create"} <= actions


def test_audit_events_hold_no_invitee_personal_data(make, paid_company):
    make.user(
        "secret.person",
        company=paid_company,
        email="secret.person@example.com",
        full_name="Secret Person",
    )
    for event in AuditEvent.objects.all():
        text = f"{event.action} {event.object_id} {event.data}"
        assert "secret" not in text.lower()


def test_addresses_are_unique_across_the_service_including_vmr(make, paid_company):
    make.user("bobby.b", company=paid_company)
    with pytest.raises(ValidationError, match="already taken"):
        make.team_vmr("bobby.b", company=paid_company)
    with pytest.raises(ValidationError, match="bobby.b.vmr@.* taken as a user's personal VMR"):
        make.team_vmr("bobby.b.vmr", company=paid_company)
    # a user whose personal VMR address is taken cannot be created
    make.team_vmr("carol1.vmr", company=paid_company)
    with pytest.raises(ValidationError, match="personal VMR address carol1.vmr@"):
        make.user("carol1", company=paid_company)
    assert Consumer.objects.count() == 2


def test_the_database_refuses_a_duplicate_address_on_its_own(make, paid_company):
    room = make.team_vmr("unique-room", company=paid_company)
    other = Consumer.objects.create(
        company=paid_company, kind="team_vmr", alias="other-room", domain=room.domain
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(address=room.address, consumer=other, purpose="primary")


def test_licence_seats_then_refusal_without_evaluation(make, paid_company):
    make.team_vmrs(3, company=paid_company)
    with pytest.raises(ValidationError, match="all 3 Enterprise User seats are in use"):
        make.user("dave.d", company=paid_company)
    assert Consumer.objects.filter(company=paid_company).count() == 3
    assert not Invitation.objects.exists()
    # Endpoints draw on room seats, not enterprise seats.
    make.endpoint("ep-0001", company=paid_company)


def test_enterprise_wide_is_unlimited_for_users_and_team_vmrs(make, closed_company):
    add_licence(closed_company, LicenceKind.ENTERPRISE_WIDE, None)
    make.team_vmrs(5, prefix="wide", company=closed_company)
    with pytest.raises(ValidationError, match="no active Room licence"):
        make.endpoint("ep-0001", company=closed_company)


def test_open_evaluation_gives_trial_consumers(personas, make):
    company = personas.company  # evaluation open, no licence
    assert make.team_vmr("trial-room").is_trial
    add_licence(company, LicenceKind.ENTERPRISE_USER, 1)
    assert not make.team_vmr("paid-room").is_trial, "a free licence seat is used before a trial"
    assert make.team_vmr("third-room").is_trial


def test_delete_frees_the_seat_and_the_address(personas, make, paid_company):
    rooms = make.team_vmrs(3, company=paid_company)
    services.consumer_delete(actor=personas.regular, consumer=rooms[0])
    again = make.team_vmr(rooms[0].alias, company=paid_company, display_name="R again")
    assert again.address == rooms[0].address


def test_activate_needs_a_seat_or_open_evaluation(personas, make, paid_company):
    room = make.team_vmr("room-aaa", company=paid_company)
    services.consumer_deactivate(actor=personas.regular, consumer=room)
    make.team_vmrs(3, prefix="fill", company=paid_company)
    room.refresh_from_db()
    with pytest.raises(ValidationError, match="Cannot reactivate room-aaa@acme-a.onpexip.com"):
        services.consumer_activate(actor=personas.regular, consumer=room)
    room.refresh_from_db()
    assert room.status == ConsumerStatus.INACTIVE

    paid_company.evaluation_ends_on = timezone.localdate() + timedelta(
        days=5
    )  # ops extended a trial
    paid_company.save()
    room = services.consumer_activate(actor=personas.regular, consumer=room)
    assert (room.status, room.is_trial) == (ConsumerStatus.ACTIVE, True)
    with pytest.raises(ValidationError, match="already active"):
        services.consumer_activate(actor=personas.regular, consumer=room)


def test_activating_an_invited_user_brings_back_the_invitation(personas, make, paid_company):
    user = make.user("user.one", company=paid_company)
    services.consumer_deactivate(actor=personas.regular, consumer=user)
    user = services.consumer_activate(actor=personas.regular, consumer=user)
    assert user.status == ConsumerStatus.INVITED


def test_edit_changes_alias_but_never_the_domain(personas, make, paid_company):
    user = make.user("old.alias", company=paid_company)
    user = services.consumer_update(
        actor=personas.regular,
        consumer=user,
        alias="New.Alias",
        cost_centre="CC-1",
        description_tag="sales",
    )
    assert user.address == "new.alias@acme-a.onpexip.com"
    assert set(Address.objects.filter(consumer=user).values_list("address", flat=True)) == {
        "new.alias@acme-a.onpexip.com",
        "new.alias.vmr@acme-a.onpexip.com",
    }
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.consumer_update(actor=personas.regular, consumer=user, domain="other.example")
    with pytest.raises(ValidationError) as info:
        services.consumer_update(actor=personas.regular, consumer=user, alias="no")
    assert "alias" in info.value.error_dict


def test_team_vmr_pins_are_validated(make, paid_company):
    with pytest.raises(ValidationError) as info:
        make.team_vmr("pin-room", company=paid_company, host_pin="12a4")
    assert "host_pin" in info.value.error_dict
    with pytest.raises(ValidationError, match="differ"):
        make.team_vmr("pin-room", company=paid_company, host_pin="1234", guest_pin="1234")
    assert not Consumer.objects.exists()


def test_services_refuse_read_only_and_other_partners(personas, make, paid_company):
    room = make.team_vmr("mine-room", company=paid_company)
    for actor in (personas.read_only, personas.other_manager):
        with pytest.raises(PermissionDenied):
            services.team_vmr_create(
                actor=actor, company=paid_company, alias="nope-room", display_name="N"
            )
        with pytest.raises(PermissionDenied):
            services.user_invite(
                actor=actor,
                company=paid_company,
                email="n@x.example",
                full_name="N",
                alias="nope.user",
            )
        with pytest.raises(PermissionDenied):
            services.consumer_delete(actor=actor, consumer=room)
        with pytest.raises(PermissionDenied):
            services.consumer_update(actor=actor, consumer=room, display_name="Hacked")
    assert Consumer.objects.count() == 1
    room.refresh_from_db()
    assert room.display_name == "R"


def test_ops_staff_may_act_for_any_partner(personas, make, paid_company):
    room = make.team_vmr("ops-room", company=paid_company, actor=personas.ops)
    assert room.company == paid_company


def test_the_gate_refuses_pending_and_foreign_domains(personas, make, paid_company):
    CallingDomain.objects.create(company=paid_company, name="pending.example")
    with pytest.raises(ValidationError, match="not verified yet"):
        make.user("pat", company=paid_company, domain="pending.example")
    CallingDomain.objects.create(
        company=personas.other_company,
        name="theirs.example",
        status=DomainStatus.VERIFIED,
        verification_method=VerificationMethod.DNS_TXT,
    )
    with pytest.raises(ValidationError, match="not one of this company's calling domains"):
        make.team_vmr("room-x", company=paid_company, domain="theirs.example")
    assert not Consumer.objects.exists()


def test_short_aliases_are_allowed_on_a_verified_hosted_domain(make, paid_company):
    CallingDomain.objects.create(
        company=paid_company,
        name="acme.example",
        status=DomainStatus.VERIFIED,
        verification_method=VerificationMethod.DNS_TXT,
    )
    room = make.team_vmr("Ab", company=paid_company, domain="ACME.example.")
    assert room.address == "ab@acme.example"
    with pytest.raises(ValidationError, match="at least 6"):
        make.team_vmr("ab", company=paid_company)


def test_plain_created_objects_work_with_services(personas, make):
    company = add_company(personas.partner, "Plain Co", evaluation_ends_on=timezone.localdate())
    room = make.team_vmr("plainroom", company=company, actor=personas.manager)
    assert room.domain == "plain-co.onpexip.com" and room.is_trial


def test_the_set_based_delete_knows_every_relation_to_consumer():
    """delete_consumer_rows deletes related rows by hand (set-based): a new relation must be
    added to CONSUMER_RELATIONS, with what deleting a consumer does to it."""
    from django.db import models as dj_models

    from consumers.models import Consumer
    from consumers.services.deletion import CONSUMER_RELATIONS

    expected = set()
    relations = [
        f
        for f in Consumer._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]
    for rel in relations:
        if rel.on_delete is dj_models.DO_NOTHING:
            # A plain reference (no constraint) that outlives the consumer on purpose.
            assert not rel.field.db_constraint, rel
            continue
        kind = "set_null" if rel.on_delete is dj_models.SET_NULL else "delete"
        assert rel.on_delete in (dj_models.SET_NULL, dj_models.CASCADE), rel
        expected.add((rel.related_model._meta.db_table, rel.field.column, kind))
    assert {(t, c, k) for t, c, k, _kinds in CONSUMER_RELATIONS} == expected
    assert all(kinds for *_rest, kinds in CONSUMER_RELATIONS)


def test_deleting_consumers_takes_their_rows(personas, make, paid_company):
    from django.db import connection

    from consumers.models import CallRecord, EndpointSettings, TeamVmrSettings

    user = make.user("user.one", company=paid_company)
    room = make.team_vmr("room-one", company=paid_company)
    ep = make.endpoint("ep-one1", company=paid_company)
    EndpointSettings.objects.filter(consumer=ep).update(personal_user=user)
    CallRecord.objects.create(consumer=ep, started_at=timezone.now(), direction="in")
    services.consumer_delete(actor=personas.regular, consumer=user)
    assert EndpointSettings.objects.get(consumer=ep).personal_user is None
    assert not Invitation.objects.exists()
    services.consumers_delete(
        actor=personas.regular, company=paid_company, consumer_ids=[room.pk, ep.pk]
    )
    assert not Consumer.objects.exists() and not Address.objects.exists()
    assert not (
        CallRecord.objects.exists()
        or TeamVmrSettings.objects.exists()
        or EndpointSettings.objects.exists()
    )
    assert AuditEvent.objects.filter(action__endswith=".delete").count() == 3
    # The foreign keys are checked at commit: check them now, so that a relation
    # delete_consumer_rows skipped for a kind of consumer fails here.
    connection.check_constraints()
