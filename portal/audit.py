from __future__ import annotations

from typing import Any

from .models import AuditEvent, Company, Partner


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any,
    partner: Partner | None = None,
    company: Company | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record an action. `data` must hold ids and settings, never an invitee's personal data."""
    if company is not None and partner is None:
        partner = company.partner
    object_id = getattr(obj, "public_id", None) or getattr(obj, "pk", "")
    return AuditEvent.objects.create(
        partner=partner,
        company=company,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(object_id),
        data=data or {},
    )
