"""Reads for consumers. List querysets run one query per page (plus the paginator's count),
whatever the number of consumers."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.models import Company
from portal.web import clean_query

from .models import (
    CONFERENCE_ID_MAX,
    ROOM_KINDS,
    BatchItem,
    BatchJob,
    CallRecord,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    Invitation,
    ItemOutcome,
)

CONSUMER_SORTS = {
    "alias": ("alias", "id"),
    "-alias": ("-alias", "-id"),
    "name": ("display_name", "id"),
    "-name": ("-display_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "status": ("status", "alias"),
    "-status": ("-status", "alias"),
}
KIND_RELATED = {
    ConsumerKind.USER: "invitation",
    ConsumerKind.TEAM_VMR: "team_vmr",
    ConsumerKind.ENDPOINT: "endpoint",
}


def _search(company: Company, kind: str | None, query: str) -> Q:
    """`kind` None: every kind (the API's list of all consumers)."""
    alias_part, _, domain_part = query.partition("@")
    condition = Q(alias__contains=alias_part) | Q(display_name__icontains=query)
    if domain_part:
        condition = Q(alias__startswith=alias_part, domain__startswith=domain_part)
    rooms = kind is None or kind in ROOM_KINDS
    if rooms and query.isdecimal() and len(query) <= len(str(CONFERENCE_ID_MAX)):
        # A phone caller's conference ID finds its room (the unique index answers).
        condition |= Q(conference_id=int(query))
    if kind is None or kind == ConsumerKind.USER:
        # A subquery, not a join: each side can use its own trigram index (PostgreSQL).
        condition |= Q(
            pk__in=Invitation.objects.filter(
                consumer__company=company, email__icontains=query
            ).values("consumer_id")
        )
    return condition


def consumer_list(
    *,
    company: Company,
    kind: str | None,
    query: str = "",
    status: str = "",
    sort: str = "alias",
    pending_only: bool = False,
) -> QuerySet[Consumer]:
    """The consumers of one kind (a list page), or of every kind when `kind` is None (the
    API's list), filtered as the list pages filter them."""
    if kind is None:
        qs = Consumer.objects.filter(company=company).select_related(*KIND_RELATED.values())
    else:
        qs = Consumer.objects.filter(company=company, kind=kind).select_related(KIND_RELATED[kind])
    # Every caller's search (list pages, the batch tool's "all matching") is cleaned here.
    query = clean_query(query).lower()
    if query:
        qs = qs.filter(_search(company, kind, query))
    if status in ConsumerStatus.values:
        qs = qs.filter(status=status)
    if kind in (None, ConsumerKind.USER) and pending_only:
        qs = qs.filter(status=ConsumerStatus.INVITED, invitation__accepted_at__isnull=True)
    return qs.order_by(*CONSUMER_SORTS.get(sort, CONSUMER_SORTS["alias"]))


def consumer_get(*, company: Company, public_id: object, kind: str | None = None) -> Consumer:
    """A consumer of the company (of `kind`, if given), else 404."""
    qs = Consumer.objects.select_related("company__partner", "calling_domain")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return get_object_or_404(qs, company=company, public_id=public_id)


def consumer_detail(*, company: Company, public_id: object) -> Consumer:
    """A consumer of the company with what its detail page shows (its invitation, team VMR or
    endpoint settings) in one query, else 404."""
    qs = Consumer.objects.select_related("calling_domain", "invitation", "team_vmr")
    return get_object_or_404(qs, company=company, public_id=public_id)


def company_users(*, company: Company) -> QuerySet[Consumer]:
    """The company's users, for choosing the one a personal endpoint is twinned to."""
    return Consumer.objects.filter(company=company, kind=ConsumerKind.USER).order_by("alias")


def call_history(
    *, consumer: Consumer, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[CallRecord]:
    # Only what the ingest accepts: a row stored before it checked (a start in year 10000, or
    # one that the UTC shift took before year 1) cannot be read or shown.
    qs = CallRecord.objects.filter(consumer=consumer).plausible(now=timezone.now())
    if since:
        qs = qs.filter(started_at__gte=since)
    if until:
        qs = qs.filter(started_at__lt=until)
    return qs.order_by("-started_at", "-id")


def batch_get(*, company: Company, public_id: object) -> BatchJob:
    return get_object_or_404(
        BatchJob.objects.select_related("company"), company=company, public_id=public_id
    )


BATCH_ITEM_FILTERS = {
    "wont": Q(will_run=False),
    "failed": Q(outcome=ItemOutcome.FAILED),
    "will": Q(will_run=True),
}


def batch_items(*, batch: BatchJob, show: str = "") -> QuerySet[BatchItem]:
    """The batch's items in order; `show` one of BATCH_ITEM_FILTERS, or all."""
    items = batch.items.order_by("position")
    return items.filter(BATCH_ITEM_FILTERS[show]) if show in BATCH_ITEM_FILTERS else items


def batch_summary(*, batch: BatchJob) -> dict[str, int]:
    """How many items will run, will not, and failed (the batch page's tabs)."""
    return batch.items.aggregate(
        **{name: Count("id", filter=condition) for name, condition in BATCH_ITEM_FILTERS.items()}
    )
