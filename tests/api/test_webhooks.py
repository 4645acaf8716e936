"""Webhooks: every event emitted by the service that owns it, delivered after the commit to a
real receiver on loopback and signed per Standard Webhooks; retries, the endpoint disabled
after failing for long with an email to the managers, redeliver, one delivery for two senders,
the old log cleaned up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks import Webhook

from api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from api.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
)
from api.webhooks import delivery as deliveries
from consumers import services as consumer_services
from consumers.events import consumers_gone_events
from consumers.models import ConsumerStatus, Invitation
from consumers.services import batch as batches
from consumers.services import invitations
from domains.services import calling_domain_add
from handouts import services as handout_services
from licensing.expiry import trial_reminders_send
from portal import services as portal_services
from portal.celery import PERIODIC_JOBS
from portal.events import EVENT_TYPES
from portal.models import OutboxMessage
from tests.api.webhook_receiver import start_receiver
from tests.conftest import T0, requires_postgres, run_at_once

PUBLIC_URL = "https://hooks.partner.example/portal"


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.stop()


@pytest.fixture
def private_ok(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def hook(personas):
    """An endpoint of partner A subscribed to every event (never sent to in these tests: the
    commit callbacks do not run)."""
    endpoint, _secret = webhook_endpoint_create(
        actor=personas.manager, url=PUBLIC_URL, events=EVENT_TYPES
    )
    return endpoint


def sent(hook, event_type: str) -> list[dict]:
    """The bodies of the deliveries of this type written for the endpoint."""
    rows = WebhookDelivery.objects.filter(endpoint=hook, event_type=event_type)
    return [row.payload for row in rows.order_by("pk")]


# --- delivery to a real receiver -----------------------------------------------------------------


def test_a_delivery_reaches_the_receiver_after_the_commit_and_its_signature_verifies(
    personas, make, receiver, private_ok, django_capture_on_commit_callbacks
):
    endpoint, secret = webhook_endpoint_create(
        actor=personas.manager, url=receiver.url(), events=["consumer.created"]
    )
    assert secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        room = make.team_vmr("board-room", display_name="Board")
        assert receiver.received == [], "nothing leaves before the commit"
    assert len(receiver.received) == 1
    request = receiver.received[0]
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "consumer.created"
    assert body["data"]["id"] == str(room.public_id)
    assert body["data"]["address"] == room.address
    assert body["data"]["company_id"] == str(personas.company.public_id)
    assert body["timestamp"].endswith("Z")
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(request.body.replace(b"board", b"bored"), request.headers)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.last_status_code, delivery.attempts) == ("delivered", 200, 1)


def test_only_subscribed_enabled_endpoints_of_the_partner_get_the_event(personas, make, hook):
    webhook_endpoint_create(actor=personas.manager, url=PUBLIC_URL, events=["company.updated"])
    off, _ = webhook_endpoint_create(actor=personas.manager, url=PUBLIC_URL, events=EVENT_TYPES)
    webhook_endpoint_update(actor=personas.manager, endpoint=off, enabled=False)
    webhook_endpoint_create(actor=personas.other_manager, url=PUBLIC_URL, events=EVENT_TYPES)
    make.team_vmr("meeting-room")
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [hook.pk]


def test_no_endpoint_no_delivery(personas, make):
    make.team_vmr("meeting-room")
    assert not WebhookDelivery.objects.exists()


# --- each event from its service -----------------------------------------------------------------


def test_company_created(personas, hook):
    company = portal_services.company_create(
        actor=personas.regular, partner=personas.partner, name="Zeta", contact_email="z@z.example"
    )
    (body,) = sent(hook, "company.created")
    assert body["data"]["id"] == str(company.public_id)
    assert body["data"]["name"] == "Zeta"


def test_company_updated(personas, hook):
    portal_services.company_update(actor=personas.regular, company=personas.company, name="Acme 2")
    portal_services.company_update(actor=personas.regular, company=personas.company, name="Acme 2")
    (body,) = sent(hook, "company.updated")
    assert body["data"]["changed"] == ["name"]
    assert body["data"]["name"] == "Acme 2"


def test_consumer_created_for_a_user_carries_no_personal_data(personas, make, hook):
    user = make.user("jane.doe", email="jane@customer.example", full_name="Jane Doe")
    (body,) = sent(hook, "consumer.created")
    assert body["data"]["id"] == str(user.public_id)
    assert body["data"]["kind"] == "user"
    assert body["data"]["status"] == "invited"
    text = str(body).lower()
    assert "jane" not in text and "doe" not in text


def test_consumer_deleted(personas, make, hook):
    room = make.team_vmr("old-room")
    consumer_services.consumer_delete(actor=personas.regular, consumer=room)
    (body,) = sent(hook, "consumer.deleted")
    assert body["data"] == {
        "id": str(room.public_id),
        "company_id": str(personas.company.public_id),
        "kind": "team_vmr",
        "domain": room.domain,
        "address": room.address,
    }


def test_deleting_many_reads_their_events_only_for_partners_whose_endpoints_listen(personas, make):
    """A set-based delete (batch, purge) reads what its events say only for the partners with
    an enabled endpoint subscribed to them: with none, it reads nothing; another partner's
    endpoint, or one of the partner's own subscribed to something else, gets it nothing."""
    own, _ = webhook_endpoint_create(
        actor=personas.manager, url=PUBLIC_URL, events=["company.created"]
    )
    rooms = [make.team_vmr(f"gone-room-{i}") for i in range(3)]

    def delete(room) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            consumer_services.consumers_delete(
                actor=personas.manager, company=personas.company, consumer_ids=[room.pk]
            )
        return [q["sql"] for q in queries if '"portal_company"."public_id"' in q["sql"]]

    assert delete(rooms[0]) == [], "no one listens: the events are not read"
    webhook_endpoint_create(
        actor=personas.other_manager, url=PUBLIC_URL, events=["consumer.deleted"]
    )
    assert consumers_gone_events([rooms[1].pk], ["consumer.deleted"]) == []
    delete(rooms[1])
    assert not WebhookDelivery.objects.exists()
    webhook_endpoint_update(actor=personas.manager, endpoint=own, events=["consumer.deleted"])
    delete(rooms[2])
    (body,) = sent(own, "consumer.deleted")
    assert body["data"]["id"] == str(rooms[2].public_id)
    assert WebhookDelivery.objects.count() == 1, "the other partner's endpoint gets nothing"


