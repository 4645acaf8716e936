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
from portal.models import AuditEvent, Company
from tests.conftest import add_licence


@pytest.fixture
def paid(personas):
    """Partner A's company with 3 Enterprise User seats and 2 Room seats, evaluation closed."""
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 3)
    add_licence(company, LicenceKind.ROOM, 2)
    return company


def test_each_kind_is_created_on_the_default_service_subdomain(personas, paid):
    user = services.user_invite(
        actor=personas.regular,
        company=paid,
        email="Ann@Example.COM",
        full_name="Ann Example",
        alias="Ann.Example",
    )
    room = services.team_vmr_create(
        actor=personas.regular,
        company=paid,
        alias="boardroom",
        display_name="Board room",
        host_pin="1234",
        guest_pin="5678",
    )
    endpoint = services.endpoint_create(
        actor=personas.regular, company=paid, alias="lobby-screen", display_name="Lobby"
    )
    assert user.address == "ann.example@acme-a.onpexip.com"
    assert user.vmr_address == "ann.example.vmr@acme-a.onpexip.com"
    assert (user.status, user.is_trial) == (ConsumerStatus.INVITED, False)
    assert user.invitation.email == "Ann@example.com"
    assert len(user.invitation.token_hash) == 64
    assert (room.status, room.team_vmr.host_pin) == (ConsumerStatus.ACTIVE, "1234")
    assert endpoint.endpoint.usage_model == "shared"
    domain = CallingDomain.objects.get(name="acme-a.onpexip.com")
    assert domain.company == paid and domain.status == DomainStatus.VERIFIED
    assert domain.verification_method == VerificationMethod.SERVICE_DOMAIN
    assert set(Address.objects.values_list("address", flat=True)) == {
        "ann.example@acme-a.onpexip.com",
        "ann.example.vmr@acme-a.onpexip.com",
        "boardroom@acme-a.onpexip.com",
        "lobby-screen@acme-a.onpexip.com",
    }
    actions = set(AuditEvent.objects.filter(company=paid).values_list("action", flat=True))
    assert {"user.invite", "team_vmr.create", "endpoint.create"} <= actions


def test_audit_events_hold_no_invitee_personal_data(personas, paid):
    services.user_invite(
        actor=personas.regular,
        company=paid,
        email="secret.person@example.com",
        full_name="Secret Person",
        alias="secret.person",
    )
    for event in AuditEvent.objects.all():
        text = f"{event.action} {event.object_id} {event.data}"
        assert "secret" not in text.lower()


def test_addresses_are_unique_across_the_service_including_vmr(personas, paid):
    services.user_invite(
        actor=personas.regular,
        company=paid,
        email="bob@x.example",
        full_name="Bob",
        alias="bobby.b",
    )
    with pytest.raises(ValidationError, match="already taken"):
        services.team_vmr_create(
            actor=personas.regular, company=paid, alias="bobby.b", display_name="Clash"
        )
    with pytest.raises(ValidationError, match="bobby.b.vmr@.* taken as a user's personal VMR"):
        services.team_vmr_create(
            actor=personas.regular, company=paid, alias="bobby.b.vmr", display_name="Clash"
        )
    # a user whose personal VMR address is taken cannot be created
    services.team_vmr_create(
        actor=personas.regular, company=paid, alias="carol1.vmr", display_name="Room"
    )
    with pytest.raises(ValidationError, match="personal VMR address carol1.vmr@"):
        services.user_invite(
            actor=personas.regular,
            company=paid,
            email="c@x.example",
            full_name="Carol",
            alias="carol1",
        )
    assert Consumer.objects.count() == 2


