from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from tests.mailing import deliver


def test_anonymous_is_sent_to_login_and_back(personas, client):
    response = client.get(reverse("portal:company_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/companies/")
    response = client.post(
        response["Location"], {"username": "regular@a.example", "password": "pw-test-123"}
    )
    assert response.status_code == 302 and response["Location"] == "/companies/"


def test_wrong_password_shows_an_error(personas, client):
    response = client.post(reverse("login"), {"username": "regular@a.example", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(personas, login):
    client = login(personas.regular)
    client.post(reverse("logout"))
    assert client.get(reverse("portal:company_list")).status_code == 302


def test_password_reset_sends_text_and_html_and_reveals_nothing(personas, client):
    unknown = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    known = client.post(reverse("password_reset"), {"email": "regular@a.example"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert deliver()["sent"] == 1, "written to the outbox"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["regular@a.example"]
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    assert link in message.alternatives[0][0]


def test_ops_staff_without_partner_get_404_in_the_portal(personas, login):
    client = login(personas.ops)
    assert client.get(reverse("portal:company_list")).status_code == 404


def test_the_signed_in_user_comes_with_its_membership_in_one_query(personas, client):
    """Every page needs the membership and partner: the sign-in backend loads them with the
    user, so no page asks for them separately."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.post(reverse("login"), {"username": "regular@a.example", "password": "pw-test-123"})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("portal:company_list"))
    assert response.status_code == 200
    assert response.context["membership"].partner == personas.partner
    membership_queries = [q["sql"] for q in ctx.captured_queries if "partnermembership" in q["sql"]]
    assert len(membership_queries) == 1
    assert 'FROM "auth_user"' in membership_queries[0]
    assert "portal_partner" in membership_queries[0]