def test_consumer_activated(personas, make, hook):
    room = make.team_vmr("sleepy-room")
    consumer_services.consumer_deactivate(actor=personas.regular, consumer=room)
    consumer_services.consumer_activate(actor=personas.regular, consumer=room)
    (body,) = sent(hook, "consumer.activated")
    assert body["data"]["id"] == str(room.public_id)
    assert body["data"]["status"] == "active"
    assert body["data"]["is_trial"] is True


def test_invitation_accepted(personas, make, hook):
    user = make.user("new.person")
    invitation = Invitation.objects.get(consumer=user)
    invitations.invitation_accept(token=invitations.tokens.token_for(invitation.token_nonce))
    (body,) = sent(hook, "invitation.accepted")
    assert body["data"]["id"] == str(user.public_id)
    assert body["data"]["status"] == ConsumerStatus.ACTIVE


def test_invitation_expired_carries_no_personal_data(clock, personas, make, hook):
    user = make.user("jane.doe", email="jane@customer.example", full_name="Jane Doe")
    WebhookDelivery.objects.all().delete()
    clock.move_to(T0 + timedelta(days=61))
    assert invitations.invitations_purge() == 1
    (body,) = sent(hook, "invitation.expired")
    assert body["data"] == {
        "id": str(user.public_id),
        "company_id": str(personas.company.public_id),
        "kind": "user",
        "domain": user.domain,
    }
    assert len(sent(hook, "consumer.deleted")) == 1
    # Nothing of the invitee anywhere in the webhook log.
    for row in WebhookDelivery.objects.values_list("payload", flat=True):
        text = str(row).lower()
        assert "jane" not in text and "doe" not in text and "customer.example" not in text


def test_a_purge_of_many_writes_their_deliveries_in_one_insert(
    clock, personas, make, hook, django_assert_max_num_queries
):
    for i in range(5):
        make.user(f"invitee-{i}")
    clock.move_to(T0 + timedelta(days=61))
    with django_assert_max_num_queries(30) as captured:
        assert invitations.invitations_purge() == 5
    inserts = [
        q["sql"] for q in captured if q["sql"].startswith('INSERT INTO "api_webhookdelivery"')
    ]
    assert len(inserts) == 1
    assert len(sent(hook, "invitation.expired")) == 5


def test_calling_domain_verified(personas, hook):
    domain = calling_domain_add(
        actor=personas.regular, company=personas.company, name="video.acme-a.onpexip.com"
    )
    (body,) = sent(hook, "calling_domain.verified")
    assert body["data"]["id"] == str(domain.public_id)
    assert body["data"]["name"] == "video.acme-a.onpexip.com"
    assert body["data"]["verification_method"] == "service_domain"


