"""Issue 15's findings in the tenancy app, each tested where it was found (HTTP, mostly):
concurrent submits (5), Django admin's second factor (6), password reset limits (7), invited
staff who lost their link (8), addresses in any case (9), client addresses behind a proxy (14)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from portal import services
from portal.models import AuditEvent, Company, PartnerMembership
from portal.ratelimit import client_ip
from tests.conftest import make_user, requires_postgres, run_at_once
from tests.mailing import deliver
from tests.portal.test_security import enrol, sign_in, totp_now
from tests.portal.test_settings import run_manage

User = get_user_model()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status(result: object) -> object:
    return getattr(result, "status_code", result)


# --- 5. concurrent submits ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_company_name_submitted_at_once_makes_companies_with_the_next_free_slugs(
    personas,
):
    requires_postgres()
    form = {"name": "Double Click Ltd", "contact_email": "c@double.example"}
    clients = [signed_in(personas.regular) for _ in range(4)]
    results = run_at_once(
        *(partial(c.post, reverse("portal:company_create"), form) for c in clients)
    )
    assert [status(r) for r in results] == [302] * 4
    slugs = Company.objects.filter(name="Double Click Ltd").values_list("slug", flat=True)
    assert sorted(slugs) == [
        "double-click-ltd",
        "double-click-ltd-2",
        "double-click-ltd-3",
        "double-click-ltd-4",
    ]


def test_a_company_name_submitted_twice_makes_two_companies(personas, login):
    client = login(personas.regular)
    form = {"name": "Double Click Ltd", "contact_email": "c@double.example"}
    for _ in range(2):
        assert client.post(reverse("portal:company_create"), form).status_code == 302
    slugs = Company.objects.filter(name="Double Click Ltd").values_list("slug", flat=True)
    assert sorted(slugs) == ["double-click-ltd", "double-click-ltd-2"]


@pytest.mark.django_db(transaction=True)
def test_the_same_colleague_invited_at_once_is_invited_once(personas):
    requires_postgres()
    form = {"email": "Twice@A.example", "role": "regular"}
    clients = [signed_in(personas.manager) for _ in range(3)]
    results = run_at_once(
        *(partial(c.post, reverse("portal:member_invite"), form) for c in clients)
    )
    assert sorted(status(r) for r in results) == [200, 200, 302]
    for refused in (r for r in results if status(r) == 200):
        assert "already on your staff list" in str(refused.context["form"].errors["email"])
    assert PartnerMembership.objects.filter(user__email="twice@a.example").count() == 1
    assert User.objects.filter(username__iexact="twice@a.example").count() == 1
    assert [m.to for m in mail.outbox] == [["twice@a.example"]]


@pytest.mark.django_db(transaction=True)
def test_an_address_invited_by_two_partners_at_once_gets_one_invitation_and_one_notice(
    personas,
):
    """The second partner gets what it would get a moment later: the existing-account notice."""
    requires_postgres()
    form = {"email": "shared@x.example", "role": "regular"}
    clients = [signed_in(personas.manager), signed_in(personas.other_manager)]
    results = run_at_once(
        *(partial(c.post, reverse("portal:member_invite"), form) for c in clients)
    )
    assert [status(r) for r in results] == [302, 302]
    assert PartnerMembership.objects.filter(user__email="shared@x.example").count() == 1
    bodies = sorted(m.body for m in mail.outbox)
    assert len(bodies) == 2 and sum("already has an account" in b for b in bodies) == 1


# --- 6. Django admin's second factor ------------------------------------------------------------


def test_ops_with_a_password_alone_cannot_open_admin_when_two_factor_is_required(
    personas, settings
):
    settings.TWO_FACTOR_REQUIRED = True
    client = signed_in(personas.ops)
    for url in ("/admin/", reverse("admin:portal_company_changelist")):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/2fa/?next=")
        assert b"Set up two-factor sign-in" in response.content


def test_ops_sign_in_with_the_portals_sign_in_and_second_factor_then_open_admin(personas, settings):
    settings.TWO_FACTOR_REQUIRED = True
    client = Client()
    page = client.get("/admin/", follow=True)
    assert page.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"
    response = client.post(
        page.redirect_chain[-1][0],
        {"username": "ops@service.example", "password": "pw-test-123", "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/accounts/2fa/?next=/admin/"
    assert client.get("/admin/").status_code == 302, "a password alone does not open it"
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', response.content.decode()).group(1)
    done = client.post("/accounts/2fa/", {"code": totp_now(secret), "next": "/admin/"})
    assert b'href="/admin/"' in done.content, "the recovery codes page continues to admin"
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:portal_company_changelist")).status_code == 200

    later = Client()  # the next sign-in asks for a code (the TOTP's was used: a recovery code)
    sign_in(later, "ops@service.example")
    assert later.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/accounts/2fa/")
    code = re.search(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())[1]
    later.post("/accounts/2fa/", {"code": code, "next": "/admin/"})
    assert later.get("/admin/").status_code == 200


def test_without_two_factor_required_ops_open_admin_with_a_password(personas, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client = Client()
    response = client.post(
        "/accounts/login/?next=/admin/",
        {"username": "ops@service.example", "password": "pw-test-123", "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/" and response.status_code == 200
    assert b"Video service operations" in response.content


@pytest.mark.parametrize("two_factor_required", [True, False])
def test_partner_staff_get_no_admin_even_with_their_second_factor(
    personas, settings, two_factor_required
):
    settings.TWO_FACTOR_REQUIRED = True
    client = Client()
    enrol(client, "manager@a.example")
    assert client.get(reverse("portal:company_list")).status_code == 200, "verified"
    settings.TWO_FACTOR_REQUIRED = two_factor_required
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"not authorized to access this page" in page.content
    assert client.get(reverse("admin:portal_company_changelist")).status_code == 302


# --- 7. password reset limits -------------------------------------------------------------------


def reset(client: Client, email: str, **extra):
    """A reset request, and the email it wrote (if any) delivered from the outbox."""
    response = client.post(reverse("password_reset"), {"email": email}, **extra)
    deliver()
    return response


def test_fifteen_reset_requests_for_one_address_send_the_limit_and_answer_alike(
    personas, client, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT = 3
    responses = [reset(client, "regular@a.example") for _ in range(15)]
    unknown = [reset(client, "nobody@a.example") for _ in range(5)]
    assert len(mail.outbox) == 3
    assert {(r.status_code, r["Location"], r.content) for r in responses + unknown} == {
        (302, reverse("password_reset_done"), b"")
    }, "the same answer: sent or limited, known address or not"


def test_reset_requests_are_limited_per_client_whatever_the_address(personas, settings):
    settings.PASSWORD_RESET_IP_RATE_LIMIT = 4
    one = Client(REMOTE_ADDR="192.0.2.10")
    for i in range(4):
        reset(one, f"nobody{i}@a.example")
    limited = reset(one, "regular@a.example")
    assert mail.outbox == [], "the fifth request from the client sends nothing"
    assert limited.status_code == 302 and limited["Location"] == reverse("password_reset_done")
    reset(Client(REMOTE_ADDR="192.0.2.11"), "regular@a.example")
    assert [m.to for m in mail.outbox] == [["regular@a.example"]], "another client is not"


# --- 8. invited staff who lost their link -------------------------------------------------------


@pytest.fixture
def invited(personas, django_capture_on_commit_callbacks) -> PartnerMembership:
    """A colleague invited by partner A's manager who has not chosen a password yet."""
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.member_invite(
            actor=personas.manager, partner=personas.partner, email="late@a.example", role="regular"
        )
    mail.outbox.clear()
    return membership


