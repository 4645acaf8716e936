"""Webhook deliveries: written with the change, sent once after the commit, retried, logged.

`events_record` is the event port's handler (registered by ApiConfig.ready): in the transaction
of the change it writes one delivery per (event, subscribed enabled endpoint) in one INSERT,
and queues their sending on commit. A delivery is sent like an outbox message
(portal.outbox), in three steps:
1. claim: a conditional UPDATE (pending and due → sending, one more attempt), committed before
   anything goes out, so that a concurrent sender finds it taken;
2. POST it, signed per Standard Webhooks, to the checked address (api.webhooks.targets);
3. stamp it delivered (a 2xx), or put it back with a later `next_attempt_at` (exponential
   back-off, for RETRY_FOR after the event), or mark it failed.
A crash between 1 and 3 leaves it "sending"; after DELIVERY_CLAIM_TIMEOUT the periodic job
takes it again. An endpoint failing for DISABLE_AFTER (or DISABLE_AFTER_ATTEMPTS attempts in a
row) is disabled, and the partner's managers get an email.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from portal import emails
from portal.audit import audit_record
from portal.events import Event
from portal.jobs import enqueue_on_commit

from ..models_webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .targets import TargetRefused, target_resolve

logger = logging.getLogger(__name__)

SEND_TASK = "api.tasks.webhook_deliveries_send"
# Back-off after the n-th failed attempt: RETRY_FIRST * 2**(n-1), at most RETRY_LONGEST; no
# attempt later than RETRY_FOR after the event (about 12 attempts).
RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(hours=4)
RETRY_FOR = timedelta(hours=24)
# An endpoint is disabled once it has failed without a success for DISABLE_AFTER (and at least
# DISABLE_MIN_ATTEMPTS times), or DISABLE_AFTER_ATTEMPTS attempts in a row.
DISABLE_AFTER = timedelta(hours=24)
DISABLE_MIN_ATTEMPTS = 3
DISABLE_AFTER_ATTEMPTS = 100
# Short: a slow receiver must not hold a worker.
TIMEOUT = httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=3.0)
SEND_BATCH = 100
SEND_LIMIT = 1000  # deliveries one run of the periodic job attempts
DELETE_BATCH = 5000
USER_AGENT = "PartnerPortal-Webhooks/1"

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _body(event: Event, now: datetime) -> dict[str, object]:
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"type": event.type, "timestamp": stamp, "data": event.data}


def _receiving() -> QuerySet[WebhookEndpoint]:
    """The endpoints that get events: the enabled ones."""
    return WebhookEndpoint.objects.filter(enabled=True)


def _subscribed(endpoint_events: Sequence[str], event_type: str) -> bool:
    """A receiving endpoint gets an event when its subscriptions name the event's type."""
    return event_type in endpoint_events


def partners_subscribed(event_types: Sequence[str]) -> set[int]:
    """The partners with a receiving endpoint subscribed to one of these types (the event
    port's `listening`): one query over the endpoints."""
    return {
        partner_id
        for partner_id, subscriptions in _receiving().values_list("partner_id", "events")
        if any(_subscribed(subscriptions, event_type) for event_type in event_types)
    }


