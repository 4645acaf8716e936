"""Endpoints: QR codes, provisioning, SIP credentials, usage model, call history, ingest."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from consumers.models import CallRecord, ConsumerKind
from consumers.services import endpoints


def eurl(name, personas, endpoint, *args):
    return reverse(
        f"consumers:{name}", args=[personas.company.public_id, endpoint.public_id, *args]
    )


def qr_decode(png: bytes) -> str:
    """The text of the one QR code in the image (zxing-cpp: no command-line tool)."""
    (found,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return found.text


def test_qr_png_decodes_to_the_join_link(personas, endpoint, login, tmp_path, settings):
    settings.ENDPOINT_QR_URL_TEMPLATE = "https://join.example/?to={address}"
    response = login(personas.read_only).get(eurl("endpoint_qr", personas, endpoint, "png"))
    assert response["Content-Type"] == "image/png"
    Image.open(io.BytesIO(response.content)).verify()
    assert qr_decode(response.content) == (
        "https://join.example/?to=lobby-screen@acme-a.onpexip.com"
    )
    ep = endpoints.endpoint_settings(endpoint)
    assert ep.sip_password not in qr_decode(response.content), "never a secret"


def test_qr_svg_and_printable_page(personas, endpoint, login):
    client = login(personas.read_only)
    svg = client.get(eurl("endpoint_qr", personas, endpoint, "svg") + "?download=1")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert "attachment" in svg["Content-Disposition"]
    page = client.get(eurl("endpoint_qr_print", personas, endpoint))
    assert b"Lobby screen" in page.content and b"lobby-screen@acme-a.onpexip.com" in page.content
    assert b"<svg" in page.content


def test_no_qr_for_personal_endpoints(personas, make, endpoint, login):
    make.personal(endpoint)
    assert (
        login(personas.regular).get(eurl("endpoint_qr", personas, endpoint, "png")).status_code
        == 404
    )


def test_provisioning_url_serves_config_and_rotation_kills_the_old_one(personas, endpoint, client):
    ep = endpoints.endpoint_settings(endpoint)
    url = endpoints.provisioning_url(ep).removeprefix("http://portal.test")
    response = client.get(url)
    assert response.status_code == 200
    config = json.loads(response.content)
    assert config["sip"]["username"] == "lobby-screen@acme-a.onpexip.com"
    assert config["sip"]["password"] == ep.sip_password
    assert config["sip"]["proxy"] == "sip.onpexip.com" and config["sip"]["transport"] == "tls"
    assert config["display_name"] == "Lobby screen"
    cisco = client.get(url.replace("config.json", "config.cisco")).content.decode()
    assert 'xConfiguration SIP Authentication Password: "' + ep.sip_password + '"' in cisco
    poly = client.get(url.replace("config.json", "config.poly")).content.decode()
    assert 'reg.1.address="lobby-screen@acme-a.onpexip.com"' in poly

    endpoints.endpoint_rotate_provisioning(actor=personas.regular, consumer=endpoint)
    assert client.get(url).status_code == 404, "the rotated token stops working"
    new_url = endpoints.provisioning_url(endpoints.endpoint_settings(endpoint))
    assert (
        new_url != url and client.get(new_url.removeprefix("http://portal.test")).status_code == 200
    )
    assert client.get("/provision/" + "a" * 64 + "/config.json").status_code == 404


def test_provisioning_is_rate_limited(personas, endpoint, client, settings):
    settings.PROVISIONING_RATE_LIMIT = 3  # the counters start from zero (conftest)
    url = endpoints.provisioning_url(endpoints.endpoint_settings(endpoint)).removeprefix(
        "http://portal.test"
    )
    codes = [client.get(url).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_regenerating_the_sip_password(personas, endpoint, login):
    old = endpoints.endpoint_settings(endpoint).sip_password
    login(personas.regular).post(eurl("endpoint_regenerate_password", personas, endpoint))
    assert endpoints.endpoint_settings(endpoint).sip_password != old


def test_config_downloads_need_a_writer_role(personas, endpoint, login):
    assert (
        login(personas.read_only)
        .get(eurl("endpoint_config", personas, endpoint, "json"))
        .status_code
        == 403
    )
    response = login(personas.regular).get(eurl("endpoint_config", personas, endpoint, "poly"))
    assert response.status_code == 200 and "lobby-screen.cfg" in response["Content-Disposition"]


def test_switching_to_personal_needs_confirmation_and_removes_old_history(
    personas, make, endpoint, login
):
    now = timezone.now()
    CallRecord.objects.bulk_create(
        [
            CallRecord(
                consumer=endpoint,
                started_at=now - timedelta(days=120),
                direction="in",
                remote_address="old@x.example",
            ),
            CallRecord(
                consumer=endpoint,
                started_at=now - timedelta(days=10),
                direction="out",
                remote_address="new@x.example",
            ),
        ]
    )
    user = make.user("user.one")
    client = login(personas.regular)
    page = client.get(eurl("endpoint_detail", personas, endpoint))
    assert b"cannot be recovered by switching back" in page.content
    refused = client.post(
        eurl("endpoint_usage_model", personas, endpoint),
        {"usage_model": "personal", "personal_user": str(user.public_id)},
    )
    assert refused.status_code == 400 and CallRecord.objects.count() == 2
    client.post(
        eurl("endpoint_usage_model", personas, endpoint),
        {"usage_model": "personal", "personal_user": str(user.public_id), "confirmed": "on"},
    )
    assert list(CallRecord.objects.values_list("remote_address", flat=True)) == ["new@x.example"]
    client.post(eurl("endpoint_usage_model", personas, endpoint), {"usage_model": "shared"})
    ep = endpoints.endpoint_settings(endpoint)
    assert ep.usage_model == "shared" and ep.personal_user is None
    assert CallRecord.objects.count() == 1, "switching back brings nothing back"


def test_personal_needs_a_user_of_the_same_company(personas, endpoint):
    with pytest.raises(ValidationError):
        endpoints.endpoint_set_usage_model(
            actor=personas.regular,
            consumer=endpoint,
            usage_model="personal",
            personal_user=None,
            confirmed=True,
        )


INGEST_URL = "/api/call-records/"


def post_json(client, payload, token="svc-token"):
    return client.post(
        INGEST_URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def record(**over):
    base = {
        "endpoint": "lobby-screen@acme-a.onpexip.com",
        "started_at": "2027-01-04T08:00:00Z",  # an hour before the clock's T0
        "duration_seconds": 125,
        "direction": "in",
        "remote_address": "bob@x.example",
        "remote_display_name": "Bob",
        "remote_ip": "198.51.100.7",
        "call_id": "c-1",
    }
    return {**base, **over}


def test_ingest_needs_the_service_token(clock, endpoint, client, settings):
    settings.CALL_RECORDS_INGEST_TOKEN = "svc-token"
    assert post_json(client, {"records": [record()]}, token="wrong").status_code == 401
    settings.CALL_RECORDS_INGEST_TOKEN = ""
    assert post_json(client, {"records": [record()]}, token="").status_code == 401
    assert not CallRecord.objects.exists()


def test_ingest_rejects_the_whole_batch_with_per_record_errors(clock, endpoint, client, settings):
    settings.CALL_RECORDS_INGEST_TOKEN = "svc-token"
    batch = [
        record(call_id="ok-1"),
        record(call_id="bad-1", endpoint="nobody@x.example"),
        record(call_id="bad-2", started_at="yesterday", duration_seconds=-1, direction="sideways"),
        record(call_id="bad-3", remote_ip="999.1.1.1", started_at="2027-01-04T08:00:00"),
    ]
    response = post_json(client, {"records": batch})
    assert response.status_code == 400
    errors = response.json()["records"]
    assert set(errors) == {"1", "2", "3"}
    assert "unknown endpoint" in errors["1"][0]
    assert len(errors["2"]) == 3
    assert any("time zone" in e for e in errors["3"]) and any("IP" in e for e in errors["3"])
    assert not CallRecord.objects.exists(), "nothing of a bad batch is stored"


def test_ingest_stores_a_valid_batch_once(clock, endpoint, client, settings):
    settings.CALL_RECORDS_INGEST_TOKEN = "svc-token"
    batch = [record(call_id=f"c-{i}", duration_seconds=i) for i in range(3)]
    response = post_json(client, {"records": batch})
    assert response.status_code == 201 and response.json()["stored"] == 3
    post_json(client, {"records": batch})
    assert CallRecord.objects.count() == 3, "a re-sent batch is harmless"


def test_import_command_csv_and_jsonl(clock, endpoint, tmp_path):
    csv_file = tmp_path / "calls.csv"
    csv_file.write_text(
        "endpoint,started_at,duration_seconds,direction,remote_address,remote_display_name,"
        "remote_ip,call_id\n"
        "lobby-screen@acme-a.onpexip.com,2027-01-04T07:00:00+00:00,60,in,a@x.example,A,,k1\n"
        "lobby-screen@acme-a.onpexip.com,2027-01-04T08:00:00+00:00,30,out,b@x.example,B,,k2\n"
    )
    out = io.StringIO()
    call_command("import_call_records", str(csv_file), stdout=out)
    assert "2 call records imported" in out.getvalue()
    bad = tmp_path / "calls.jsonl"
    bad.write_text(
        json.dumps(record(call_id="j1")) + "\n" + json.dumps(record(direction="x")) + "\n"
    )
    err = io.StringIO()
    with pytest.raises(Exception, match="No record was imported"):
        call_command("import_call_records", str(bad), stderr=err)
    assert "line 2" in err.getvalue()
    assert CallRecord.objects.count() == 2


def test_call_history_tab_paginates_filters_and_exports(personas, endpoint, login):
    now = timezone.now().replace(microsecond=0)
    CallRecord.objects.bulk_create(
        [
            CallRecord(
                consumer=endpoint,
                started_at=now - timedelta(days=i),
                direction="in",
                duration_seconds=i,
                remote_address=f"peer{i}@x.example",
            )
            for i in range(60)
        ]
        + [
            CallRecord(
                consumer=endpoint,
                started_at=now - timedelta(days=200),
                direction="out",
                anonymized_at=now,
            )
        ]
    )
    client = login(personas.read_only)
    page = client.get(eurl("endpoint_calls", personas, endpoint))
    calls = list(page.context["page"])
    assert len(calls) == 50 and calls[0].remote_address == "peer0@x.example", "newest first"
    last = client.get(eurl("endpoint_calls", personas, endpoint), {"page": 2})
    assert b"Anonymised" in last.content
    day = (now - timedelta(days=3)).date().isoformat()
    filtered = client.get(eurl("endpoint_calls", personas, endpoint), {"from": day, "to": day})
    assert [c.remote_address for c in filtered.context["page"]] == ["peer3@x.example"]
    export = client.get(eurl("endpoint_calls", personas, endpoint), {"export": "csv"})
    body = b"".join(export.streaming_content).decode()
    assert body.count("\n") == 62 and "peer59@x.example" in body and ",yes" in body


def test_endpoint_pages_refuse_other_kinds(personas, make, login):
    room = make.team_vmr("not-an-endpoint")
    assert room.kind == ConsumerKind.TEAM_VMR
    response = login(personas.regular).get(eurl("endpoint_detail", personas, room))
    assert response.status_code == 404
