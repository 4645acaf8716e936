"""Writes for licences (operations staff, in Django admin)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.access import Actor, ensure_is_ops
from portal.audit import audit_record
from portal.models import Company

from .holders import seat_holders
from .models import LicenceKind, License
from .seats import FAMILY_LABEL, capacity_of, licence_family


def licence_validate(*, licence: License, today: date | None = None) -> None:
    """A licence may not be changed so that today's capacity falls below current usage."""
    today = today or timezone.localdate()
    if licence.ends_on and licence.starts_on and licence.ends_on < licence.starts_on:
        raise ValidationError({"ends_on": "The licence must end on or after its start date."})
    if licence.kind == LicenceKind.ENTERPRISE_WIDE:
        licence.quantity = None
    elif licence.quantity is None:
        raise ValidationError({"quantity": "Enter the number of seats."})
    others = list(
        License.objects.filter(company_id=licence.company_id)
        .active_on(today)
        .exclude(pk=licence.pk)
    )
    stored = License.objects.filter(pk=licence.pk).first() if licence.pk else None
    before = others + ([stored] if stored is not None and stored.is_active(today) else [])
    after = others + ([licence] if licence.is_active(today) else [])
    families = {licence_family(licence.kind)} | ({licence_family(stored.kind)} if stored else set())
    _ensure_no_reduction_below_usage(licence.company, before, after, families)


def _ensure_no_reduction_below_usage(
    company: Company, before: list[License], after: list[License], families: set[str]
) -> None:
    """Capacity (today's active licences `before` → `after`) may grow, or shrink down to the
    seats in use, never below."""
    used = None
    for family in sorted(families):
        new_capacity, old_capacity = capacity_of(after, family), capacity_of(before, family)
        if new_capacity is None or (old_capacity is not None and new_capacity >= old_capacity):
            continue  # not a reduction
        used = used or seat_holders().used(company=company)
        if new_capacity < used[family]:
            raise ValidationError(
                f"This change would leave {new_capacity} {FAMILY_LABEL[family]} seats while "
                f"{used[family]} are in use. Remove or deactivate consumers first, or keep the "
                "licence as it is."
            )


@transaction.atomic
def licence_save(*, actor: Actor, licence: License) -> License:
    ensure_is_ops(actor, "manage licences")
    Company.objects.select_for_update().get(pk=licence.company_id)
    created = licence.pk is None
    licence_validate(licence=licence)
    licence.save()
    audit_record(
        actor,
        "licence.create" if created else "licence.update",
        licence,
        data={
            "kind": licence.kind,
            "quantity": licence.quantity,
            "starts_on": licence.starts_on.isoformat(),
            "ends_on": licence.ends_on.isoformat(),
        },
    )
    return licence


@transaction.atomic
def licence_delete(*, actor: Actor, licence: License) -> None:
    """Delete a licence: refused like a reduction when its seats are in use today."""
    ensure_is_ops(actor, "manage licences")
    company = Company.objects.select_for_update().get(pk=licence.company_id)
    stored = License.objects.filter(pk=licence.pk).first()
    if stored is None:
        return  # deleted meanwhile (a double click): once is enough, and audited once
    today = timezone.localdate()
    if stored.is_active(today):
        others = list(
            License.objects.filter(company=company).active_on(today).exclude(pk=stored.pk)
        )
        families = {licence_family(stored.kind)}
        _ensure_no_reduction_below_usage(company, [*others, stored], others, families)
    audit_record(
        actor,
        "licence.delete",
        stored,
        data={"kind": stored.kind, "quantity": stored.quantity},
    )
    stored.delete()