def events_record(events: Sequence[Event]) -> None:
    """The event port's handler: a delivery for every enabled endpoint of the event's partner
    subscribed to its type; one query for the endpoints, one INSERT for the deliveries."""
    partner_ids = {event.partner_id for event in events}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in (
        _receiving().filter(partner_id__in=partner_ids).only("pk", "partner_id", "events")
    ):
        endpoints.setdefault(endpoint.partner_id, []).append(endpoint)
    if not endpoints:
        return
    now = timezone.now()
    rows = []
    for event in events:
        subscribed = [
            e for e in endpoints.get(event.partner_id, ()) if _subscribed(e.events, event.type)
        ]
        if not subscribed:
            continue
        body, event_id = _body(event, now), new_event_id()
        rows += [
            WebhookDelivery(
                endpoint_id=endpoint.pk,
                event_id=event_id,
                event_type=event.type,
                payload=body,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in subscribed
        ]
    if rows:
        created = WebhookDelivery.objects.bulk_create(rows)
        enqueue_on_commit(SEND_TASK, [row.pk for row in created])


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Claim, send and stamp one delivery (SENT, RETRY, FAILED; SKIPPED when it is not due, or
    another sender has it). Runs outside a transaction: the claim must commit before sending."""
    delivery = _claim(delivery_id, now or timezone.now())
    if delivery is None:
        return SKIPPED
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        _finish(delivery, status=DeliveryStatus.FAILED, error="The endpoint is disabled.")
        return FAILED
    code, error = None, ""
    try:
        code = _post(endpoint, delivery)
    except TargetRefused as exc:
        error = f"Refused: {exc}."
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    if code is not None and 200 <= code < 300:
        return _record_success(delivery, code)
    if code is not None:
        error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    return _record_failure(delivery, code, error)


def _claim(pk: int, now: datetime) -> WebhookDelivery | None:
    claimed = (
        WebhookDelivery.objects.due(now)
        .filter(pk=pk)
        .update(
            status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=pk)


def signed_headers(secret: str, event_id: str, body: str, when: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, when, body),
    }


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> int:
    """POST the delivery to the address the target check resolved (the URL's host in the Host
    header and as the TLS server name), never following a redirect. Returns the status code."""
    target = target_resolve(endpoint.url)
    url = httpx.URL(endpoint.url)
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = {
        **signed_headers(endpoint.secret, delivery.event_id, body, datetime.now(UTC)),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": url.netloc.decode("ascii"),
    }
    # trust_env=False: no proxy from the environment, which would connect to the name again.
    with (
        httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST",
            url.copy_with(host=target.address),
            content=body.encode(),
            headers=headers,
            extensions={"sni_hostname": url.raw_host.decode("ascii")},
        ) as response,
    ):
        return response.status_code


def _finish(delivery: WebhookDelivery, *, status: str, error: str, code: int | None = None) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status, last_error=error[:500], last_status_code=code
    )


def _record_success(delivery: WebhookDelivery, code: int) -> str:
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=code,
            last_error="",
        )
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(failures=0).update(
            failures=0, failing_since=None
        )
    return SENT


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_LONGEST)


@transaction.atomic
def _record_failure(delivery: WebhookDelivery, code: int | None, error: str) -> str:
    """Back off and try again later, or give up after RETRY_FOR; count the endpoint's failure
    and disable it when it has failed for too long."""
    now = timezone.now()
    next_at = now + retry_delay(delivery.attempts)
    gave_up = next_at > delivery.created_at + RETRY_FOR
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
        next_attempt_at=next_at,
        last_status_code=code,
        last_error=error[:500],
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
        failures=F("failures") + 1, failing_since=Coalesce("failing_since", now)
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    logger.warning(
        "webhook delivery %s to endpoint %s: attempt %s failed (%s)",
        delivery.pk,
        endpoint.pk,
        delivery.attempts,
        error,
    )
    if endpoint.enabled and _failing_too_long(endpoint, now):
        _disable(endpoint, f"Failed for too long; last error: {error}"[:200])
    return FAILED if gave_up else RETRY


def _failing_too_long(endpoint: WebhookEndpoint, now: datetime) -> bool:
    if endpoint.failures >= DISABLE_AFTER_ATTEMPTS:
        return True
    since = endpoint.failing_since
    return bool(
        since and since <= now - DISABLE_AFTER and endpoint.failures >= DISABLE_MIN_ATTEMPTS
    )


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    """Disabled by the sender (the caller holds its row lock): what is still waiting fails, and
    the managers are told, once (only an enabled endpoint gets here)."""
    endpoint.enabled = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
    pending_fail(endpoint)
    audit_record(None, "webhook.disabled", endpoint, data={"failures": endpoint.failures})
    link = settings.SITE_URL + reverse("api:webhook_detail", args=[endpoint.public_id])
    emails.webhook_disabled(endpoint, link=link)


def pending_fail(endpoint: WebhookEndpoint) -> int:
    """A disabled endpoint's waiting deliveries fail (they stay in its log, to redeliver)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="The endpoint was disabled."
    )


def deliveries_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: send every delivery due (retries, new ones whose task was lost, claims
    a crash left behind), oldest first, at most SEND_LIMIT a run. An endpoint that fails in this
    run is left alone for the rest of it (its other deliveries would wait out the timeouts)."""
    now = now or timezone.now()
    counts = {SENT: 0, RETRY: 0, FAILED: 0}
    failing: set[int] = set()
    last_pk, attempted = 0, 0
    while attempted < SEND_LIMIT:
        rows = list(
            WebhookDelivery.objects.due(now)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "endpoint_id")[:SEND_BATCH]
        )
        for pk, endpoint_id in rows:
            if endpoint_id in failing:
                continue
            outcome = delivery_send(delivery_id=pk, now=now)
            if outcome != SKIPPED:
                attempted += 1
                counts[outcome] += 1
            if outcome in (RETRY, FAILED):
                failing.add(endpoint_id)
        if len(rows) < SEND_BATCH:
            break
        last_pk = rows[-1][0]
    return counts


def deliveries_delete_old(*, now: datetime | None = None) -> int:
    """The periodic job: delete finished deliveries older than WEBHOOK_KEEP_DELIVERIES_DAYS, in
    bounded batches."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_KEEP_DELIVERIES_DAYS)
    old = WebhookDelivery.objects.filter(
        created_at__lt=cutoff, status__in=(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
    )
    deleted = 0
    while True:
        ids = list(old.order_by().values_list("pk", flat=True)[:DELETE_BATCH])
        if ids:
            deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < DELETE_BATCH:
            return deleted
