from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal import services
from portal.models import PartnerMembership, Role


def test_manager_invites_a_colleague_who_sets_a_password_and_signs_in(
    personas, login, client, django_capture_on_commit_callbacks
):
    manager = login(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("portal:member_invite"),
            {"email": "New.Person@A.example", "role": "regular"},
            follow=True,
        )
    assert b"Invitation sent to new.person@a.example" in response.content
    member = PartnerMembership.objects.get(user__email="new.person@a.example")
    assert member.partner == personas.partner and member.role == Role.REGULAR

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@a.example"]
    assert "Partner A" in message.subject
    html = message.alternatives[0][0]
    link = re.search(r"http://portal\.test(/accounts/reset/\S+/)", message.body).group(1)
    assert link in html

    client.logout()
    page = client.get(link, follow=True)
    assert b"Choose a password" in page.content
    set_url = page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "Corr3ct-Horse-9", "new_password2": "Corr3ct-Horse-9"}
    )
    assert done.status_code == 302
    assert client.login(username="new.person@a.example", password="Corr3ct-Horse-9")
    assert client.get(link, follow=True).context["validlink"] is False, "the link works once"


def test_inviting_an_existing_account_reveals_nothing(
    personas, login, django_capture_on_commit_callbacks
):
    manager = login(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        existing = manager.post(
            reverse("portal:member_invite"),
            {"email": "Manager@B.example", "role": "regular"},
            follow=True,
        )
        fresh = manager.post(
            reverse("portal:member_invite"),
            {"email": "new@a.example", "role": "regular"},
            follow=True,
        )
    assert b"Invitation sent to manager@b.example." in existing.content
    assert b"Invitation sent to new@a.example." in fresh.content
    assert b"Partner B" not in existing.content
    assert PartnerMembership.objects.get(user=personas.other_manager).partner == (
        personas.other_partner
    )
    notice = next(m for m in mail.outbox if m.to == ["manager@b.example"])
    assert "already has an account" in notice.body
    assert "already has an account" in notice.alternatives[0][0]


def test_inviting_a_colleague_twice_says_so(personas, login):
    response = login(personas.manager).post(
        reverse("portal:member_invite"), {"email": "regular@a.example", "role": "regular"}
    )
    assert "already on your staff" in str(response.context["form"].errors["email"])


def test_manager_changes_role_and_deactivates(personas, login, client):
    manager = login(personas.manager)
    member = personas.read_only.membership
    manager.post(reverse("portal:member_role", args=[member.public_id]), {"role": "regular"})
    member.refresh_from_db()
    assert member.role == Role.REGULAR

    assert (
        b"Deactivate"
        in manager.get(reverse("portal:member_deactivate", args=[member.public_id])).content
    )
    manager.post(reverse("portal:member_deactivate", args=[member.public_id]))
    user = get_user_model().objects.get(pk=personas.read_only.pk)
    assert not user.is_active
    manager.logout()
    assert not client.login(username="readonly@a.example", password="pw-test-123")

    manager = login(personas.manager)
    manager.post(reverse("portal:member_reactivate", args=[member.public_id]))
    manager.logout()
    assert client.login(username="readonly@a.example", password="pw-test-123")


def test_a_deactivated_member_is_signed_out_at_once(personas, client):
    client.force_login(personas.regular)
    assert client.get(reverse("portal:company_list")).status_code == 200
    services.member_set_active(
        actor=personas.manager, membership=personas.regular.membership, active=False
    )
    response = client.get(reverse("portal:company_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_manager_cannot_demote_or_deactivate_self(personas, login):
    manager = login(personas.manager)
    own = personas.manager.membership
    response = manager.post(
        reverse("portal:member_role", args=[own.public_id]), {"role": "read_only"}, follow=True
    )
    assert b"cannot change your own role" in response.content
    own.refresh_from_db()
    assert own.role == Role.MANAGER


@pytest.mark.parametrize("persona", ["regular", "read_only"])
def test_only_managers_reach_staff_pages(personas, login, persona):
    client = login(getattr(personas, persona))
    member = personas.read_only.membership
    assert client.get(reverse("portal:member_list")).status_code == 403
    assert (
        client.post(
            reverse("portal:member_invite"), {"email": "x@a.example", "role": "manager"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("portal:member_role", args=[member.public_id]), {"role": "manager"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("portal:member_deactivate", args=[member.public_id])).status_code == 403
    )
    member.refresh_from_db()
    assert member.role == Role.READ_ONLY and member.user.is_active
    assert not get_user_model().objects.filter(email="x@a.example").exists()
    with pytest.raises(PermissionDenied):
        services.member_change_role(
            actor=getattr(personas, persona), membership=member, role="manager"
        )


def test_staff_menu_only_for_managers(personas, login):
    assert b">Staff<" in login(personas.manager).get(reverse("portal:company_list")).content
    assert b">Staff<" not in login(personas.regular).get(reverse("portal:company_list")).content