def test_the_staff_page_shows_invited_colleagues_with_a_resend(personas, invited, login):
    page = login(personas.manager).get(reverse("portal:member_list")).content.decode()
    row = re.search(r"<tr>\s*<td>late@a\.example.*?</tr>", page, re.S).group(0)
    assert "<td>Invited</td>" in row
    assert reverse("portal:member_resend", args=[invited.public_id]) in row
    assert page.count(">Re-send invitation<") == 1, "only the invited colleague has it"
    regular = re.search(r"<tr>\s*<td>regular@a\.example.*?</tr>", page, re.S).group(0)
    assert "<td>Active</td>" in regular


def test_resend_mails_the_staff_invitation_again_with_a_working_link(
    personas, invited, login, client, django_capture_on_commit_callbacks
):
    manager = login(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("portal:member_resend", args=[invited.public_id]), follow=True
        )
    assert b"Invitation sent again to late@a.example" in response.content
    assert [m.to for m in mail.outbox] == [["late@a.example"]]
    assert "Partner A" in mail.outbox[0].subject, "the staff invitation email"
    event = AuditEvent.objects.get(action="member.invite_resend")
    assert (event.actor, event.object_id) == (personas.manager, str(invited.public_id))
    link = re.search(r"http://portal\.test(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    client.logout()
    assert b"Choose a password" in client.get(link, follow=True).content


def test_resend_is_refused_once_the_colleague_chose_a_password(personas, login):
    response = login(personas.manager).post(
        reverse("portal:member_resend", args=[personas.regular.membership.public_id]),
        follow=True,
    )
    assert b"already chosen a password" in response.content
    assert mail.outbox == [] and not AuditEvent.objects.filter(action="member.invite_resend")


def test_only_the_partners_managers_resend(personas, invited, login):
    url = reverse("portal:member_resend", args=[invited.public_id])
    assert login(personas.regular).post(url).status_code == 403
    assert login(personas.other_manager).post(url).status_code == 404
    with pytest.raises(PermissionDenied):
        services.member_invitation_resend(actor=personas.read_only, membership=invited)
    assert mail.outbox == []


def test_an_expired_invitation_link_offers_a_new_one_that_works(
    clock, personas, django_capture_on_commit_callbacks, client, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        services.member_invite(
            actor=personas.manager,
            partner=personas.partner,
            email="late@a.example",
            role="read_only",
        )
    old_link = re.search(r"http://portal\.test(/accounts/reset/\S+/)", mail.outbox[0].body)[1]
    clock.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60))
    page = client.get(old_link, follow=True)
    assert b"no longer valid" in page.content
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', page.content.decode(), re.S)
    assert form[1] == reverse("password_reset") and 'name="email"' in form[0]

    reset(client, "Late@A.example")
    assert [m.to for m in mail.outbox[1:]] == [["late@a.example"]]
    new_link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[1].body)[1]
    page = client.get(new_link, follow=True)
    assert b"Choose a password" in page.content
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Corr3ct-Horse-9", "new_password2": "Corr3ct-Horse-9"},
    )
    assert client.login(username="late@a.example", password="Corr3ct-Horse-9")


