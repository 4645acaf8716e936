"""Writes for licences, and the daily expiry job."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.audit import audit_record
from portal.emails import send_email
from portal.models import Company

from .models import License
from .seats import (
    FAMILY_CONSUMER_KINDS,
    FAMILY_KINDS,
    FAMILY_LABEL,
    capacity_of,
    family_of_licence_kind,
    seats_used,
)

logger = logging.getLogger(__name__)

TRIAL_REMINDER_DAYS = (23, 7)


def licence_validate(*, licence: License, today: date | None = None) -> None:
    """A licence may not be changed so that today's capacity falls below current usage."""
    today = today or timezone.localdate()
    if licence.ends_on and licence.starts_on and licence.ends_on < licence.starts_on:
        raise ValidationError({"ends_on": "The licence must end on or after its start date."})
    if licence.kind == "enterprise_wide":
        licence.quantity = None
    elif licence.quantity is None:
        raise ValidationError({"quantity": "Enter the number of seats."})
    others = list(
        License.objects.filter(company_id=licence.company_id)
        .active_on(today)
        .exclude(pk=licence.pk)
    )
    after = others + ([licence] if licence.is_active(today) else [])
    before_rows = others
    if licence.pk:
        stored = License.objects.filter(pk=licence.pk).first()
        if stored is not None and stored.is_active(today):
            before_rows = [*others, stored]
    families = {family_of_licence_kind(licence.kind)}
    if licence.pk and (stored := License.objects.filter(pk=licence.pk).first()):
        families.add(family_of_licence_kind(stored.kind))
    for family in families:
        new_capacity = capacity_of(after, family)
        old_capacity = capacity_of(before_rows, family)
        if new_capacity is None or (old_capacity is not None and new_capacity >= old_capacity):
            continue  # not a reduction
        used = seats_used(company=licence.company, family=family)
        if new_capacity < used:
            raise ValidationError(
                f"This change would leave {new_capacity} {FAMILY_LABEL[family]} seats while "
                f"{used} are in use. Remove or deactivate consumers first, or keep the licence "
                "as it is."
            )


@transaction.atomic
def licence_save(*, actor: Any, licence: License) -> License:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("Licences are managed by the service's operations staff.")
    Company.objects.select_for_update().get(pk=licence.company_id)
    created = licence.pk is None
    licence_validate(licence=licence)
    licence.save()
    audit_record(
        actor=actor,
        action="licence.create" if created else "licence.update",
        obj=licence,
        company=licence.company,
        data={
            "kind": licence.kind,
            "quantity": licence.quantity,
            "starts_on": licence.starts_on.isoformat(),
            "ends_on": licence.ends_on.isoformat(),
        },
    )
    return licence


# --- the daily expiry job -----------------------------------------------------------------------


def _recipients(company: Company) -> tuple[list[str], list[str]]:
    to = [company.contact_email] if company.contact_email else []
    cc = [company.partner.support_email] if company.partner.support_email else []
    return to, cc


def _notify(name: str, company: Company, **context: Any) -> None:
    to, cc = _recipients(company)
    if not to and not cc:
        return
    send_email(
        name,
        to=to or cc,
        cc=cc if to else [],
        context={"company": company, "partner": company.partner, **context},
    )


def _deactivated(company: Company, count: int, action: str, reason: str) -> None:
    """Audit a job's deactivations and tell the company contact and the partner, on commit."""
    audit_record(actor=None, action=action, obj=company, company=company, data={"count": count})
    transaction.on_commit(
        lambda: _notify("consumers_deactivated", company, count=count, reason=reason)
    )


def trial_consumers_deactivate(*, today: date) -> dict[str, int]:
    """Evaluation closed: trial consumers become inactive (one UPDATE per company)."""
    from consumers.models import Consumer, ConsumerStatus, InactiveReason

    closed = Q(company__evaluation_ends_on__lt=today) | Q(company__evaluation_ends_on__isnull=True)
    company_ids = list(
        Consumer.objects.filter(closed, is_trial=True, status__in=["invited", "active"])
        .values_list("company_id", flat=True)
        .distinct()
    )
    result = {}
    for company_id in company_ids:
        with transaction.atomic():
            company = (
                Company.objects.select_for_update().select_related("partner").get(pk=company_id)
            )
            if company.evaluation_ends_on and company.evaluation_ends_on >= today:
                continue  # extended meanwhile
            count = Consumer.objects.filter(
                company=company, is_trial=True, status__in=["invited", "active"]
            ).update(
                status=ConsumerStatus.INACTIVE,
                inactive_reason=InactiveReason.TRIAL_ENDED,
                updated_at=timezone.now(),
            )
            if count:
                _deactivated(
                    company,
                    count,
                    "company.trial_consumers_deactivated",
                    "the evaluation has ended",
                )
                result[str(company.public_id)] = count
    return result


