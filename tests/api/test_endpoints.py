"""An endpoint's QR code, device configuration, usage model and call history through the API:
what the endpoint's pages show, through the same functions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consumers import provisioning
from consumers.models import CallRecord
from licensing.models import LicenceKind
from tests.api.conftest import assert_problem
from tests.conftest import add_licence

pytestmark = pytest.mark.django_db


def test_a_shared_endpoint_has_its_qr_code_as_png_and_svg(api, endpoint):
    png = api.get(f"consumers/{endpoint.public_id}/qr.png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content == provisioning.qr_png(endpoint)
    assert png.content.startswith(b"\x89PNG")
    svg = api.get(f"consumers/{endpoint.public_id}/qr.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml") or b"<svg" in svg.content


def test_a_personal_endpoint_has_no_qr_code_and_other_kinds_no_endpoint(api, make, endpoint):
    make.personal(endpoint)
    body = assert_problem(api.get(f"consumers/{endpoint.public_id}/qr.png"), 422)
    assert "shared endpoints" in body["errors"]["usage_model"][0]
    room = make.team_vmr("board-room")
    for path in ("qr.png", "qr.svg", "configuration", "usage-model", "calls"):
        assert_problem(api.get(f"consumers/{room.public_id}/{path}"), 404)


def test_the_device_configuration_is_what_the_page_and_download_show(api, endpoint):
    response = api.get(f"consumers/{endpoint.public_id}/configuration")
    assert response.status_code == 200, response.content
    body = response.json()
    settings = endpoint.endpoint
    assert body["address"] == endpoint.address
    assert body["sip"]["username"] == endpoint.address
    assert body["sip"]["password"] == settings.sip_password
    assert body["device"] == {"make": "Cisco", "model": "Room Kit", "serial": ""}
    assert body["usage_model"] == "shared"
    assert body["provisioning_url"].startswith("http://portal.test/")
    assert body["qr_link"] == provisioning.qr_link(endpoint)


def test_the_configuration_holds_the_sip_password_so_readers_cannot_see_it(
    api, endpoint, read_token, read_only_member_token
):
    for token in (read_token, read_only_member_token):
        reader = api.as_(token)
        assert_problem(reader.get(f"consumers/{endpoint.public_id}/configuration"), 403)
        assert reader.get(f"consumers/{endpoint.public_id}/qr.png").status_code == 200


def test_the_usage_model_switches_through_the_service(api, personas, make, endpoint):
    owner = make.user("alice.smith")
    url = f"consumers/{endpoint.public_id}/usage-model"
    old = CallRecord.objects.create(
        consumer=endpoint,
        started_at=timezone.now() - timedelta(days=120),
        duration_seconds=60,
        direction="in",
    )
    body = {"usage_model": "personal", "personal_user": str(owner.public_id)}
    refused = assert_problem(api.patch(url, body), 422)
    assert "confirmed" in refused["errors"]
    stranger = assert_problem(
        api.patch(url, {**body, "personal_user": str(endpoint.public_id), "confirmed": True}), 422
    )
    assert "personal_user" in stranger["errors"]
    response = api.patch(url, {**body, "confirmed": True})
    assert response.status_code == 200, response.content
    assert response.json()["usage_model"] == "personal"
    assert response.json()["personal_user"] == str(owner.public_id)
    assert response.json()["has_qr_code"] is False
    assert not CallRecord.objects.filter(pk=old.pk).exists()  # older than 3 months: removed
    assert api.get(url).json()["usage_model"] == "personal"
    back = api.patch(url, {"usage_model": "shared"})
    assert back.json() == {**back.json(), "usage_model": "shared", "personal_user": None}
    assert_problem(api.patch(url, {"usage_model": "rented"}), 422)


def test_a_read_token_cannot_change_the_usage_model(api, endpoint, read_token):
    url = f"consumers/{endpoint.public_id}/usage-model"
    assert_problem(api.as_(read_token).patch(url, {"usage_model": "personal"}), 403)


def _calls(endpoint, days_ago):
    now = timezone.now()
    return [
        CallRecord.objects.create(
            consumer=endpoint,
            started_at=now - timedelta(days=d),
            duration_seconds=30,
            direction="out",
            remote_address=f"peer{d}@remote.example",
        )
        for d in days_ago
    ]


def test_call_history_pages_newest_first_with_the_calls_pages_day_filters(
    api, endpoint, django_assert_max_num_queries
):
    calls = _calls(endpoint, [1, 2, 3, 4, 5, 40])
    url = f"consumers/{endpoint.public_id}/calls"
    api.get(url)
    seen, page = [], api.get(url, {"limit": 2})
    with django_assert_max_num_queries(8) as few:
        page = api.get(url, {"limit": 2})
    while True:
        body = page.json()
        seen += [c["id"] for c in body["items"]]
        if not body["next"]:
            break
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = api.get(body["next"])
    assert seen == [c.pk for c in calls]  # newest first
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    until = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = api.get(url, {"from": since, "to": until})
    assert [c["remote_address"] for c in response.json()["items"]] == [
        "peer2@remote.example",
        "peer3@remote.example",
        "peer4@remote.example",
        "peer5@remote.example",
    ]
    assert response.json()["items"][0]["anonymised"] is False
    assert_problem(api.get(url, {"from": "yesterday"}), 422)
    # A day too near the calendar's ends is ignored, as on the calls page: never a 500.
    assert api.get(url, {"to": "9999-12-31"}).status_code == 200


def test_another_partners_endpoint_is_404(api, personas, make):
    add_licence(personas.other_company, LicenceKind.ROOM)
    theirs = make.endpoint(
        "their-screen", company=personas.other_company, actor=personas.other_manager
    )
    for path in ("qr.png", "qr.svg", "configuration", "usage-model", "calls"):
        assert_problem(api.get(f"consumers/{theirs.public_id}/{path}"), 404)
    assert_problem(
        api.patch(f"consumers/{theirs.public_id}/usage-model", {"usage_model": "shared"}), 404
    )
