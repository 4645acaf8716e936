"""The events the consumers app emits (portal.events): what each says of a consumer.

Ids and settings only. A user's address is never in an event (its alias may be the invitee's
name), nor an invitee's email or name: a webhook log must hold nothing the 60-day purge
deletes. A team VMR's or an endpoint's address is the customer's room, not personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from portal.events import Event, event_emit, events_emit, partners_listening
from portal.models import Company

from .models import Consumer, ConsumerKind

# The columns `consumer_events` reads for rows about to go (one query, whatever their number).
GONE_FIELDS = (
    "public_id",
    "kind",
    "alias",
    "domain",
    "company_id",
    "company__public_id",
    "company__partner_id",
)


def consumer_data(
    *, public_id: Any, company_public_id: Any, kind: str, alias: str, domain: str
) -> dict[str, Any]:
    data = {
        "id": str(public_id),
        "company_id": str(company_public_id),
        "kind": kind,
        "domain": domain,
    }
    if kind != ConsumerKind.USER:
        data["address"] = f"{alias}@{domain}"
    return data


def _of(consumer: Consumer) -> dict[str, Any]:
    return consumer_data(
        public_id=consumer.public_id,
        company_public_id=consumer.company.public_id,
        kind=consumer.kind,
        alias=consumer.alias,
        domain=consumer.domain,
    )


def consumer_event(event_type: str, consumer: Consumer, **extra: Any) -> None:
    """One event about one consumer, in the caller's transaction."""
    company = consumer.company
    data = {**_of(consumer), "status": consumer.status, "is_trial": consumer.is_trial, **extra}
    event_emit(event_type, partner=company.partner_id, company=company, data=data)


def consumers_gone_events(ids: Iterable[int], event_types: Sequence[str]) -> list[Event]:
    """The events of consumers about to be deleted (read in one query, before they go), for
    the partners someone listens to (none read when no one does)."""
    partners = partners_listening(event_types)
    if partners is not None and not partners:
        return []
    gone = Consumer.objects.filter(pk__any_of=list(ids))
    if partners is not None:
        gone = gone.filter(company__partner__id__any_of=list(partners))
    rows = gone.values_list(*GONE_FIELDS)
    events = []
    for public_id, kind, alias, domain, company_id, company_public_id, partner_id in rows:
        data = consumer_data(
            public_id=public_id,
            company_public_id=company_public_id,
            kind=kind,
            alias=alias,
            domain=domain,
        )
        events += [Event(t, partner_id, company_id, data) for t in event_types]
    return events


def consumers_activated_emit(
    company: Company, rows: Iterable[Any], trial: dict[int, bool], status: dict[int, str]
) -> None:
    """`rows`: the activation candidates (id, public_id, kind, address) that were activated,
    their new `trial` and `status` by id. One call to the port for them all."""
    events = []
    for row in rows:
        alias, _, domain = row.address.partition("@")
        data = consumer_data(
            public_id=row.public_id,
            company_public_id=company.public_id,
            kind=row.kind,
            alias=alias,
            domain=domain,
        )
        data.update(status=status[row.id], is_trial=trial[row.id])
        events.append(Event("consumer.activated", company.partner_id, company.pk, data))
    events_emit(events)
