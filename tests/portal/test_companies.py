from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licensing.models import LicenceKind
from portal import services
from portal.counts_cache import forget_company_counts
from portal.models import AuditEvent, Company, CompanyState
from tests.conftest import add_company, add_licence


def test_company_state_is_derived_from_licences_and_evaluation(personas):
    today = timezone.localdate()
    open_trial = add_company(personas.partner, "Open", evaluation_ends_on=today)
    closed = add_company(personas.partner, "Closed", evaluation_ends_on=today - timedelta(days=1))
    never = add_company(personas.partner, "Never")
    paid = add_company(personas.partner, "Paid")
    add_licence(paid, LicenceKind.ROOM, 2)
    expired = add_company(personas.partner, "Expired")
    add_licence(expired, starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1))
    future = add_company(personas.partner, "Future")
    add_licence(future, starts_on=today + timedelta(days=1))

    expected = {
        open_trial: CompanyState.TRIAL_OPEN,
        closed: CompanyState.TRIAL_CLOSED,
        never: CompanyState.TRIAL_CLOSED,
        paid: CompanyState.PAID,
        expired: CompanyState.TRIAL_CLOSED,
        future: CompanyState.TRIAL_CLOSED,
    }
    for company, state in expected.items():
        assert company.state == state, company.name
    annotated = {c.pk: c.state for c in Company.objects.with_state()}
    for company, state in expected.items():
        assert annotated[company.pk] == state, company.name


def test_company_list_shows_only_own_companies_with_state(personas, login):
    client = login(personas.read_only)
    response = client.get(reverse("portal:company_list"))
    assert response.status_code == 200
    assert b"Acme A" in response.content
    assert b"Bravo B" not in response.content
    assert b"Trial (Open)" in response.content


def test_company_list_rows_link_to_each_company(personas, login):
    """The rows' links are relative to the list: followed from any page of it, with any
    search or sort, each opens its own company."""
    client = login(personas.read_only)
    url = reverse("portal:company_list")
    for params in ({}, {"q": "acme", "sort": "-name", "page": 1}):
        response = client.get(url, params)
        hrefs = re.findall(r'<td><a href="([^"]+)">([^<]+)</a>', response.content.decode())
        assert hrefs, "no company rows"
        for href, name in hrefs:
            target = urljoin(response.wsgi_request.get_full_path(), href)
            company = Company.objects.get(partner=personas.partner, name=html.unescape(name))
            assert target == reverse("portal:company_detail", args=[company.public_id])
            assert client.get(target, follow=True).context["company"] == company


