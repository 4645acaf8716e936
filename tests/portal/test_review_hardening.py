"""A second review of issues 16 and 17 (portal side): what an ops user or a partner could do
that they should not, kept fixed."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import display
from tests.conftest import add_company


def test_a_colleagues_second_factor_cannot_be_deleted_in_admin_unaudited(personas, login):
    """Removing someone's second factor is the audited reset of the Staff page
    (services.member_2fa_reset); admin only shows who has one, like every record."""
    totp = TOTPDevice.objects.create(user=personas.manager, name="phone", confirmed=True)
    codes = StaticDevice.objects.create(user=personas.manager, name="backup", confirmed=True)
    client = login(personas.ops)
    for device, name in ((totp, "otp_totp_totpdevice"), (codes, "otp_static_staticdevice")):
        listing = client.get(reverse(f"admin:{name}_changelist"))
        assert listing.status_code == 200 and b"delete_selected" not in listing.content
        delete = reverse(f"admin:{name}_delete", args=[device.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        bulk = client.post(
            reverse(f"admin:{name}_changelist"),
            {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302)
        assert type(device).objects.filter(pk=device.pk).exists(), name


def test_extending_an_evaluation_that_never_ends_is_a_message_not_a_500(personas, login):
    """Ops often enter 9999-12-31 for "no end": Extend evaluation cannot add 30 days to it, and
    says so, for that company only; the others in the selection are extended."""
    never_ends = add_company(personas.partner, "Forever Ltd", evaluation_ends_on=date(9999, 12, 31))
    other = add_company(personas.partner, "Closed Ltd")
    response = login(personas.ops).post(
        reverse("admin:portal_company_changelist"),
        {"action": "extend_evaluation", "_selected_action": [never_ends.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("Forever Ltd" in t and "cannot be extended" in t for t in texts), texts
    never_ends.refresh_from_db()
    other.refresh_from_db()
    assert never_ends.evaluation_ends_on == date(9999, 12, 31)
    assert other.evaluation_ends_on is not None


def test_a_company_whose_stored_name_has_extra_spaces_can_still_be_deleted(personas, login):
    """Names are folded when saved since the second attack pass; a company saved before (or by
    any path that did not fold) keeps its double or trailing spaces. Typing its name as shown
    (the page shows it folded, and what is typed is folded) deletes it."""
    company = add_company(personas.partner, "Old  Name Ltd ")
    url = reverse("portal:company_delete", args=[company.public_id])
    client = login(personas.manager)
    page = client.get(url).content.decode()
    assert 'data-must-match="Old Name Ltd"' in page
    response = client.post(url, {"confirm_name": "Old Name Ltd"})
    assert response.status_code == 302
    assert not type(company).objects.filter(pk=company.pk).exists()


@pytest.mark.parametrize(
    "stored",
    [
        "xn--pple-43d.com",  # "аpple.com": a Cyrillic а among Latin letters
        "xn--80ak6aa92e.com",  # "аррӏе.com": Cyrillic letters that all look Latin
        "room@xn--pple-43d.com",
        "xn--mxacd.xn--pple-43d.com",  # only the deceptive label stays as stored
    ],
)
def test_a_domain_that_only_looks_like_a_latin_one_is_not_shown_in_unicode(stored):
    """Browsers show such names in punycode (Chromium's IDN policy): the console does too, so
    that nobody reads a spoof of apple.com as apple.com."""
    shown = display.unicode_domain(stored)
    assert "xn--pple-43d" in shown or "xn--80ak6aa92e" in shown
    assert "pple.com" not in shown.replace("xn--pple-43d.com", "")


def test_real_internationalised_names_still_read_in_unicode():
    assert display.unicode_domain("xn--bcher-kva.example") == "bücher.example"
    assert display.unicode_domain("xn--mnchen-3ya.de") == "münchen.de"
    assert display.unicode_domain("xn--e1afmkfd.xn--p1ai") == "пример.рф"
    assert display.unicode_domain("xn--hxargifdar.gr") == "ελληνικά.gr"
    assert display.unicode_domain("xn--wgv71a119e.jp") == "日本語.jp"