def test_the_database_refuses_a_duplicate_address_on_its_own(personas, paid):
    room = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="unique-room", display_name="Room"
    )
    other = Consumer.objects.create(
        company=paid, kind="team_vmr", alias="other-room", domain=room.domain
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(address=room.address, consumer=other, purpose="primary")


def test_licence_seats_then_refusal_without_evaluation(personas, paid):
    for i in range(3):
        services.team_vmr_create(
            actor=personas.regular, company=paid, alias=f"room-{i:03}", display_name="R"
        )
    with pytest.raises(ValidationError, match="all 3 Enterprise User seats are in use"):
        services.user_invite(
            actor=personas.regular, company=paid, email="d@x.example", full_name="D", alias="dave.d"
        )
    assert Consumer.objects.filter(company=paid).count() == 3
    assert not Invitation.objects.exists()
    # Endpoints draw on room seats, not enterprise seats.
    services.endpoint_create(
        actor=personas.regular, company=paid, alias="ep-0001", display_name="E"
    )


def test_enterprise_wide_is_unlimited_for_users_and_team_vmrs(personas):
    company = personas.company
    company.evaluation_ends_on = None
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_WIDE, None)
    for i in range(5):
        services.team_vmr_create(
            actor=personas.regular, company=company, alias=f"wide-{i:03}", display_name="W"
        )
    with pytest.raises(ValidationError, match="no active Room licence"):
        services.endpoint_create(
            actor=personas.regular, company=company, alias="ep-0001", display_name="E"
        )


def test_open_evaluation_gives_trial_consumers(personas):
    company = personas.company  # evaluation open, no licence
    room = services.team_vmr_create(
        actor=personas.regular, company=company, alias="trial-room", display_name="T"
    )
    assert room.is_trial
    add_licence(company, LicenceKind.ENTERPRISE_USER, 1)
    paid_room = services.team_vmr_create(
        actor=personas.regular, company=company, alias="paid-room", display_name="P"
    )
    assert not paid_room.is_trial, "a free licence seat is used before a trial"
    third = services.team_vmr_create(
        actor=personas.regular, company=company, alias="third-room", display_name="T"
    )
    assert third.is_trial


def test_delete_frees_the_seat_and_the_address(personas, paid):
    rooms = [
        services.team_vmr_create(
            actor=personas.regular, company=paid, alias=f"room-{i:03}", display_name="R"
        )
        for i in range(3)
    ]
    services.consumer_delete(actor=personas.regular, consumer=rooms[0])
    again = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="room-000", display_name="R again"
    )
    assert again.address == rooms[0].address


def test_activate_needs_a_seat_or_open_evaluation(personas, paid):
    room = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="room-aaa", display_name="R"
    )
    services.consumer_deactivate(actor=personas.regular, consumer=room)
    for i in range(3):
        services.team_vmr_create(
            actor=personas.regular, company=paid, alias=f"fill-{i:03}", display_name="F"
        )
    room.refresh_from_db()
    with pytest.raises(ValidationError, match="Cannot add"):
        services.consumer_activate(actor=personas.regular, consumer=room)
    room.refresh_from_db()
    assert room.status == ConsumerStatus.INACTIVE

    paid.evaluation_ends_on = timezone.localdate() + timedelta(days=5)  # ops extended a trial
    paid.save()
    room = services.consumer_activate(actor=personas.regular, consumer=room)
    assert (room.status, room.is_trial) == (ConsumerStatus.ACTIVE, True)
    with pytest.raises(ValidationError, match="already active"):
        services.consumer_activate(actor=personas.regular, consumer=room)


def test_activating_an_invited_user_brings_back_the_invitation(personas, paid):
    user = services.user_invite(
        actor=personas.regular, company=paid, email="u@x.example", full_name="U", alias="user.one"
    )
    services.consumer_deactivate(actor=personas.regular, consumer=user)
    user = services.consumer_activate(actor=personas.regular, consumer=user)
    assert user.status == ConsumerStatus.INVITED


def test_edit_changes_alias_but_never_the_domain(personas, paid):
    user = services.user_invite(
        actor=personas.regular, company=paid, email="u@x.example", full_name="U", alias="old.alias"
    )
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


def test_team_vmr_pins_are_validated(personas, paid):
    with pytest.raises(ValidationError) as info:
        services.team_vmr_create(
            actor=personas.regular,
            company=paid,
            alias="pin-room",
            display_name="P",
            host_pin="12a4",
        )
    assert "host_pin" in info.value.error_dict
    with pytest.raises(ValidationError, match="differ"):
        services.team_vmr_create(
            actor=personas.regular,
            company=paid,
            alias="pin-room",
            display_name="P",
            host_pin="1234",
            guest_pin="1234",
        )
    assert not Consumer.objects.exists()