def test_company_list_search_tabs_and_pagination(personas, login, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        add_company(personas.partner, f"Zeta {i:02}")
    paid = add_company(personas.partner, "Paying Customer")
    add_licence(paid)
    client = login(personas.regular)
    url = reverse("portal:company_list")

    page1 = client.get(url, {"q": "zeta"})
    assert page1.context["page"].paginator.count == 12
    assert len(page1.context["page"].object_list) == 5
    page3 = client.get(url, {"q": "zeta", "page": 3})
    assert [c.name for c in page3.context["page"]] == ["Zeta 10", "Zeta 11"]
    assert b"page=2" in page3.content and b"q=zeta" in page3.content

    paid_tab = client.get(url, {"state": "paid"})
    assert [c.name for c in paid_tab.context["page"]] == ["Paying Customer"]
    assert paid_tab.context["counts"]["paid"] == 1
    assert paid_tab.context["counts"]["trial_closed"] == 12
    assert paid_tab.context["counts"]["trial_open"] == 1

    by_name_desc = client.get(url, {"sort": "-name"})
    assert by_name_desc.context["page"][0].name == "Zeta 11"


def test_company_list_query_count_is_constant(personas, login):
    """Constant whatever the number of companies: on the first view after a change (the tab
    counts are counted) and on the views after it (they come from the cache)."""
    client = login(personas.regular)
    url = reverse("portal:company_list")
    client.get(url)  # warm caches (content types, sessions)

    def measure() -> tuple[int, int]:
        forget_company_counts([personas.partner.public_id])
        with CaptureQueriesContext(connection) as first:
            client.get(url)
        with CaptureQueriesContext(connection) as next_views:
            client.get(url)
        return len(first), len(next_views)

    first, cached = measure()
    assert first <= 8 and cached == first - 1
    for i in range(30):
        c = add_company(personas.partner, f"C{i}")
        add_licence(c)
    assert measure() == (first, cached)


def test_regular_creates_edits_and_deletes_a_company(personas, login):
    client = login(personas.regular)
    response = client.post(
        reverse("portal:company_create"),
        {
            "name": "  New Co  ",
            "country": "GB",
            "reference": "R-1",
            "contact_name": "Ann",
            "contact_email": "Ann@NewCo.example",
        },
    )
    company = Company.objects.get(name="New Co")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:company_detail", args=[company.public_id])
    assert company.partner == personas.partner
    assert company.contact_email == "ann@newco.example"
    assert company.slug == "new-co"
    assert company.service_domain == "new-co.onpexip.com"

    response = client.post(
        reverse("portal:company_edit", args=[company.public_id]),
        {
            "name": "New Co Renamed",
            "country": "GB",
            "reference": "R-1",
            "contact_name": "Ann",
            "contact_email": "ann@newco.example",
        },
        follow=True,
    )
    assert b"Company details saved." in response.content
    company.refresh_from_db()
    assert company.name == "New Co Renamed"
    assert company.slug == "new-co", "the service subdomain never changes"

    confirm = client.get(reverse("portal:company_delete", args=[company.public_id]))
    assert b"cannot be undone" in confirm.content
    assert Company.objects.filter(pk=company.pk).exists(), "GET only asks"
    client.post(
        reverse("portal:company_delete", args=[company.public_id]),
        {"confirm_name": "New Co Renamed"},
    )
    assert not Company.objects.filter(pk=company.pk).exists()
    actions = list(
        AuditEvent.objects.filter(object_id=str(company.public_id)).values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "company.create",
        "company.delete",
        "company.evaluation",  # a new company starts in trial mode
        "company.update",
    ]


def test_company_form_shows_errors_beside_fields(personas, login):
    client = login(personas.manager)
    response = client.post(reverse("portal:company_create"), {"name": "", "contact_email": "nope"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "contact_email" in form.errors
    assert b'class="error"' in response.content
    assert not Company.objects.filter(partner=personas.partner, name="").exists()


def test_slugs_are_unique_across_partners(personas):
    a = add_company(personas.partner, "Same Name")
    b = add_company(personas.other_partner, "Same Name")
    assert a.slug == "same-name" and b.slug == "same-name-2"


def test_company_services_refuse_read_only_and_other_partner(personas):
    for actor in (personas.read_only, personas.other_manager):
        with pytest.raises(PermissionDenied):
            services.company_create(
                actor=actor, partner=personas.partner, name="X", contact_email="x@x.example"
            )
        with pytest.raises(PermissionDenied):
            services.company_delete(actor=actor, company=personas.company)
    assert Company.objects.filter(pk=personas.company.pk).exists()
    assert not Company.objects.filter(name="X").exists()


def test_activity_tab_lists_audit_events(personas, login):
    services.company_update(actor=personas.regular, company=personas.company, reference="PO-9")
    client = login(personas.read_only)
    response = client.get(reverse("portal:company_activity", args=[personas.company.public_id]))
    assert b"company.update" in response.content
    assert b"regular@a.example" in response.content


def test_company_tabs_render_for_every_role(personas, login):
    for user in (personas.read_only, personas.regular, personas.manager):
        client = login(user)
        for name in (
            "consumers:user_list",
            "consumers:team_vmr_list",
            "consumers:endpoint_list",
            "domains:domain_list",
            "licensing:licence_list",
            "portal:company_activity",
        ):
            response = client.get(reverse(name, args=[personas.company.public_id]))
            assert response.status_code == 200, name
            assert b"Acme A" in response.content


def test_deleting_a_company_takes_its_consumers_and_domains(personas, make, login):
    from consumers.models import Address, Consumer
    from domains.models import CallingDomain

    company = personas.company
    make.user("user.one")
    make.endpoint("ep-one1")
    client = login(personas.regular)
    confirm = client.get(reverse("portal:company_delete", args=[company.public_id]))
    assert b"<li>1 User</li>" in confirm.content
    assert b"<li>1 Endpoint</li>" in confirm.content
    assert b"<li>0 Team VMRs</li>" in confirm.content
    response = client.post(
        reverse("portal:company_delete", args=[company.public_id]), {"confirm_name": "Acme A"}
    )
    assert response.status_code == 302
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Consumer.objects.exists() and not Address.objects.exists()
    assert not CallingDomain.objects.filter(name="acme-a.onpexip.com").exists()
