"""Two-factor sign-in, sign-in throttling, no account enumeration, headers and cookies."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import services


def totp_now(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, step=30, digits=6).token():06d}"


def sign_in(client: Client, email: str, password: str = "pw-test-123"):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.fixture
def two_factor(settings):
    settings.TWO_FACTOR_REQUIRED = True


def enrol(client: Client, email: str) -> list[str]:
    sign_in(client, email)
    page = client.get(reverse("two_factor"))
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    done = client.post(reverse("two_factor"), {"code": totp_now(secret)})
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())


def test_first_sign_in_enrols_by_qr_code_then_shows_recovery_codes(clock, personas, two_factor):
    client = Client()
    response = sign_in(client, "regular@a.example")
    response = client.get(response["Location"])  # the company list sends to two-factor
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    page = client.get(response["Location"])
    assert b"<svg" in page.content and b"Set up two-factor sign-in" in page.content
    wrong = client.post(reverse("two_factor"), {"code": "000000"})
    assert b"does not match" in wrong.content
    too_soon = client.post(reverse("two_factor"), {"code": "000000"})
    assert b"Too many tries" in too_soon.content, "guessing is throttled"
    # django-otp compares timezone.now() with the last failure's timestamp: move past the wait.
    allowed, throttle = TOTPDevice.objects.get(user=personas.regular).verify_is_allowed()
    assert not allowed
    clock.move_to(throttle["locked_until"] + timedelta(seconds=1))
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    done = client.post(reverse("two_factor"), {"code": totp_now(secret)})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("portal:company_list")).status_code == 200
    assert TOTPDevice.objects.get(user=personas.regular).confirmed


def test_later_sign_ins_ask_for_a_code_and_recovery_codes_work_once(personas, two_factor):
    codes = enrol(Client(), "regular@a.example")
    client = Client()
    sign_in(client, "regular@a.example")
    assert client.get(reverse("portal:company_list")).status_code == 302
    assert b"Enter your code" in client.get(reverse("two_factor")).content
    client.post(reverse("two_factor"), {"code": codes[0]})
    assert client.get(reverse("portal:company_list")).status_code == 200
    again = Client()
    sign_in(again, "regular@a.example")
    response = again.post(reverse("two_factor"), {"code": codes[0]})
    assert b"not valid" in response.content, "a recovery code works once"


def test_a_manager_resets_a_colleagues_second_factor(personas, two_factor, login, settings):
    enrol(Client(), "regular@a.example")
    settings.TWO_FACTOR_REQUIRED = False
    login(personas.manager).post(
        reverse("portal:member_reset_2fa", args=[personas.regular.membership.public_id])
    )
    settings.TWO_FACTOR_REQUIRED = True
    assert not TOTPDevice.objects.filter(user=personas.regular).exists()
    client = Client()
    sign_in(client, "regular@a.example")
    assert b"Set up two-factor sign-in" in client.get(reverse("two_factor")).content


def test_sign_in_is_throttled_and_reveals_no_accounts(personas, settings):
    settings.AXES_ENABLED = True
    known, unknown = Client(), Client()
    first_known = sign_in(known, "regular@a.example", "wrong")
    first_unknown = sign_in(unknown, "nobody@a.example", "wrong")
    assert first_known.status_code == first_unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(first_known).replace("regular@a.example", "X") == strip(first_unknown).replace(
        "nobody@a.example", "X"
    ), "the same page for a known and an unknown address"
    for _ in range(4):
        sign_in(known, "regular@a.example", "wrong")
    locked = sign_in(known, "regular@a.example", "pw-test-123")
    assert locked.status_code == 429 and b"Too many sign-in attempts" in locked.content
    assert "_auth_user_id" not in known.session


def test_security_headers_on_every_page(personas, login):
    client = login(personas.manager)
    response = client.get(reverse("portal:company_list"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_https_settings_give_hsts_and_secure_cookies(personas):
    client = Client()
    page = client.get(reverse("login"), secure=True)
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.cookies["csrftoken"]["secure"] and page.cookies["csrftoken"]["samesite"] == "Lax"
    client.post(
        reverse("login"), {"username": "regular@a.example", "password": "pw-test-123"}, secure=True
    )
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_no_page_has_an_inline_script(personas, login, dns_server):
    from tests.portal.test_isolation import PUBLIC_VIEWS, objects_of_partner_a
    from tests.urlwalk import iter_views, url_for

    client = login(personas.manager)
    objects = objects_of_partner_a(personas)
    checked = 0
    for entry in iter_views():
        if entry.name in PUBLIC_VIEWS:
            continue
        response = client.get(url_for(entry, objects))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), entry.name
        assert not re.search(r"\son[a-z]+=\"", html), f"inline handler in {entry.name}"
        checked += 1
    assert checked > 20


def test_tokens_are_compared_in_constant_time_and_stored_hashed(make, monkeypatch):
    from consumers import tokens
    from consumers.models import Invitation

    invitation = Invitation.objects.get(consumer=make.user("token.t"))
    token = tokens.token_for(invitation.token_nonce)
    assert invitation.token_hash == tokens.token_hash(token) != token
    compared = []
    constant_time = tokens.hmac.compare_digest
    monkeypatch.setattr(
        tokens.hmac, "compare_digest", lambda a, b: compared.append(b) or constant_time(a, b)
    )
    assert tokens.matches(invitation.token_nonce, token)
    assert not tokens.matches(invitation.token_nonce, "0" * 64)
    assert compared == [token, "0" * 64], "both go through hmac.compare_digest"


def test_invitation_links_are_rate_limited(personas, client, settings):
    settings.INVITATION_RATE_LIMIT = 3
    codes = [client.get("/invite/" + "0" * 64 + "/").status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_services_still_refuse_what_the_matrix_refuses(personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.member_reset_second_factor(
            actor=personas.regular, membership=personas.read_only.membership
        )