def test_services_refuse_read_only_and_other_partners(personas, paid):
    room = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="mine-room", display_name="R"
    )
    for actor in (personas.read_only, personas.other_manager):
        with pytest.raises(PermissionDenied):
            services.team_vmr_create(actor=actor, company=paid, alias="nope-room", display_name="N")
        with pytest.raises(PermissionDenied):
            services.user_invite(
                actor=actor, company=paid, email="n@x.example", full_name="N", alias="nope.user"
            )
        with pytest.raises(PermissionDenied):
            services.consumer_delete(actor=actor, consumer=room)
        with pytest.raises(PermissionDenied):
            services.consumer_update(actor=actor, consumer=room, display_name="Hacked")
    assert Consumer.objects.count() == 1
    room.refresh_from_db()
    assert room.display_name == "R"


def test_ops_staff_may_act_for_any_partner(personas, paid):
    room = services.team_vmr_create(
        actor=personas.ops, company=paid, alias="ops-room", display_name="O"
    )
    assert room.company == paid


def test_the_gate_refuses_pending_and_foreign_domains(personas, paid):
    CallingDomain.objects.create(company=paid, name="pending.example")
    with pytest.raises(ValidationError, match="not verified yet"):
        services.user_invite(
            actor=personas.regular,
            company=paid,
            email="p@x.example",
            full_name="P",
            alias="pat",
            domain="pending.example",
        )
    CallingDomain.objects.create(
        company=personas.other_company,
        name="theirs.example",
        status=DomainStatus.VERIFIED,
        verification_method=VerificationMethod.DNS_TXT,
    )
    with pytest.raises(ValidationError, match="not one of this company's calling domains"):
        services.team_vmr_create(
            actor=personas.regular,
            company=paid,
            alias="room-x",
            display_name="R",
            domain="theirs.example",
        )
    assert not Consumer.objects.exists()


def test_short_aliases_are_allowed_on_a_verified_hosted_domain(personas, paid):
    CallingDomain.objects.create(
        company=paid,
        name="acme.example",
        status=DomainStatus.VERIFIED,
        verification_method=VerificationMethod.DNS_TXT,
    )
    room = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="Ab", display_name="R", domain="ACME.example."
    )
    assert room.address == "ab@acme.example"
    with pytest.raises(ValidationError, match="at least 6"):
        services.team_vmr_create(actor=personas.regular, company=paid, alias="ab", display_name="R")


def test_plain_created_objects_work_with_services(db, personas):
    company = Company.objects.create(
        partner=personas.partner,
        name="Plain Co",
        contact_email="p@plain.example",
        evaluation_ends_on=timezone.localdate(),
    )
    room = services.team_vmr_create(
        actor=personas.manager, company=company, alias="plainroom", display_name="P"
    )
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


def test_deleting_consumers_takes_their_rows(personas, paid):
    from django.db import connection
    from django.utils import timezone

    from consumers.models import CallRecord, EndpointSettings, Invitation, TeamVmrSettings

    user = services.user_invite(
        actor=personas.regular, company=paid, email="u@x.example", full_name="U", alias="user.one"
    )
    room = services.team_vmr_create(
        actor=personas.regular, company=paid, alias="room-one", display_name="R"
    )
    ep = services.endpoint_create(
        actor=personas.regular, company=paid, alias="ep-one1", display_name="E"
    )
    EndpointSettings.objects.filter(consumer=ep).update(personal_user=user)
    CallRecord.objects.create(consumer=ep, started_at=timezone.now(), direction="in")
    services.consumer_delete(actor=personas.regular, consumer=user)
    assert EndpointSettings.objects.get(consumer=ep).personal_user is None
    assert not Invitation.objects.exists()
    services.consumers_delete(actor=personas.regular, company=paid, consumer_ids=[room.pk, ep.pk])
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
