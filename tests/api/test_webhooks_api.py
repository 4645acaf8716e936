"""Webhook endpoints through the API (/api/v1/webhooks…) and the Webhooks pages: register (the
secret once), list, read, change, delete, the delivery log and redeliver; managers only; another
partner's endpoint is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import webhook_endpoint_create
from portal.models import AuditEvent
from tests.api.conftest import assert_problem, token_for
from tests.api.webhook_receiver import start_receiver

URL = "https://hooks.partner.example/in"


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = start_receiver()
    yield server
    server.stop()


# --- the API -----------------------------------------------------------------------------------


def test_register_answers_the_secret_once_and_it_signs_the_deliveries(
    api, personas, make, receiver, django_capture_on_commit_callbacks
):
    response = api.post("webhooks", {"url": receiver.url(), "events": ["consumer.created"]})
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["events"] == ["consumer.created"] and body["enabled"] is True
    endpoint_id = body["id"]
    read = api.get(f"webhooks/{endpoint_id}").json()
    assert "secret" not in read and read["url"] == receiver.url()
    assert all("secret" not in item for item in api.get("webhooks").json()["items"])
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("api-room")
    (request,) = receiver.received
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "consumer.created"
    event = AuditEvent.objects.get(action="webhook.create")
    assert event.data["api_token"] == str(api.token.token.public_id)


def test_the_delivery_log_and_redeliver(
    api, personas, make, receiver, django_capture_on_commit_callbacks
):
    endpoint_id = api.post("webhooks", {"url": receiver.url(), "events": ["consumer.created"]})
    endpoint_id = endpoint_id.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("logged-room")
        make.team_vmr("second-room")
    log = api.get(f"webhooks/{endpoint_id}/deliveries", {"limit": 1}).json()
    (first,) = log["items"]
    assert first["status"] == "delivered" and first["last_status_code"] == 200
    assert first["payload"]["data"]["address"].startswith("second-room@")
    assert log["next"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"webhooks/{endpoint_id}/deliveries/{first['id']}/redeliver")
    assert response.status_code == 202, response.content
    assert response.json()["event_id"] == first["event_id"]
    assert len(receiver.received) == 3
    assert receiver.received[2].headers["webhook-id"] == first["event_id"]


def test_change_and_delete(api, personas):
    created = api.post("webhooks", {"url": URL, "events": ["company.created"]}).json()
    response = api.patch(
        f"webhooks/{created['id']}", {"events": ["company.updated", "company.created"]}
    )
    assert response.json()["events"] == ["company.created", "company.updated"]
    response = api.patch(f"webhooks/{created['id']}", {"enabled": False})
    assert response.json()["enabled"] is False
    assert response.json()["disabled_reason"] == "Disabled by a manager."
    assert api.delete(f"webhooks/{created['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert_problem(api.get(f"webhooks/{created['id']}"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/hook", "events": ["company.created"]}, "url"),
        ({"url": "http://10.0.0.1/", "events": ["company.created"]}, "url"),
        ({"url": "ftp://hooks.example.com/", "events": ["company.created"]}, "url"),
        ({"url": URL, "events": ["no.such.event"]}, "events"),
        ({"url": URL, "events": []}, "events"),
    ],
)
def test_a_bad_url_or_event_is_a_422(api, personas, body, field):
    problem = assert_problem(api.post("webhooks", body), 422)
    assert any(key == field or key.startswith(field) for key in problem["errors"]), problem
    assert not WebhookEndpoint.objects.exists()


def test_managers_only_and_the_write_scope(api, personas, read_token):
    assert_problem(
        api.as_(token_for(personas.regular)).post(
            "webhooks", {"url": URL, "events": ["company.created"]}
        ),
        403,
    )
    assert_problem(api.as_(token_for(personas.regular)).get("webhooks"), 403)
    assert_problem(
        api.as_(read_token).post("webhooks", {"url": URL, "events": ["company.created"]}), 403
    )
    assert api.as_(read_token).get("webhooks").status_code == 200


def test_another_partners_endpoint_is_a_404(api, personas, other_token):
    endpoint, _ = webhook_endpoint_create(
        actor=personas.other_manager, url=URL, events=["company.created"]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="msg_x", event_type="company.created", payload={}
    )
    assert api.get("webhooks").json()["items"] == []
    assert_problem(api.get(f"webhooks/{endpoint.public_id}"), 404)
    assert_problem(api.patch(f"webhooks/{endpoint.public_id}", {"enabled": False}), 404)
    assert_problem(api.delete(f"webhooks/{endpoint.public_id}"), 404)
    assert_problem(api.get(f"webhooks/{endpoint.public_id}/deliveries"), 404)
    mine, _ = webhook_endpoint_create(actor=personas.manager, url=URL, events=["company.created"])
    assert_problem(
        api.post(f"webhooks/{mine.public_id}/deliveries/{delivery.public_id}/redeliver"), 404
    )
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).enabled


def test_the_lists_run_a_constant_number_of_queries(
    api, personas, make, django_assert_max_num_queries
):
    endpoint, _ = webhook_endpoint_create(
        actor=personas.manager, url=URL, events=["consumer.created"]
    )
    for i in range(3):
        webhook_endpoint_create(actor=personas.manager, url=URL, events=["company.created"])
        make.team_vmr(f"count-room-{i}")
    with django_assert_max_num_queries(8) as few:
        assert len(api.get("webhooks").json()["items"]) == 4
    for _ in range(10):
        webhook_endpoint_create(actor=personas.manager, url=URL, events=["company.created"])
    with django_assert_max_num_queries(len(few)):
        assert len(api.get("webhooks").json()["items"]) == 14
    with django_assert_max_num_queries(8) as few:
        assert len(api.get(f"webhooks/{endpoint.public_id}/deliveries").json()["items"]) == 3
    for i in range(10):
        make.team_vmr(f"more-room-{i}")
    with django_assert_max_num_queries(len(few)):
        assert len(api.get(f"webhooks/{endpoint.public_id}/deliveries").json()["items"]) == 13


# --- the pages ----------------------------------------------------------------------------------


def test_the_pages_add_shows_the_secret_once_then_the_log_and_redeliver(
    login, personas, make, receiver, django_capture_on_commit_callbacks
):
    client = login(personas.manager)
    page = client.get(reverse("api:webhook_list"))
    assert b"No webhook endpoints yet" in page.content
    assert reverse("api:webhook_list").encode() in page.content, "in the navigation"
    response = client.post(
        reverse("api:webhook_create"),
        {
            "url": receiver.url(),
            "events": ["consumer.created", "consumer.deleted"],
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.encode() in response.content
    assert b"not shown again" in response.content
    detail = client.get(reverse("api:webhook_detail", args=[endpoint.public_id]))
    assert endpoint.secret.encode() not in detail.content
    assert endpoint.secret_hint.encode() in detail.content
    assert endpoint.secret.encode() not in client.get(reverse("api:webhook_list")).content
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("paged-room")
    detail = client.get(reverse("api:webhook_detail", args=[endpoint.public_id]))
    delivery = WebhookDelivery.objects.get()
    assert b"consumer.created" in detail.content and b"Delivered" in detail.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:webhook_redeliver", args=[endpoint.public_id, delivery.public_id])
        )
    assert response.status_code == 302
    assert len(receiver.received) == 2
    assert receiver.received[1].headers["webhook-id"] == delivery.event_id


def test_the_pages_refuse_a_private_url_and_edit_and_delete(login, personas, settings):
    client = login(personas.manager)
    response = client.post(
        reverse("api:webhook_create"),
        {"url": "http://169.254.169.254/", "events": ["company.created"]},
    )
    assert response.status_code == 200
    assert b"link-local address" in response.content
    assert not WebhookEndpoint.objects.exists()
    endpoint, _ = webhook_endpoint_create(
        actor=personas.manager, url=URL, events=["company.created"]
    )
    response = client.post(
        reverse("api:webhook_edit", args=[endpoint.public_id]),
        {"url": URL + "/v2", "events": ["company.updated"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        URL + "/v2",
        ["company.updated"],
        False,
    )
    confirm = client.get(reverse("api:webhook_delete", args=[endpoint.public_id]))
    assert b"Delete the webhook endpoint" in confirm.content
    client.post(reverse("api:webhook_delete", args=[endpoint.public_id]))
    assert not WebhookEndpoint.objects.exists()


def test_the_pages_of_another_partners_endpoint_are_404(login, personas):
    endpoint, _ = webhook_endpoint_create(
        actor=personas.other_manager, url=URL, events=["company.created"]
    )
    client = login(personas.manager)
    for name in ("api:webhook_detail", "api:webhook_edit", "api:webhook_delete"):
        assert client.get(reverse(name, args=[endpoint.public_id])).status_code == 404
    assert client.post(reverse("api:webhook_delete", args=[endpoint.public_id])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_delivery_log_page_runs_a_constant_number_of_queries(
    login, personas, make, django_assert_max_num_queries
):
    endpoint, _ = webhook_endpoint_create(
        actor=personas.manager, url=URL, events=["consumer.created"]
    )
    client = login(personas.manager)
    make.team_vmr("one-room")
    url = reverse("api:webhook_detail", args=[endpoint.public_id])
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(10):
        make.team_vmr(f"many-room-{i}")
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200
