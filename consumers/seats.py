"""Seat accounting on the consumers' side: counting the consumers that hold seats, deciding how
new or reactivated ones are covered, and releasing seats when evaluations and licences end.

The rules are each in one place: which statuses hold a seat and which kinds draw on which
family in consumers.models (`holds_seat`, `holding_seats`, `seat_family`); capacity and the
allocation (paid seats first, then trials while Evaluation Mode is open) in licensing.seats.
Licensing reaches the counting and releasing below through licensing.holders (this app
registers `ConsumerSeatHolders` at start-up).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from licensing.expiry import evaluation_end_notify
from licensing.models import License
from licensing.seats import (
    FAMILY_LICENCE_KINDS,
    SeatAllocation,
    Seats,
    capacity_of,
    capacity_sql,
    seats_allocate,
)
from licensing.selectors import company_seats
from portal import emails
from portal.audit import audit_record, audit_record_many
from portal.models import Company, evaluation_open_q

from .models import Consumer, ConsumerKind, ConsumerStatus, InactiveReason, seat_family


def family_kinds(family: str) -> list[str]:
    """The consumer kinds that draw on a seat family."""
    return [kind for kind in ConsumerKind.values if seat_family(kind) == family]


def seats_used(*, company: Company) -> dict[str, int]:
    """Seats in use per family, in one query. It counts `kind`, a column of the seat index
    (`consumer_seats_idx`), so that PostgreSQL can answer it from the index alone where the
    visibility map allows (pages vacuumed since their last change), without the rows."""
    return (
        Consumer.objects.holding_seats()
        .filter(company=company)
        .aggregate(
            **{
                family: Count("kind", filter=Q(kind__in=family_kinds(family)))
                for family in FAMILY_LICENCE_KINDS
            }
        )
    )


def seats_of(*, company: Company, family: str, today: date | None = None) -> Seats:
    today = today or timezone.localdate()
    seats = company_seats(company=company, today=today, used=seats_used(company=company))
    return seats[family]


def seat_allocation(
    *, company: Company, family: str, count: int = 1, today: date | None = None
) -> SeatAllocation:
    """How `count` new (or reactivated) consumers of a seat family would be covered today."""
    today = today or timezone.localdate()
    seats = seats_of(company=company, family=family, today=today)
    return seats_allocate(seats=seats, count=count, company=company, today=today)


def seat_take(*, locked_company: Company, kind: str) -> bool:
    """For one new consumer: whether it is a trial; ValidationError when nothing covers it.
    The caller holds the company's row lock, so two admins adding at the same moment are
    counted one after the other and can never oversubscribe."""
    allocation = seat_allocation(company=locked_company, family=seat_family(kind))
    if not allocation.allowed:
        raise ValidationError(allocation.message, code="no_seat")
    return allocation.is_trial


# --- releasing seats (the daily expiry job, through licensing.holders) -------------------------


def _deactivated(company: Company, count: int, action: str, reason: str) -> None:
    """Audit a job's deactivations and tell the company contact and the partner (the email
    leaves once the deactivation commits)."""
    audit_record(None, action, company, data={"count": count})
    emails.consumers_deactivated(company, count=count, reason=reason)


def release_trials(*, today: date) -> dict[str, int]:
    """Evaluation closed: trial consumers become inactive (one UPDATE per company)."""
    trials = Consumer.objects.in_seat_statuses().filter(is_trial=True)
    closed = trials.exclude(evaluation_open_q(today, prefix="company__"))
    result = {}
    # order_by(): without it the model's ordering makes DISTINCT run per consumer.
    for company_id in list(closed.order_by().values_list("company_id", flat=True).distinct()):
        with transaction.atomic():
            company = Company.objects.select_for_update().select_related("partner")
            company = company.get(pk=company_id)
            if company.evaluation_open_on(today):
                continue  # extended meanwhile
            count = _deactivate(company, trials.filter(company=company), InactiveReason.TRIAL_ENDED)
            if count:
                audit_record(
                    None, "company.trial_consumers_deactivated", company, data={"count": count}
                )
                # One event, one email: "Trial ended", saying how many went inactive.
                evaluation_end_notify(company=company, today=today, deactivated=count)
                result[str(company.public_id)] = count
    return result


def _over_capacity_companies(today: date) -> list[int]:
    """Ids of companies whose seat-holding consumers exceed today's capacity, in one query."""
    active = License.objects.active_on(today).filter(company=OuterRef("pk"))
    conditions, companies = Q(), Company.objects.all()
    for family in FAMILY_LICENCE_KINDS:
        holding = Consumer.objects.holding_seats().filter(
            company=OuterRef("pk"), kind__in=family_kinds(family)
        )
        # `kind`, as seats_used counts: the seat index answers it alone.
        used = holding.values("company").annotate(n=Count("kind")).values("n")
        capacity, unlimited = capacity_sql(family, active)
        companies = companies.annotate(
            **{
                f"{family}_used": Coalesce(Subquery(used, output_field=IntegerField()), 0),
                f"{family}_capacity": capacity,
            }
        )
        over = Q(**{f"{family}_used__gt": F(f"{family}_capacity")})
        if unlimited is not None:
            companies = companies.annotate(**{f"{family}_unlimited": unlimited})
            over &= Q(**{f"{family}_unlimited": False})
        conditions |= over
    return list(companies.filter(conditions).values_list("id", flat=True))


