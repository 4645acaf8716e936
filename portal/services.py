"""Writes for the tenancy app. Each service checks the actor's role, runs in a transaction and
records an AuditEvent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import display, emails
from .access import Actor, ensure_can_manage_staff, ensure_can_write, ensure_is_ops
from .audit import audit_record
from .events import event_emit
from .models import Company, Partner, PartnerMembership, Role
from .twofactor import second_factor_reset

User = get_user_model()

COMPANY_FIELDS = ("name", "country", "reference", "contact_name", "contact_email")
# What operations' "Extend evaluation" adds (Django admin).
EVALUATION_EXTENSION = timedelta(days=30)


def _clean_company_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValueError(f"Unknown company fields: {sorted(unknown)}")
    # One line each: white space (line breaks included) folded, as emails and exports show it.
    cleaned = {k: (" ".join(v.split()) if isinstance(v, str) else v) for k, v in fields.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError({"name": "Enter the company's name."})
    if "contact_email" in cleaned:
        cleaned["contact_email"] = (cleaned["contact_email"] or "").lower()
        if not cleaned["contact_email"]:
            raise ValidationError({"contact_email": "Enter the contact's email address."})
    return cleaned


# company_create's `evaluation_ends_on` when the caller does not choose: the default trial.
NEW_COMPANY_TRIAL: Any = object()


@transaction.atomic
def company_create(
    *,
    actor: Actor,
    partner: Partner,
    today: date | None = None,
    evaluation_ends_on: date | None = NEW_COMPANY_TRIAL,
    **fields: Any,
) -> Company:
    """Every new company (the portal's form, Django admin, the demo data) starts in trial mode:
    Evaluation Mode opens for NEW_COMPANY_EVALUATION_DAYS (audited like any evaluation change)
    and the contact gets "New company created (in trial mode)" when the company commits.
    Operations alone may choose another end (`evaluation_ends_on`; None: no evaluation)."""
    ensure_can_write(actor, partner)
    if evaluation_ends_on is not NEW_COMPANY_TRIAL:
        ensure_is_ops(actor, "change evaluations")
    company = Company(partner=partner, **_clean_company_fields(fields))
    company.full_clean(exclude=["slug", "partner"])
    company.save()
    audit_record(actor, "company.create", company)
    event_emit("company.created", partner=partner, company=company, data=_company_data(company))
    today = today or timezone.localdate()
    ends_on = evaluation_ends_on
    if ends_on is NEW_COMPANY_TRIAL:
        ends_on = new_company_evaluation_end(today)
    if ends_on is not None:
        _evaluation_set(actor, company, ends_on)
    if company.evaluation_open_on(today):
        emails.company_created_in_trial(company)
    return company


def new_company_evaluation_end(today: date) -> date | None:
    """The last day of a new company's evaluation (None: it starts without one)."""
    days = settings.NEW_COMPANY_EVALUATION_DAYS
    return today + timedelta(days=days) if days else None


@transaction.atomic
def company_update(*, actor: Actor, company: Company, **fields: Any) -> Company:
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
        audit_record(actor, "company.update", company, data={"fields": changed})
        data = {**_company_data(company), "changed": changed}
        event_emit("company.updated", partner=company.partner_id, company=company, data=data)
    return company


def _company_data(company: Company) -> dict[str, Any]:
    """What a company's events say of it (its contact is the partner's customer, not an
    invitee: the partner's own data)."""
    return {
        "id": str(company.public_id),
        "name": company.name,
        "reference": company.reference,
        "country": str(company.country),
    }


@transaction.atomic
def company_set_evaluation(*, actor: Actor, company: Company, ends_on: date | None) -> Company:
    """Open, extend or close Evaluation Mode (ops only: it decides what is free)."""
    ensure_is_ops(actor, "change evaluations")
    return _evaluation_set(actor, company, ends_on)


def _evaluation_set(actor: Actor, company: Company, ends_on: date | None) -> Company:
    """The one write of an evaluation's end, audited: ops' changes and a new company's trial."""
    company.evaluation_ends_on = ends_on
    company.save(update_fields=["evaluation_ends_on"])
    audit_record(
        actor,
        "company.evaluation",
        company,
        data={"ends_on": ends_on.isoformat() if ends_on else None},
    )
    return company


@transaction.atomic
def company_extend_evaluation(
    *, actor: Actor, company: Company, today: date | None = None
) -> Company:
    """Extend Evaluation Mode by EVALUATION_EXTENSION from the later of today and its current
    end (a closed evaluation opens again from today), through company_set_evaluation (audited),
    and email the company "Trial extended" in the same transaction (portal.emails: it leaves
    when the change commits)."""
    ensure_is_ops(actor, "change evaluations")
    today = today or timezone.localdate()
    # Under the row lock: two extensions at once add up, neither reads a stale end date.
    stored = Company.objects.select_for_update().get(pk=company.pk)
    start = max(today, stored.evaluation_ends_on or today)
    if start > date.max - EVALUATION_EXTENSION:  # ops' "never ends" (9999-12-31): no later day
        raise ValidationError(
            f"The evaluation of {company.name} ends on {display.day(start)} and cannot be "
            "extended further.",
            code="evaluation_never_ends",
        )
    company_set_evaluation(actor=actor, company=company, ends_on=start + EVALUATION_EXTENSION)
    emails.trial_extended(company)
    return company


@transaction.atomic
def company_delete(*, actor: Actor, company: Company) -> None:
    """Delete the company with everything in it. The consumers and interop configurations that
    use a calling domain restrict its deletion (RESTRICT, not PROTECT), which lets them go with
    the company in the same cascade while a domain in use cannot be deleted on its own."""
    ensure_can_write(actor, company.partner)
    if Company.objects.select_for_update().filter(pk=company.pk).first() is None:
        return  # deleted meanwhile (a double click): once is enough, and audited once
    audit_record(actor, "company.delete", company, data={"name": company.name})
    company.delete()


@transaction.atomic
def partner_save(*, actor: Actor, partner: Partner) -> Partner:
    """Operations add a partner or change its name, support address or colour (Django admin)."""
    ensure_is_ops(actor, "manage partners")
    created = partner.pk is None
    partner.full_clean()
    partner.save()
    audit_record(actor, "partner.create" if created else "partner.update", partner)
    return partner


# --- partner staff ----------------------------------------------------------------------------


@transaction.atomic
def member_invite(
    *, actor: Actor, partner: Partner, email: str, role: str
) -> PartnerMembership | None:
    """Create a colleague's account and send a link to choose a password.

    An address that already has an account elsewhere gets an email saying so instead, and the
    manager sees the same confirmation: inviting never reveals whether an account exists.
    Returns None in that case.
    """
    ensure_can_manage_staff(actor, partner)
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    user, created = _account_for_invitation(email)
    if not created:
        colleague = PartnerMembership.objects.filter(user=user, partner=partner).first()
        if colleague is not None:
            pending = " Their invitation is pending: send it again from the Staff page."
            message = "This person is already on your staff list."
            raise ValidationError({"email": message + (pending if colleague.is_invited else "")})
        audit_record(actor, "member.invite_existing_account", partner)
        emails.account_exists(email=user.email, partner=partner)
        return None
    membership = PartnerMembership.objects.create(user=user, partner=partner, role=role)
    audit_record(actor, "member.invite", membership, partner=partner, data={"role": role})
    emails.staff_invitation(membership)
    return membership


def _account_for_invitation(email: str) -> tuple[Any, bool]:
    """The account of `email` (any case), and whether this invitation made it, with no password
    yet: the colleague chooses one from the invitation's link.

    The same address invited at the same moment (a double click, two managers) makes one
    account: the unique index on the lower-cased username decides, and the invitation that
    loses finds the account as if it had come second."""
    existing = _account_with_email(email)
    if existing is not None:
        return existing, False
    user = User(username=email, email=email, is_active=True)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        existing = _account_with_email(email)
        if existing is None:
            raise
        return existing, False
    return user, True


def _account_with_email(email: str) -> Any:
    return User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()


@transaction.atomic
def member_invitation_resend(*, actor: Actor, membership: PartnerMembership) -> PartnerMembership:
    """Send a colleague's invitation again, with a new link to choose a password: for a link
    that expired or was lost. Only while they have not chosen one (portal.models.
    account_is_invited); later, they reset their password themselves."""
    ensure_can_manage_staff(actor, membership.partner)
    user = membership.user
    if not user.is_active:
        raise ValidationError(f"{user.email} is deactivated: reactivate them first.")
    if not membership.is_invited:
        raise ValidationError(
            f"{user.email} has already chosen a password. If they forgot it, they can reset it "
            "from the sign-in page."
        )
    audit_record(actor, "member.invite_resend", membership)
    emails.staff_invitation(membership)
    return membership


def _ensure_not_self(actor: Actor, membership: PartnerMembership) -> None:
    if getattr(actor, "pk", None) == membership.user_id:
        raise ValidationError("You cannot change your own role or deactivate yourself.")


@transaction.atomic
def member_change_role(
    *, actor: Actor, membership: PartnerMembership, role: str
) -> PartnerMembership:
    ensure_can_manage_staff(actor, membership.partner)
    _ensure_not_self(actor, membership)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(actor, "member.role", membership, data={"from": old, "to": role})
    return membership


@transaction.atomic
def member_set_active(
    *, actor: Actor, membership: PartnerMembership, active: bool
) -> PartnerMembership:
    ensure_can_manage_staff(actor, membership.partner)
    _ensure_not_self(actor, membership)
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if user.is_active == active:
        return membership  # already so (a double click): nothing to change or audit
    user.is_active = active
    user.save(update_fields=["is_active"])
    membership.user = user
    audit_record(actor, "member.reactivate" if active else "member.deactivate", membership)
    return membership


@transaction.atomic
def member_reset_second_factor(*, actor: Actor, membership: PartnerMembership) -> None:
    """A manager resets a colleague's second factor: they enrol again at next sign-in."""
    ensure_can_manage_staff(actor, membership.partner)
    _ensure_not_self(actor, membership)
    second_factor_reset(membership.user)
    audit_record(actor, "member.2fa_reset", membership)