def test_batch_finished(personas, make, hook):
    rooms = make.team_vmrs(3)
    batch = batches.batch_preview(
        actor=personas.regular,
        company=personas.company,
        kind="team_vmr",
        action="delete",
        consumer_ids=[str(r.public_id) for r in rooms],
    )
    batches.batch_confirm(actor=personas.regular, batch=batch)
    batches.batch_run(batch_id=batch.pk)
    batches.batch_run(batch_id=batch.pk)  # a second run finds it done: no second event
    (body,) = sent(hook, "batch.finished")
    assert body["data"]["id"] == str(batch.public_id)
    assert (body["data"]["succeeded"], body["data"]["failed"]) == (3, 0)
    assert len(sent(hook, "consumer.deleted")) == 3


def test_handout_ready(personas, hook):
    export = handout_services.handout_export_start(
        actor=personas.read_only,
        company=personas.company,
        fmt="html",
        options=handout_services.HandoutOptions(),
    )
    handout_services.handout_export_run(export_id=export.pk)
    (body,) = sent(hook, "handout.ready")
    assert body["data"] == {
        "id": str(export.public_id),
        "company_id": str(personas.company.public_id),
        "format": "html",
    }


def test_licence_expiring(personas, hook):
    today = timezone.localdate()
    personas.company.evaluation_ends_on = today + timedelta(days=7)
    personas.company.save()
    trial_reminders_send(today=today)
    trial_reminders_send(today=today)  # claimed: once
    (body,) = sent(hook, "licence.expiring")
    assert body["data"]["company_id"] == str(personas.company.public_id)
    assert body["data"]["days_left"] == 7
    assert body["data"]["licence"] == "evaluation"


# --- retries, disabling, redeliver ---------------------------------------------------------------


def _endpoint_to(personas, receiver, events=("consumer.created",)):
    return webhook_endpoint_create(actor=personas.manager, url=receiver.url(), events=events)


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    clock, personas, make, receiver, private_ok, django_capture_on_commit_callbacks
):
    endpoint, secret = _endpoint_to(personas, receiver)
    receiver.statuses = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("retry-room")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)
    assert deliveries.deliveries_send_due() == {"sent": 0, "retry": 0, "failed": 0}, "not due"
    clock.move_to(T0 + timedelta(minutes=1))
    assert deliveries.deliveries_send_due()["retry"] == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + timedelta(minutes=3), "then 2 minutes"
    clock.move_to(T0 + timedelta(minutes=3))
    assert deliveries.deliveries_send_due()["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, "")
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1 and len(receiver.received) == 3, "the same message each time"
    for request in receiver.received:
        Webhook(secret).verify(request.body, request.headers)
    endpoint.refresh_from_db()
    assert (endpoint.failures, endpoint.failing_since) == (0, None)


def test_a_delivery_is_given_up_after_24_hours(
    clock, personas, make, receiver, private_ok, django_capture_on_commit_callbacks
):
    _endpoint_to(personas, receiver)
    receiver.statuses = [502] * 100
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("lost-room")
    delivery = WebhookDelivery.objects.get()
    while delivery.status == "pending":
        clock.move_to(delivery.next_attempt_at)
        deliveries.delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.next_attempt_at > delivery.created_at + timedelta(hours=24)
    assert 8 <= delivery.attempts <= 14, delivery.attempts
    assert len(receiver.received) == delivery.attempts
    assert delivery.last_error.startswith(("HTTP 502", "The endpoint was disabled"))


def test_an_endpoint_failing_for_24_hours_is_disabled_and_the_managers_are_told(
    clock, personas, make, receiver, private_ok, django_capture_on_commit_callbacks
):
    endpoint, _ = _endpoint_to(personas, receiver)
    receiver.statuses = [500] * 50
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("first-room")
    clock.move_to(T0 + timedelta(hours=12))
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("second-room")
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failures >= 2
    clock.move_to(T0 + timedelta(hours=24, minutes=1))
    deliveries.deliveries_send_due()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_at is not None
    assert "HTTP 500" in endpoint.disabled_reason
    assert not WebhookDelivery.objects.filter(status="pending").exists()
    (email,) = OutboxMessage.objects.filter(name="webhook_disabled")
    assert email.to == ["manager@a.example"]
    assert receiver.url() in email.text and "HTTP 500" in email.text
    assert f"/webhooks/{endpoint.public_id}/" in email.text
    # Disabled: the next event writes nothing for it; enabling again clears its failures.
    make.team_vmr("third-room")
    assert WebhookDelivery.objects.count() == 2
    webhook_endpoint_update(actor=personas.manager, endpoint=endpoint, enabled=True)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.failures, endpoint.disabled_reason) == (True, 0, "")


