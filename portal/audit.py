"""The audit log: who did what to which object."""

from __future__ import annotations

from typing import Any

from .access import Actor
from .models import AuditEvent, Company, Partner

# Set on an actor by whatever acts for them (the partner API: {"api_token": "<public id>"});
# every event they cause records it in its data. One mechanism for every service's audit.
ACTOR_CONTEXT_ATTR = "audit_context"


def _event_data(actor: Actor, data: dict[str, Any] | None) -> dict[str, Any]:
    context = getattr(actor, ACTOR_CONTEXT_ATTR, None)
    return {**(data or {}), **context} if context else (data or {})


def audit_record(
    actor: Actor,
    action: str,
    obj: Any,
    *,
    data: dict[str, Any] | None = None,
    company: Company | None = None,
    partner: Partner | None = None,
) -> AuditEvent:
    """Record `action` on `obj` by `actor` (None: the system). The company and partner are
    the object's own unless given. `data` holds ids and settings, never an invitee's personal
    data."""
    if company is None:
        company = obj if isinstance(obj, Company) else getattr(obj, "company", None)
    if partner is None:
        partner = obj if isinstance(obj, Partner) else getattr(company or obj, "partner", None)
    object_id = getattr(obj, "public_id", None) or getattr(obj, "pk", "")
    return AuditEvent.objects.create(
        partner=partner,
        company=company,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(object_id),
        data=_event_data(actor, data),
    )


def audit_record_many(
    actor: Actor,
    company: Company,
    object_type: str,
    rows: list[tuple[Any, str]],
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """One event per (object id, action) row, all of one company and one kind of object, in one
    INSERT: what a set-based change (a batch, a job) records per object."""
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    data = _event_data(actor, data)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                partner_id=company.partner_id,
                company=company,
                actor_id=actor_id,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                data=data,
            )
            for object_id, action in rows
        ]
    )
