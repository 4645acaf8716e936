"""Role matrix: read-only members change nothing, whatever the view."""

from __future__ import annotations

from django.urls import reverse

from portal.models import AuditEvent, Company
from tests.portal.test_isolation import objects_of_partner_a
from tests.urlwalk import iter_views, url_for


def test_read_only_posts_are_refused_everywhere(personas, login):
    client = login(personas.read_only)
    objects = objects_of_partner_a(personas)
    before = (Company.objects.count(), AuditEvent.objects.count())
    checked = 0
    for entry in iter_views():
        options = getattr(entry.callback, "partner_view", None)
        if not options or not (options["write"] or options["manager"]):
            continue
        response = client.post(
            url_for(entry, objects),
            {
                "name": "Hacked",
                "contact_email": "h@h.example",
                "role": "manager",
                "email": "x@x.example",
            },
        )
        assert response.status_code == 403, entry.name
        checked += 1
    assert checked >= 8
    assert (Company.objects.count(), AuditEvent.objects.count()) == before


def test_read_only_sees_no_write_buttons(personas, login):
    response = login(personas.read_only).get(reverse("portal:company_list"))
    assert b"Add company" not in response.content
    response = login(personas.regular).get(reverse("portal:company_list"))
    assert b"Add company" in response.content