def test_a_reset_request_sends_nothing_to_other_accounts_without_a_password(personas, invited):
    """Only a pending invitation: a deactivated one, or an account that has signed in and has
    no usable password (set by ops), gets nothing, as in Django."""
    deactivated = make_user("gone@a.example", partner=personas.partner, role="regular")
    deactivated.set_unusable_password()
    deactivated.is_active = False
    deactivated.save()
    personas.regular.set_unusable_password()
    personas.regular.last_login = personas.regular.date_joined
    personas.regular.save()
    for email in ("gone@a.example", "regular@a.example"):
        reset(Client(), email)
    assert mail.outbox == []


# --- 9. addresses in any case --------------------------------------------------------------------


def test_sign_in_ignores_the_case_of_the_address(personas, client):
    response = client.post(
        reverse("login"), {"username": " Regular@A.Example", "password": "pw-test-123"}
    )
    assert response.status_code == 302 and response["Location"] == "/companies/"
    assert int(client.session["_auth_user_id"]) == personas.regular.pk
    assert not Client().login(username="REGULAR@A.EXAMPLE", password="wrong")


def test_a_reset_request_in_another_case_mails_the_stored_address(personas, client):
    reset(client, "REGULAR@a.Example")
    assert [m.to for m in mail.outbox] == [["regular@a.example"]]


def test_inviting_an_address_in_another_case_finds_the_colleague(personas, invited, login):
    response = login(personas.manager).post(
        reverse("portal:member_invite"), {"email": "LATE@a.example", "role": "regular"}
    )
    errors = str(response.context["form"].errors["email"])
    assert "already on your staff list" in errors and "send it again" in errors


def test_two_accounts_cannot_differ_only_by_the_case_of_the_username(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user("Regular@A.example")


def test_the_migration_stops_on_usernames_that_differ_only_by_case(personas):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("portal.migrations.0004_auth_user_username_lower_unique")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {migration.INDEX}")  # rolled back below
        twin = make_user("Regular@A.example")
        with pytest.raises(RuntimeError, match=r"differ only by case") as refused:
            migration.refuse_usernames_differing_only_by_case(apps, None)
        assert str(sorted([personas.regular.pk, twin.pk])) in str(refused.value)
        transaction.set_rollback(True)
    migration.refuse_usernames_differing_only_by_case(apps, None)  # no clash: nothing


def test_sign_in_throttling_counts_every_case_of_an_address_together(personas, settings):
    settings.AXES_ENABLED = True
    client = Client()
    for variant in ("regular@a.example", "Regular@a.example", "REGULAR@A.EXAMPLE") * 2:
        sign_in(client, variant, "wrong")
    locked = sign_in(client, "regular@a.example")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


# --- 14. client addresses behind a proxy --------------------------------------------------------


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def test_client_ip_ignores_x_forwarded_for_without_a_proxy(settings):
    settings.CLIENT_IP_PROXY_COUNT = 0
    assert client_ip(request_from("192.0.2.1", "198.51.100.7")) == "192.0.2.1"


def test_client_ip_behind_the_proxy_is_the_address_the_proxy_appended(settings):
    settings.CLIENT_IP_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    spoofed = request_from("10.0.0.2", "203.0.113.66, 198.51.100.7")
    assert client_ip(spoofed) == "198.51.100.7", "what the client wrote itself is ignored"
    assert client_ip(request_from("10.0.0.2")) == "10.0.0.2", "not through the proxy"


def invitation_codes(client: Client, forwarded_for: str, n: int) -> list[int]:
    url = "/invite/" + "0" * 64 + "/"
    return [client.get(url, HTTP_X_FORWARDED_FOR=forwarded_for).status_code for _ in range(n)]


def test_behind_the_proxy_each_client_has_its_own_rate_limit(personas, settings):
    settings.CLIENT_IP_PROXY_COUNT = 1
    settings.INVITATION_RATE_LIMIT = 2
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    assert invitation_codes(proxy, "198.51.100.7", 3) == [404, 404, 429]
    assert invitation_codes(proxy, "1.1.1.1, 198.51.100.7", 1) == [429], "spoofing does not help"
    assert invitation_codes(proxy, "198.51.100.8", 1) == [404], "another client"


def test_without_a_proxy_x_forwarded_for_does_not_make_a_new_client(personas, settings):
    settings.CLIENT_IP_PROXY_COUNT = 0
    settings.INVITATION_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR="192.0.2.1")
    assert invitation_codes(client, "198.51.100.7", 2) == [404, 404]
    assert invitation_codes(client, "198.51.100.8", 1) == [429]


