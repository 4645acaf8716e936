"""A hostile second review of the partner API: tokens whose member changed, ops accounts'
tokens, SSRF bypasses, and bad input that must never be a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from api.webhooks.targets import TargetRefused, target_resolve, url_validate
from consumers.models import Consumer
from portal.models import PartnerMembership, Role
from tests.api.conftest import ApiClient, assert_problem, token_for


def test_a_token_of_a_member_moved_to_another_partner_is_refused(api_client: ApiClient, personas):
    token = token_for(personas.manager)
    PartnerMembership.objects.filter(user=personas.manager).update(partner=personas.other_partner)
    response = api_client.as_(token).get("companies")
    assert_problem(response, 401)


def test_the_tokens_page_shows_a_token_the_api_refuses_as_suspended(
    api_client: ApiClient, personas, login
):
    token = token_for(personas.regular)  # made while a manager, as token_for says
    page = login(personas.manager).get(reverse("api:token_list"))
    assert "Suspended" not in page.content.decode()
    personas.regular.is_staff = True  # now ops: the API refuses the token, never revoked
    personas.regular.save(update_fields=["is_staff"])
    assert_problem(api_client.as_(token).get("companies"), 401)
    page = login(personas.manager).get(reverse("api:token_list"))
    assert "Suspended" in page.content.decode()


def test_a_token_of_an_ops_account_is_refused(api_client: ApiClient, personas):
    """An ops account acts as a manager of every partner: its token would be a read-only
    member's escalation (and ops-only powers) through the API."""
    token = token_for(personas.read_only, scopes=("read", "write"))
    personas.read_only.is_staff = True
    personas.read_only.save(update_fields=["is_staff"])
    response = api_client.as_(token).post(
        "companies", {"name": "Ops made", "contact_email": "x@x.example"}
    )
    assert_problem(response, 401)


def test_a_demoted_manager_token_cannot_write(api_client: ApiClient, personas, make):
    endpoint = make.endpoint("hall-display")
    token = token_for(personas.manager)
    PartnerMembership.objects.filter(user=personas.manager).update(role=Role.READ_ONLY)
    client = api_client.as_(token)
    assert_problem(client.post("companies", {"name": "X", "contact_email": "x@x.example"}), 403)
    assert_problem(
        client.post("webhooks", {"url": "https://example.com/h", "events": ["company.created"]}),
        403,
    )
    # The device configuration holds the SIP password: a writer's only.
    assert_problem(client.get(f"consumers/{endpoint.public_id}/configuration"), 403)


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1%25eth0]/hook",
        "http://[64:ff9b::7f00:1]/hook",
    ],
)
def test_webhook_urls_to_private_addresses_are_refused(url):
    with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False):
        with pytest.raises(TargetRefused):
            target_resolve(url)
        with pytest.raises(Exception):
            url_validate(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://0177.0.0.1/hook",
        "http://127.1/hook",
        "http://localhost./hook",
        "http://a@127.0.0.1/hook",
        "http://127.0.0.1:22/hook",
        "http://LOCALHOST/hook",
    ],
)
def test_webhook_url_obfuscations_never_reach_loopback(url):
    with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, DNS_NAMESERVERS=[]):
        with pytest.raises(TargetRefused):
            target_resolve(url)


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/hook", "http://0x7f.1/hook", "http://0177.0.0.1/hook", "http://127.1/"],
)
def test_a_legacy_form_of_a_loopback_address_is_refused_at_registration(url):
    """Told at once, not only when a delivery is refused later."""
    with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False):
        with pytest.raises(ValidationError, match="loopback"):
            url_validate(url)


def test_a_name_made_of_digits_and_letters_is_not_read_as_an_address():
    with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False):
        assert url_validate("https://hooks.example.com/x") == "https://hooks.example.com/x"


BAD_BODIES = [
    b"[" * 50000 + b"]" * 50000,
    b'{"name": ' + b"1" * 5000 + b"}",
    b"\xff\xfe",
    b'{"name": "\\ud800"}',
    b'{"name": ["a"], "contact_email": 5}',
    b'{"name": "' + "é".encode() * 100000 + b'"}',
    b"null",
    b"1e999999",
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_are_never_a_500(api, body):
    response = api.post("companies", body)
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "-1"},
        {"limit": "99999999999999999999999"},
        {"limit": "1e3"},
        {"cursor": "!!!"},
        {"cursor": "W10"},
        {"cursor": "bnVsbA"},
        {"cursor": "WyJ4IiwieSJd"},
        {"cursor": "W1s5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XV0"},
        {"cursor": "\x00"},
        {"q": "\x00"},
        {"q": "a" * 10000},
        {"status": "\x00"},
    ],
)
@pytest.mark.parametrize("path", ["companies", "webhooks", "batches"])
def test_bad_queries_are_never_a_500(api, path, query):
    response = api.get(path, query)
    assert response.status_code < 500, response.content