def release_over_capacity(*, today: date) -> dict[str, int]:
    """When licences ended and usage exceeds capacity, the newest consumers beyond capacity
    become inactive. Each company is handled under its row lock, recounted there."""
    result: dict[str, int] = {}
    for company_id in _over_capacity_companies(today):
        with transaction.atomic():
            company = Company.objects.select_for_update().select_related("partner")
            company = company.get(pk=company_id)
            licences = list(License.objects.filter(company=company).active_on(today))
            total = sum(
                _release_beyond(company, family, capacity_of(licences, family))
                for family in FAMILY_LICENCE_KINDS
            )
            if total:
                reason = "a licence has ended"
                _deactivated(company, total, "company.over_capacity_deactivated", reason)
                result[str(company.public_id)] = total
    return result


def _release_beyond(company: Company, family: str, capacity: int | None) -> int:
    if capacity is None:
        return 0
    holding = Consumer.objects.holding_seats().filter(
        company=company, kind__in=family_kinds(family)
    )
    excess = holding.count() - capacity
    if excess <= 0:
        return 0
    newest = holding.order_by("-created_at", "-id").values_list("id", flat=True)[:excess]
    newest_consumers = Consumer.objects.filter(id__in=list(newest))
    return _deactivate(company, newest_consumers, InactiveReason.LICENCE_ENDED)


def _deactivate(company: Company, consumers: QuerySet[Consumer], reason: str) -> int:
    """A job's deactivation of the company's consumers (the caller holds the company's row
    lock), with an audit event for each (their timelines say why), set-based."""
    locked = consumers.order_by().select_for_update(of=("self",))
    rows = list(locked.values_list("pk", "public_id", "kind"))
    count = Consumer.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
        status=ConsumerStatus.INACTIVE, inactive_reason=reason, updated_at=timezone.now()
    )
    events = [(public_id, f"{kind}.deactivate") for _, public_id, kind in rows]
    audit_record_many(None, company, "consumer", events, data={"reason": reason})
    return count


class ConsumerSeatHolders:
    """What licensing asks of the seat holders (licensing.holders.SeatHolders)."""

    def used(self, *, company: Company) -> dict[str, int]:
        return seats_used(company=company)

    def release_trials(self, *, today: date) -> dict[str, int]:
        return release_trials(today=today)

    def release_over_capacity(self, *, today: date) -> dict[str, int]:
        return release_over_capacity(today=today)