def _over_capacity_companies(today: date) -> list[int]:
    """Ids of companies whose seat-holding consumers exceed today's capacity, in one query."""
    from consumers.models import Consumer

    active = License.objects.active_on(today).filter(company=OuterRef("pk"))
    conditions = Q()
    qs = Company.objects.all()
    for family, kinds in FAMILY_KINDS.items():
        used = Subquery(
            Consumer.objects.holding_seats()
            .filter(company=OuterRef("pk"), kind__in=FAMILY_CONSUMER_KINDS[family])
            .values("company")
            .annotate(n=Count("id"))
            .values("n"),
            output_field=IntegerField(),
        )
        capacity = Subquery(
            active.filter(kind__in=kinds).values("company").annotate(n=Sum("quantity")).values("n"),
            output_field=IntegerField(),
        )
        unlimited = (
            Exists(active.filter(kind="enterprise_wide")) if family == "enterprise" else None
        )
        over = Q(**{f"{family}_used__gt": F(f"{family}_capacity")})
        if unlimited is not None:
            over &= Q(**{f"{family}_unlimited": False})
        conditions |= over
        annotations = {
            f"{family}_used": Coalesce(used, 0),
            f"{family}_capacity": Coalesce(capacity, 0),
        }
        if unlimited is not None:
            annotations[f"{family}_unlimited"] = unlimited
        qs = qs.annotate(**annotations)
    return list(qs.filter(conditions).values_list("id", flat=True))


def over_capacity_deactivate(*, today: date) -> dict[str, int]:
    """When licences ended and usage exceeds capacity, the newest consumers beyond capacity
    become inactive. Each company is handled under its row lock, recounted there."""
    from consumers.models import Consumer, ConsumerStatus, InactiveReason

    result: dict[str, int] = {}
    for company_id in _over_capacity_companies(today):
        with transaction.atomic():
            company = (
                Company.objects.select_for_update().select_related("partner").get(pk=company_id)
            )
            licences = list(License.objects.filter(company=company).active_on(today))
            total = 0
            for family in FAMILY_KINDS:
                capacity = capacity_of(licences, family)
                if capacity is None:
                    continue
                holding = Consumer.objects.holding_seats().filter(
                    company=company, kind__in=FAMILY_CONSUMER_KINDS[family]
                )
                newest = holding.order_by("-created_at", "-id").values_list("id", flat=True)
                excess = holding.count() - capacity
                if excess <= 0:
                    continue
                total += Consumer.objects.filter(id__in=list(newest[:excess])).update(
                    status=ConsumerStatus.INACTIVE,
                    inactive_reason=InactiveReason.LICENCE_ENDED,
                    updated_at=timezone.now(),
                )
            if total:
                _deactivated(
                    company, total, "company.over_capacity_deactivated", "a licence has ended"
                )
                result[str(company.public_id)] = total
    return result


def trial_reminders_send(*, today: date) -> int:
    """Reminders 23 and 7 days before evaluation ends, and one when it has ended.

    Each is claimed with a conditional UPDATE stamping the evaluation end date it was sent for,
    so a second or concurrent run sends nothing, and an extended evaluation gets its own.
    A failed send rolls the stamp back, so the next run tries again.
    """
    sent = 0
    plans = [
        (
            "trial_reminder_23_for",
            "trial_reminder",
            Q(
                evaluation_ends_on__gt=today + timedelta(days=7),
                evaluation_ends_on__lte=today + timedelta(days=23),
            ),
        ),
        (
            "trial_reminder_7_for",
            "trial_reminder",
            Q(evaluation_ends_on__gte=today, evaluation_ends_on__lte=today + timedelta(days=7)),
        ),
        (
            "trial_ended_for",
            "trial_ended",
            Q(evaluation_ends_on__lt=today, evaluation_ends_on__gte=today - timedelta(days=7)),
        ),
    ]
    for stamp, template, window in plans:
        due = Company.objects.filter(window).exclude(**{stamp: F("evaluation_ends_on")})
        due = due.exclude(licenses__in=License.objects.active_on(today)).distinct()
        for company_id in list(due.values_list("id", flat=True)[:1000]):
            try:
                with transaction.atomic():
                    claimed = (
                        Company.objects.filter(pk=company_id)
                        .exclude(**{stamp: F("evaluation_ends_on")})
                        .update(**{stamp: F("evaluation_ends_on")})
                    )
                    if not claimed:
                        continue
                    company = Company.objects.select_related("partner").get(pk=company_id)
                    days_left = (company.evaluation_ends_on - today).days
                    _notify(template, company, days_left=days_left)
                    sent += 1
            except Exception:
                logger.exception("trial email %s for company %s failed", template, company_id)
    return sent


def licences_expiry_run(*, today: date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "trial_deactivated": trial_consumers_deactivate(today=today),
        "over_capacity_deactivated": over_capacity_deactivate(today=today),
        "emails": trial_reminders_send(today=today),
    }
