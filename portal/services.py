"""Writes for the tenancy app. Each service checks the actor's role, runs in a transaction and
records an AuditEvent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .access import ensure_can_manage_staff, ensure_can_write
from .audit import audit_record
from .models import Company, Partner, PartnerMembership, Role

User = get_user_model()

COMPANY_FIELDS = ("name", "country", "reference", "contact_name", "contact_email")


def _clean_company_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"Unknown company fields: {sorted(unknown)}")
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError({"name": "Enter the company's name."})
    if "contact_email" in cleaned:
        cleaned["contact_email"] = (cleaned["contact_email"] or "").lower()
        if not cleaned["contact_email"]:
            raise ValidationError({"contact_email": "Enter the contact's email address."})
    return cleaned


@transaction.atomic
def company_create(*, actor: Any, partner: Partner, **fields: Any) -> Company:
    ensure_can_write(actor, partner)
    company = Company(partner=partner, **_clean_company_fields(fields))
    company.full_clean(exclude=["slug", "partner"])
    company.save()
    audit_record(actor=actor, action="company.create", obj=company, company=company)
    return company


@transaction.atomic
def company_update(*, actor: Any, company: Company, **fields: Any) -> Company:
    ensure_can_write(actor, company.partner)
    cleaned = _clean_company_fields(fields)
    # Compare with the stored row: a bound ModelForm has already changed `company` in memory.
    stored = Company.objects.select_for_update().get(pk=company.pk)
    changed = sorted(k for k, v in cleaned.items() if getattr(stored, k) != v)
    for key, value in cleaned.items():
        setattr(company, key, value)
    company.full_clean(exclude=["slug", "partner"])
    company.save(update_fields=list(cleaned))
    if changed:
        audit_record(
            actor=actor,
            action="company.update",
            obj=company,
            company=company,
            data={"fields": changed},
        )
    return company


@transaction.atomic
def company_set_evaluation(*, actor: Any, company: Company, ends_on: date | None) -> Company:
    """Open, extend or close Evaluation Mode (ops only: it decides what is free)."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("Only the service's operations staff can change evaluations.")
    company.evaluation_ends_on = ends_on
    company.save(update_fields=["evaluation_ends_on"])
    audit_record(
        actor=actor,
        action="company.evaluation",
        obj=company,
        company=company,
        data={"ends_on": ends_on.isoformat() if ends_on else None},
    )
    return company


@transaction.atomic
def company_delete(*, actor: Any, company: Company) -> None:
    ensure_can_write(actor, company.partner)
    audit_record(
        actor=actor,
        action="company.delete",
        obj=company,
        partner=company.partner,
        data={"name": company.name},
    )
    company.delete()


# --- partner staff ----------------------------------------------------------------------------


@transaction.atomic
def member_invite(*, actor: Any, partner: Partner, email: str, role: str) -> PartnerMembership:
    """Create a colleague's account and send a link to choose a password."""
    from .tasks import staff_invitation_send

    ensure_can_manage_staff(actor, partner)
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    # Same answer whoever owns the address, so that inviting does not reveal other accounts.
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise ValidationError({"email": "This email address cannot be invited."})
    user = User(username=email, email=email, is_active=True)
    user.set_unusable_password()
    user.save()
    membership = PartnerMembership.objects.create(user=user, partner=partner, role=role)
    audit_record(
        actor=actor, action="member.invite", obj=membership, partner=partner, data={"role": role}
    )
    transaction.on_commit(lambda: staff_invitation_send.delay(membership.pk))
    return membership


def _ensure_not_self(actor: Any, membership: PartnerMembership) -> None:
    if getattr(actor, "pk", None) == membership.user_id:
        raise ValidationError("You cannot change your own role or deactivate yourself.")


@transaction.atomic
def member_change_role(
    *, actor: Any, membership: PartnerMembership, role: str
) -> PartnerMembership:
    ensure_can_manage_staff(actor, membership.partner)
    _ensure_not_self(actor, membership)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="member.role",
        obj=membership,
        partner=membership.partner,
        data={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def member_set_active(
    *, actor: Any, membership: PartnerMembership, active: bool
) -> PartnerMembership:
    ensure_can_manage_staff(actor, membership.partner)
    _ensure_not_self(actor, membership)
    user = membership.user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="member.reactivate" if active else "member.deactivate",
        obj=membership,
        partner=membership.partner,
    )
    return membership