def test_idempotency_key_edges(api, personas, other_token):
    body = {"name": "Idem Co", "contact_email": "i@i.example"}
    first = api.post("companies", body, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    # Another partner's token with the same key: its own request, not a replay of A's.
    other = api.as_(other_token).post("companies", body, HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert other.json()["id"] != first.json()["id"]
    assert_problem(api.post("companies", body, HTTP_IDEMPOTENCY_KEY="k" * 256), 422)
    assert_problem(api.post("webhooks", body, HTTP_IDEMPOTENCY_KEY="k1"), 422)
    assert_problem(api.post("companies", body, HTTP_IDEMPOTENCY_KEY=" "), 422)


def test_problem_405(api):
    response = api.put("companies", {})
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json", response.content
    assert response["Allow"] == "GET, POST"
    assert response.json()["status"] == 405


def test_another_partners_verified_domain_cannot_be_named(api, personas):
    from domains.models import CallingDomain, DomainStatus

    CallingDomain.objects.create(
        company=personas.other_company, name="bravo.example", status=DomainStatus.VERIFIED
    )
    body = {"kind": "team_vmr", "alias": "ops", "display_name": "Ops", "domain": "bravo.example"}
    response = api.post(f"companies/{personas.company.public_id}/consumers", body)
    assert_problem(response, 422)
    assert not Consumer.objects.filter(alias="ops").exists()


def test_a_batch_of_another_partners_consumers_touches_none(
    api, personas, foreign_room, django_capture_on_commit_callbacks
):
    mine = api.post(
        f"companies/{personas.company.public_id}/batches",
        {"action": "delete", "kind": "team_vmr", "consumer_ids": [str(foreign_room.public_id)]},
    )
    if mine.status_code == 201:
        assert mine.json()["summary"]["will"] == 0
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"batches/{mine.json()['id']}/confirm")
    by_address = api.post(
        f"companies/{personas.company.public_id}/batches",
        {"action": "delete", "kind": "team_vmr", "addresses": [foreign_room.address]},
    )
    if by_address.status_code == 201:
        assert by_address.json()["summary"]["will"] == 0
    assert Consumer.objects.filter(pk=foreign_room.pk).exists()


def test_a_read_token_writes_nothing_anywhere(api_client, personas, make, read_token):
    room = make.team_vmr("board-room")
    client = api_client.as_(read_token)
    batch = ApiClient(api_client.client, token_for(personas.manager)).post(
        f"companies/{personas.company.public_id}/batches",
        {"action": "delete", "kind": "team_vmr", "consumer_ids": [str(room.public_id)]},
    )
    assert batch.status_code == 201, batch.content
    assert_problem(client.post(f"batches/{batch.json()['id']}/confirm"), 403)
    assert_problem(client.post(f"batches/{batch.json()['id']}/cancel"), 403)
    assert_problem(client.get(f"consumers/{room.public_id}/configuration"), 403)
    assert_problem(
        client.post("webhooks", {"url": "https://example.com/h", "events": ["company.created"]}),
        403,
    )
    assert_problem(
        client.patch(f"consumers/{room.public_id}/usage-model", {"usage_model": "shared"}), 403
    )
    assert Consumer.objects.filter(pk=room.pk).exists()


@pytest.mark.parametrize("idempotency_key", [None, "big-body"])
def test_a_body_over_the_upload_limit_is_a_413_problem_not_a_500(api, settings, idempotency_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 5000 + '", "contact_email": "a@a.example"}'
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = api.post("companies", body, **headers)
    assert_problem(response, 413)


def test_a_refused_target_does_not_reveal_the_inner_address(dns_server, settings):
    """The delivery log is the partner's: it must not map the service's inner network."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    dns_server.add_a("db.internal.example", "10.20.30.40")
    with pytest.raises(TargetRefused) as refused:
        target_resolve("https://db.internal.example/hook")
    assert "10.20.30.40" not in str(refused.value)
    assert "private" in str(refused.value)


NASTY_QUERIES = [
    {"limit": "0"},
    {"limit": "-5"},
    {"limit": "10000000000000000000000"},
    {"cursor": "eyJhIjogMX0"},
    {"cursor": "WyIyMDI2LTEzLTQwIiwgImEiXQ"},
    {"q": "\x00"},
    {"status": "nope"},
    {"sort": "-" * 300},
    {"show": "\x00"},
    {"day": "2026-02-30"},
    {"since": "x"},
    {"kind": "\x00"},
]


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_nasty_queries_on_every_get_route_are_never_a_500(api, personas, make, query):
    from tests.api.test_isolation import OPERATIONS

    room = make.team_vmr("board-room")
    ids = {"company_id": personas.company.public_id, "consumer_id": room.public_id}
    for method, path, _operation in OPERATIONS:
        if method != "GET" or "{" in path.replace("{company_id}", "").replace("{consumer_id}", ""):
            continue
        url = path.format(**ids)
        response = api.get(url, query)
        assert response.status_code < 500, (url, query, response.content[:300])
        raw = api.get(f"{url}?q=%ED%A0%80&cursor=%FF&limit=%00")  # not UTF-8
        assert raw.status_code < 500, (url, raw.content[:300])


def test_an_ops_account_with_a_membership_cannot_create_a_token(personas):
    """Its token would never work (usable() refuses ops accounts): refused up front."""
    from django.core.exceptions import PermissionDenied

    from api.models import ApiToken
    from api.services import api_token_create

    personas.manager.is_staff = True
    personas.manager.save(update_fields=["is_staff"])
    with pytest.raises(PermissionDenied):
        api_token_create(actor=personas.manager, name="Ops", scopes=["read"])
    assert not ApiToken.objects.exists()
