"""The event port: what happened, for whoever listens from above (the API's webhooks).

Services call `event_emit` (or `events_emit` for a set-based change) INSIDE the transaction of
the change, so that an event exists exactly when its change commits. Portal sits below every
app, so the listeners register themselves at start-up (`api.apps.ApiConfig.ready` registers
the webhooks): a lower app never imports the API. With no listener registered, nothing
happens.

An event's `data` holds ids and settings, never an invitee's personal data (no email, no
name, no user's address): what the 60-day purge deletes must not live on in a webhook log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Every event type a listener may receive (the webhooks' subscription choices).
EVENT_TYPES: tuple[str, ...] = (
    "company.created",
    "company.updated",
    "consumer.created",
    "consumer.deleted",
    "consumer.activated",
    "invitation.accepted",
    "invitation.expired",
    "calling_domain.verified",
    "batch.finished",
    "handout.ready",
    "licence.expiring",
)


@dataclass(frozen=True)
class Event:
    type: str
    partner_id: int
    company_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Sequence[Event]], None]
# The partners a handler wants events of these types for.
Listening = Callable[[Sequence[str]], set[int]]
_handlers: list[Handler] = []
_listening: dict[Handler, Listening] = {}


def events_handler_register(handler: Handler, *, listening: Listening | None = None) -> None:
    """Called from an AppConfig.ready of a higher app; registering twice is harmless.
    `listening`, if given, tells which partners the handler wants events of some types for
    (partners_listening): without it, it may want any partner's."""
    if handler not in _handlers:
        _handlers.append(handler)
    if listening is None:
        _listening.pop(handler, None)
    else:
        _listening[handler] = listening


def partners_listening(event_types: Sequence[str]) -> set[int] | None:
    """The partners whose events of these types some handler wants; None when it may be any
    partner's. A change of many rows (a batch delete, the purge) reads what its events say only
    for these partners, and nothing at all when the set is empty."""
    _check_types(event_types)
    partners: set[int] = set()
    for handler in _handlers:
        listening = _listening.get(handler)
        if listening is None:
            return None
        partners |= listening(event_types)
    return partners


def event_emit(event_type: str, *, partner: Any, company: Any = None, data: dict[str, Any]) -> None:
    """One event of one partner (a Partner or its id), optionally about one of its companies."""
    partner_id = getattr(partner, "pk", partner)
    company_id = getattr(company, "pk", company)
    events_emit([Event(event_type, partner_id, company_id, data)])


def events_emit(events: Sequence[Event]) -> None:
    """Many events at once (a batch, a purge): each handler gets them all in one call, so it
    can write what it writes for them in one statement."""
    if not events:
        return
    _check_types([event.type for event in events])
    for handler in _handlers:
        handler(events)


def _check_types(event_types: Sequence[str]) -> None:
    unknown = set(event_types) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"Unknown event types: {sorted(unknown)}")
