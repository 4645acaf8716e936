from __future__ import annotations

import csv
import io

from django.urls import reverse

from consumers import services
from licensing.models import LicenceKind
from tests.conftest import add_company, add_licence


def rows(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_licence_consumers_export_per_company_and_per_partner(personas, make, foreign_room, login):
    company = personas.company
    company.reference = "ACME-1"
    company.save()
    add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    room = make.team_vmr("paid-room")
    services.consumer_update(
        actor=personas.regular, consumer=room, cost_centre="CC-7", description_tag="sales"
    )
    make.endpoint("trial-ep")  # no room licence, evaluation open: trial
    gone = make.team_vmr("gone-room")
    services.consumer_deactivate(actor=personas.regular, consumer=gone)
    sister = add_company(personas.partner, "Sister")
    add_licence(sister, LicenceKind.ENTERPRISE_WIDE, None)
    make.team_vmr("wide-room", company=sister)

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
    assert not any(foreign_room.alias in a for a in addresses), "never another partner's"
