"""Call-record ingest: the call platform posts endpoint call records (and an operator can
import a file with the import_call_records command). Every record is validated; all of a batch
is stored, or none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.web import has_control_characters

from ..models import (
    CALL_MAX_DURATION,
    Address,
    AddressPurpose,
    CallDirection,
    CallRecord,
    ConsumerKind,
    call_start_bounds,
)

MAX_INGEST_RECORDS = 5000
# The widest offset in use on Earth (Line Islands).
MAX_UTC_OFFSET = timedelta(hours=14)
# The text fields of a record and their column lengths (the endpoint is an Address).
TEXT_FIELDS = {"endpoint": 320, "call_id": 100, "remote_address": 320, "remote_display_name": 200}
MAX_DURATION_SECONDS = int(CALL_MAX_DURATION.total_seconds())
# A concurrent ingest of the same call_id makes an insert fail: tried again this many times.
STORE_ATTEMPTS = 3


@dataclass
class IngestError(Exception):
    errors: dict[int, list[str]]

    def __str__(self) -> str:
        return "; ".join(f"record {i}: {', '.join(m)}" for i, m in sorted(self.errors.items()))


def _texts(raw: dict[str, Any], problems: list[str]) -> dict[str, str]:
    """The record's text fields ("" when absent); a number is taken as its digits."""
    texts = {}
    for name, limit in TEXT_FIELDS.items():
        value = raw.get(name)
        if value is None:
            value = ""
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            problems.append(f"{name} must be a string")
            continue
        if has_control_characters(value):
            problems.append(f"{name} contains control characters")
        elif len(value) > limit:
            problems.append(f"{name} is longer than {limit} characters")
        else:
            texts[name] = value
    return texts


def _started_at(value: Any, now: datetime, problems: list[str]) -> datetime | None:
    try:
        started_at = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but not a date: 2026-02-30, hour 25, offset +99:00
        started_at = None
    if started_at is None:
        problems.append("started_at must be an ISO 8601 date and time")
    elif timezone.is_naive(started_at):
        problems.append("started_at needs a time zone (for example Z or +01:00)")
    elif abs(started_at.utcoffset()) > MAX_UTC_OFFSET:  # type: ignore[arg-type]
        # Python takes offsets up to a day; PostgreSQL refuses those past 15:59.
        problems.append("started_at has a time zone offset beyond ±14:00")
    else:
        earliest, latest = call_start_bounds(now)
        if earliest <= started_at <= latest:
            return started_at
        problems.append(f"started_at must be between {earliest:%Y-%m-%d} and one day ahead of now")
    return None


def _scalars(raw: dict[str, Any], problems: list[str]) -> tuple[int, str, str | None]:
    """(duration, direction, remote IP or None)."""
    duration = raw.get("duration_seconds")
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 0 <= duration < MAX_DURATION_SECONDS
    ):
        problems.append(
            f"duration_seconds must be a whole number of seconds from 0 to under "
            f"{MAX_DURATION_SECONDS} (7 days)"
        )
    direction = raw.get("direction")
    if not isinstance(direction, str) or direction not in CallDirection.values:
        problems.append("direction must be 'in' or 'out'")
    remote_ip = raw.get("remote_ip") or None
    if remote_ip is not None:
        try:
            validate_ipv46_address(remote_ip if isinstance(remote_ip, str) else "")
        except ValidationError:
            problems.append(f"remote_ip {str(remote_ip)[:50]!r} is not an IP address")
    return duration, direction, remote_ip  # type: ignore[return-value]


def _parse_record(
    raw: Any, endpoints: dict[str, int], now: datetime
) -> tuple[CallRecord | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["must be an object"]
    problems: list[str] = []
    texts = _texts(raw, problems)
    address = texts.get("endpoint", "").strip().lower()
    consumer_id = endpoints.get(address)
    if consumer_id is None and "endpoint" in texts:
        problems.append(f"unknown endpoint {address!r}" if address else "endpoint is missing")
    started_at = _started_at(raw.get("started_at"), now, problems)
    duration, direction, remote_ip = _scalars(raw, problems)
    if problems:
        return None, problems
    return CallRecord(
        consumer_id=consumer_id,
        call_id=texts["call_id"] or None,
        started_at=started_at,
        duration_seconds=duration,
        direction=direction,
        remote_address=texts["remote_address"],
        remote_display_name=texts["remote_display_name"],
        remote_ip=remote_ip,
    ), []


def _endpoints(records: list[Any]) -> dict[str, int]:
    """{address: consumer id} of the endpoints the records name (only names that can be an
    address are looked up)."""
    wanted = set()
    for raw in records:
        value = raw.get("endpoint") if isinstance(raw, dict) else None
        if isinstance(value, str) and len(value) <= TEXT_FIELDS["endpoint"]:
            if not has_control_characters(value):
                wanted.add(value.strip().lower())
    return dict(
        Address.objects.filter(
            address__in=wanted,
            purpose=AddressPurpose.PRIMARY,
            consumer__kind=ConsumerKind.ENDPOINT,
        ).values_list("address", "consumer_id")
    )


def _store(records: list[CallRecord]) -> int:
    """Insert the records whose call_id is not stored yet; returns how many rows were inserted.
    When a concurrent ingest stores one of the same call_ids first, the insert fails as a whole
    (in a savepoint) and is tried again without what that one stored, so the count is exact."""
    ids = [r.call_id for r in records if r.call_id]
    for _attempt in range(STORE_ATTEMPTS):
        known = set(CallRecord.objects.filter(call_id__in=ids).values_list("call_id", flat=True))
        fresh = [r for r in records if not (r.call_id and r.call_id in known)]
        for record in fresh:
            record.pk = None  # set by an attempt that was rolled back
        try:
            with transaction.atomic():
                CallRecord.objects.bulk_create(fresh, batch_size=1000)
        except IntegrityError:
            continue
        return len(fresh)
    raise IngestError({0: ["the same calls are being stored by another request: send again"]})


def call_records_ingest(*, records: list[Any]) -> int:
    """Validate every record; store all of them, or none (IngestError with per-record errors).
    A record whose call_id is already stored is skipped, so a re-sent batch is harmless; the
    result is the number of rows really inserted."""
    if not isinstance(records, list) or not records:
        raise IngestError({0: ["records must be a non-empty list"]})
    if len(records) > MAX_INGEST_RECORDS:
        raise IngestError({0: [f"at most {MAX_INGEST_RECORDS} records per batch"]})
    endpoints, now = _endpoints(records), timezone.now()
    parsed, errors = [], {}
    for index, raw in enumerate(records):
        record, problems = _parse_record(raw, endpoints, now)
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
        return _store(parsed)
