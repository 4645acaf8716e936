"""The rows of the consumers' CSV exports (written by portal.csvexport): licence consumers
(what billing uses), an endpoint's call history, and a batch's report."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import OuterRef, QuerySet
from django.utils import timezone

from licensing.models import License
from licensing.seats import ENTERPRISE, billed_licence_kind, capacity_sql
from portal.models import Company, Partner

from .models import BatchJob, CallRecord, Consumer, ConsumerStatus, seat_family

LICENCE_CONSUMERS_HEADER = [
    "company",
    "company_reference",
    "kind",
    "address",
    "status",
    "billing",
    "cost_centre",
    "description_tag",
]


def _billing(row: dict[str, object]) -> str:
    """What a consumer is billed as: nothing when inactive, trial, or its licence kind."""
    if row["status"] == ConsumerStatus.INACTIVE:
        return ""
    if row["is_trial"]:
        return "trial"
    return billed_licence_kind(seat_family(str(row["kind"])), unlimited=bool(row["unlimited"]))


def licence_consumer_rows(*, partner: Partner, company: Company | None) -> Iterator[list[object]]:
    """Every consumer of the partner (or of one company) with what it is billed as."""
    qs: QuerySet[Consumer] = Consumer.objects.filter(company__partner=partner)
    if company is not None:
        qs = qs.filter(company=company)
    licences = License.objects.active_on(timezone.localdate()).filter(
        company=OuterRef("company_id")
    )
    _seats, unlimited = capacity_sql(ENTERPRISE, licences)
    rows = qs.annotate(unlimited=unlimited).order_by("company__name", "company_id", "kind", "alias")
    for c in rows.values(
        "company__name",
        "company__reference",
        "kind",
        "alias",
        "domain",
        "status",
        "is_trial",
        "unlimited",
        "cost_centre",
        "description_tag",
    ).iterator(chunk_size=5000):
        yield [
            c["company__name"],
            c["company__reference"],
            c["kind"],
            f"{c['alias']}@{c['domain']}",
            c["status"],
            _billing(c),
            c["cost_centre"],
            c["description_tag"],
        ]


CALLS_HEADER = [
    "started_at",
    "duration_seconds",
    "direction",
    "remote_address",
    "remote_display_name",
    "remote_ip",
    "anonymised",
]


def call_rows(calls: QuerySet[CallRecord]) -> Iterator[list[object]]:
    for call in calls.iterator(chunk_size=2000):
        yield [
            call.started_at.isoformat(),
            call.duration_seconds,
            call.direction,
            call.remote_address,
            call.remote_display_name,
            call.remote_ip or "",
            "yes" if call.anonymized_at else "no",
        ]


BATCH_REPORT_HEADER = ["address", "planned", "outcome", "message"]


def batch_report_rows(batch: BatchJob) -> Iterator[list[object]]:
    for item in batch.items.order_by("position").iterator(chunk_size=2000):
        yield [item.label, "yes" if item.will_run else "no", item.outcome, item.message]
