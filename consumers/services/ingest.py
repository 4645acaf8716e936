"""Call-record ingest: the call platform posts endpoint call records (and an operator can
import a file with the import_call_records command). Every record is validated; all of a batch
is stored, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Address, AddressPurpose, CallDirection, CallRecord, ConsumerKind

MAX_INGEST_RECORDS = 5000


@dataclass
class IngestError(Exception):
    errors: dict[int, list[str]]

    def __str__(self) -> str:
        return "; ".join(f"record {i}: {', '.join(m)}" for i, m in sorted(self.errors.items()))


def _parse_record(raw: Any, endpoints: dict[str, int]) -> tuple[CallRecord | None, list[str]]:
    problems: list[str] = []
    if not isinstance(raw, dict):
        return None, ["must be an object"]
    address = str(raw.get("endpoint") or "").strip().lower()
    consumer_id = endpoints.get(address)
    if consumer_id is None:
        problems.append(f"unknown endpoint {address!r}" if address else "endpoint is missing")
    started = raw.get("started_at")
    started_at = parse_datetime(str(started)) if started else None
    if started_at is None:
        problems.append("started_at must be an ISO 8601 date and time")
    elif timezone.is_naive(started_at):
        problems.append("started_at needs a time zone (for example Z or +01:00)")
    duration = raw.get("duration_seconds")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        problems.append("duration_seconds must be a whole number of seconds, 0 or more")
    direction = raw.get("direction")
    if direction not in CallDirection.values:
        problems.append("direction must be 'in' or 'out'")
    remote_ip = raw.get("remote_ip") or None
    if remote_ip is not None:
        try:
            validate_ipv46_address(str(remote_ip))
        except ValidationError:
            problems.append(f"remote_ip {remote_ip!r} is not an IP address")
    for name, limit in (("remote_address", 320), ("remote_display_name", 200), ("call_id", 100)):
        if len(str(raw.get(name) or "")) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    if problems:
        return None, problems
    return CallRecord(
        consumer_id=consumer_id,
        call_id=(str(raw["call_id"]) if raw.get("call_id") else None),
        started_at=started_at,
        duration_seconds=duration,
        direction=direction,
        remote_address=str(raw.get("remote_address") or ""),
        remote_display_name=str(raw.get("remote_display_name") or ""),
        remote_ip=remote_ip,
    ), []


def call_records_ingest(*, records: list[Any]) -> int:
    """Validate every record; store all of them, or none (IngestError with per-record errors).
    A record whose call_id is already stored is skipped, so a re-sent batch is harmless."""
    if not isinstance(records, list) or not records:
        raise IngestError({0: ["records must be a non-empty list"]})
    if len(records) > MAX_INGEST_RECORDS:
        raise IngestError({0: [f"at most {MAX_INGEST_RECORDS} records per batch"]})
    wanted = {str(r.get("endpoint") or "").strip().lower() for r in records if isinstance(r, dict)}
    endpoints = dict(
        Address.objects.filter(
            address__in=wanted,
            purpose=AddressPurpose.PRIMARY,
            consumer__kind=ConsumerKind.ENDPOINT,
        ).values_list("address", "consumer_id")
    )
    parsed, errors = [], {}
    for index, raw in enumerate(records):
        record, problems = _parse_record(raw, endpoints)
        if problems:
            errors[index] = problems
        else:
            parsed.append(record)
    ids = [r.call_id for r in parsed if r.call_id]
    if len(ids) != len(set(ids)):
        errors.setdefault(0, []).append("call_id values repeat within the batch")
    if errors:
        raise IngestError(errors)
    with transaction.atomic():
        created = CallRecord.objects.bulk_create(parsed, ignore_conflicts=True, batch_size=1000)
    return len(created)
