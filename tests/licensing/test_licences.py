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


def room_licence_of_today(company) -> License:
    """A one-day Room licence, not saved yet."""
    today = timezone.localdate()
    return License(
        company=company, kind=LicenceKind.ROOM, quantity=1, starts_on=today, ends_on=today
    )


def test_a_licence_cannot_be_reduced_below_usage(personas, make, closed_company):
    licence = add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)
    make.team_vmrs(4, company=closed_company)
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


def test_increasing_or_adding_is_always_allowed(personas, make, closed_company):
    licence = add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 2)
    make.team_vmrs(2, company=closed_company)
    licence.quantity = 10
    licence_save(actor=personas.ops, licence=licence)  # validates, then saves
    new = licence_save(actor=personas.ops, licence=room_licence_of_today(closed_company))
    seats = company_seats(company=closed_company, today=timezone.localdate())
    assert (seats["enterprise"].capacity, seats["room"].capacity) == (10, 1)
    assert new.pk and License.objects.filter(company=closed_company).count() == 2


def test_only_ops_save_licences(personas, closed_company):
    with pytest.raises(PermissionDenied):
        licence_save(actor=personas.manager, licence=room_licence_of_today(closed_company))
    assert not License.objects.exists()


def test_admin_refuses_a_reduction_with_a_clear_error(personas, make, closed_company, login):
    licence = add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)
    make.team_vmrs(4, company=closed_company)
    client = login(personas.ops)
    change = reverse("admin:licensing_license_change", args=[licence.pk])
    data = {
        "company": closed_company.pk,
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


def test_seats_count_invited_and_active_non_trial_only(personas, make, closed_company):
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)
    make.team_vmrs(2, company=closed_company)
    make.user("invited.one", company=closed_company)
    room = make.team_vmr("gone-room", company=closed_company)
    services.consumer_deactivate(actor=personas.regular, consumer=room)
    seats = company_seats(company=closed_company, today=timezone.localdate())["enterprise"]
    assert (seats.used, seats.capacity, seats.remaining) == (3, 5, 2)


def test_licences_tab_shows_bars_state_and_evaluation(personas, make, closed_company, login):
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 4, reference="PO-77")
    make.team_vmrs(3, company=closed_company)
    response = login(personas.read_only).get(
        reverse("licensing:licence_list", args=[closed_company.public_id])
    )
    assert b"PO-77" in response.content
    assert b'<progress class="seats" max="4" value="3"' in response.content
    assert b"3 of 4 used" in response.content
    assert b"Paid" in response.content
