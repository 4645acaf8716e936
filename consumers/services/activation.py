"""Deactivating and reactivating consumers.

An inactive consumer comes back when a licence seat (or an open evaluation) covers it and its
calling domain is verified: the single Activate action and the batch tool (its preview and its
run) decide with the same two functions, `reactivation_blocker` and the seat allocation.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from domains.models import is_verified_status
from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from ..events import consumers_activated_emit
from ..models import Consumer, ConsumerStatus, InactiveReason, Invitation, seat_family
from ..seats import seat_allocation
from .common import audit_many, lock_company


class Candidate(NamedTuple):
    """What deciding about a consumer needs, read as a plain row (a batch can hold 50,000)."""

    id: int
    public_id: object
    address: str
    kind: str
    status: str
    company_id: int
    domain_status: str | None  # None: no calling domain recorded


CANDIDATE_FIELDS = (
    "pk",
    "public_id",
    "alias",
    "domain",
    "kind",
    "status",
    "company_id",
    "calling_domain__status",
)


def candidate(pk: int, public_id: object, alias: str, domain: str, *rest: object) -> Candidate:
    """A Candidate from a row of CANDIDATE_FIELDS."""
    return Candidate(pk, public_id, f"{alias}@{domain}", *rest)  # type: ignore[arg-type]


def reactivation_blocker(consumer: Candidate) -> str | None:
    """Why the consumer cannot be reactivated whatever the seats: "invited" or "active" (it is
    not inactive), "domain" (its calling domain is not verified); None when seats decide."""
    if consumer.status != ConsumerStatus.INACTIVE:
        return consumer.status
    if consumer.domain_status is not None and not is_verified_status(consumer.domain_status):
        return "domain"
    return None


@transaction.atomic
def consumers_activate(
    *, actor: Actor, company: Company, consumer_ids: list[int]
) -> tuple[dict[int, bool], dict[int, str]]:
    """Reactivate inactive consumers of one company as far as licence seats (or an open
    evaluation) allow, under the company row lock, set-based. Returns
    ({id: is_trial} for those reactivated, {id: reason} for those that were not)."""
    ensure_can_write(actor, company.partner)
    locked = lock_company(company)
    rows = (
        Consumer.objects.filter(company=company, pk__any_of=consumer_ids)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list(*CANDIDATE_FIELDS)
    )
    wanted = [candidate(*row) for row in rows]
    found = {c.id for c in wanted}
    failures = {pk: "no longer exists" for pk in consumer_ids if pk not in found}
    by_family: dict[str, list[Candidate]] = {}
    for consumer in wanted:
        blocker = reactivation_blocker(consumer)
        if blocker == "domain":
            failures[consumer.id] = f"{consumer.address.partition('@')[2]} is not verified."
        elif blocker:
            failures[consumer.id] = f"{consumer.address} is already {blocker}."
        else:
            by_family.setdefault(seat_family(consumer.kind), []).append(consumer)
    activated: dict[int, bool] = {}
    for family, consumers in by_family.items():
        allocation = seat_allocation(company=locked, family=family, count=len(consumers))
        for index, consumer in enumerate(consumers):
            trial = allocation.trial_at(index)
            if trial is None:
                action = f"reactivate {consumer.address}"
                failures[consumer.id] = allocation.refusal_to(action)
            else:
                activated[consumer.id] = trial
    _activate(actor, company, activated, [c for c in wanted if c.id in activated])
    return activated, failures


def _activate(
    actor: Actor, company: Company, activated: dict[int, bool], consumers: list[Candidate]
) -> None:
    """Set-based: users whose invitation is still open go back to invited, the rest active."""
    if not activated:
        return
    pending_users = set(
        Invitation.objects.filter(
            consumer_id__in=list(activated), accepted_at__isnull=True
        ).values_list("consumer_id", flat=True)
    )
    now = timezone.now()
    status_of = {
        pk: ConsumerStatus.INVITED if pk in pending_users else ConsumerStatus.ACTIVE
        for pk in activated
    }
    for is_trial in (False, True):
        ids = [pk for pk, trial in activated.items() if trial is is_trial]
        for status in (ConsumerStatus.INVITED, ConsumerStatus.ACTIVE):
            subset = [pk for pk in ids if status_of[pk] == status]
            if subset:
                Consumer.objects.filter(pk__in=subset).update(
                    status=status, is_trial=is_trial, inactive_reason="", updated_at=now
                )
    audit_many(actor, company, "activate", [(c.public_id, c.kind) for c in consumers])
    consumers_activated_emit(company, consumers, activated, status_of)


def consumer_activate(*, actor: Actor, consumer: Consumer) -> Consumer:
    """Bring an inactive consumer back when a licence seat (or open evaluation) allows it."""
    _activated, failures = consumers_activate(
        actor=actor, company=consumer.company, consumer_ids=[consumer.pk]
    )
    if consumer.pk in failures:
        raise ValidationError(failures[consumer.pk], code="not_activated")
    consumer.refresh_from_db()
    return consumer


@transaction.atomic
def consumer_deactivate(
    *, actor: Actor, consumer: Consumer, reason: str = InactiveReason.DEACTIVATED
) -> Consumer:
    company = consumer.company
    ensure_can_write(actor, company.partner)
    consumer = Consumer.objects.select_for_update().get(pk=consumer.pk)
    if consumer.status == ConsumerStatus.INACTIVE:
        raise ValidationError(f"{consumer.address} is already inactive.", code="inactive")
    consumer.status = ConsumerStatus.INACTIVE
    consumer.inactive_reason = reason
    consumer.save(update_fields=["status", "inactive_reason", "updated_at"])
    audit_record(actor, f"{consumer.kind}.deactivate", consumer, data={"reason": reason})
    return consumer
