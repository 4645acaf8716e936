from __future__ import annotations

import csv
import io

from django.urls import reverse

from consumers import services
from licensing.models import LicenceKind
from tests.conftest import add_licence


def rows(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_licence_consumers_export_per_company_and_per_partner(personas, login):
    company = personas.company
    company.reference = "ACME-1"
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    room = services.team_vmr_create(
        actor=personas.regular, company=company, alias="paid-room", display_name="P"
    )
    services.consumer_update(
        actor=personas.regular, consumer=room, cost_centre="CC-7", description_tag="sales"
    )
    services.endpoint_create(
        actor=personas.regular, company=company, alias="trial-ep", display_name="T"
    )  # no room licence, evaluation open: trial
    gone = services.team_vmr_create(
        actor=personas.regular, company=company, alias="gone-room", display_name="G"
    )
    services.consumer_deactivate(actor=personas.regular, consumer=gone)
    from portal.models import Company

    sister = Company.objects.create(partner=personas.partner, name="Sister", contact_email="s@s.x")
    add_licence(sister, LicenceKind.ENTERPRISE_WIDE, None)
    services.team_vmr_create(
        actor=personas.regular, company=sister, alias="wide-room", display_name="W"
    )
    add_licence(personas.other_company)
    services.team_vmr_create(
        actor=personas.other_manager,
        company=personas.other_company,
        alias="theirs-room",
        display_name="X",
    )

    client = login(personas.read_only)
    per_company = rows(
        client.get(reverse("consumers:licence_consumers_export", args=[company.public_id]))
    )
    by_address = {r["address"]: r for r in per_company}
    assert set(by_address) == {
        "paid-room@acme-a.onpexip.com",
        "trial-ep@acme-a.onpexip.com",
        "gone-room@acme-a.onpexip.com",
    }
    paid = by_address["paid-room@acme-a.onpexip.com"]
    assert (paid["billing"], paid["cost_centre"], paid["description_tag"], paid["kind"]) == (
        "enterprise_user",
        "CC-7",
        "sales",
        "team_vmr",
    )
    assert paid["company_reference"] == "ACME-1"
    assert by_address["trial-ep@acme-a.onpexip.com"]["billing"] == "trial"
    assert by_address["gone-room@acme-a.onpexip.com"]["billing"] == ""

    everything = rows(client.get(reverse("partner_licence_consumers_export")))
    addresses = {r["address"]: r for r in everything}
    assert "wide-room@sister.onpexip.com" in addresses
    assert addresses["wide-room@sister.onpexip.com"]["billing"] == "enterprise_wide"
    assert not any("theirs-room" in a for a in addresses), "never another partner's"