def test_behind_the_proxy_password_reset_and_sign_in_throttling_see_each_client(personas, settings):
    settings.CLIENT_IP_PROXY_COUNT = 1
    settings.PASSWORD_RESET_IP_RATE_LIMIT = 1
    settings.AXES_ENABLED = True
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for forwarded_for in ("198.51.100.7", "198.51.100.7", "198.51.100.8"):
        reset(proxy, "regular@a.example", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert len(mail.outbox) == 2, "one per client; the second from the first client is limited"

    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(5):
        sign_in(attacker, "manager@a.example", "wrong")
    assert sign_in(attacker, "manager@a.example").status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert sign_in(colleague, "manager@a.example").status_code == 302, "not locked out too"


def test_behind_proxy_configures_the_one_client_address_function(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "portal.ratelimit.client_ip"
    code = "from django.conf import settings; print(settings.CLIENT_IP_PROXY_COUNT)"
    result = run_manage("shell", "-c", code, BEHIND_PROXY="1")
    assert result.stdout.split()[-1:] == ["1"], result.stderr


# --- found by the second attack pass ---------------------------------------------------------


def test_a_double_clicked_company_delete_is_done_and_audited_once(personas):
    company = Company.objects.get(pk=personas.company.pk)
    stale = Company.objects.get(pk=personas.company.pk)
    services.company_delete(actor=personas.regular, company=company)
    services.company_delete(actor=personas.regular, company=stale)  # the second click
    assert AuditEvent.objects.filter(action="company.delete").count() == 1


def test_deactivating_twice_is_audited_once(personas):
    membership = PartnerMembership.objects.get(user=personas.regular)
    for _click in range(2):
        services.member_set_active(actor=personas.manager, membership=membership, active=False)
    assert AuditEvent.objects.filter(action="member.deactivate").count() == 1


def test_admin_shows_no_second_factor_secrets(personas, login):
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    totp = TOTPDevice.objects.create(user=personas.regular, name="authenticator", confirmed=True)
    static = StaticDevice.objects.create(user=personas.regular, name="recovery", confirmed=True)
    StaticToken.objects.create(device=static, token="recovery1")
    client = login(personas.ops)
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[totp.pk]),
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200
        body = response.content.decode()
        assert totp.key not in body and "recovery1" not in body and "otpauth://" not in body
    config = client.get(f"/admin/otp_totp/totpdevice/{totp.pk}/config/", follow=True)
    assert "otpauth://" not in config.content.decode() and totp.key not in config.content.decode()


@pytest.mark.parametrize("name", ["SIP", "join", "www", "H323"])
def test_a_company_never_gets_a_service_host_as_its_subdomain(personas, name):
    company = services.company_create(
        actor=personas.regular, partner=personas.partner, name=name, contact_email="c@x.example"
    )
    assert company.slug == f"{name.lower()}-company"


def test_company_fields_are_one_line(personas):
    company = services.company_create(
        actor=personas.regular,
        partner=personas.partner,
        name="Globex\r\nBcc: victim@x.example",
        contact_email="c@x.example",
        reference=" ref\t1 ",
    )
    assert (company.name, company.reference) == ("Globex Bcc: victim@x.example", "ref 1")
