"""Helpers the consumer services share: input cleaning, the company lock, bulk audit rows."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.access import Actor
from portal.models import AuditEvent, Company


def clean_text(value: Any, *, field: str, required: bool = False, max_length: int = 200) -> str:
    """White space folded; ValidationError keyed by `field` when missing or too long."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError({field: "This field is required."}, code="required")
    if len(text) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."}, code="max_length")
    return text


def validate_email_address(email: str) -> str:
    """A valid address, its domain lower-cased; ValidationError keyed by "email"."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}, code="email") from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def lock_company(company: Company) -> Company:
    """The company's row lock, taken before counting or taking licence seats."""
    return Company.objects.select_for_update().get(pk=company.pk)


def audit_many(
    actor: Actor,
    company: Company,
    action: str,
    rows: list[tuple[Any, str]],
    data: dict[str, Any] | None = None,
) -> None:
    """One audit event per consumer ((public id, kind) rows), written in one INSERT (ids only,
    no personal data)."""
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                partner_id=company.partner_id,
                company=company,
                actor_id=actor_id,
                action=f"{kind}.{action}",
                object_type="consumer",
                object_id=str(public_id),
                data=data or {},
            )
            for public_id, kind in rows
        ]
    )
