from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from licensing.models import LicenceKind
from tests.conftest import add_licence


def test_ops_can_list_search_and_open_every_model(personas, login):
    add_licence(personas.company, LicenceKind.ROOM, 3)
    client = login(personas.ops)
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(changelist, {"q": "acme"} if model_admin.search_fields else {})
        assert response.status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


def test_partner_staff_never_reach_admin(personas, login):
    for user in (personas.manager, personas.regular, personas.read_only):
        response = login(user).get(reverse("admin:portal_company_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_company_admin_shows_state(personas, login):
    add_licence(personas.company)
    response = login(personas.ops).get(reverse("admin:portal_company_changelist"))
    assert b"Paid" in response.content and b"Trial (Closed)" in response.content


def test_ops_delete_a_company_in_admin_through_the_service(personas, login, make):
    """Admin's delete goes through company_delete (audited), and there is no bulk delete."""
    from portal.models import AuditEvent, Company

    make.team_vmr("room-one")
    client = login(personas.ops)
    company = personas.company
    listing = client.get(reverse("admin:portal_company_changelist"))
    assert b"delete_selected" not in listing.content
    response = client.post(
        reverse("admin:portal_company_delete", args=[company.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Company.objects.filter(pk=company.pk).exists()
    event = AuditEvent.objects.get(action="company.delete")
    assert (event.actor, event.partner) == (personas.ops, personas.partner)
