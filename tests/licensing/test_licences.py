from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consumers import services
from licensing.models import LicenceKind, License
from licensing.selectors import company_seats
from licensing.services import licence_save, licence_validate
from tests.conftest import add_licence


@pytest.fixture
def company(personas):
    c = personas.company
    c.evaluation_ends_on = None
    c.save()
    return c


def fill(personas, company, n):
    for i in range(n):
        services.team_vmr_create(
            actor=personas.regular, company=company, alias=f"room-{i:03}", display_name="R"
        )


def test_a_licence_cannot_be_reduced_below_usage(personas, company):
    licence = add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    fill(personas, company, 4)
    licence.quantity = 3
    with pytest.raises(ValidationError, match="leave 3 Enterprise User seats while 4 are in use"):
        licence_validate(licence=licence)
    licence.quantity = 4
    licence_save(actor=personas.ops, licence=licence)
    licence.refresh_from_db()
    assert licence.quantity == 4
    licence.ends_on = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError):
        licence_validate(licence=licence)


def test_increasing_or_adding_is_always_allowed(personas, company):
    licence = add_licence(company, LicenceKind.ENTERPRISE_USER, 2)
    fill(personas, company, 2)
    licence.quantity = 10
    licence_validate(licence=licence)
    new = License(
        company=company,
        kind=LicenceKind.ROOM,
        quantity=1,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
    )
    licence_validate(licence=new)


def test_only_ops_save_licences(personas, company):
    licence = License(
        company=company,
        kind=LicenceKind.ROOM,
        quantity=1,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
    )
    with pytest.raises(PermissionDenied):
        licence_save(actor=personas.manager, licence=licence)


def test_admin_refuses_a_reduction_with_a_clear_error(personas, company, login):
    licence = add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    fill(personas, company, 4)
    client = login(personas.ops)
    change = reverse("admin:licensing_license_change", args=[licence.pk])
    data = {
        "company": company.pk,
        "kind": "enterprise_user",
        "quantity": 2,
        "starts_on": licence.starts_on.isoformat(),
        "ends_on": licence.ends_on.isoformat(),
        "reference": "",
        "cost_centre": "",
    }
    response = client.post(change, data)
    assert response.status_code == 200
    assert b"4 are in use" in response.content
    licence.refresh_from_db()
    assert licence.quantity == 5
    data["quantity"] = 6
    assert client.post(change, data).status_code == 302
    licence.refresh_from_db()
    assert licence.quantity == 6


def test_seats_count_invited_and_active_non_trial_only(personas, company):
    add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    fill(personas, company, 2)
    services.user_invite(
        actor=personas.regular,
        company=company,
        email="i@x.example",
        full_name="I",
        alias="invited.one",
    )
    room = services.team_vmr_create(
        actor=personas.regular, company=company, alias="gone-room", display_name="G"
    )
    services.consumer_deactivate(actor=personas.regular, consumer=room)
    seats = company_seats(company=company, today=timezone.localdate())["enterprise"]
    assert (seats.used, seats.capacity, seats.remaining) == (3, 5, 2)


def test_licences_tab_shows_bars_state_and_evaluation(personas, company, login):
    add_licence(company, LicenceKind.ENTERPRISE_USER, 4, reference="PO-77")
    fill(personas, company, 3)
    response = login(personas.read_only).get(
        reverse("licensing:licence_list", args=[company.public_id])
    )
    assert b"PO-77" in response.content
    assert b'<progress class="seats" max="4" value="3"' in response.content
    assert b"3 of 4 used" in response.content
    assert b"Paid" in response.content