def test_redeliver_sends_the_same_event_again(
    personas, make, receiver, private_ok, django_capture_on_commit_callbacks
):
    endpoint, secret = _endpoint_to(personas, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        make.team_vmr("again-room")
    first = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        again = webhook_redeliver(actor=personas.manager, delivery=first)
    again.refresh_from_db()
    assert again.status == "delivered" and again.pk != first.pk
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 2
    assert receiver.received[1].headers["webhook-id"] == first.event_id
    Webhook(secret).verify(receiver.received[1].body, receiver.received[1].headers)
    with pytest.raises(PermissionDenied):
        webhook_redeliver(actor=personas.regular, delivery=first)
    webhook_endpoint_update(actor=personas.manager, endpoint=endpoint, enabled=False)
    first.refresh_from_db()
    with pytest.raises(ValidationError):
        webhook_redeliver(actor=personas.manager, delivery=first)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_deliver_once(personas, make, receiver, private_ok):
    requires_postgres()
    _endpoint_to(personas, receiver)
    make.team_vmr("race-room")  # committed: its eager task delivered it already
    WebhookDelivery.objects.update(status=DeliveryStatus.PENDING, attempts=0)
    receiver.received.clear()
    delivery = WebhookDelivery.objects.get()
    results = run_at_once(
        lambda: deliveries.delivery_send(delivery_id=delivery.pk),
        lambda: deliveries.delivery_send(delivery_id=delivery.pk),
        lambda: deliveries.deliveries_send_due(),
    )
    assert len(receiver.received) == 1, results
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_old_deliveries_are_deleted_and_pending_ones_kept(personas, make, hook):
    for alias in ("old-room", "older-room", "new-room"):
        make.team_vmr(alias)
    old, older, new = WebhookDelivery.objects.order_by("pk")
    long_ago = timezone.now() - timedelta(days=31)
    WebhookDelivery.objects.filter(pk=old.pk).update(status="delivered", created_at=long_ago)
    WebhookDelivery.objects.filter(pk=older.pk).update(created_at=long_ago)  # still pending
    WebhookDelivery.objects.filter(pk=new.pk).update(status="failed")
    assert deliveries.deliveries_delete_old() == 1
    assert deliveries.deliveries_delete_old() == 0
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {older.pk, new.pk}


def test_the_jobs_are_scheduled():
    tasks = {task for task, _when in PERIODIC_JOBS.values()}
    assert "api.tasks.webhook_deliveries_send_due" in tasks
    assert "api.tasks.webhook_deliveries_delete_old" in tasks


# --- the services' rules -------------------------------------------------------------------------


def test_only_managers_register_endpoints_and_urls_and_events_are_checked(personas):
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(actor=personas.regular, url=PUBLIC_URL, events=["company.created"])
    for url in ("ftp://hooks.example.com/", "hooks.example.com", "http://10.0.0.1/"):
        with pytest.raises(ValidationError) as caught:
            webhook_endpoint_create(actor=personas.manager, url=url, events=["company.created"])
        assert "url" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        webhook_endpoint_create(actor=personas.manager, url=PUBLIC_URL, events=["nope"])
    assert "events" in caught.value.message_dict
    with pytest.raises(ValidationError):
        webhook_endpoint_create(actor=personas.manager, url=PUBLIC_URL, events=[])
    assert not WebhookEndpoint.objects.exists()


def test_secrets_are_unique_and_deleting_takes_the_log(personas, make, hook):
    other, secret = webhook_endpoint_create(
        actor=personas.manager, url=PUBLIC_URL, events=["company.updated"]
    )
    assert secret != hook.secret and len(Webhook(secret)._whsecret) == 32
    make.team_vmr("logged-room")
    with pytest.raises(PermissionDenied):
        webhook_endpoint_delete(actor=personas.other_manager, endpoint=hook)
    webhook_endpoint_delete(actor=personas.manager, endpoint=hook)
    assert not WebhookDelivery.objects.exists()
    assert list(WebhookEndpoint.objects.all()) == [other]


def test_calling_domain_verified_by_its_txt_record(personas, hook, dns_server):
    from django.conf import settings as django_settings

    from domains.services import calling_domain_verify

    domain = calling_domain_add(
        actor=personas.regular, company=personas.company, name="video.acme-a.example"
    )
    assert sent(hook, "calling_domain.verified") == []
    prefix = django_settings.DOMAIN_VERIFICATION_PREFIX
    dns_server.add_txt("video.acme-a.example", f"{prefix}={domain.verification_token}")
    calling_domain_verify(actor=personas.regular, calling_domain=domain)
    calling_domain_verify(actor=personas.regular, calling_domain=domain)
    (body,) = sent(hook, "calling_domain.verified")
    assert body["data"]["verification_method"] == "dns_txt"
